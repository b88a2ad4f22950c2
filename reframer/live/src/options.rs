//! What the live mode is told: command-line flags ([`LiveArgs`], flattened into the main CLI),
//! the `[live]` TOML section ([`LiveConfig`]), and their merge ([`LiveOptions`]); flags win.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Args, ValueEnum};
use reframer_io::{
    afpacket::AfPacketOptions,
    xdp::{XdpMode, XdpOptions, ZeroCopy},
    PortSpec,
};
use serde::Deserialize;

use crate::{cores::parse_core_list, error::ConfigError};

/// Which direction, if any, is forwarded without scheduling.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Passthrough {
    /// Both directions are scheduled.
    #[default]
    None,
    /// First port -> second port is forwarded as is.
    AToB,
    /// Second port -> first port is forwarded as is.
    BToA,
}

/// Command-line options of the live mode.
#[derive(Debug, Clone, Default, Args)]
pub struct LiveArgs {
    /// A port to forward between: `afpacket:IFACE`, `xdp:IFACE` or `dpdk:PORT`; give two
    /// (with --ribosome, one: frames leave on the port they came in on).
    #[arg(long = "port", value_name = "KIND:NAME")]
    pub ports: Vec<String>,
    /// Worker cores, DPDK list syntax (`0-1`, `2,3`): one pinned worker each.
    #[arg(long, value_name = "LIST")]
    pub cores: Option<String>,
    /// Stop cleanly after this many seconds.
    #[arg(long, value_name = "S")]
    pub duration: Option<f64>,
    /// Write the 1 s stats time series to this CSV file.
    #[arg(long, value_name = "FILE")]
    pub stats_csv: Option<PathBuf>,
    /// Forward one direction without scheduling.
    #[arg(long, value_enum)]
    pub passthrough: Option<Passthrough>,
    /// EAL arguments for dpdk: ports, e.g. "--no-huge --no-pci -l 0 --vdev=net_ring0".
    #[arg(long, value_name = "ARGS", allow_hyphen_values = true)]
    pub dpdk_args: Option<String>,
    /// No 1 s stats line on stderr.
    #[arg(long)]
    pub quiet_stats: bool,
    /// Serve Prometheus metrics on http://ADDR:PORT/metrics (off by default; e.g. 127.0.0.1:9900).
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics_listen: Option<SocketAddr>,
    /// EAL arguments after `--` (appended to --dpdk-args), e.g. `-- --no-huge -l 0 --vdev=...`.
    #[arg(last = true, value_name = "EAL_ARGS")]
    pub eal_args: Vec<String>,
}

/// Frame buffer size with `vnet_hdr`: 64 KiB of IP packet plus Ethernet and VLAN headers.
pub(crate) const VNET_FRAME_BYTES: usize = 65_536 + 128;

/// AF_PACKET ring settings in the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AfPacketConfig {
    /// Ring version: 3 (TPACKET_V3 blocks: fewest wakeups, but a partly filled block waits up
    /// to `block_timeout_ms`) or 2 (TPACKET_V2: each frame visible at once, lowest latency).
    pub tpacket_version: u8,
    /// Ring block size in bytes (power of two).
    pub block_bytes: u32,
    /// Number of ring blocks.
    pub blocks: u32,
    /// Longest wait before a partly filled block reaches us, ms (adds to latency at low rate).
    pub block_timeout_ms: u32,
    /// Offload pass-through (PACKET_VNET_HDR, TPACKET_V3 only): GRO/GSO super-frames and
    /// frames with checksums left to offload are forwarded whole; raises frame_bytes to 64 KiB.
    pub vnet_hdr: bool,
}

impl Default for AfPacketConfig {
    fn default() -> Self {
        let d = AfPacketOptions::default();
        Self {
            tpacket_version: if d.tpacket_v3 { 3 } else { 2 },
            block_bytes: d.block_bytes,
            blocks: d.blocks,
            block_timeout_ms: d.block_timeout_ms,
            vnet_hdr: d.vnet_hdr,
        }
    }
}

