//! `[servers]`: the payload servers and the settings the agents and the switch share.

use crate::cluster::{self, ConfigError};
use crate::size::parse_size;
use ribosome_wire::control::AuthKey;
use ribosome_wire::MacAddr;
use serde::Deserialize;
use std::net::Ipv4Addr;
use std::path::Path;

/// Settings shared by all payload servers, and the servers themselves. Built only through
/// [`Servers::load`], [`Servers::parse`] or [`Servers::from_table`], which validate it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Servers {
    /// QPs per server (the switch's MAX_QP_NUM); global index = local + qps * server.
    pub qps_per_server: u16,
    /// Payload memory per server, e.g. "4.5GiB" ([`Servers::memory_bytes`]).
    pub memory: String,
    /// Enable-timer range in packets, "min-max" ([`Servers::enable_timer_range`]).
    pub enable_timer: String,
    /// The switch's fake RDMA client IPv4.
    pub switch_ip: Ipv4Addr,
    /// The switch's fake RDMA client MAC (source of its RoCE frames).
    pub switch_mac: String,
    /// Destination MAC of registration frames.
    pub info_dst_mac: String,
    /// Check the ICRC of requests (the original switch sends zeros: set false there).
    pub verify_icrc: bool,
    /// Shared control-frame key, 64 hex digits. `auth_key_file` wins if both are set.
    pub auth_key: Option<String>,
    /// File holding the key as 64 hex digits.
    pub auth_key_file: Option<String>,
    /// One entry per payload server; indices are 0..number of entries, each once.
    #[serde(default)]
    pub server: Vec<ServerEntry>,
}

/// One payload server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerEntry {
    /// Server index (0-based; matches the switch's mirror group 200 + index).
    pub index: u16,
    /// Interface facing the switch.
    pub iface: String,
    /// IPv4 of that interface.
    pub ip: Ipv4Addr,
    /// RDMA device for the verbs backend.
    pub device: Option<String>,
}

impl Servers {
    /// Reads and validates the `[servers]` section of a cluster file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::parse(&cluster::read_text(path)?)
    }

    /// Parses and validates the `[servers]` section of a cluster file's text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        Self::from_table(&cluster::parse(text)?)
    }

    /// The validated `[servers]` section of a parsed cluster file.
    pub fn from_table(table: &toml::Table) -> Result<Self, ConfigError> {
        let s: Self = cluster::section(table, "servers")?
            .ok_or_else(|| ConfigError::Parse("no [servers] section".into()))?;
        s.validate()?;
        Ok(s)
    }

    /// Checks every value; the error names the key (`servers.memory: ...`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.qps_per_server == 0 {
            return Err(ConfigError::invalid(
                "servers.qps_per_server",
                "must be at least 1",
            ));
        }
        self.memory_bytes()?;
        self.enable_timer_range()?;
        self.switch_mac()?;
        self.info_dst_mac()?;
        if self.auth_key_file.is_none() {
            if let Some(k) = &self.auth_key {
                AuthKey::from_hex(k)
                    .map_err(|_| ConfigError::invalid("servers.auth_key", "want 64 hex digits"))?;
            }
        }
        let n = self.server.len();
        let mut seen = vec![false; n];
        for e in &self.server {
            let i = usize::from(e.index);
            match seen.get_mut(i) {
                None => {
                    return Err(ConfigError::invalid(
                        "servers.server.index",
                        format!(
                            "{i} is out of range: {n} servers are numbered 0..={}",
                            n - 1
                        ),
                    ))
                }
                Some(true) => {
                    return Err(ConfigError::invalid(
                        "servers.server.index",
                        format!("{i} appears twice"),
                    ))
                }
                Some(s) => *s = true,
            }
        }
        if usize::from(self.qps_per_server) * n.max(1) > 1 << 16 {
            return Err(ConfigError::invalid(
                "servers.qps_per_server",
                format!(
                    "{} QPs x {n} servers exceeds the 65536 global QP indices",
                    self.qps_per_server
                ),
            ));
        }
        Ok(())
    }

    /// `memory` in bytes.
    pub fn memory_bytes(&self) -> Result<u64, ConfigError> {
        parse_size(&self.memory).map_err(|e| ConfigError::invalid("servers.memory", e))
    }

    /// `enable_timer` as an inclusive range.
    pub fn enable_timer_range(&self) -> Result<(u16, u16), ConfigError> {
        parse_range(&self.enable_timer)
            .map_err(|why| ConfigError::invalid("servers.enable_timer", why))
    }

    /// `switch_mac`.
    pub fn switch_mac(&self) -> Result<MacAddr, ConfigError> {
        parse_mac("servers.switch_mac", &self.switch_mac)
    }

    /// `info_dst_mac`.
    pub fn info_dst_mac(&self) -> Result<MacAddr, ConfigError> {
        parse_mac("servers.info_dst_mac", &self.info_dst_mac)
    }

    /// The shared key, if one is configured (reads `auth_key_file` if set).
    pub fn key(&self) -> Result<Option<AuthKey>, ConfigError> {
        match (&self.auth_key_file, &self.auth_key) {
            (Some(f), _) => {
                let hex = cluster::read_text(Path::new(f))?;
                AuthKey::from_hex(&hex).map(Some).map_err(|_| {
                    ConfigError::invalid(
                        "servers.auth_key_file",
                        format!("{f} does not hold 64 hex digits"),
                    )
                })
            }
            (None, Some(k)) => AuthKey::from_hex(k)
                .map(Some)
                .map_err(|_| ConfigError::invalid("servers.auth_key", "want 64 hex digits")),
            (None, None) => Ok(None),
        }
    }

    /// The entry for server `index`.
    pub fn entry(&self, index: u16) -> Option<&ServerEntry> {
        self.server.iter().find(|s| s.index == index)
    }
}

