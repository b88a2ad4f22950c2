//! Builders for well-formed test frames (Ethernet + IPv4/IPv6 + TCP/UDP, valid checksums).
//! Used by tests, benchmarks, the fuzz corpus, the demo and the evaluation's generators.

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
            payload: vec![0; payload_len],
            vlans: Vec::new(),
        }
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
            payload: payload.to_vec(),
            vlans: Vec::new(),
        }
    }

    /// Serialises the frame.
    pub fn build(&self) -> Vec<u8> {
        let mut f = Vec::with_capacity(64 + self.payload.len());
        f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x02]); // dst MAC
        f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x01]); // src MAC
        for v in &self.vlans {
            f.extend_from_slice(&0x8100u16.to_be_bytes());
            f.extend_from_slice(&(v & 0x0FFF).to_be_bytes());
        }
        let proto = if self.tcp { 6u8 } else { 17 };
        let l4 = self.l4(proto);
        match (self.src, self.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                f.extend_from_slice(&0x0800u16.to_be_bytes());
                let total = (20 + l4.len()) as u16;
                let mut ip = [0u8; 20];
                ip[0] = 0x45;
                ip[2..4].copy_from_slice(&total.to_be_bytes());
                ip[6] = 0x40; // DF
                ip[8] = 64;
                ip[9] = proto;
                ip[12..16].copy_from_slice(&s.octets());
                ip[16..20].copy_from_slice(&d.octets());
                let c = checksum(&ip, 0);
                ip[10..12].copy_from_slice(&c.to_be_bytes());
                f.extend_from_slice(&ip);
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                f.extend_from_slice(&0x86DDu16.to_be_bytes());
                let mut ip = [0u8; 40];
                ip[0] = 0x60;
                ip[4..6].copy_from_slice(&(l4.len() as u16).to_be_bytes());
                ip[6] = proto;
                ip[7] = 64;
                ip[8..24].copy_from_slice(&s.octets());
                ip[24..40].copy_from_slice(&d.octets());
                f.extend_from_slice(&ip);
            }
            _ => panic!("FrameSpec: source and destination must be the same IP version"),
        }
        f.extend_from_slice(&l4);
        f
    }

    fn l4(&self, proto: u8) -> Vec<u8> {
        let mut l4 = Vec::with_capacity(20 + self.payload.len());
        l4.extend_from_slice(&self.sport.to_be_bytes());
        l4.extend_from_slice(&self.dport.to_be_bytes());
        let csum_off = if self.tcp {
            l4.extend_from_slice(&self.seq.to_be_bytes());
            l4.extend_from_slice(&self.ack.to_be_bytes());
            l4.push(5 << 4);
            l4.push(self.flags);
            l4.extend_from_slice(&self.window.to_be_bytes());
            l4.extend_from_slice(&[0, 0, 0, 0]);
            16
        } else {
            l4.extend_from_slice(&((8 + self.payload.len()) as u16).to_be_bytes());
            l4.extend_from_slice(&[0, 0]);
            6
        };
        l4.extend_from_slice(&self.payload);
        let mut pseudo = Vec::with_capacity(40);
        match (self.src, self.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                pseudo.extend_from_slice(&s.octets());
                pseudo.extend_from_slice(&d.octets());
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                pseudo.extend_from_slice(&s.octets());
                pseudo.extend_from_slice(&d.octets());
            }
            _ => {}
        }
        let extra = sum(&pseudo) + u32::from(proto) + l4.len() as u32;
        let mut c = checksum(&l4, extra);
        if !self.tcp && c == 0 {
            c = 0xFFFF;
        }
        l4[csum_off..csum_off + 2].copy_from_slice(&c.to_be_bytes());
        l4
    }
}

fn sum(data: &[u8]) -> u32 {
    data.chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum()
}

/// Internet checksum of `data` plus an already-summed `extra` (e.g. a pseudo-header).
pub fn checksum(data: &[u8], extra: u32) -> u16 {
    let mut s = u64::from(sum(data)) + u64::from(extra);
    while s >> 16 != 0 {
        s = (s & 0xFFFF) + (s >> 16);
    }
    !(s as u16)
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
    let (pseudo, proto) = if frame[l3] >> 4 == 4 {
        (sum(&frame[l3 + 12..l3 + 20]), frame[l3 + 9])
    } else {
        (sum(&frame[l3 + 8..l3 + 40]), info.key.proto())
    };
    checksum(
        &frame[l4..end],
        pseudo + u32::from(proto) + (end - l4) as u32,
    ) == 0
}

fn tcp_hdr(frame: &[u8], l4: usize) -> usize {
    usize::from(frame[l4 + 12] >> 4) * 4
}
