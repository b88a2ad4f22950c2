//! Builders for well-formed test frames (Ethernet + IPv4/IPv6 + TCP/UDP, valid checksums).
//! Used by tests, benchmarks, the fuzz corpus, the demo and the evaluation's generators.

use crate::wire::checksum::{checksum, checksum_with, pseudo_header_sum};
use crate::wire::{PROTO_TCP, PROTO_UDP};
use std::net::IpAddr;

/// What to put in a frame.
#[derive(Debug, Clone)]
pub struct FrameSpec {
    /// Source address (v4 and v6 must not be mixed).
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// TCP (`true`) or UDP.
    pub tcp: bool,
    /// TCP sequence number.
    pub seq: u32,
    /// TCP acknowledgement number.
    pub ack: u32,
    /// TCP flags byte.
    pub flags: u8,
    /// TCP window.
    pub window: u16,
    /// IPv4 identification (0 unless set; IPv6 has none).
    pub ident: u16,
    /// L4 payload.
    pub payload: Vec<u8>,
    /// 802.1Q VLAN tags to insert, outermost first.
    pub vlans: Vec<u16>,
}

impl FrameSpec {
    /// A UDP datagram with `payload_len` zero bytes.
    pub fn udp(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, payload_len: usize) -> Self {
        Self {
            src,
            dst,
            sport,
            dport,
            tcp: false,
            seq: 0,
            ack: 0,
            flags: 0,
            window: 0,
            ident: 0,
            payload: vec![0; payload_len],
            vlans: Vec::new(),
        }
    }

    /// UDP/IPv4 flow number `flow` of the in-memory port tests and benches:
    /// 10.77.1.1:(10000 + `flow`) -> 10.77.2.1:9999, `payload_len` zero bytes (22: a 64-byte frame).
    pub fn numbered_flow(flow: u16, payload_len: usize) -> Self {
        Self::udp(
            [10, 77, 1, 1].into(),
            [10, 77, 2, 1].into(),
            10_000 + flow,
            9999,
            payload_len,
        )
    }

    /// The same frame with `tag` (big-endian) in its first four payload bytes, the payload
    /// grown to four bytes if shorter: how tests number packets to check order at the far end.
    pub fn tagged(mut self, tag: u32) -> Self {
        if self.payload.len() < 4 {
            self.payload.resize(4, 0);
        }
        self.payload[..4].copy_from_slice(&tag.to_be_bytes());
        self
    }

    /// A TCP segment (arguments in header order; a builder would only add noise to tests).
    #[allow(clippy::too_many_arguments)]
    pub fn tcp(
        src: IpAddr,
        dst: IpAddr,
        sport: u16,
        dport: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
    ) -> Self {
        Self {
            src,
            dst,
            sport,
            dport,
            tcp: true,
            seq,
            ack,
            flags,
            window: 8192,
            ident: 0,
            payload: payload.to_vec(),
            vlans: Vec::new(),
        }
    }

    /// Bytes [`Self::build`] produces.
    pub fn len(&self) -> usize {
        let l3 = if self.src.is_ipv4() { 20 } else { 40 };
        let l4 = if self.tcp { 20 } else { 8 };
        14 + 4 * self.vlans.len() + l3 + l4 + self.payload.len()
    }

    /// True for a frame of no bytes, which never happens (there is always a header); for
    /// clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Serialises the frame.
    pub fn build(&self) -> Vec<u8> {
        let mut f = vec![0; self.len()];
        self.write_to(&mut f);
        f
    }

