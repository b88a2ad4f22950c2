//! The switch's registers, as plain Rust state.

use ribosome_wire::{MacAddr, SplitTrailer};
use std::collections::VecDeque;
use std::net::Ipv4Addr;

/// Per-server registers: learned from MEM and ETH info, plus the log offset and liveness.
#[derive(Debug, Clone, Default)]
pub(crate) struct ServerState {
    /// `remote_address` (MEM info).
    pub(crate) base_va: Option<u64>,
    /// `remote_key` (MEM info).
    pub(crate) rkey: u32,
    /// MAC, IP and port (ETH info; port learned from the ingress port).
    pub(crate) addr: Option<(MacAddr, Ipv4Addr, crate::PortId)>,
    /// `memory_offset`: next free byte of the circular log (pad included).
    pub(crate) log_offset: u64,
    /// Time of the oldest request sent since the server last answered anything.
    pub(crate) unanswered_since: Option<u64>,
    /// Taken out by the liveness check.
    pub(crate) dead: bool,
    /// Members disabled by the overload hysteresis.
    pub(crate) overloaded: bool,
    /// Bytes sent to the server since the last control tick.
    pub(crate) tx_bytes: u64,
}

/// A READ the switch sent and is waiting for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PendingRead {
    pub(crate) psn: u32,
    pub(crate) slot: u16,
    pub(crate) generation: u32,
}

/// Per-QP registers.
#[derive(Debug, Clone, Default)]
pub(crate) struct QpState {
    /// `qp[idx]`: the server-side QPN (0 = never registered).
    pub(crate) qpn: Option<u32>,
    /// `enabled_qp`: 0 disabled, 1 usable, >1 countdown in packets.
    pub(crate) enabled: u16,
    /// `restore_qp`: the control plane asked for a refresh on the next packet.
    pub(crate) restore: bool,
    /// `seq_n`: next PSN (24 bits).
    pub(crate) psn: u32,
    /// READs in flight, oldest first (RC answers in order).
    pub(crate) reads: VecDeque<PendingRead>,
    /// Headers stored whose READ waits for room under the responder's READ limit.
    pub(crate) waiting: VecDeque<(u16, u32)>,
}

/// One header-store slot (`hdr_block_0..14` at one index), plus the generation it holds.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    /// The NF-returned Eth + IPv4 + L4 header.
    pub(crate) header: Vec<u8>,
    /// L4 header length.
    pub(crate) l4_hdr_len: usize,
    /// The trailer that came back with it.
    pub(crate) trailer: SplitTrailer,
    /// Its generation (the trailer's).
    pub(crate) generation: u32,
    /// Flow hash, for the output port.
    pub(crate) flow_hash: u16,
}
