//! The TOML config file: every key documented with unit and default, unknown keys refused.
//! Command-line flags override the file; the file overrides the defaults.

use std::path::{Path, PathBuf};

use anyhow::Context;
use reframer_core::{Config as CoreConfig, Priority};
use serde::Deserialize;

use crate::live::LiveConfig;

/// Commented default config, printed by `--print-default-config` (also `configs/offline-pcap.toml`).
pub(crate) const DEFAULT_CONFIG: &str = include_str!("default-config.toml");

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct FileConfig {
    pub(crate) scheduler: SchedulerSection,
    pub(crate) offline: OfflineSection,
    pub(crate) live: LiveConfig,
}

/// `[scheduler]`: see `default-config.toml` for units, defaults and SFMaker names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct SchedulerSection {
    pub(crate) delay_us: f64,
    pub(crate) max_burst: u32,
    pub(crate) max_tx_burst: usize,
    pub(crate) max_flows: u32,
    pub(crate) max_buffered_packets: u32,
    pub(crate) flow_table_capacity: u32,
    pub(crate) flow_timeout_ms: u64,
    pub(crate) priority: String,
    pub(crate) first_packet_bypass: bool,
    pub(crate) bypass_syn: bool,
    pub(crate) tcp_ack_coalescing: bool,
    pub(crate) tcp_reorder: bool,
}

/// The window of every mode of `reframer` (offline, live, `--ribosome`, demo) unless told
/// otherwise: the paper's 64 µs (the FastClick element's own default, kept by
/// `reframer_core::Config`, is 100 µs).
pub(crate) const DEFAULT_DELAY_US: f64 = 64.0;

impl Default for SchedulerSection {
    fn default() -> Self {
        let d = CoreConfig::default();
        Self {
            delay_us: DEFAULT_DELAY_US,
            max_burst: d.max_burst,
            max_tx_burst: d.max_tx_burst,
            max_flows: d.max_flows.unwrap_or(0),
            max_buffered_packets: d.max_buffered_packets,
            flow_table_capacity: d.flow_table_capacity,
            flow_timeout_ms: d.flow_timeout_ns / 1_000_000,
            priority: d.priority.as_str().to_owned(),
            first_packet_bypass: d.first_packet_bypass,
            bypass_syn: d.bypass_syn,
            tcp_ack_coalescing: d.tcp_ack_coalescing,
            tcp_reorder: d.tcp_reorder,
        }
    }
}

/// `[offline]`: file-to-file mode.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct OfflineSection {
    pub(crate) input: Option<String>,
    pub(crate) output: Option<String>,
}

impl OfflineSection {
    /// Checks the section's `input` and `output` (always, even when flags override them) and
    /// returns the paths in force: the flags', else the section's.
    pub(crate) fn resolve(
        &self,
        input_flag: Option<&str>,
        output_flag: Option<&str>,
    ) -> anyhow::Result<(Option<PathBuf>, Option<PathBuf>)> {
        let parse = |spec: Option<&String>, what| spec.map(|s| pcap_path(s, what)).transpose();
        let input = parse(self.input.as_ref(), "[offline] input")?;
        let output = parse(self.output.as_ref(), "[offline] output")?;
        let input_flag = input_flag.map(|s| pcap_path(s, "--input")).transpose()?;
        let output_flag = output_flag.map(|s| pcap_path(s, "--output")).transpose()?;
        Ok((input_flag.or(input), output_flag.or(output)))
    }
}

/// Parses `pcap:PATH` (a bare path is accepted too).
pub(crate) fn pcap_path(spec: &str, what: &str) -> anyhow::Result<PathBuf> {
    match spec.split_once(':') {
        Some(("pcap", "")) => anyhow::bail!("{what} `{spec}`: the path is empty"),
        Some(("pcap", p)) => Ok(PathBuf::from(p)),
        Some((kind, _)) if !kind.contains('/') => anyhow::bail!(
            "{what} `{spec}`: unknown kind `{kind}` (offline mode takes pcap:PATH; live ports use --port)"
        ),
        _ if spec.is_empty() => anyhow::bail!("{what}: the path is empty"),
        _ => Ok(PathBuf::from(spec)),
    }
}

impl FileConfig {
    pub(crate) fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "config {}: {}",
                path.display(),
                e.to_string().trim().replace('\n', " ")
            )
        })
    }
}

impl SchedulerSection {
    /// Converts to the core's units and checks every bound.
    pub(crate) fn to_core(&self) -> anyhow::Result<CoreConfig> {
        if !(self.delay_us.is_finite() && self.delay_us >= 0.0) {
            anyhow::bail!(
                "invalid `delay_us`: {} is not a non-negative number",
                self.delay_us
            );
        }
        let cfg = CoreConfig {
            delay_ns: (self.delay_us * 1_000.0).round() as u64,
            max_burst: self.max_burst,
            max_tx_burst: self.max_tx_burst,
            max_flows: (self.max_flows > 0).then_some(self.max_flows),
            max_buffered_packets: self.max_buffered_packets,
            flow_table_capacity: self.flow_table_capacity,
            flow_timeout_ns: self.flow_timeout_ms.saturating_mul(1_000_000),
            priority: self.priority.parse::<Priority>()?,
            first_packet_bypass: self.first_packet_bypass,
            bypass_syn: self.bypass_syn,
            tcp_ack_coalescing: self.tcp_ack_coalescing,
            tcp_reorder: self.tcp_reorder,
            snapped_frames: false,
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_file_parses_to_the_defaults() {
        let f: FileConfig = toml::from_str(DEFAULT_CONFIG).unwrap();
        let core = f.scheduler.to_core().unwrap();
        assert_eq!(core, SchedulerSection::default().to_core().unwrap());
        // The core's defaults but the window, which is the binary's one default.
        assert_eq!(
            core,
            CoreConfig {
                delay_ns: (DEFAULT_DELAY_US * 1_000.0) as u64,
                ..CoreConfig::default()
            }
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let e = toml::from_str::<FileConfig>("[scheduler]\ndelay = 5\n").unwrap_err();
        assert!(e.to_string().contains("unknown field `delay`"), "{e}");
    }

    #[test]
    fn pcap_specs_name_what_is_wrong() {
        assert_eq!(
            pcap_path("pcap:a/b", "--input").unwrap(),
            PathBuf::from("a/b")
        );
        assert_eq!(
            pcap_path("./x:y", "--input").unwrap(),
            PathBuf::from("./x:y")
        );
        let e = pcap_path("pcap:", "--input").unwrap_err().to_string();
        assert!(
            e.contains("the path is empty") && e.contains("--input"),
            "{e}"
        );
        assert!(pcap_path("", "--output")
            .unwrap_err()
            .to_string()
            .contains("empty"));
        let e = pcap_path("tap:x", "--input").unwrap_err().to_string();
        assert!(e.contains("unknown kind `tap`"), "{e}");
    }

    #[test]
    fn the_offline_section_is_checked_even_when_flags_override_it() {
        let f: FileConfig = toml::from_str("[offline]\ninput = \"foo:/x\"").unwrap();
        let e = f
            .offline
            .resolve(Some("pcap:a"), Some("pcap:b"))
            .unwrap_err();
        assert!(e.to_string().contains("[offline] input"), "{e}");
        let f: FileConfig = toml::from_str("[offline]\ninput = \"pcap:i\"").unwrap();
        let (i, o) = f.offline.resolve(None, Some("pcap:b")).unwrap();
        assert_eq!(
            (i.unwrap(), o.unwrap()),
            (PathBuf::from("i"), PathBuf::from("b"))
        );
    }
}
