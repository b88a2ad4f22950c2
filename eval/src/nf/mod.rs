//! The NF chain the paper measures (chain.config: flow statistics -> router -> firewall -> NAT,
//! optionally a load balancer): real tables, real lookups, real header rewrites. The heavier
//! second chain ([`Chain::stateful`]) puts a connection tracker in front of it.

pub mod conntrack;
pub mod firewall;
pub mod flow_counter;
pub mod headers;
pub mod lb;
pub mod nat;
pub mod router;

use crate::trace::frame::ETH_LEN;
use crate::trace::hosts::{self, server_pool};
use crate::trace::{Packet, Tuple};

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
    /// The stateful firewall's connection tracker (the heavier chain only).
    pub ct: Option<conntrack::Conntrack>,
    pub fc: flow_counter::FlowCounter,
    pub router: router::Router,
    pub fw: firewall::Firewall,
    pub nat: nat::Nat,
    pub lb: Option<lb::LoadBalancer>,
    pub stats: ChainStats,
    /// Scratch for `process_burst`: each packet's headers, read once.
    hdrs: Vec<Option<headers::Hdr>>,
}

impl Chain {
    /// The paper's chain sized for `capacity` flows; `with_lb` appends the load balancer.
    pub fn paper(capacity: usize, with_lb: bool) -> Self {
        let servers = server_pool();
        let routes = router::Router::paper_table(&servers[..hosts::ROUTES]);
        let rules = firewall::Firewall::paper_rules(&servers[..hosts::FW_HOST_RULES]);
        let public: Vec<u32> = (0..64).map(|i| 0x6440_0000 | (i + 1)).collect();
        Self {
            ct: None,
            fc: flow_counter::FlowCounter::new(capacity),
            router: router::Router::new(&routes),
            fw: firewall::Firewall::new(&rules),
            nat: nat::Nat::new(public, capacity),
            lb: with_lb.then(|| {
                lb::LoadBalancer::new((1..=16).map(|i| 0xAC10_0000 | i).collect(), capacity)
            }),
            stats: ChainStats::default(),
            hdrs: Vec::with_capacity(256),
        }
    }

    /// The paper's chain behind a connection-tracking stateful firewall (one 64-byte entry
    /// per connection, TCP state and sequence tracking per packet): E3's heavier chain.
    pub fn stateful(capacity: usize) -> Self {
        Self {
            ct: Some(conntrack::Conntrack::new(capacity)),
            ..Self::paper(capacity, false)
        }
    }

    /// The paper's chain with a blocklist of `rules` deny rules walked in order ahead of its
    /// firewall's own rules ([`firewall::Firewall::blocklist_rules`]): the same verdicts, with
    /// a rule walk per flow lookup that grows with `rules`. E3 sweeps it to find how much
    /// per-flow work a chain needs before Reframer pays on its core.
    pub fn acl(capacity: usize, rules: usize) -> Self {
        let servers = server_pool();
        let mut list = firewall::Firewall::blocklist_rules(rules, &servers);
        list.extend(firewall::Firewall::paper_rules(
            &servers[..hosts::FW_HOST_RULES],
        ));
        Self {
            fw: firewall::Firewall::new(&list),
            ..Self::paper(capacity, false)
        }
    }

    /// Whether the chain tracks flows (a connection tracker), the one NF that uses a burst's
    /// 5-tuple as handed out ([`reframer_core::Scheduler::burst_key`]); the others parse it.
    pub fn tracks_flows(&self) -> bool {
        self.ct.is_some()
    }

    /// Starts loading the per-flow state of a flow of Reframer hash `hash` (a burst's
    /// [`reframer_core::BurstHint::hash`]) ahead of its burst.
    #[inline]
    pub fn prefetch(&self, hash: u32) {
        if let Some(ct) = &self.ct {
            ct.prefetch(hash);
        }
    }