/// AF_XDP settings in the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct XdpConfig {
    /// Where the XDP program runs: "auto" (native, else generic), "native" or "generic".
    pub mode: String,
    /// "auto" (zero-copy where the driver has it, else copy), "on" or "off".
    pub zero_copy: String,
    /// Entries per ring (power of two, 64..=16384); the UMEM holds twice as many frames.
    pub ring: u32,
    /// UMEM frame size in bytes: 2048 or 4096 (must hold the MTU plus 256 B of headroom).
    pub chunk: u32,
}

impl Default for XdpConfig {
    fn default() -> Self {
        let d = XdpOptions::default();
        Self {
            mode: "auto".into(),
            zero_copy: "auto".into(),
            ring: d.ring,
            chunk: d.chunk,
        }
    }
}

impl XdpConfig {
    fn resolve(&self) -> Result<XdpOptions, ConfigError> {
        let bad = |why| ConfigError::Setting {
            setting: "[live.xdp]",
            why,
        };
        let mode = match self.mode.as_str() {
            "auto" => XdpMode::Auto,
            "native" => XdpMode::Native,
            "generic" | "skb" => XdpMode::Generic,
            m => {
                return Err(bad(format!(
                    "mode must be auto, native or generic, got `{m}`"
                )))
            }
        };
        let zero_copy = match self.zero_copy.as_str() {
            "auto" => ZeroCopy::Auto,
            "on" => ZeroCopy::On,
            "off" => ZeroCopy::Off,
            z => return Err(bad(format!("zero_copy must be auto, on or off, got `{z}`"))),
        };
        let o = XdpOptions {
            mode,
            zero_copy,
            ring: self.ring,
            chunk: self.chunk,
        };
        o.validate().map_err(bad)?;
        Ok(o)
    }
}

/// The `[live]` section of the TOML config. Every key has the default shown in
/// `configs/inline-*.toml`; unknown keys are rejected.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LiveConfig {
    /// Ports, as `--port`.
    pub ports: Vec<String>,
    /// Worker cores, as `--cores`.
    pub cores: Option<String>,
    /// Seconds to run, as `--duration`.
    pub duration_s: Option<f64>,
    /// Stats CSV path, as `--stats-csv`.
    pub stats_csv: Option<PathBuf>,
    /// Unscheduled direction, as `--passthrough`.
    pub passthrough: Passthrough,
    /// EAL arguments, as `--dpdk-args`.
    pub dpdk_args: Option<String>,
    /// Prometheus `/metrics` address, as `--metrics-listen` (`"127.0.0.1:9900"`).
    pub metrics_listen: Option<String>,
    /// Frames per RX burst.
    pub rx_burst: usize,
    /// Frame buffer size in bytes; larger received frames are dropped and counted (oversize).
    pub frame_bytes: usize,
    /// Busy-poll this long without traffic before sleeping on epoll + timerfd, µs.
    pub idle_spin_us: u64,
    /// Stats line interval, ms.
    pub stats_interval_ms: u64,
    /// At shutdown, give up transmitting after this long, ms (unsent frames are counted).
    pub drain_timeout_ms: u64,
    /// AF_PACKET ring settings.
    pub afpacket: AfPacketConfig,
    /// AF_XDP settings.
    pub xdp: XdpConfig,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            ports: Vec::new(),
            cores: None,
            duration_s: None,
            stats_csv: None,
            passthrough: Passthrough::None,
            dpdk_args: None,
            metrics_listen: None,
            rx_burst: 64,
            frame_bytes: 2048,
            idle_spin_us: 200,
            stats_interval_ms: 1000,
            drain_timeout_ms: 1000,
            afpacket: AfPacketConfig::default(),
            xdp: XdpConfig::default(),
        }
    }
}

