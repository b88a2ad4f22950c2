//! TCP and UDP headers.

use super::{be16, FlowInfo, FlowKey, Parsed, PROTO_TCP};
use crate::stats::BypassReason;

const TCP_MIN: usize = 20;
const UDP_LEN: usize = 8;

/// Parses the L4 header at `l4` inside `ip` (the bytes present, cut at the IP datagram's
/// end); `end` is where the IP header says the datagram ends (beyond `ip` in a snapped frame).
#[inline]
pub(crate) fn parse(
    ip: &[u8],
    end: usize,
    l3: usize,
    l4: usize,
    proto: u8,
    key: impl Fn(u16, u16) -> FlowKey,
) -> Parsed {
    let (Some(sport), Some(dport)) = (be16(ip, l4), be16(ip, l4 + 2)) else {
        return Parsed::bypass(BypassReason::Truncated);
    };
    // From here on the 5-tuple is known: a frame that is still passed through carries it, so
    // the scheduler releases its flow's queue before it (it never overtakes its own flow).
    // Built only where it is returned: the hot path makes it once.
    let bypass = |reason| Parsed::Bypass {
        reason,
        key: Some(key(sport, dport)),
    };
    let (hdr_len, flags) = if proto == PROTO_TCP {
        let Some(h) = ip.get(l4..l4 + TCP_MIN) else {
            return bypass(BypassReason::Truncated);
        };
        let doff = usize::from(h[12] >> 4) * 4;
        if doff < TCP_MIN {
            return bypass(BypassReason::Malformed);
        }
        (doff, h[13])
    } else {
        let Some(ulen) = be16(ip, l4 + 4) else {
            return bypass(BypassReason::Truncated);
        };
        if usize::from(ulen) < UDP_LEN || l4 + usize::from(ulen) > end {
            return bypass(BypassReason::Malformed);
        }
        (UDP_LEN, 0)
    };
    if l4 + hdr_len > ip.len() {
        return bypass(BypassReason::Truncated);
    }
    let Some(payload_len) = end.checked_sub(l4 + hdr_len) else {
        return bypass(BypassReason::Truncated);
    };
    let (Ok(l3_off), Ok(l4_off), Ok(payload_len)) = (
        u16::try_from(l3),
        u16::try_from(l4),
        u16::try_from(payload_len),
    ) else {
        return bypass(BypassReason::Malformed);
    };
    Parsed::Flow(FlowInfo {
        key: key(sport, dport),
        l3_off,
        l4_off,
        payload_len,
        tcp_flags: flags,
    })
}
