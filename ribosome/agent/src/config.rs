//! The `[servers]` part of `configs/cluster.toml`.

use anyhow::{bail, Context, Result};
use ribosome_wire::control::AuthKey;
use serde::Deserialize;
use std::net::Ipv4Addr;
use std::path::Path;

/// The whole file; other parts (switch, NF host) are ignored here.
#[derive(Debug, Deserialize)]
pub struct ClusterFile {
    /// Payload servers.
    pub servers: Servers,
}

/// Settings shared by all payload servers, and the servers themselves.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Servers {
    /// QPs per server (the switch's MAX_QP_NUM); global index = local + qps * server.
    pub qps_per_server: u16,
    /// Payload memory per server, e.g. "4.5GiB".
    pub memory: String,
    /// Enable-timer range in packets, "min-max".
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
    /// One entry per payload server.
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
    /// Reads the `[servers]` part of a cluster file.
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let file: ClusterFile =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        Ok(file.servers)
    }

    /// The shared key, if one is configured.
    pub fn key(&self) -> Result<Option<AuthKey>> {
        let hex = match (&self.auth_key_file, &self.auth_key) {
            (Some(f), _) => std::fs::read_to_string(f).with_context(|| format!("reading {f}"))?,
            (None, Some(k)) => k.clone(),
            (None, None) => return Ok(None),
        };
        Ok(Some(AuthKey::from_hex(&hex).context("control-frame key")?))
    }

    /// The entry for server `index`.
    pub fn entry(&self, index: u16) -> Option<&ServerEntry> {
        self.server.iter().find(|s| s.index == index)
    }
}

pub use ribosome_wire::size::parse_size;

/// Parses "min-max" (or a single value) into an inclusive range.
pub fn parse_range(s: &str) -> Result<(u16, u16)> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let lo: u16 = a.trim().parse().with_context(|| format!("range {s:?}"))?;
    let hi: u16 = b.trim().parse().with_context(|| format!("range {s:?}"))?;
    if lo > hi {
        bail!("range {s:?}: min above max");
    }
    Ok((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn the_committed_cluster_file_parses() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/cluster.toml");
        let s = Servers::load(&p).unwrap();
        assert_eq!(s.qps_per_server, 64);
        assert!(s.key().unwrap().is_some());
        assert_eq!(parse_size(&s.memory).unwrap(), 0x1_2000_0000);
        assert_eq!(s.server.len(), 4);
        assert_eq!(s.entry(2).unwrap().index, 2);
    }
}