fn parse_mac(key: &str, s: &str) -> Result<MacAddr, ConfigError> {
    s.parse().map_err(|_| {
        ConfigError::invalid(
            key,
            format!("{s:?} is not a MAC address (aa:bb:cc:dd:ee:ff)"),
        )
    })
}

/// Parses "min-max" (or a single value) into an inclusive range.
pub fn parse_range(s: &str) -> Result<(u16, u16), String> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let num = |x: &str| {
        x.trim()
            .parse::<u16>()
            .map_err(|_| format!("range {s:?}: want \"min-max\" with numbers 0..=65535"))
    };
    let (lo, hi) = (num(a)?, num(b)?);
    if lo > hi {
        return Err(format!("range {s:?}: min above max"));
    }
    Ok((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committed() -> String {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/cluster.toml");
        std::fs::read_to_string(p).unwrap()
    }

    #[test]
    fn sizes_and_ranges() {
        assert_eq!(parse_size("4.5GiB").unwrap(), 0x1_2000_0000);
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("0").is_err());
        assert_eq!(parse_range("10-100").unwrap(), (10, 100));
        assert_eq!(parse_range("1").unwrap(), (1, 1));
        assert!(parse_range("9-3").is_err());
        assert!(parse_range("x-3").is_err());
    }

    #[test]
    fn the_committed_cluster_file_parses() {
        let s = Servers::parse(&committed()).unwrap();
        assert_eq!(s.qps_per_server, 64);
        assert!(s.key().unwrap().is_some());
        assert_eq!(s.memory_bytes().unwrap(), 0x1_2000_0000);
        assert_eq!(s.server.len(), 4);
        assert_eq!(s.entry(2).unwrap().index, 2);
    }

    /// Each bad value is refused with a one-line message naming the key.
    #[test]
    fn bad_values_name_the_key() {
        let text = committed();
        let cases = crate::testcases::BAD_SERVERS;
        for (from, to, want) in cases {
            assert!(text.contains(from), "{from}");
            let e = Servers::parse(&text.replacen(from, to, 1))
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{to}: {e}");
            assert_eq!(e.lines().count(), 1, "{e}");
        }
        let e = Servers::parse("[servers\n").unwrap_err().to_string();
        assert!(e.starts_with("parsing cluster file: line 1: "), "{e}");
    }
}
