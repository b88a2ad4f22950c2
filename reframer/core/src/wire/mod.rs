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

/// The 5-tuple of a frame that [`parse`] or [`parse_snapped`] classified as a flow before
/// ([`Parsed::Flow`]), read straight from its headers: the checks that frame passed are not
/// made again, so it costs a few loads where a parse costs ~100 instructions (callgrind).
/// `None` for an IPv6 frame with extension headers (parse it). On a frame that did not
/// classify as a flow the answer means nothing, but it is never a panic.
#[inline]
pub fn reread_key(frame: &[u8]) -> Option<FlowKey> {
    // The common frame (untagged IPv4 without options) at fixed offsets, as `plain_ipv4`.
    if let Some(h) = frame.get(..PLAIN_KEY_END) {
        if h[12..15] == PLAIN_IPV4 {
            return Some(plain_ipv4_key(h));
        }
    }
    let (ethertype, l3) = ethernet::payload(frame)?;
    let ports = |l4: usize| Some((be16(frame, l4)?, be16(frame, l4 + 2)?));
    match ethertype {
        ethernet::ETHERTYPE_IPV4 => {
            let h = frame.get(l3..l3 + 20)?;
            let (sport, dport) = ports(l3 + usize::from(h[0] & 0x0F) * 4)?;
            let src = [h[12], h[13], h[14], h[15]];
            let dst = [h[16], h[17], h[18], h[19]];
            Some(FlowKey::v4(src, dst, sport, dport, h[9]))
        }
        ethernet::ETHERTYPE_IPV6 => {
            let h = frame.get(l3..l3 + 40)?;
            let proto = h[6];
            if proto != PROTO_TCP && proto != PROTO_UDP {
                return None;
            }
            let (sport, dport) = ports(l3 + 40)?;
            let mut src = [0; 16];
            let mut dst = [0; 16];
            src.copy_from_slice(&h[8..24]);
            dst.copy_from_slice(&h[24..40]);
            Some(FlowKey::v6(src, dst, sport, dport, proto))
        }
        _ => None,
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

/// The one-pass path for the common frame, inlined; anything else to the layered parser,
/// out of line (the scheduler's packet loop calls this).
#[inline(always)]
pub(crate) fn parse_with(frame: &[u8], snapped: bool) -> Parsed {
    match plain_ipv4(frame) {
        Some(p) => p,
        None => parse_general(frame, snapped),
    }
}

/// Ethernet type IPv4, then version 4 with a 20-byte header: the common frame's bytes 12..15.
const PLAIN_IPV4: [u8; 3] = [0x08, 0x00, 0x45];
/// Where the common frame's 5-tuple ends (the destination port).
const PLAIN_KEY_END: usize = 38;

/// The 5-tuple of a frame starting with [`PLAIN_IPV4`], at its fixed offsets (`h` holds at
/// least [`PLAIN_KEY_END`] bytes).
#[inline(always)]
fn plain_ipv4_key(h: &[u8]) -> FlowKey {
    FlowKey::v4(
        [h[26], h[27], h[28], h[29]],
        [h[30], h[31], h[32], h[33]],
        u16::from_be_bytes([h[34], h[35]]),
        u16::from_be_bytes([h[36], h[37]]),
        h[23],
    )
}

/// The common frame in one pass: untagged Ethernet, IPv4 without options, not a fragment,
/// TCP or UDP, the whole datagram present and its headers consistent. One bounds check and
/// a few compares at fixed offsets, where the general parser's layer-by-layer checks cost
/// ~100 instructions (callgrind). `None` for anything else, which [`parse_general`] then
/// classifies; where this answers, its answer is the general parser's, snapped or not
/// (tested on the fuzz corpus and mutations of every header byte).
#[inline(always)]
fn plain_ipv4(frame: &[u8]) -> Option<Parsed> {
    const L4: usize = 34;
    let h: &[u8; L4 + 8] = frame.get(..L4 + 8)?.try_into().ok()?;
    let frag = u16::from_be_bytes([h[20], h[21]]);
    let proto = h[23];
    if h[12..15] != PLAIN_IPV4 || frag & 0x3FFF != 0 {
        return None;
    }
    let end = 14 + usize::from(u16::from_be_bytes([h[16], h[17]]));
    if end > frame.len() {
        return None;
    }
    let (hdr_len, flags) = match proto {
        PROTO_TCP => {
            // The header's fixed part inside the datagram, a data offset of at least 20
            // bytes, and the whole header present.
            let (&doff, &flags) = (frame.get(L4 + 12)?, frame.get(L4 + 13)?);
            let doff = usize::from(doff >> 4) * 4;
            if L4 + 20 > end || doff < 20 || L4 + doff > end {
                return None;
            }
            (doff, flags)
        }
        PROTO_UDP => {
            let ulen = usize::from(u16::from_be_bytes([h[38], h[39]]));
            if L4 + 8 > end || ulen < 8 || L4 + ulen > end {
                return None;
            }
            (8, 0)
        }
        _ => return None,
    };
    Some(Parsed::Flow(FlowInfo {
        key: plain_ipv4_key(h),
        l3_off: 14,
        l4_off: L4 as u16,
        // `end` is at most 14 + 65,535 and the headers end inside it.
        payload_len: (end - L4 - hdr_len) as u16,
        tcp_flags: flags,
    }))
}

/// The parser for every frame: Ethernet with VLAN tags, IPv4 (options, fragments, frames cut
/// short), IPv6 with its extension headers, TCP and UDP.
#[inline(never)]
fn parse_general(frame: &[u8], snapped: bool) -> Parsed {
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
