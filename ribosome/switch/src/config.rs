//! Switch settings: [`SwitchConfig`] (what the pipeline needs) and the `[switch]` part of
//! `configs/cluster.toml` that the daemon turns into one.

use crate::consts;
use crate::lpm::{Blacklist, BlacklistAction};
use ribosome_config::size::parse_size;
use ribosome_config::{cluster, ConfigError, Servers};
use ribosome_wire::control::AuthKey;
use ribosome_wire::MacAddr;
use serde::Deserialize;
use std::net::Ipv4Addr;
use std::path::Path;

/// Why a cluster file or a set of switch settings was refused; the message names the key.
#[derive(Debug, thiserror::Error)]
pub enum SwitchError {
    /// The file or its `[servers]` part (shared reader).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A `[switch]` setting out of range or inconsistent.
    #[error("{0}")]
    Setting(String),
    /// The same, with the file it came from.
    #[error("in {path}: {err}")]
    InFile {
        /// The cluster file.
        path: String,
        /// What is wrong in it (shown inline: not also the source).
        err: Box<Self>,
    },
}

/// `Result` of the switch's settings.
pub type Result<T, E = SwitchError> = std::result::Result<T, E>;

/// Returns a [`SwitchError::Setting`] built like `format!`.
macro_rules! bail {
    ($($t:tt)*) => {
        return Err(SwitchError::Setting(format!($($t)*)))
    };
}
pub(crate) use bail;

/// A switch port number (the daemon: index into `[[switch.port]]`).
pub type PortId = u16;

/// Most frames `order_limit` may hold (each up to a 64 KiB IPv4 packet).
pub const MAX_ORDER_LIMIT: usize = 1 << 20;

/// Overload hysteresis on switch->server bytes (the control plane's 95/90 Gb/s rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overload {
    /// Above this rate a server's selector members are disabled.
    pub high_bps: u64,
    /// Below this rate they are re-enabled.
    pub low_bps: u64,
}

/// Everything the pipeline model needs.
#[derive(Debug, Clone)]
pub struct SwitchConfig {
    /// Payload servers (`NUMBER_OF_SERVERS`).
    pub servers: u16,
    /// QPs per server (`MAX_QP_NUM`).
    pub qps_per_server: u16,
    /// Split packets whose IPv4 total length exceeds this; `None` splits every TCP/UDP packet.
    pub split_threshold: Option<u16>,
    /// Header-store slots (`HEADER_REGISTER_SIZE`).
    pub header_slots: u16,
    /// Logical bytes of each server's payload log; must not exceed its registered memory.
    pub payload_log: u64,
    /// Largest READ length (tag + pad + payload); longer payloads are not split.
    pub max_read: usize,
    /// Compute the RoCEv2 ICRC (the original sends zeros and needs ICRC checks off).
    pub icrc: bool,
    /// Fake RDMA client MAC.
    pub switch_mac: MacAddr,
    /// Fake RDMA client IPv4.
    pub switch_ip: Ipv4Addr,
    /// Control-frame key; `None` accepts unauthenticated registration (original mode).
    pub key: Option<AuthKey>,
    /// The NF host's port.
    pub nf_port: PortId,
    /// Traffic in/out ports.
    pub client_ports: Vec<PortId>,
    /// READs outstanding per QP before a returning header is refused.
    pub max_outstanding_reads: usize,
    /// Headers per QP held for a READ slot beyond that; more are lost as `read_depth`.
    pub max_waiting_reads: usize,
    /// A server with requests unanswered this long is taken out of the selector.
    pub liveness_timeout_ns: u64,
    /// Period of the control-plane timer (QP restore marking, overload check).
    pub control_period_ns: u64,
    /// Frames held to keep per-flow order across the split and whole paths (0: no ordering,
    /// as the original).
    pub order_limit: usize,
    /// Overload hysteresis; `None` disables it.
    pub overload: Option<Overload>,
    /// Blacklist LPM on the IPv4 destination.
    pub blacklist: Blacklist,
}

