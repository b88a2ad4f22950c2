//! The NFs' own view of a frame (each Click element re-reads headers the same way): offsets and
//! the 5-tuple of an Ethernet/IPv4/TCP-or-UDP frame, or None for anything else.

use crate::trace::frame::Tuple;
use crate::trace::frame::{ETH_LEN, PROTO_TCP, PROTO_UDP};

/// Where the headers are and what they say.
#[derive(Debug, Clone, Copy)]
pub struct Hdr {
    pub key: Tuple,
    pub l4: usize,
    pub ip_total: u16,
}

pub fn parse(f: &[u8]) -> Option<Hdr> {
    if f.len() < ETH_LEN + 20 || f[12..14] != [0x08, 0x00] || f[ETH_LEN] >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(f[ETH_LEN] & 0x0F) * 4;
    let proto = f[ETH_LEN + 9];
    let l4 = ETH_LEN + ihl;
    let l4_min = match proto {
        PROTO_TCP => 20,
        PROTO_UDP => 8,
        _ => return None,
    };
    if ihl < 20 || f.len() < l4 + l4_min {
        return None;
    }
    let be32 = |o: usize| u32::from_be_bytes([f[o], f[o + 1], f[o + 2], f[o + 3]]);
    let be16 = |o: usize| u16::from_be_bytes([f[o], f[o + 1]]);
    Some(Hdr {
        key: Tuple {
            src: be32(ETH_LEN + 12),
            dst: be32(ETH_LEN + 16),
            sport: be16(l4),
            dport: be16(l4 + 2),
            proto,
        },
        l4,
        ip_total: be16(ETH_LEN + 2),
    })
}
