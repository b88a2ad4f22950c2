//! The deployment the generators work from: the cluster file read through
//! `ribosome_switch::LoadedSwitch` (the same reader and validation as the software switch, so
//! there is one source of truth), plus the Tofino-only `[tofino]` table.

use crate::error::{Error, Result};
use ribosome_config::{cluster, Servers};
use ribosome_switch::config::PortRole;
use ribosome_switch::LoadedSwitch;
use serde::Deserialize;
use std::net::Ipv4Addr;
use std::path::Path;

/// Returns an [`Error::Setting`] built like `format!`.
macro_rules! bail {
    ($($t:tt)*) => {
        return Err(Error::Setting(format!($($t)*)))
    };
}

/// `[tofino]`: what only the hardware needs. Other readers of the cluster file ignore it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TofinoSection {
    /// P4 program name (`bfrt.<program>`), default "ribosome".
    pub program: Option<String>,
    /// Tofino dev port of each `[[switch.port]]`, in the same order.
    pub dev_ports: Vec<u16>,
    /// Port speed: "10G", "25G", "40G", "50G" or "100G" (default "100G").
    pub speed: Option<String>,
    /// FEC: "rs", "fc" or "none" (default "rs").
    pub fec: Option<String>,
    /// Mirror session of header copies (to the NF port), default 100.
    pub nf_mirror_session: Option<u16>,
    /// Refresh mirror session of server i is this + i (to server i's port), default 200.
    pub refresh_mirror_session_base: Option<u16>,
    /// Size of the ingress and egress application pools 0 and 1, cells (default 250000).
    pub tm_app_pool_cells: Option<u32>,
}

/// One blacklist entry with its port resolved to a dev port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlacklistRule {
    /// Prefix with host bits cleared.
    pub prefix: Ipv4Addr,
    /// Prefix length.
    pub len: u8,
    /// `None`: drop; `Some(dev_port)`: send whole there.
    pub send_to: Option<u16>,
}

/// A validated Tofino deployment.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The software switch's view of the same file.
    pub switch: LoadedSwitch,
    /// `[servers]`, validated (the control key is needed for refreshes).
    pub servers: Servers,
    /// The `[tofino]` table.
    pub tofino: TofinoSection,
    /// NF dev port.
    pub nf_port: u16,
    /// Client dev ports, in file order.
    pub client_ports: Vec<u16>,
    /// Dev port of server i (the i-th server-role port).
    pub server_ports: Vec<u16>,
    /// Every dev port in `[[switch.port]]` order.
    pub all_ports: Vec<u16>,
    /// Blacklist entries, longest prefix first as the model keeps them.
    pub blacklist: Vec<BlacklistRule>,
}

/// Registers are 32 bits wide, so the payload log offset must fit one.
pub const MAX_TOFINO_LOG: u64 = 1 << 31;
/// The header copy's egress parser expects 54 original bytes, so split packets must be at
/// least that long (IPv4 total length above 40).
pub const MIN_TOFINO_SPLIT_THRESHOLD: u16 = 40;
/// Ingress timestamps are shifted right by 10 bits for the liveness clock (~1.024 us ticks).
pub const LIVENESS_TICK_NS: u64 = 1024;