impl SwitchConfig {
    /// The original's defaults with the given ports.
    pub fn new(nf_port: PortId, client_ports: Vec<PortId>) -> Self {
        Self {
            servers: consts::NUMBER_OF_SERVERS,
            qps_per_server: consts::MAX_QP_NUM,
            split_threshold: Some(64),
            header_slots: consts::HEADER_REGISTER_SIZE,
            payload_log: consts::MAX_BUFFER_SIZE,
            max_read: consts::PATH_MTU,
            icrc: true,
            switch_mac: consts::SWITCH_MAC,
            switch_ip: consts::RDMA_IP,
            key: None,
            nf_port,
            client_ports,
            max_outstanding_reads: consts::MAX_OUTSTANDING_READS,
            max_waiting_reads: consts::MAX_WAITING_READS,
            liveness_timeout_ns: consts::LIVENESS_TIMEOUT_NS,
            control_period_ns: consts::CONTROL_PERIOD_NS,
            order_limit: consts::ORDER_LIMIT,
            overload: Some(Overload {
                high_bps: consts::OVERLOAD_HIGH_BPS,
                low_bps: consts::OVERLOAD_LOW_BPS,
            }),
            blacklist: Blacklist::default(),
        }
    }

    /// Total QPs (`TOTAL_QP`).
    pub fn total_qps(&self) -> usize {
        usize::from(self.servers) * usize::from(self.qps_per_server)
    }

    /// Checks bounds; the error names the setting.
    pub fn validate(&self) -> Result<()> {
        if self.servers == 0 || self.qps_per_server == 0 {
            bail!("servers and qps_per_server must be at least 1");
        }
        if self.total_qps() > usize::from(u16::MAX) {
            bail!("servers * qps_per_server must fit 16 bits");
        }
        if self.control_period_ns == 0 {
            bail!("switch.control_period_ms: must be at least 1");
        }
        if self.liveness_timeout_ns == 0 {
            bail!("switch.liveness_timeout_ms: must be at least 1");
        }
        if self.order_limit > MAX_ORDER_LIMIT {
            bail!(
                "switch.order_limit {}: at most {MAX_ORDER_LIMIT} frames (held frames take up to \
                 {} bytes each: {} bytes at this limit)",
                self.order_limit,
                consts::ETH_LEN + 65535,
                self.order_limit as u128 * (consts::ETH_LEN as u128 + 65535)
            );
        }
        if self.header_slots == 0 {
            bail!("switch.header_slots must be at least 1");
        }
        if !(64..=65535).contains(&self.max_read) {
            bail!("switch.max_read must be 64..=65535");
        }
        if self.payload_log < self.max_read as u64 {
            bail!("switch.payload_log must hold at least one READ (max_read bytes)");
        }
        if self.client_ports.is_empty() {
            bail!("the switch needs at least one client port");
        }
        if self.client_ports.contains(&self.nf_port) {
            bail!("the NF port cannot also be a client port");
        }
        if let Some(o) = self.overload {
            if o.low_bps > o.high_bps {
                bail!("switch.overload_low_gbps is above overload_high_gbps");
            }
        }
        Ok(())
    }
}

/// Role of one daemon port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PortRole {
    /// Traffic in and out.
    Client,
    /// The NF host.
    Nf,
    /// A payload server.
    Server,
}

/// One `[[switch.port]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortEntry {
    /// Interface name.
    pub iface: String,
    /// What is attached.
    pub role: PortRole,
}

/// One blacklist entry: `{ prefix = "224.0.0.0/16", action = "drop" }` or `port = N`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlacklistEntry {
    /// `a.b.c.d/len`.
    pub prefix: String,
    /// `"drop"`, or absent with `port`.
    pub action: Option<String>,
    /// Send matching packets whole to this port (index into `[[switch.port]]`).
    pub port: Option<PortId>,
}

