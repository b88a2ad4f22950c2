//! Zero-copy, panic-free parsing of the headers Reframer classifies on.
//!
//! Every accessor works on a borrowed frame and checks lengths before it reads, so any byte
//! string (truncated, malformed, hostile) yields a [`Parsed`] value and never a panic. The
//! parser is fuzzed (`reframer/core/fuzz`) and its corpus is replayed by a stable test.

pub mod checksum;
mod ethernet;
mod flow_key;
mod ip;
mod transport;

pub use checksum::{checksum, checksum_adjust_u16, checksum_adjust_u32};
pub use flow_key::FlowKey;

use crate::stats::BypassReason;

/// IP protocol numbers Reframer buffers.
pub const PROTO_TCP: u8 = 6;
/// See [`PROTO_TCP`].
pub const PROTO_UDP: u8 = 17;

/// TCP flag bits (byte 13 of the TCP header).
pub mod tcp_flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
}

/// A buffered-kind packet: TCP or UDP over IPv4/IPv6, unfragmented, fully present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowInfo {
    /// The 5-tuple.
    pub key: FlowKey,
    /// Offset of the IP header in the frame.
    pub l3_off: u16,
    /// Offset of the TCP/UDP header in the frame.
    pub l4_off: u16,
    /// Bytes of L4 payload (after the TCP/UDP header).
    pub payload_len: u16,
    /// TCP flags, 0 for UDP.
    pub tcp_flags: u8,
}

impl FlowInfo {
    /// True for TCP.
    pub fn is_tcp(&self) -> bool {
        self.key.proto() == PROTO_TCP
    }

    /// A TCP segment with only the ACK flag and no payload (FastClick's `isJustAnAck`).
    pub fn is_pure_ack(&self) -> bool {
        self.is_tcp() && self.tcp_flags == tcp_flags::ACK && self.payload_len == 0
    }

    /// A TCP segment with SYN set.
    pub fn is_syn(&self) -> bool {
        self.is_tcp() && self.tcp_flags & tcp_flags::SYN != 0
    }
}

/// Outcome of classifying one Ethernet frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// A TCP/UDP packet that may be buffered.
    Flow(FlowInfo),
    /// A packet that is passed through at once. `key` is known for first fragments, so the
    /// scheduler can release that flow's queue before it (order is never broken).
    Bypass {
        /// Why it is not buffered.
        reason: BypassReason,
        /// The 5-tuple when the headers allowed reading it.
        key: Option<FlowKey>,
    },
}

impl Parsed {
    fn bypass(reason: BypassReason) -> Self {
        Self::Bypass { reason, key: None }
    }
}

/// Classifies an Ethernet frame (with up to [`ethernet::MAX_VLAN_TAGS`] 802.1Q/802.1ad tags).
#[inline]
pub fn parse(frame: &[u8]) -> Parsed {
    parse_with(frame, false)
}

/// Like [`parse`], for snap-length captures: a frame shorter than its IP length still
/// classifies when its L4 header is complete (`payload_len` then comes from the headers).
#[inline]
pub fn parse_snapped(frame: &[u8]) -> Parsed {
    parse_with(frame, true)
}

#[inline]
fn parse_with(frame: &[u8], snapped: bool) -> Parsed {
    let Some((ethertype, l3_off)) = ethernet::payload(frame) else {
        return Parsed::bypass(BypassReason::Truncated);
    };
    match ethertype {
        ethernet::ETHERTYPE_IPV4 => ip::parse_ipv4(frame, l3_off, snapped),
        ethernet::ETHERTYPE_IPV6 => ip::parse_ipv6(frame, l3_off, snapped),
        ethernet::ETHERTYPE_VLAN_OVERFLOW => Parsed::bypass(BypassReason::Malformed),
        _ => Parsed::bypass(BypassReason::NonIp),
    }
}

/// Reads a big-endian u16 at `off`, if present.
#[inline]
pub(crate) fn be16(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

/// Reads a big-endian u32 at `off`, if present.
#[inline]
pub(crate) fn be32(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

#[cfg(test)]
mod tests;
