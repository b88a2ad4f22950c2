//! The parts of a client packet the pipeline looks at, with the original's parser limits:
//! Ethernet II without VLAN, IPv4 without options, TCP or UDP.

use crate::consts::{ETH_LEN, IPV4_LEN, UDP_LEN};
use crate::selector::FiveTuple;
use std::net::Ipv4Addr;

/// IP protocol numbers.
pub const PROTO_TCP: u8 = 6;
/// UDP.
pub const PROTO_UDP: u8 = 17;

/// What the parser made of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// Not Ethernet/IPv4 the pipeline handles (short, other EtherType, IP options, bad length).
    NotIpv4,
    /// IPv4, but not TCP/UDP or a fragment; the destination is known for the blacklist.
    OtherIp(Ipv4Addr),
    /// TCP or UDP.
    L4(L4Packet),
}

/// A TCP/UDP packet's layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct L4Packet {
    /// The flow.
    pub flow: FiveTuple,
    /// IPv4 total length.
    pub ip_total_len: u16,
    /// L4 header length (UDP 8, TCP data offset * 4).
    pub l4_hdr_len: usize,
}

impl L4Packet {
    /// Offset of the payload (end of the L4 header).
    pub fn payload_off(&self) -> usize {
        ETH_LEN + IPV4_LEN + self.l4_hdr_len
    }

    /// End of the IP packet in the frame (Ethernet padding excluded).
    pub fn ip_end(&self) -> usize {
        ETH_LEN + usize::from(self.ip_total_len)
    }
}

fn be16(f: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*f.get(at)?, *f.get(at + 1)?]))
}

fn ip_at(f: &[u8], at: usize) -> Option<Ipv4Addr> {
    let b: [u8; 4] = f.get(at..at + 4)?.try_into().ok()?;
    Some(Ipv4Addr::from(b))
}

/// Parses a frame; never panics.
pub fn parse(f: &[u8]) -> Parsed {
    parse_opt(f).unwrap_or(Parsed::NotIpv4)
}

fn parse_opt(f: &[u8]) -> Option<Parsed> {
    if be16(f, 12)? != 0x0800 || *f.get(ETH_LEN)? != 0x45 {
        return Some(Parsed::NotIpv4);
    }
    let total = be16(f, ETH_LEN + 2)?;
    if usize::from(total) < IPV4_LEN || ETH_LEN + usize::from(total) > f.len() {
        return Some(Parsed::NotIpv4);
    }
    let dst = ip_at(f, ETH_LEN + 16)?;
    let src = ip_at(f, ETH_LEN + 12)?;
    let proto = *f.get(ETH_LEN + 9)?;
    let frag = be16(f, ETH_LEN + 6)? & 0x3fff;
    if frag != 0 || (proto != PROTO_TCP && proto != PROTO_UDP) {
        return Some(Parsed::OtherIp(dst));
    }
    let l4 = ETH_LEN + IPV4_LEN;
    let l4_hdr_len = if proto == PROTO_UDP {
        UDP_LEN
    } else {
        usize::from(*f.get(l4 + 12)? >> 4) * 4
    };
    if l4_hdr_len < UDP_LEN || IPV4_LEN + l4_hdr_len > usize::from(total) {
        return Some(Parsed::OtherIp(dst));
    }
    Some(Parsed::L4(L4Packet {
        flow: FiveTuple {
            src,
            dst,
            proto,
            sport: be16(f, l4)?,
            dport: be16(f, l4 + 2)?,
        },
        ip_total_len: total,
        l4_hdr_len,
    }))
}

/// Sets the IPv4 total length (and the UDP length for UDP) and recomputes the IPv4 header
/// checksum, which covers only the header the switch holds, so a full recompute is exact.
pub fn set_lengths(frame: &mut [u8], payload_len: usize, l4_hdr_len: usize) {
    let total = (IPV4_LEN + l4_hdr_len + payload_len) as u16;
    if let Some(t) = frame.get_mut(ETH_LEN + 2..ETH_LEN + 4) {
        t.copy_from_slice(&total.to_be_bytes());
    }
    if frame.get(ETH_LEN + 9) == Some(&PROTO_UDP) {
        let udp = (UDP_LEN + payload_len) as u16;
        let at = ETH_LEN + IPV4_LEN + 4;
        if let Some(t) = frame.get_mut(at..at + 2) {
            t.copy_from_slice(&udp.to_be_bytes());
        }
    }
    if let Some(h) = frame.get_mut(ETH_LEN..ETH_LEN + IPV4_LEN) {
        h[10] = 0;
        h[11] = 0;
        let c = ribosome_wire::ipv4::checksum(h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
    }
}
