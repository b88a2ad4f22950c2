//! Scheduler settings. Defaults are FastClick SFMaker's element defaults; the mapping:
//!
//! | here | SFMaker | default | note |
//! |---|---|---|---|
//! | `delay_ns` | `DELAY` (µs) | 100 µs | per-flow window, from the first buffered packet |
//! | `max_burst` | `MAX_BURST` | 1024 | a flow holding **more than** this many packets is released at once |
//! | `max_tx_burst` | `MAX_TX_BURST` | 32 | output batch size |
//! | `max_flows` | `MAX_CAP` | off | flows with packets buffered; above it the oldest window goes out (SFMaker's docs say packets, its code counts flows; we count flows and say so) |
//! | `priority` | `PRIO` | `sent` | order of bursts inside one release round |
//! | `first_packet_bypass` | `PASSTHROUGH` + `MODEL SECOND` | on | a new flow's first packet is not held |
//! | `bypass_syn` | `BYPASS_SYN` | off | SYNs are not held (their flow's queue leaves first) |
//! | `tcp_ack_coalescing` | `PROTO_COMPRESS` | off | drop redundant pure ACKs, rewrite ACK/window to the burst's newest |
//! | `tcp_reorder` | `REORDER` | off (SFMaker: on, but only with compression; the paper ran with it off) | sort a TCP burst by sequence number |
//! | `max_buffered_packets` | none (SFMaker is unbounded) | 65536 | packet memory bound; when full the oldest window goes out |
//! | `flow_table_capacity` | `FlowIPManagerIMP CAPACITY` | 262144 | tracked flows; new flows beyond it bypass |
//! | `flow_timeout_ns` | none (never aged in SFMaker) | 10 s | idle entries are aged out; a returning flow is new again |
//! | `snapped_frames` | none | off | classify frames cut short by a capture's snap length on their headers |

use thiserror::Error;

/// Order of the per-flow bursts released in one round (SFMaker `PRIO`, ascending keys,
/// ties keep window order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Priority {
    /// Flows that have sent more packets go first (SFMaker default).
    #[default]
    Sent,
    /// The flow that waited the least goes first (SFMaker's `DELAY` as written).
    Delay,
    /// The youngest flow (most recent first packet) goes first.
    First,
}

impl std::str::FromStr for Priority {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s {
            "sent" => Ok(Self::Sent),
            "delay" => Ok(Self::Delay),
            "first" => Ok(Self::First),
            other => Err(ConfigError::Invalid {
                key: "priority",
                why: format!("`{other}` is not one of sent, delay, first"),
            }),
        }
    }
}

impl Priority {
    /// The config-file spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Delay => "delay",
            Self::First => "first",
        }
    }
}

/// Scheduler settings; see the module docs for units, defaults and SFMaker names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Window per flow, ns.
    pub delay_ns: u64,
    /// A flow holding more than this many packets is released.
    pub max_burst: u32,
    /// Output batch size, packets.
    pub max_tx_burst: usize,
    /// Maximum flows with packets buffered; `None` = no limit.
    pub max_flows: Option<u32>,
    /// Maximum packets buffered.
    pub max_buffered_packets: u32,
    /// Maximum flow-table entries.
    pub flow_table_capacity: u32,
    /// Idle time after which a flow entry is aged out, ns.
    pub flow_timeout_ns: u64,
    /// Burst order inside a release round.
    pub priority: Priority,
    /// Do not hold a new flow's first packet.
    pub first_packet_bypass: bool,
    /// Do not hold TCP SYNs.
    pub bypass_syn: bool,
    /// TCP ACK coalescing inside a released burst.
    pub tcp_ack_coalescing: bool,
    /// Sort TCP bursts by sequence number (only with coalescing).
    pub tcp_reorder: bool,
    /// Frames may be shorter than their IP length (a snap-length capture): classify them on
    /// their headers instead of passing them through as truncated.
    pub snapped_frames: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            delay_ns: 100_000,
            max_burst: 1024,
            max_tx_burst: 32,
            max_flows: None,
            max_buffered_packets: 65_536,
            flow_table_capacity: 262_144,
            flow_timeout_ns: 10_000_000_000,
            priority: Priority::Sent,
            first_packet_bypass: true,
            bypass_syn: false,
            tcp_ack_coalescing: false,
            tcp_reorder: false,
            snapped_frames: false,
        }
    }
}

/// A setting out of range, naming the setting.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    /// The key and why its value is refused.
    #[error("invalid `{key}`: {why}")]
    Invalid {
        /// Setting name as in the config file.
        key: &'static str,
        /// Human explanation.
        why: String,
    },
}

/// Largest `max_burst`: a burst is one round entry and one TX-queue run; far above any
/// useful burst (SFMaker's default is 1,024), low enough that one flow cannot hold the slab.
pub const MAX_BURST_LIMIT: u32 = 60_000;
/// Largest packet and flow bounds (indices are 32-bit, tables are powers of two).
pub const MAX_TABLE_LIMIT: u32 = 1 << 28;
/// Longest window (one hour); anything longer is surely a unit mistake.
pub const MAX_DELAY_NS: u64 = 3_600_000_000_000;

impl Config {
    /// Checks every bound; the error names the offending setting.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key, why: String| Err(ConfigError::Invalid { key, why });
        if self.delay_ns > MAX_DELAY_NS {
            return bad("delay_us", format!("{} ns exceeds one hour", self.delay_ns));
        }
        if self.max_burst == 0 || self.max_burst > MAX_BURST_LIMIT {
            return bad(
                "max_burst",
                format!("{} is outside 1..={MAX_BURST_LIMIT}", self.max_burst),
            );
        }
        if self.max_tx_burst == 0 || self.max_tx_burst > 4096 {
            return bad(
                "max_tx_burst",
                format!("{} is outside 1..=4096", self.max_tx_burst),
            );
        }
        if self.max_flows == Some(0) {
            return bad(
                "max_flows",
                "must be at least 1 (omit it to disable)".into(),
            );
        }
        if self.max_buffered_packets == 0 || self.max_buffered_packets > MAX_TABLE_LIMIT {
            return bad(
                "max_buffered_packets",
                format!(
                    "{} is outside 1..={MAX_TABLE_LIMIT}",
                    self.max_buffered_packets
                ),
            );
        }
        if self.flow_table_capacity == 0 || self.flow_table_capacity > MAX_TABLE_LIMIT {
            return bad(
                "flow_table_capacity",
                format!(
                    "{} is outside 1..={MAX_TABLE_LIMIT}",
                    self.flow_table_capacity
                ),
            );
        }
        if self.flow_timeout_ns < self.delay_ns {
            return bad(
                "flow_timeout_ms",
                "must be at least the window (`delay_us`)".into(),
            );
        }
        if self.tcp_reorder && !self.tcp_ack_coalescing {
            return bad(
                "tcp_reorder",
                "only applies with `tcp_ack_coalescing = true`".into(),
            );
        }
        Ok(())
    }
}