    /// Runs one frame through every NF in order, rewriting it in place.
    pub fn process(&mut self, f: &mut [u8], wire_len: u16, now: u64) -> Verdict {
        if let Some(ct) = &mut self.ct {
            // In front of the chain, the tracker reads and hashes the flow itself.
            if let Some(h) = headers::parse(f) {
                let key = conntrack::flow_key(&h.key);
                let seg = conntrack::Segment::read(f, ETH_LEN, h.l4);
                if !ct.track(&key, key.hash64() as u32, seg, now) {
                    self.stats.dropped += 1;
                    return Verdict::TableFull;
                }
            }
        }
        let v = self.run(f, wire_len, now);
        match v {
            Verdict::Forward(p) => self.forwarded(f, p),
            _ => self.stats.dropped += 1,
        }
        v
    }

    /// Runs a burst of one flow (what Reframer's burst API hands out) through the chain with
    /// the per-flow work done once, as FastClick's flow elements do: one flow-table update, one
    /// route lookup, one rule walk, one NAT (and LB) mapping lookup per burst; per packet only
    /// its own header parse and rewrite. Same outcome as [`Self::process`] on each packet
    /// (tested); a packet of another flow ends the burst and the rest go on from it.
    pub fn process_burst<P: Packet>(&mut self, burst: &mut [P], now: u64) {
        self.process_burst_keyed(burst, None, now);
    }

    /// As [`Self::process_burst`], for a burst Reframer's burst API handed out with its flow
    /// key and hash (`keyed`): the connection tracker then neither parses nor hashes.
    pub fn process_burst_keyed<P: Packet>(
        &mut self,
        burst: &mut [P],
        keyed: Option<(reframer_core::wire::FlowKey, u32)>,
        now: u64,
    ) {
        // Each packet's headers are read once; runs of one key share the per-flow work.
        let mut hdrs = std::mem::take(&mut self.hdrs);
        hdrs.clear();
        hdrs.extend(burst.iter().map(|p| headers::parse(p.as_ref())));
        let mut at = 0;
        while at < burst.len() {
            let Some(h0) = hdrs[at] else {
                let w = burst[at].wire_len();
                self.process(burst[at].as_mut(), w, now);
                at += 1;
                continue;
            };
            let n = hdrs[at..]
                .iter()
                .take_while(|h| h.is_some_and(|h| h.key == h0.key))
                .count();
            // The key and hash Reframer handed out hold only for a burst that is one flow.
            let k = keyed.filter(|_| at == 0 && n == burst.len());
            self.flow_burst(&mut burst[at..at + n], &hdrs[at..at + n], &h0.key, k, now);
            at += n;
        }
        self.hdrs = hdrs;
    }

    /// One flow's packets (all with key `k`, headers `hdrs`), the per-flow work once.
    fn flow_burst<P: Packet>(
        &mut self,
        run: &mut [P],
        hdrs: &[Option<headers::Hdr>],
        k: &Tuple,
        keyed: Option<(reframer_core::wire::FlowKey, u32)>,
        now: u64,
    ) {
        let n = run.len() as u64;
        if let Some(ct) = &mut self.ct {
            let (key, hash) = keyed.unwrap_or_else(|| {
                let key = conntrack::flow_key(k);
                (key, key.hash64() as u32)
            });
            let segs = run
                .iter()
                .zip(hdrs)
                .map(|(p, h)| h.and_then(|h| conntrack::Segment::read(p.as_ref(), ETH_LEN, h.l4)));
            if ct.track_run(&key, hash, segs, now) == 0 {
                self.stats.dropped += n;
                return;
            }
        }
        let bytes = run.iter().map(|p| u64::from(p.wire_len())).sum();
        let verdict = if !self.fc.count_burst(k, n, bytes, now) {
            Err(Verdict::TableFull)
        } else if let Some(port) = self.router.lookup(k.dst) {
            if self.fw.filter_burst(k, n) == firewall::Action::Deny {
                Err(Verdict::Denied)
            } else if let Some(m) = self.nat.map(k) {
                Ok((port, m))
            } else {
                Err(Verdict::NoPort)
            }
        } else {
            Err(Verdict::NoRoute)
        };
        let (port, m) = match verdict {
            Ok(v) => v,
            Err(_) => {
                self.stats.dropped += n;
                return;
            }
        };
        // The LB sees the NATed header, the same for every packet of the burst.
        let natted = Tuple {
            src: m.addr,
            sport: m.port,
            ..*k
        };
        let backend = self.lb.as_mut().map(|lb| lb.backend(&natted));
        for (p, h) in run.iter_mut().zip(hdrs) {
            let (f, Some(h)) = (p.as_mut(), h) else {
                continue;
            };
            nat::rewrite_src(f, h, m.addr, m.port);
            if let Some(b) = backend {
                nat::rewrite_dst(f, &headers::Hdr { key: natted, ..*h }, b);
            }
            self.forwarded(f, port);
        }
    }

