//! IPv4 and IPv6 (with a bounded walk over extension headers).

use super::{be16, transport, FlowKey, Parsed, PROTO_TCP, PROTO_UDP};
use crate::stats::BypassReason;

/// Bound on IPv6 extension headers walked before giving up (RFC 8200 expects few; a long
/// chain is either an attack or something we should not hold anyway).
pub(crate) const MAX_IPV6_EXT_HEADERS: usize = 8;

const EXT_HOP_BY_HOP: u8 = 0;
const EXT_ROUTING: u8 = 43;
const EXT_FRAGMENT: u8 = 44;
const EXT_AUTH: u8 = 51;
const EXT_DEST_OPTS: u8 = 60;
const EXT_MOBILITY: u8 = 135;
const EXT_HIP: u8 = 139;
const EXT_SHIM6: u8 = 140;

/// A frame cut short of its IP length is passed through, but with its 5-tuple when the
/// bytes present hold it (as a snap-length parse reads them), so the scheduler releases that
/// flow's queue first and the frame never overtakes its own flow.
fn truncated(as_snapped: Parsed) -> Parsed {
    let key = match as_snapped {
        Parsed::Flow(info) => Some(info.key),
        Parsed::Bypass { key, .. } => key,
    };
    Parsed::Bypass {
        reason: BypassReason::Truncated,
        key,
    }
}

#[inline]
pub(crate) fn parse_ipv4(frame: &[u8], off: usize, snapped: bool) -> Parsed {
    let Some(h) = frame.get(off..off + 20) else {
        return Parsed::bypass(BypassReason::Truncated);
    };
    if h[0] >> 4 != 4 {
        return Parsed::bypass(BypassReason::Malformed);
    }
    let ihl = usize::from(h[0] & 0x0F) * 4;
    let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
    if ihl < 20 || total < ihl {
        return Parsed::bypass(BypassReason::Malformed);
    }
    let end = off + total;
    // A frame cut short of its IP length is read as a snap-length capture would be, then
    // passed through (with its key when the bytes present hold it).
    if frame.len() < end && !snapped {
        return ipv4_cut(frame, h, off, ihl, end);
    }
    ipv4_l4(frame, h, off, ihl, end)
}

/// [`parse_ipv4`] of a frame cut short of its IP length (off the hot path).
#[cold]
#[inline(never)]
fn ipv4_cut(frame: &[u8], h: &[u8], off: usize, ihl: usize, end: usize) -> Parsed {
    truncated(ipv4_l4(frame, h, off, ihl, end))
}

/// The part of [`parse_ipv4`] after the header checks (`h` is the 20-byte header at `off`).
#[inline(always)]
fn ipv4_l4(frame: &[u8], h: &[u8], off: usize, ihl: usize, end: usize) -> Parsed {
    let avail = end.min(frame.len());
    let proto = h[9];
    let frag = u16::from_be_bytes([h[6], h[7]]);
    let more_fragments = frag & 0x2000 != 0;
    let frag_offset = frag & 0x1FFF;
    let src = [h[12], h[13], h[14], h[15]];
    let dst = [h[16], h[17], h[18], h[19]];
    let l4 = off + ihl;
    if proto != PROTO_TCP && proto != PROTO_UDP {
        return Parsed::bypass(BypassReason::OtherProtocol);
    }
    let ports = |p: &[u8]| Some((be16(p, l4)?, be16(p, l4 + 2)?));
    if more_fragments || frag_offset != 0 {
        let key = if frag_offset == 0 {
            ports(&frame[..avail]).map(|(s, d)| FlowKey::v4(src, dst, s, d, proto))
        } else {
            None
        };
        return Parsed::Bypass {
            reason: BypassReason::Fragment,
            key,
        };
    }
    transport::parse(&frame[..avail], end, off, l4, proto, |s, d| {
        FlowKey::v4(src, dst, s, d, proto)
    })
}

pub(crate) fn parse_ipv6(frame: &[u8], off: usize, snapped: bool) -> Parsed {
    let Some(h) = frame.get(off..off + 40) else {
        return Parsed::bypass(BypassReason::Truncated);
    };
    if h[0] >> 4 != 6 {
        return Parsed::bypass(BypassReason::Malformed);
    }
    let payload_len = usize::from(u16::from_be_bytes([h[4], h[5]]));
    let end = off + 40 + payload_len;
    if payload_len == 0 {
        // Jumbogram (hop-by-hop jumbo option) or empty: not something we hold.
        return Parsed::bypass(BypassReason::Malformed);
    }
    if frame.len() < end && !snapped {
        return ipv6_cut(frame, h, off, end);
    }
    ipv6_l4(&frame[..end.min(frame.len())], h, off, end)
}

/// [`parse_ipv6`] of a frame cut short of its IP length (off the hot path).
#[cold]
#[inline(never)]
fn ipv6_cut(frame: &[u8], h: &[u8], off: usize, end: usize) -> Parsed {
    truncated(ipv6_l4(frame, h, off, end))
}

/// The part of [`parse_ipv6`] after the header checks: the extension-header walk and L4.
/// `frame` is cut at the datagram's end; `h` is the 40-byte header at `off`.
#[inline(always)]
fn ipv6_l4(frame: &[u8], h: &[u8], off: usize, end: usize) -> Parsed {
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src.copy_from_slice(&h[8..24]);
    dst.copy_from_slice(&h[24..40]);
    let mut next = h[6];
    let mut l4 = off + 40;
    let mut fragment: Option<bool> = None; // Some(first_fragment)
    for _ in 0..=MAX_IPV6_EXT_HEADERS {
        match next {
            PROTO_TCP | PROTO_UDP => {
                let proto = next;
                let key = |s, d| FlowKey::v6(src, dst, s, d, proto);
                return match fragment {
                    None => transport::parse(frame, end, off, l4, proto, key),
                    Some(first) => Parsed::Bypass {
                        reason: BypassReason::Fragment,
                        key: if first {
                            be16(frame, l4)
                                .zip(be16(frame, l4 + 2))
                                .map(|(s, d)| key(s, d))
                        } else {
                            None
                        },
                    },
                };
            }
            EXT_HOP_BY_HOP | EXT_ROUTING | EXT_DEST_OPTS | EXT_MOBILITY | EXT_HIP | EXT_SHIM6 => {
                let Some(e) = frame.get(l4..l4 + 2) else {
                    return Parsed::bypass(BypassReason::Truncated);
                };
                next = e[0];
                l4 += (usize::from(e[1]) + 1) * 8;
            }
            EXT_AUTH => {
                let Some(e) = frame.get(l4..l4 + 2) else {
                    return Parsed::bypass(BypassReason::Truncated);
                };
                next = e[0];
                l4 += (usize::from(e[1]) + 2) * 4;
            }
            EXT_FRAGMENT => {
                let Some(e) = frame.get(l4..l4 + 8) else {
                    return Parsed::bypass(BypassReason::Truncated);
                };
                next = e[0];
                let offset = u16::from_be_bytes([e[2], e[3]]) >> 3;
                fragment = Some(offset == 0);
                l4 += 8;
                if offset != 0 {
                    // Later fragments carry no L4 header; the next-header value is all we know.
                    return Parsed::Bypass {
                        reason: BypassReason::Fragment,
                        key: None,
                    };
                }
            }
            _ => {
                return Parsed::bypass(if fragment.is_some() {
                    BypassReason::Fragment
                } else {
                    BypassReason::OtherProtocol
                })
            }
        }
        if l4 > frame.len() {
            return Parsed::bypass(BypassReason::Truncated);
        }
    }
    Parsed::bypass(BypassReason::ExtensionChain)
}