impl Deployment {
    /// Reads and validates a cluster file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = cluster::read_text(path)?;
        Self::parse(&text).map_err(|e| Error::InFile {
            path: path.display().to_string(),
            err: Box::new(e),
        })
    }

    /// Parses the text of a cluster file.
    pub fn parse(text: &str) -> Result<Self> {
        let table = cluster::parse(text)?;
        let switch = LoadedSwitch::from_table(&table)?;
        let tofino: TofinoSection = cluster::section(&table, "tofino")?.ok_or_else(|| {
            Error::Setting("no [tofino] table (dev ports of the switch ports)".into())
        })?;
        let program = tofino.program.as_deref().unwrap_or("ribosome");
        if !is_python_identifier(program) {
            bail!(
                "tofino.program {program:?}: must be a P4/Python identifier (letters, digits, _; not a keyword)"
            );
        }
        let ports = &switch.ports;
        if tofino.dev_ports.len() != ports.len() {
            bail!(
                "tofino.dev_ports has {} entries for {} [[switch.port]]s",
                tofino.dev_ports.len(),
                ports.len()
            );
        }
        for (i, &p) in tofino.dev_ports.iter().enumerate() {
            if p > 511 {
                bail!("tofino.dev_ports[{i}] = {p} is not a 9-bit dev port");
            }
            if tofino.dev_ports[..i].contains(&p) {
                bail!("tofino.dev_ports[{i}] = {p} appears twice");
            }
            if p >> 7 != tofino.dev_ports[0] >> 7 {
                bail!("tofino.dev_ports[{i}] = {p} is in another pipe than dev port {} (registers are per pipe)", tofino.dev_ports[0]);
            }
        }
        let by_role = |r: PortRole| -> Vec<u16> {
            ports
                .iter()
                .zip(&tofino.dev_ports)
                .filter(|(e, _)| e.role == r)
                .map(|(_, &d)| d)
                .collect()
        };
        let c = &switch.config;
        let server_ports = by_role(PortRole::Server);
        if server_ports.len() != usize::from(c.servers) {
            bail!(
                "{} server ports for {} [[servers.server]] entries (server i is the i-th server port)",
                server_ports.len(),
                c.servers
            );
        }
        match c.split_threshold {
            Some(t) if t >= MIN_TOFINO_SPLIT_THRESHOLD => {}
            _ => bail!(
                "the Tofino program needs switch.split_threshold >= {MIN_TOFINO_SPLIT_THRESHOLD}"
            ),
        }
        if c.payload_log > MAX_TOFINO_LOG {
            bail!("the Tofino program needs switch.payload_log <= 2GiB (32-bit registers)");
        }
        if c.total_qps() > 65535 {
            bail!("servers * qps_per_server must be below 65536");
        }
        let nf = tofino.nf_mirror_session.unwrap_or(100);
        let base = tofino.refresh_mirror_session_base.unwrap_or(200);
        let last = u32::from(base) + u32::from(c.servers) - 1;
        if nf == 0 || base == 0 || nf > 1015 || last > 1015 {
            bail!("mirror sessions must be 1..=1015");
        }
        if (u32::from(base)..=last).contains(&u32::from(nf)) {
            bail!("tofino.nf_mirror_session overlaps the refresh sessions");
        }
        speed_name(tofino.speed.as_deref())?;
        fec_name(tofino.fec.as_deref())?;
        let mut blacklist = Vec::new();
        for (i, e) in switch.section.blacklist.iter().enumerate() {
            let (ip, len) = e.prefix.split_once('/').unwrap_or((&e.prefix, "32"));
            let ip: Ipv4Addr = ip
                .trim()
                .parse()
                .map_err(|e| Error::Setting(format!("blacklist prefix: {e}")))?;
            let len: u8 = len
                .trim()
                .parse()
                .map_err(|e| Error::Setting(format!("blacklist prefix length: {e}")))?;
            let mask = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len))
            };
            let prefix = Ipv4Addr::from(u32::from(ip) & mask);
            // LoadedSwitch::parse accepted the entry, so it is exactly one of these.
            let send_to = match (e.action.as_deref(), e.port) {
                (_, Some(p)) => Some(
                    *tofino
                        .dev_ports
                        .get(usize::from(p))
                        .ok_or_else(|| Error::Setting(format!("switch.blacklist[{i}].port")))?,
                ),
                _ => None,
            };
            if c.blacklist.lookup(prefix).is_none() {
                bail!("switch.blacklist[{i}]: not in the model's table");
            }
            blacklist.push(BlacklistRule {
                prefix,
                len,
                send_to,
            });
        }
        blacklist.sort_by_key(|r| std::cmp::Reverse(r.len));
        Ok(Self {
            nf_port: tofino.dev_ports[usize::from(c.nf_port)],
            client_ports: by_role(PortRole::Client),
            all_ports: tofino.dev_ports.clone(),
            server_ports,
            blacklist,
            servers: switch.servers.clone(),
            tofino,
            switch,
        })
    }

    /// `bfrt.<program>`.
    pub fn program(&self) -> &str {
        self.tofino.program.as_deref().unwrap_or("ribosome")
    }

    /// Header-copy mirror session.
    pub fn nf_mirror_session(&self) -> u16 {
        self.tofino.nf_mirror_session.unwrap_or(100)
    }

    /// Refresh mirror session of server 0.
    pub fn refresh_mirror_session_base(&self) -> u16 {
        self.tofino.refresh_mirror_session_base.unwrap_or(200)
    }

    /// Liveness timeout in ticks of the data-plane clock (rounded up).
    pub fn liveness_ticks(&self) -> u64 {
        self.switch
            .config
            .liveness_timeout_ns
            .div_ceil(LIVENESS_TICK_NS)
            .clamp(1, u64::from(u32::MAX >> 1))
    }
}

/// `s` is an identifier in both P4 and Python 3 (ASCII letters, digits and `_`, not starting
/// with a digit, not a Python keyword): `bfrt.<program>` in the setup script must be one.
pub fn is_python_identifier(s: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
        "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
        "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return",
        "try", "while", "with", "yield",
    ];
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&s)
}

/// bfrt speed name.
pub fn speed_name(s: Option<&str>) -> Result<&'static str> {
    Ok(match s.unwrap_or("100G") {
        "10G" => "BF_SPEED_10G",
        "25G" => "BF_SPEED_25G",
        "40G" => "BF_SPEED_40G",
        "50G" => "BF_SPEED_50G",
        "100G" => "BF_SPEED_100G",
        o => bail!("tofino.speed {o:?}: use 10G, 25G, 40G, 50G or 100G"),
    })
}

/// bfrt FEC name.
pub fn fec_name(s: Option<&str>) -> Result<&'static str> {
    Ok(match s.unwrap_or("rs") {
        "rs" => "BF_FEC_TYP_RS",
        "fc" => "BF_FEC_TYP_FC",
        "none" => "BF_FEC_TYP_NONE",
        o => bail!("tofino.fec {o:?}: use rs, fc or none"),
    })
}
