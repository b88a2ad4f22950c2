//! The NF chain the paper measures (chain.config: flow statistics -> router -> firewall -> NAT,
//! optionally a load balancer): real tables, real lookups, real header rewrites.

pub mod firewall;
pub mod flow_counter;
pub mod headers;
pub mod lb;
pub mod nat;
pub mod router;

use crate::trace::hosts::{self, server_pool};

/// Fixed hash seeds: runs are reproducible and baseline/Reframer runs hash identically.
pub fn fixed_hasher() -> ahash::RandomState {
    ahash::RandomState::with_seeds(0x243F_6A88, 0x85A3_08D3, 0x1319_8A2E, 0x0370_7344)
}

/// What the chain did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Forward(u16),
    NotIp,
    NoRoute,
    Denied,
    TableFull,
    NoPort,
}

/// Per-verdict counters.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ChainStats {
    pub forwarded: u64,
    pub dropped: u64,
    /// Folded output (ports and rewritten headers) so the optimizer cannot skip any work.
    pub digest: u64,
}

#[derive(Debug)]
pub struct Chain {
    pub fc: flow_counter::FlowCounter,
    pub router: router::Router,
    pub fw: firewall::Firewall,
    pub nat: nat::Nat,
    pub lb: Option<lb::LoadBalancer>,
    pub stats: ChainStats,
}

impl Chain {
    /// The paper's chain sized for `capacity` flows; `with_lb` appends the load balancer.
    pub fn paper(capacity: usize, with_lb: bool) -> Self {
        let servers = server_pool();
        let routes = router::Router::paper_table(&servers[..hosts::ROUTES]);
        let rules = firewall::Firewall::paper_rules(&servers[..hosts::FW_HOST_RULES]);
        let public: Vec<u32> = (0..64).map(|i| 0x6440_0000 | (i + 1)).collect();
        Self {
            fc: flow_counter::FlowCounter::new(capacity),
            router: router::Router::new(&routes),
            fw: firewall::Firewall::new(&rules),
            nat: nat::Nat::new(public, capacity),
            lb: with_lb.then(|| {
                lb::LoadBalancer::new((1..=16).map(|i| 0xAC10_0000 | i).collect(), capacity)
            }),
            stats: ChainStats::default(),
        }
    }

    /// Runs one frame through every NF in order, rewriting it in place.
    pub fn process(&mut self, f: &mut [u8], wire_len: u16, now: u64) -> Verdict {
        let v = self.run(f, wire_len, now);
        match v {
            Verdict::Forward(p) => {
                self.stats.forwarded += 1;
                let tail = u64::from(u16::from_be_bytes([f[f.len() - 2], f[f.len() - 1]]));
                self.stats.digest = self.stats.digest.rotate_left(5) ^ (u64::from(p) << 16 | tail);
            }
            _ => self.stats.dropped += 1,
        }
        v
    }

    fn run(&mut self, f: &mut [u8], wire_len: u16, now: u64) -> Verdict {
        let Some(h) = headers::parse(f) else {
            return Verdict::NotIp;
        };
        if !self.fc.count(&h.key, wire_len, now) {
            return Verdict::TableFull;
        }
        let Some(port) = self.router.lookup(h.key.dst) else {
            return Verdict::NoRoute;
        };
        if self.fw.filter(&h.key) == firewall::Action::Deny {
            return Verdict::Denied;
        }
        if !self.nat.rewrite(f, &h) {
            return Verdict::NoPort;
        }
        if let Some(lb) = &mut self.lb {
            // The LB sees the NATed header.
            if let Some(h2) = headers::parse(f) {
                lb.forward(f, &h2);
            }
        }
        Verdict::Forward(port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::frame::{checksums_valid, Frame, Tuple, PROTO_TCP, TCP_ACK};

    #[test]
    fn chain_forwards_counts_and_rewrites() {
        let servers = server_pool();
        let mut c = Chain::paper(1024, true);
        let t = Tuple {
            src: 0x0A00_0102,
            dst: servers[0],
            sport: 40_000,
            dport: 443,
            proto: PROTO_TCP,
        };
        for i in 0..3 {
            let mut f = Frame::build(&t, TCP_ACK, 1514, i);
            let v = c.process(f.as_mut(), 1514, u64::from(i));
            assert!(
                matches!(v, Verdict::Forward(3)),
                "{v:?}: first server has a /32 route to port 3"
            );
            assert!(checksums_valid(f.as_ref()));
            let k = headers::parse(f.as_ref()).unwrap().key;
            assert_ne!(k.src, t.src, "NAT rewrote the source");
            assert_eq!(k.dst >> 16, 0xAC10, "LB rewrote the destination");
        }
        let key = headers::Key {
            src: t.src,
            dst: t.dst,
            sport: t.sport,
            dport: t.dport,
            proto: t.proto,
        };
        assert_eq!(c.fc.get(&key).unwrap().packets, 3);
        assert_eq!(c.fc.get(&key).unwrap().bytes, 3 * 1514);
        let telnet = Tuple { dport: 23, ..t };
        let mut f = Frame::build(&telnet, TCP_ACK, 60, 9);
        assert_eq!(c.process(f.as_mut(), 60, 9), Verdict::Denied);
        assert_eq!(c.process(&mut [0u8; 10], 60, 9), Verdict::NotIp);
        assert_eq!((c.stats.forwarded, c.stats.dropped), (3, 2));
    }
}