impl LiveConfig {
    /// Checks the section on its own, whatever the mode: the same checks [`LiveOptions::resolve`]
    /// makes on it, so `--check` and an offline run refuse what a live run would.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for p in &self.ports {
            p.parse::<PortSpec>().map_err(ConfigError::Port)?;
        }
        if let Some(c) = &self.cores {
            parse_core_list(c).map_err(|e| ConfigError::Setting {
                setting: "[live]",
                why: format!("cores: {e}"),
            })?;
        }
        if let Some(s) = self.duration_s {
            positive_duration(s, "[live] duration_s")?;
        }
        self.checked().map(|_| ())
    }

    /// The per-section checks and the ring settings they yield.
    fn checked(&self) -> Result<(AfPacketOptions, XdpOptions), ConfigError> {
        let bad = |why| ConfigError::Setting {
            setting: "[live]",
            why,
        };
        if !(1..=1024).contains(&self.rx_burst) {
            return Err(bad(format!(
                "rx_burst must be 1..=1024, got {}",
                self.rx_burst
            )));
        }
        if !(64..=65_536).contains(&self.frame_bytes) {
            return Err(bad(format!(
                "frame_bytes must be 64..=65536, got {}",
                self.frame_bytes
            )));
        }
        if self.stats_interval_ms == 0 {
            return Err(bad("stats_interval_ms must be > 0".into()));
        }
        let bad_afpacket = |why| ConfigError::Setting {
            setting: "[live.afpacket]",
            why,
        };
        let afpacket = AfPacketOptions {
            tpacket_v3: match self.afpacket.tpacket_version {
                3 => true,
                2 => false,
                v => {
                    return Err(bad_afpacket(format!(
                        "tpacket_version must be 2 or 3, got {v}"
                    )))
                }
            },
            block_bytes: self.afpacket.block_bytes,
            blocks: self.afpacket.blocks,
            block_timeout_ms: self.afpacket.block_timeout_ms,
            vnet_hdr: self.afpacket.vnet_hdr,
        };
        afpacket.validate().map_err(bad_afpacket)?;
        Ok((afpacket, self.xdp.resolve()?))
    }
}

fn positive_duration(s: f64, setting: &'static str) -> Result<Duration, ConfigError> {
    if s.is_finite() && s > 0.0 {
        Ok(Duration::from_secs_f64(s))
    } else {
        Err(ConfigError::Duration { setting, value: s })
    }
}

/// Resolved settings of one run.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// Port A and port B; port A alone for the one-armed NF host.
    pub ports: Vec<PortSpec>,
    /// Ribosome NF host: every frame leaves under the NF contract (`--ribosome`).
    pub nf_contract: bool,
    /// Cores to pin workers to; `None`: one unpinned worker.
    pub cores: Option<Vec<usize>>,
    /// Run time limit.
    pub duration: Option<Duration>,
    /// Stats CSV path.
    pub stats_csv: Option<PathBuf>,
    /// Unscheduled direction.
    pub passthrough: Passthrough,
    /// EAL arguments (split on whitespace).
    pub dpdk_args: Vec<String>,
    /// Frames per RX burst.
    pub rx_burst: usize,
    /// Frame buffer size.
    pub frame_bytes: usize,
    /// Idle busy-poll time before sleeping.
    pub idle_spin: Duration,
    /// Stats interval.
    pub stats_interval: Duration,
    /// Drain limit at shutdown.
    pub drain_timeout: Duration,
    /// AF_PACKET ring settings.
    pub afpacket: AfPacketOptions,
    /// AF_XDP settings.
    pub xdp: XdpOptions,
    /// Print the periodic stats line.
    pub stats_line: bool,
    /// Serve `/metrics` here.
    pub metrics_listen: Option<SocketAddr>,
}