    fn forwarded(&mut self, f: &[u8], port: u16) {
        self.stats.forwarded += 1;
        let tail = u64::from(u16::from_be_bytes([f[f.len() - 2], f[f.len() - 1]]));
        self.stats.digest = self.stats.digest.rotate_left(5) ^ (u64::from(port) << 16 | tail);
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

    /// Appends one burst per entry of `dports`: flow i (source `src + i`, port `sport + i`, to
    /// server i % 4) with i + 1 TCP frames of `len + step * j` bytes.
    fn add_bursts(
        frames: &mut Vec<Frame>,
        bursts: &mut Vec<std::ops::Range<usize>>,
        src: u32,
        sport: u16,
        dports: &[u16],
        len: u16,
        step: u16,
    ) {
        let servers = server_pool();
        for (i, &dport) in dports.iter().enumerate() {
            let t = Tuple {
                src: src + i as u32,
                dst: servers[i % 4],
                sport: sport + i as u16,
                dport,
                proto: PROTO_TCP,
            };
            let start = frames.len();
            for j in 0..=i as u16 {
                frames.push(Frame::build(
                    &t,
                    TCP_ACK,
                    len + step * j,
                    frames.len() as u32,
                ));
            }
            bursts.push(start..frames.len());
        }
    }

    /// Per burst or per packet, the chain does the same: same verdicts, counters, rewritten
    /// bytes and digest, with and without the load balancer.
    #[test]
    fn burst_processing_equals_packet_processing() {
        for with_lb in [false, true] {
            let (mut a, mut b) = (Chain::paper(64, with_lb), Chain::paper(64, with_lb));
            // Flows to routed servers, a denied port, a non-IP frame; bursts of 1..5 packets,
            // and one "burst" that mixes two flows.
            let mut frames = Vec::new();
            let mut bursts = Vec::new();
            let dports = [443u16, 80, 23, 443, 53];
            add_bursts(
                &mut frames,
                &mut bursts,
                0x0A00_0100,
                40_000,
                &dports,
                200,
                10,
            );
            let mut junk = Frame::build(
                &Tuple {
                    src: 1,
                    dst: 2,
                    sport: 3,
                    dport: 9,
                    proto: PROTO_TCP,
                },
                TCP_ACK,
                60,
                99,
            );
            junk.as_mut()[12] = 0x86;
            frames.push(junk);
            bursts.push(frames.len() - 1..frames.len());
            bursts.push(0..frames.len()); // a second pass over everything, flows mixed
            let mut fa = frames.clone();
            let mut fb = frames;
            for (n, r) in bursts.iter().enumerate() {
                for f in &mut fa[r.clone()] {
                    let w = f.wire_len;
                    a.process(f.as_mut(), w, n as u64);
                }
                b.process_burst(&mut fb[r.clone()], n as u64);
            }
            assert_eq!(a.stats.digest, b.stats.digest);
            assert_eq!(
                (a.stats.forwarded, a.stats.dropped),
                (b.stats.forwarded, b.stats.dropped)
            );
            assert!(fa.iter().zip(&fb).all(|(x, y)| x.as_ref() == y.as_ref()));
            assert_eq!(
                (a.fc.cache_hits, a.fw.cache_hits),
                (b.fc.cache_hits, b.fw.cache_hits)
            );
            assert_eq!(a.nat.mappings(), b.nat.mappings());
            assert!(a.stats.forwarded > 0 && a.stats.dropped > 0);
        }
    }

    /// The heavier chain does the same per packet, per burst, and per burst with the key and
    /// hash Reframer hands out; with a tracker too small for the traffic, the refused
    /// connections are dropped the same way.
    #[test]
    fn stateful_chain_bursts_equal_packets() {
        for cap in [64, 3] {
            let mut chains: Vec<Chain> = (0..3).map(|_| Chain::stateful(cap)).collect();
            let mut frames = Vec::new();
            let mut bursts = Vec::new();
            add_bursts(
                &mut frames,
                &mut bursts,
                0x0A00_0200,
                41_000,
                &[443; 6],
                300,
                1,
            );
            let mut copies = vec![frames.clone(), frames.clone(), frames];
            for (n, r) in bursts.iter().enumerate() {
                for f in &mut copies[0][r.clone()] {
                    let w = f.wire_len;
                    chains[0].process(f.as_mut(), w, n as u64);
                }
                chains[1].process_burst(&mut copies[1][r.clone()], n as u64);
                let key = match reframer_core::wire::parse(copies[2][r.start].as_ref()) {
                    reframer_core::wire::Parsed::Flow(i) => i.key,
                    other => panic!("{other:?}"),
                };
                let h = headers::parse(copies[2][r.start].as_ref()).expect("ipv4");
                assert_eq!(key, conntrack::flow_key(&h.key), "one key, read two ways");
                let keyed = Some((key, key.hash64() as u32));
                chains[2].process_burst_keyed(&mut copies[2][r.clone()], keyed, n as u64);
            }
            for (c, f) in chains.iter().zip(&copies).skip(1) {
                assert_eq!(c.stats.digest, chains[0].stats.digest, "cap {cap}");
                assert_eq!(
                    (c.stats.forwarded, c.stats.dropped),
                    (chains[0].stats.forwarded, chains[0].stats.dropped)
                );
                assert_eq!(
                    c.ct.as_ref().map(|t| t.stats),
                    chains[0].ct.as_ref().map(|t| t.stats)
                );
                assert!(f
                    .iter()
                    .zip(&copies[0])
                    .all(|(x, y)| x.as_ref() == y.as_ref()));
            }
            let ct = chains[0].ct.as_ref().expect("stateful");
            assert_eq!(ct.stats.packets, chains[0].stats.forwarded);
            if cap == 3 {
                assert!(ct.stats.table_full > 0 && chains[0].stats.dropped == ct.stats.table_full);
            }
        }
    }

    /// The ACL chain gives every packet of a campus trace the paper chain's verdict and
    /// rewrite (its blocklist matches none of them), per packet and per burst; only its rule
    /// list is longer.
    #[test]
    fn acl_chain_keeps_the_paper_chains_verdicts() {
        let t = crate::trace::campus::generate(
            &crate::trace::campus::CampusParams::default(),
            2,
            5_000_000,
            9,
        );
        let frames: Vec<Frame> = (0..t.pkts.len()).map(|i| t.frame(i)).collect();
        let cap = t.distinct_flows() * 2;
        let mut paper = Chain::paper(cap, false);
        let mut acl = Chain::acl(cap, 500);
        assert_eq!(acl.fw.rule_count(), paper.fw.rule_count() + 500);
        let mut acl_burst = Chain::acl(cap, 500);
        for (i, f) in frames.iter().enumerate() {
            let (mut a, mut b) = (*f, *f);
            let w = f.wire_len;
            assert_eq!(
                paper.process(a.as_mut(), w, i as u64),
                acl.process(b.as_mut(), w, i as u64)
            );
            assert_eq!(a.as_ref(), b.as_ref());
        }
        let mut copy = frames.clone();
        for (i, batch) in copy.chunks_mut(32).enumerate() {
            acl_burst.process_burst(batch, i as u64);
        }
        assert!(frames.len() > 1000 && paper.stats.forwarded > 0);
        for c in [&acl, &acl_burst] {
            assert_eq!(c.stats.digest, paper.stats.digest);
            assert_eq!(
                (c.stats.forwarded, c.stats.dropped),
                (paper.stats.forwarded, paper.stats.dropped)
            );
        }
    }

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
        let key = Tuple {
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