    /// Serialises the frame into the start of `buf` without allocating (a trace generator's
    /// inline buffer) and returns its length, [`Self::len`].
    ///
    /// # Panics
    /// When `buf` is shorter than [`Self::len`] or the addresses mix IPv4 and IPv6 (test and
    /// trace input, never traffic).
    pub fn write_to(&self, buf: &mut [u8]) -> usize {
        let len = self.len();
        let f = &mut buf[..len];
        f.fill(0);
        f[0..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x02]); // dst MAC
        f[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x01]); // src MAC
        let mut at = 12;
        for v in &self.vlans {
            f[at..at + 2].copy_from_slice(&0x8100u16.to_be_bytes());
            f[at + 2..at + 4].copy_from_slice(&(v & 0x0FFF).to_be_bytes());
            at += 4;
        }
        let proto = if self.tcp { PROTO_TCP } else { PROTO_UDP };
        let l4_len = if self.tcp { 20 } else { 8 } + self.payload.len();
        let pseudo = match (self.src, self.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                f[at..at + 2].copy_from_slice(&0x0800u16.to_be_bytes());
                let ip = &mut f[at + 2..at + 22];
                ip[0] = 0x45;
                ip[2..4].copy_from_slice(&((20 + l4_len) as u16).to_be_bytes());
                ip[4..6].copy_from_slice(&self.ident.to_be_bytes());
                ip[6] = 0x40; // DF
                ip[8] = 64;
                ip[9] = proto;
                ip[12..16].copy_from_slice(&s.octets());
                ip[16..20].copy_from_slice(&d.octets());
                let c = checksum(ip);
                ip[10..12].copy_from_slice(&c.to_be_bytes());
                at += 22;
                pseudo_header_sum(&s.octets(), &d.octets(), proto, l4_len as u32)
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                f[at..at + 2].copy_from_slice(&0x86DDu16.to_be_bytes());
                let ip = &mut f[at + 2..at + 42];
                ip[0] = 0x60;
                ip[4..6].copy_from_slice(&(l4_len as u16).to_be_bytes());
                ip[6] = proto;
                ip[7] = 64;
                ip[8..24].copy_from_slice(&s.octets());
                ip[24..40].copy_from_slice(&d.octets());
                at += 42;
                pseudo_header_sum(&s.octets(), &d.octets(), proto, l4_len as u32)
            }
            _ => panic!("FrameSpec: source and destination must be the same IP version"),
        };
        let l4 = &mut f[at..];
        l4[0..2].copy_from_slice(&self.sport.to_be_bytes());
        l4[2..4].copy_from_slice(&self.dport.to_be_bytes());
        let csum_off = if self.tcp {
            l4[4..8].copy_from_slice(&self.seq.to_be_bytes());
            l4[8..12].copy_from_slice(&self.ack.to_be_bytes());
            l4[12] = 5 << 4;
            l4[13] = self.flags;
            l4[14..16].copy_from_slice(&self.window.to_be_bytes());
            l4[20..].copy_from_slice(&self.payload);
            16
        } else {
            l4[4..6].copy_from_slice(&(l4_len as u16).to_be_bytes());
            l4[8..].copy_from_slice(&self.payload);
            6
        };
        let mut c = checksum_with(l4, pseudo);
        if !self.tcp && c == 0 {
            c = 0xFFFF; // 0 means "no checksum" in UDP
        }
        l4[csum_off..csum_off + 2].copy_from_slice(&c.to_be_bytes());
        len
    }
}

/// True when the TCP/UDP checksum of an IPv4 or IPv6 frame (no VLAN) verifies.
pub fn l4_checksum_ok(frame: &[u8]) -> bool {
    let crate::wire::Parsed::Flow(info) = crate::wire::parse(frame) else {
        return false;
    };
    let l3 = usize::from(info.l3_off);
    let l4 = usize::from(info.l4_off);
    let end =
        l4 + usize::from(info.payload_len) + if info.is_tcp() { tcp_hdr(frame, l4) } else { 8 };
    let len = (end - l4) as u32;
    let pseudo = if frame[l3] >> 4 == 4 {
        pseudo_header_sum(
            &frame[l3 + 12..l3 + 16],
            &frame[l3 + 16..l3 + 20],
            frame[l3 + 9],
            len,
        )
    } else {
        pseudo_header_sum(
            &frame[l3 + 8..l3 + 24],
            &frame[l3 + 24..l3 + 40],
            info.key.proto(),
            len,
        )
    };
    checksum_with(&frame[l4..end], pseudo) == 0
}

fn tcp_hdr(frame: &[u8], l4: usize) -> usize {
    usize::from(frame[l4 + 12] >> 4) * 4
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::checksum::checksum;

    #[test]
    fn write_to_and_build_agree_and_checksums_verify() {
        let v4 = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([192, 0, 2, 9]));
        let v6 = (
            IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]),
            IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 2]),
        );
        for (src, dst) in [v4, v6] {
            for mut spec in [
                FrameSpec::udp(src, dst, 1000, 53, 33),
                FrameSpec::tcp(src, dst, 1000, 80, 7, 9, 0x18, b"odd length"),
            ] {
                spec.ident = 0xBEEF;
                let f = spec.build();
                assert_eq!(f.len(), spec.len());
                let mut buf = [0xAAu8; 256];
                assert_eq!(spec.write_to(&mut buf), f.len());
                assert_eq!(&buf[..f.len()], &f[..]);
                assert_eq!(buf[f.len()], 0xAA, "nothing written past the frame");
                assert!(l4_checksum_ok(&f), "{spec:?}");
                if src.is_ipv4() {
                    assert_eq!(checksum(&f[14..34]), 0);
                    assert_eq!(&f[18..20], &[0xBE, 0xEF]);
                }
                spec.vlans = vec![100, 200];
                let tagged = spec.build();
                assert_eq!(tagged.len(), f.len() + 8);
                assert_eq!(&tagged[12..14], &[0x81, 0x00]);
                assert_eq!(&tagged[20..], &f[12..], "same frame behind the tags");
            }
        }
    }

    #[test]
    fn a_tag_opens_the_payload_and_a_short_payload_grows_to_hold_it() {
        let ip = |a| IpAddr::from([10, 0, 0, a]);
        let f = FrameSpec::udp(ip(1), ip(2), 1, 2, 10)
            .tagged(0x0102_0304)
            .build();
        assert_eq!(f.len(), 42 + 10);
        assert_eq!(&f[42..46], &[1, 2, 3, 4]);
        assert!(f[46..].iter().all(|&b| b == 0));
        let short = FrameSpec::udp(ip(1), ip(2), 1, 2, 1).tagged(7).build();
        assert_eq!(&short[42..], &[0, 0, 0, 7]);
        assert!(l4_checksum_ok(&short));
    }
}