impl LiveOptions {
    /// Merges flags over the config file and validates; errors name the setting.
    /// `nf_contract`: the Ribosome NF host (`--ribosome`), which also runs one-armed.
    pub fn resolve(
        args: &LiveArgs,
        cfg: &LiveConfig,
        nf_contract: bool,
    ) -> Result<Self, ConfigError> {
        let ports = if args.ports.is_empty() {
            &cfg.ports
        } else {
            &args.ports
        };
        match (ports.len(), nf_contract) {
            (2, _) | (1, true) => {}
            (n, false) => return Err(ConfigError::PortCount(n)),
            (n, true) => return Err(ConfigError::NfHostPortCount(n)),
        }
        let ports = ports
            .iter()
            .map(|p| p.parse::<PortSpec>().map_err(ConfigError::Port))
            .collect::<Result<Vec<_>, _>>()?;
        if ports.len() == 2 && ports[0] == ports[1] {
            return Err(ConfigError::SamePorts {
                port: ports[0].clone(),
                nf_contract,
            });
        }
        let passthrough = args.passthrough.unwrap_or(cfg.passthrough);
        if ports.len() == 1 && passthrough != Passthrough::None {
            return Err(ConfigError::PassthroughOneArmed);
        }
        let cores = args
            .cores
            .as_ref()
            .or(cfg.cores.as_ref())
            .map(|s| parse_core_list(s))
            .transpose()
            .map_err(ConfigError::Cores)?;
        let duration = args
            .duration
            .or(cfg.duration_s)
            .map(|s| positive_duration(s, "--duration"))
            .transpose()?;
        let mut dpdk_args: Vec<String> = args
            .dpdk_args
            .as_ref()
            .or(cfg.dpdk_args.as_ref())
            .map(|s| s.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        dpdk_args.extend(args.eal_args.iter().cloned());
        let (afpacket, xdp) = cfg.checked()?;
        Ok(Self {
            ports,
            nf_contract,
            cores,
            duration,
            stats_csv: args.stats_csv.clone().or_else(|| cfg.stats_csv.clone()),
            passthrough,
            dpdk_args,
            rx_burst: cfg.rx_burst,
            // A GRO/GSO super-frame is up to 64 KiB of IP plus link headers.
            frame_bytes: if cfg.afpacket.vnet_hdr {
                cfg.frame_bytes.max(VNET_FRAME_BYTES)
            } else {
                cfg.frame_bytes
            },
            idle_spin: Duration::from_micros(cfg.idle_spin_us),
            stats_interval: Duration::from_millis(cfg.stats_interval_ms),
            drain_timeout: Duration::from_millis(cfg.drain_timeout_ms),
            afpacket,
            xdp,
            stats_line: !args.quiet_stats,
            metrics_listen: match (args.metrics_listen, &cfg.metrics_listen) {
                (Some(a), _) => Some(a),
                (None, Some(s)) => Some(s.parse().map_err(|_| ConfigError::Setting {
                    setting: "[live]",
                    why: format!(
                        "metrics_listen must be ADDR:PORT (e.g. \"127.0.0.1:9900\"), got `{s}`"
                    ),
                })?),
                (None, None) => None,
            },
        })
    }

    /// Number of workers.
    pub fn workers(&self) -> usize {
        self.cores.as_ref().map_or(1, Vec::len)
    }

    /// Scheduled directions per worker (each has its own scheduler).
    pub fn directions(&self) -> usize {
        if self.ports.len() == 1 || self.passthrough != Passthrough::None {
            1
        } else {
            2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(ports: &[&str]) -> LiveArgs {
        LiveArgs {
            ports: ports.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn needs_two_distinct_ports() {
        let c = LiveConfig::default();
        assert!(LiveOptions::resolve(&args(&["afpacket:a"]), &c, false).is_err());
        assert!(LiveOptions::resolve(&args(&["afpacket:a", "afpacket:a"]), &c, false).is_err());
        let o = LiveOptions::resolve(&args(&["afpacket:a", "dpdk:0"]), &c, false).unwrap();
        assert_eq!((o.workers(), o.directions()), (1, 2));
    }

    #[test]
    fn the_nf_host_also_runs_one_armed() {
        let c = LiveConfig::default();
        let o = LiveOptions::resolve(&args(&["afpacket:a"]), &c, true).unwrap();
        assert!(o.nf_contract);
        assert_eq!((o.ports.len(), o.directions()), (1, 1));
        let o = LiveOptions::resolve(&args(&["afpacket:a", "afpacket:b"]), &c, true).unwrap();
        assert_eq!(o.directions(), 2);
        for bad in [&[][..], &["afpacket:a", "afpacket:b", "afpacket:c"]] {
            let e = LiveOptions::resolve(&args(bad), &c, true).unwrap_err();
            assert!(e.to_string().contains("--ribosome"), "{e}");
        }
        let e = LiveOptions::resolve(&args(&["afpacket:a", "afpacket:a"]), &c, true).unwrap_err();
        assert!(e.to_string().contains("one-armed"), "{e}");
        let mut a = args(&["afpacket:a"]);
        a.passthrough = Some(Passthrough::AToB);
        let e = LiveOptions::resolve(&a, &c, true).unwrap_err();
        assert!(
            e.to_string().contains("--passthrough needs two ports"),
            "{e}"
        );
    }

    #[test]
    fn config_rejects_unknown_keys() {
        let e = toml::from_str::<LiveConfig>("rx_bust = 3").unwrap_err();
        assert!(e.to_string().contains("rx_bust"));
        let c: LiveConfig =
            toml::from_str("passthrough = \"b-to-a\"\n[afpacket]\nblocks = 4").unwrap();
        assert_eq!(c.passthrough, Passthrough::BToA);
        assert_eq!(c.afpacket.blocks, 4);
    }

    #[test]
    fn xdp_section_and_trailing_eal_args() {
        let c: LiveConfig =
            toml::from_str("[xdp]\nmode = \"generic\"\nzero_copy = \"off\"\nring = 512").unwrap();
        let mut a = args(&["xdp:a", "xdp:b"]);
        a.dpdk_args = Some("--no-huge -l 0".into());
        a.eal_args = vec!["--vdev=net_ring0".into()];
        let o = LiveOptions::resolve(&a, &c, false).unwrap();
        assert_eq!(o.xdp.mode, XdpMode::Generic);
        assert_eq!(o.xdp.zero_copy, ZeroCopy::Off);
        assert_eq!(o.xdp.ring, 512);
        assert_eq!(o.dpdk_args, ["--no-huge", "-l", "0", "--vdev=net_ring0"]);
        for bad in [
            "ring = 100",
            "chunk = 1000",
            "mode = \"fast\"",
            "zero_copy = \"yes\"",
        ] {
            let c: LiveConfig = toml::from_str(&format!("[xdp]\n{bad}")).unwrap();
            let e = LiveOptions::resolve(&a, &c, false).unwrap_err().to_string();
            assert!(e.contains("[live.xdp]"), "{bad}: {e}");
        }
    }

    #[test]
    fn vnet_hdr_needs_v3_and_big_blocks_and_raises_frame_bytes() {
        let a = args(&["afpacket:a", "afpacket:b"]);
        let ok: LiveConfig =
            toml::from_str("[afpacket]\nvnet_hdr = true\nblock_bytes = 262144").unwrap();
        let o = LiveOptions::resolve(&a, &ok, false).unwrap();
        assert!(o.afpacket.vnet_hdr);
        assert!(o.frame_bytes >= 65_536 + 14);
        for bad in [
            "vnet_hdr = true",
            "vnet_hdr = true\ntpacket_version = 2\nblock_bytes = 262144",
        ] {
            let c: LiveConfig = toml::from_str(&format!("[afpacket]\n{bad}")).unwrap();
            let e = LiveOptions::resolve(&a, &c, false).unwrap_err().to_string();
            assert!(e.contains("vnet_hdr needs"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_section_alone_is_validated_like_a_live_run() {
        let a = args(&["afpacket:a", "afpacket:b"]);
        for bad in [
            "rx_burst = 0",
            "frame_bytes = 1",
            "stats_interval_ms = 0",
            "duration_s = -1.0",
            "cores = \"x\"",
            "ports = [\"foo:x\"]",
            "[afpacket]\ntpacket_version = 1",
            "[xdp]\nring = 100",
        ] {
            let c: LiveConfig = toml::from_str(bad).unwrap();
            assert!(c.validate().is_err(), "{bad}");
            if !bad.starts_with("ports") {
                assert!(LiveOptions::resolve(&a, &c, false).is_err(), "{bad}");
            }
        }
        LiveConfig::default().validate().unwrap();
    }
}
