//! Source NAT (the paper's IPRewriterPatterns(NAT lan 1024-65535)): per-flow mapping table with
//! port allocation over a pool of public addresses, a reverse table for return traffic, and the
//! header rewrite with incremental IPv4 and TCP/UDP checksum updates (RFC 1624).

use super::headers::Hdr;
use crate::trace::frame::{ETH_LEN, PROTO_TCP};
use crate::trace::Tuple;
use reframer_core::wire::checksum::{checksum_adjust_u16, checksum_adjust_u32};
use std::collections::HashMap;

const PORT_LO: u16 = 1024;
const PORTS: usize = 65536 - PORT_LO as usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    pub addr: u32,
    pub port: u16,
}

#[derive(Debug)]
pub struct Nat {
    public: Vec<u32>,
    /// In-use bit per (public address, port); allocation walks a cursor over it.
    used: Vec<u64>,
    cursor: usize,
    forward: HashMap<Tuple, Mapping, ahash::RandomState>,
    reverse: HashMap<Tuple, Tuple, ahash::RandomState>,
    pub exhausted: u64,
}

impl Nat {
    pub fn new(public: Vec<u32>, capacity: usize) -> Self {
        let slots = public.len() * PORTS;
        Self {
            public,
            used: vec![0; slots.div_ceil(64)],
            cursor: 0,
            forward: HashMap::with_capacity_and_hasher(capacity, super::fixed_hasher()),
            reverse: HashMap::with_capacity_and_hasher(capacity, super::fixed_hasher()),
            exhausted: 0,
        }
    }

    /// The flow's mapping, allocating one for a new flow; None when all ports are in use.
    pub fn map(&mut self, k: &Tuple) -> Option<Mapping> {
        if let Some(m) = self.forward.get(k) {
            return Some(*m);
        }
        let m = self.allocate()?;
        self.forward.insert(*k, m);
        let back = Tuple {
            src: k.dst,
            dst: m.addr,
            sport: k.dport,
            dport: m.port,
            proto: k.proto,
        };
        self.reverse.insert(back, *k);
        Some(m)
    }

    fn allocate(&mut self) -> Option<Mapping> {
        let slots = self.public.len() * PORTS;
        for _ in 0..slots {
            let s = self.cursor;
            self.cursor = (self.cursor + 1) % slots;
            if self.used[s / 64] & (1 << (s % 64)) == 0 {
                self.used[s / 64] |= 1 << (s % 64);
                return Some(Mapping {
                    addr: self.public[s / PORTS],
                    port: PORT_LO + (s % PORTS) as u16,
                });
            }
        }
        self.exhausted += 1;
        None
    }

    /// The original flow of a return packet's key, if it belongs to a mapped flow.
    pub fn lookup_reverse(&self, k: &Tuple) -> Option<Tuple> {
        self.reverse.get(k).copied()
    }

    /// Rewrites source address and port of `f` (headers at `h`); false when no port is left.
    pub fn rewrite(&mut self, f: &mut [u8], h: &Hdr) -> bool {
        let Some(m) = self.map(&h.key) else {
            return false;
        };
        rewrite_src(f, h, m.addr, m.port);
        true
    }

    pub fn mappings(&self) -> usize {
        self.forward.len()
    }
}

/// Sets the source address and port, patching both checksums incrementally.
pub fn rewrite_src(f: &mut [u8], h: &Hdr, addr: u32, port: u16) {
    let ip = ETH_LEN;
    let ck = u16::from_be_bytes([f[ip + 10], f[ip + 11]]);
    f[ip + 10..ip + 12].copy_from_slice(&checksum_adjust_u32(ck, h.key.src, addr).to_be_bytes());
    f[ip + 12..ip + 16].copy_from_slice(&addr.to_be_bytes());
    let at = h.l4 + if h.key.proto == PROTO_TCP { 16 } else { 6 };
    let l4ck = u16::from_be_bytes([f[at], f[at + 1]]);
    // A UDP checksum of 0 means "none" and stays 0.
    if h.key.proto == PROTO_TCP || l4ck != 0 {
        let c = checksum_adjust_u16(
            checksum_adjust_u32(l4ck, h.key.src, addr),
            h.key.sport,
            port,
        );
        f[at..at + 2].copy_from_slice(&c.to_be_bytes());
    }
    f[h.l4..h.l4 + 2].copy_from_slice(&port.to_be_bytes());
}

/// Sets the destination address, patching both checksums incrementally (used by the LB).
pub fn rewrite_dst(f: &mut [u8], h: &Hdr, addr: u32) {
    let ip = ETH_LEN;
    let ck = u16::from_be_bytes([f[ip + 10], f[ip + 11]]);
    f[ip + 10..ip + 12].copy_from_slice(&checksum_adjust_u32(ck, h.key.dst, addr).to_be_bytes());
    f[ip + 16..ip + 20].copy_from_slice(&addr.to_be_bytes());
    let at = h.l4 + if h.key.proto == PROTO_TCP { 16 } else { 6 };
    let l4ck = u16::from_be_bytes([f[at], f[at + 1]]);
    if h.key.proto == PROTO_TCP || l4ck != 0 {
        f[at..at + 2].copy_from_slice(&checksum_adjust_u32(l4ck, h.key.dst, addr).to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nf::headers::parse;
    use crate::trace::frame::{checksums_valid, Frame, Tuple, PROTO_UDP, TCP_ACK};

    #[test]
    fn rewrite_keeps_checksums_valid_and_maps_consistently() {
        let mut nat = Nat::new(vec![0x6440_0001, 0x6440_0002], 16);
        for proto in [PROTO_TCP, PROTO_UDP] {
            for i in 0..50u32 {
                let t = Tuple {
                    src: 0x0A00_0000 + i,
                    dst: 0x0808_0808,
                    sport: 30_000 + i as u16,
                    dport: 443,
                    proto,
                };
                let mut f = Frame::build(&t, TCP_ACK, 1500, i);
                let h = parse(f.as_ref()).unwrap();
                assert!(nat.rewrite(f.as_mut(), &h));
                assert!(checksums_valid(f.as_ref()), "proto {proto} flow {i}");
                let after = parse(f.as_ref()).unwrap().key;
                let m = nat.map(&h.key).unwrap();
                assert_eq!((after.src, after.sport), (m.addr, m.port));
                assert!(nat.public.contains(&after.src) && after.sport >= PORT_LO);
                let back = Tuple {
                    src: after.dst,
                    dst: after.src,
                    sport: after.dport,
                    dport: after.sport,
                    proto,
                };
                assert_eq!(nat.lookup_reverse(&back), Some(h.key));
            }
        }
        assert_eq!(
            nat.mappings(),
            100,
            "one mapping per flow, reused for later packets"
        );
    }

    #[test]
    fn allocation_is_unique_and_exhausts_cleanly() {
        let mut nat = Nat::new(vec![1], 8);
        let mut seen = std::collections::HashSet::new();
        for i in 0..PORTS as u32 {
            let k = Tuple {
                src: i,
                dst: 2,
                sport: 1,
                dport: 2,
                proto: 17,
            };
            assert!(seen.insert(nat.map(&k).unwrap().port));
        }
        assert_eq!(
            nat.map(&Tuple {
                src: u32::MAX,
                dst: 2,
                sport: 1,
                dport: 2,
                proto: 17
            }),
            None
        );
        assert_eq!(nat.exhausted, 1);
    }
}
