//! The in-memory packet: a fixed-size inline header buffer (no heap allocation per packet, so the
//! scheduler's own cost is not inflated by the allocator) plus the frame's length on the wire.

use reframer_core::frames::FrameSpec;
use reframer_core::wire::checksum::{ones_sum, pseudo_header_sum};
use std::net::{IpAddr, Ipv4Addr};

/// Bytes kept per packet: Ethernet + IPv4 + TCP headers (54) fit with room to spare.
pub const FRAME_CAP: usize = 64;
pub const ETH_LEN: usize = 14;
pub const IP_LEN: usize = 20;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const TCP_SYN: u8 = 0x02;
pub const TCP_ACK: u8 = 0x10;
pub const TCP_PSH: u8 = 0x08;

/// An IPv4 5-tuple in host byte order: a flow as the generator assigns it and as the NFs key
/// their tables. Not reframer-core's `FlowKey` on purpose: 16 bytes against 40 (traces keep
/// one per flow, and the NF cost the experiments measure includes hashing it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Tuple {
    pub src: u32,
    pub dst: u32,
    pub sport: u16,
    pub dport: u16,
    pub proto: u8,
}

/// One packet: the first `len` bytes of `bytes` are a complete, checksum-valid Ethernet/IPv4/L4
/// header stack whose IP total length covers exactly those bytes (no payload is kept);
/// `wire_len` is the size the packet had on the wire, used for Gbps figures and pcap output.
#[derive(Clone, Copy)]
pub struct Frame {
    bytes: [u8; FRAME_CAP],
    len: u8,
    pub wire_len: u16,
    /// Index of this packet in its trace (lets experiments find its arrival time and flow).
    pub id: u32,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("id", &self.id)
            .field("len", &self.len)
            .field("wire_len", &self.wire_len)
            .finish()
    }
}

impl AsRef<[u8]> for Frame {
    fn as_ref(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl AsMut<[u8]> for Frame {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.bytes[..usize::from(self.len)]
    }
}

impl Frame {
    /// Builds the header stack for `t` with reframer-core's frame builder (IP ident and TCP
    /// sequence number = `id`); `tcp_flags` is ignored for UDP.
    pub fn build(t: &Tuple, tcp_flags: u8, wire_len: u16, id: u32) -> Self {
        let tcp = t.proto == PROTO_TCP;
        let spec = FrameSpec {
            src: IpAddr::V4(Ipv4Addr::from(t.src)),
            dst: IpAddr::V4(Ipv4Addr::from(t.dst)),
            sport: t.sport,
            dport: t.dport,
            tcp,
            seq: id,
            ack: 0,
            flags: if tcp { tcp_flags } else { 0 },
            window: if tcp { 64240 } else { 0 },
            ident: id as u16,
            payload: Vec::new(),
            vlans: Vec::new(),
        };
        let mut b = [0u8; FRAME_CAP];
        let len = spec.write_to(&mut b);
        Self {
            bytes: b,
            len: len as u8,
            wire_len: wire_len.max(len as u16),
            id,
        }
    }
}

/// A packet buffer the experiments move through the scheduler: frame bytes plus the trace index
/// (to find its arrival time and flow) and its wire length.
pub trait Packet: AsRef<[u8]> + AsMut<[u8]> {
    fn id(&self) -> u32;
    fn wire_len(&self) -> u16;
}

impl Packet for Frame {
    fn id(&self) -> u32 {
        self.id
    }
    fn wire_len(&self) -> u16 {
        self.wire_len
    }
}

/// Partial one's-complement sum of the IPv4 pseudo-header.
pub fn pseudo_sum(src: u32, dst: u32, proto: u8, l4_len: u16) -> u32 {
    pseudo_header_sum(
        &src.to_be_bytes(),
        &dst.to_be_bytes(),
        proto,
        u32::from(l4_len),
    )
}

/// True when the IPv4 header checksum and the TCP/UDP checksum of `frame` are both valid.
pub fn checksums_valid(frame: &[u8]) -> bool {
    if frame.len() < ETH_LEN + IP_LEN {
        return false;
    }
    let ip = &frame[ETH_LEN..ETH_LEN + IP_LEN];
    if ones_sum(ip, 0) != 0xFFFF {
        return false;
    }
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    if total < IP_LEN || ETH_LEN + total > frame.len() {
        return false;
    }
    let src = u32::from_be_bytes([ip[12], ip[13], ip[14], ip[15]]);
    let dst = u32::from_be_bytes([ip[16], ip[17], ip[18], ip[19]]);
    let l4 = &frame[ETH_LEN + IP_LEN..ETH_LEN + total];
    ones_sum(l4, pseudo_sum(src, dst, ip[9], l4.len() as u16)) == 0xFFFF
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_frames_have_valid_checksums() {
        for proto in [PROTO_TCP, PROTO_UDP] {
            let t = Tuple {
                src: 0x0A00_0001,
                dst: 0xC0A8_0101,
                sport: 40000,
                dport: 443,
                proto,
            };
            let f = Frame::build(&t, TCP_ACK, 1514, 9);
            assert!(checksums_valid(f.as_ref()), "proto {proto}");
            assert_eq!(f.wire_len, 1514);
            let mut bad = f;
            bad.as_mut()[ETH_LEN + 12] ^= 1;
            assert!(!checksums_valid(bad.as_ref()));
        }
    }
}