/// The `[switch]` part of the cluster file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchSection {
    /// IPv4 total length above which packets are split; absent: split every TCP/UDP packet.
    pub split_threshold: Option<u16>,
    /// Header-store slots.
    pub header_slots: Option<u16>,
    /// Logical payload log per server, e.g. "2GiB".
    pub payload_log: Option<String>,
    /// Largest READ.
    pub max_read: Option<usize>,
    /// Compute ICRCs.
    pub icrc: Option<bool>,
    /// Liveness timeout, ms.
    pub liveness_timeout_ms: Option<u64>,
    /// Control-plane period, ms.
    pub control_period_ms: Option<u64>,
    /// Frames held for per-flow order across split and whole paths (0: off, as the original).
    pub order_limit: Option<usize>,
    /// Overload thresholds, Gb/s (0 disables).
    pub overload_high_gbps: Option<u64>,
    /// Overload release threshold, Gb/s.
    pub overload_low_gbps: Option<u64>,
    /// Blacklist LPM.
    #[serde(default)]
    pub blacklist: Vec<BlacklistEntry>,
    /// Ports, numbered from 0 in file order.
    #[serde(default)]
    pub port: Vec<PortEntry>,
}

/// A loaded cluster file: the model's config, the daemon's interfaces, and the validated
/// `[servers]` section it was built from.
#[derive(Debug, Clone)]
pub struct LoadedSwitch {
    /// Pipeline settings.
    pub config: SwitchConfig,
    /// Interfaces by port number.
    pub ports: Vec<PortEntry>,
    /// `[servers]`, read and validated by the same code as the agents'.
    pub servers: Servers,
    /// `[switch]` as written.
    pub section: SwitchSection,
}

impl LoadedSwitch {
    /// Reads `[servers]` and `[switch]` from a cluster file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = cluster::read_text(path)?;
        Self::parse(&text).map_err(|e| SwitchError::InFile {
            path: path.display().to_string(),
            err: Box::new(e),
        })
    }

    /// Parses the text of a cluster file.
    pub fn parse(text: &str) -> Result<Self> {
        Self::from_table(&cluster::parse(text)?)
    }

    /// Builds the switch from a parsed cluster file.
    pub fn from_table(table: &toml::Table) -> Result<Self> {
        let servers = Servers::from_table(table)?;
        let sw: SwitchSection = cluster::section(table, "switch")?
            .ok_or_else(|| ConfigError::Parse("no [switch] section".into()))?;
        let nf: Vec<PortId> = ports_with(&sw.port, PortRole::Nf);
        let [nf_port] = nf[..] else {
            bail!("[switch] needs exactly one port with role = \"nf\"");
        };
        let mut c = SwitchConfig::new(nf_port, ports_with(&sw.port, PortRole::Client));
        let Ok(n) = u16::try_from(servers.server.len().max(1)) else {
            bail!("servers: more than {} [[servers.server]] entries", u16::MAX);
        };
        c.servers = n;
        c.qps_per_server = servers.qps_per_server;
        c.switch_ip = servers.switch_ip;
        c.switch_mac = servers.switch_mac()?;
        c.key = servers.key()?;
        c.split_threshold = sw.split_threshold;
        if let Some(v) = sw.header_slots {
            c.header_slots = v;
        }
        if let Some(v) = &sw.payload_log {
            c.payload_log =
                parse_size(v).map_err(|e| ConfigError::invalid("switch.payload_log", e))?;
        }
        if let Some(v) = sw.max_read {
            c.max_read = v;
        }
        if let Some(v) = sw.order_limit {
            c.order_limit = v;
        }
        if let Some(v) = sw.icrc {
            c.icrc = v;
        }
        if let Some(v) = sw.liveness_timeout_ms {
            c.liveness_timeout_ns = v.saturating_mul(1_000_000);
        }
        if let Some(v) = sw.control_period_ms {
            c.control_period_ns = v.saturating_mul(1_000_000);
        }
        let high = sw.overload_high_gbps.unwrap_or(95);
        let low = sw.overload_low_gbps.unwrap_or(90);
        c.overload = (high > 0).then_some(Overload {
            high_bps: high.saturating_mul(1_000_000_000),
            low_bps: low.saturating_mul(1_000_000_000),
        });
        for (i, e) in sw.blacklist.iter().enumerate() {
            let action = match (e.action.as_deref(), e.port) {
                (Some("drop"), None) => BlacklistAction::Drop,
                (None, Some(p)) if usize::from(p) < sw.port.len() => BlacklistAction::Send(p),
                _ => bail!("switch.blacklist[{i}]: give action = \"drop\" or a valid port"),
            };
            if let Err(e) = c.blacklist.insert_str(&e.prefix, action) {
                bail!("switch.blacklist[{i}]: {e}");
            }
        }
        c.validate()?;
        Ok(Self {
            config: c,
            ports: sw.port.clone(),
            servers,
            section: sw,
        })
    }
}

fn ports_with(ports: &[PortEntry], role: PortRole) -> Vec<PortId> {
    ports
        .iter()
        .enumerate()
        .filter(|(_, p)| p.role == role)
        .map(|(i, _)| i as PortId)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_cluster_file_loads() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/cluster.toml");
        let l = LoadedSwitch::load(&p).unwrap();
        let c = &l.config;
        assert_eq!(c.split_threshold, Some(64));
        assert_eq!((c.servers, c.qps_per_server, c.total_qps()), (4, 64, 256));
        assert_eq!(c.header_slots, 2000);
        assert_eq!(c.payload_log, 1 << 31);
        assert!(c.key.is_some());
        assert_eq!(c.nf_port, 1);
        assert_eq!(c.client_ports, vec![0]);
        assert_eq!(l.ports.len(), 6);
        assert_eq!(c.blacklist.len(), 1);
    }

    fn committed() -> String {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/cluster.toml");
        std::fs::read_to_string(p).unwrap()
    }

    #[test]
    fn bad_sections_name_the_setting() {
        let text = committed();
        let cases = [
            ("role = \"nf\"", "role = \"client\"", "role = \"nf\""),
            (
                "icrc = true",
                "icrc = true\nbogus = 1",
                "[switch]: unknown field `bogus`",
            ),
            (
                "payload_log = \"2GiB\"",
                "payload_log = \"3 parsecs\"",
                "switch.payload_log: size",
            ),
            (
                "control_period_ms = 1000",
                "control_period_ms = 0",
                "switch.control_period_ms: must be at least 1",
            ),
            (
                "liveness_timeout_ms = 10",
                "liveness_timeout_ms = 0",
                "switch.liveness_timeout_ms: must be at least 1",
            ),
            (
                "order_limit = 65536",
                "order_limit = 9223372036854775807",
                "switch.order_limit 9223372036854775807: at most 1048576 frames",
            ),
        ];
        for (from, to, want) in cases {
            assert_eq!(text.matches(from).count(), 1, "{from}");
            let e = LoadedSwitch::parse(&text.replace(from, to)).unwrap_err();
            let e = format!("{e:#}");
            assert!(e.contains(want), "{to}: {e}");
            assert_eq!(e.lines().count(), 1, "{e}");
        }
    }

    /// `[servers]` is read by the agents' code: every value they refuse is refused here too,
    /// with the same message.
    #[test]
    fn servers_are_validated_as_the_agents_do() {
        let text = committed();
        for (from, to, want) in ribosome_config::testcases::BAD_SERVERS {
            let e = LoadedSwitch::parse(&text.replacen(from, to, 1)).unwrap_err();
            let e = format!("{e:#}");
            assert!(e.contains(want), "{to}: {e}");
        }
    }
}
