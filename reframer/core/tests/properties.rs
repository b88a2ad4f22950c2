//! Property tests over random traces and operation sequences: every packet leaves exactly
//! once (or is accounted as a coalesced ACK), per-flow order is kept, no packet is held
//! longer than the window on a virtual clock, and every bound holds at every step.

mod common;

use std::collections::HashMap;

use common::*;
use proptest::prelude::*;
use reframer_core::frames::FrameSpec;
use reframer_core::wire::tcp_flags;
use reframer_core::{Config, Priority, Scheduler};

#[derive(Debug, Clone)]
enum Op {
    /// A packet of flow `flow` of kind `kind`.
    Push {
        flow: u8,
        kind: u8,
    },
    /// Advance the clock by this many ns (the driver polls at every deadline on the way).
    Advance(u32),
    Flush,
    Poll,
    /// A batch of packets pushed at once.
    Batch(Vec<(u8, u8)>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u8..24, 0u8..16).prop_map(|(flow, kind)| Op::Push { flow, kind }),
        3 => (0u32..200_000).prop_map(Op::Advance),
        1 => Just(Op::Flush),
        1 => Just(Op::Poll),
        2 => prop::collection::vec((0u8..24, 0u8..16), 1..40).prop_map(Op::Batch),
    ]
}

fn config() -> impl Strategy<Value = Config> {
    (
        (
            // A window of 0 (pure forwarding) is a case of its own: each packet's window is
            // due as soon as it opens.
            prop_oneof![1 => Just(0u64), 7 => 0u64..150_000],
            1u32..8,
            1usize..40,
            prop::option::of(1u32..6),
        ),
        (1u32..64, 1u32..40, 0u8..3, any::<bool>()),
        (any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |((delay, burst, txb, maxf), (maxp, cap, prio, fpb), (syn, co, re))| Config {
                delay_ns: delay,
                max_burst: burst,
                max_tx_burst: txb,
                max_flows: maxf,
                max_buffered_packets: maxp,
                flow_table_capacity: cap,
                flow_timeout_ns: delay.max(1) * 3,
                priority: [Priority::Sent, Priority::Delay, Priority::First][prio as usize],
                first_packet_bypass: fpb,
                bypass_syn: syn,
                tcp_ack_coalescing: co,
                tcp_reorder: co && re,
                snapped_frames: false,
            },
        )
}

/// Builds packet `id` of `flow`: kinds 0-7 UDP, 8-11 TCP data, 12 pure ACK, 13 SYN,
/// 14 first fragment, 15 non-IP. The id rides in the source MAC; `seq` keeps TCP in order.
fn frame(flow: u8, kind: u8, id: u32) -> Vec<u8> {
    let sport = 3000 + u16::from(flow);
    let f = match kind {
        0..=7 => FrameSpec::udp(ip(1), ip(2), sport, 53, usize::from(kind) * 10).build(),
        8..=13 => {
            let (flags, payload): (u8, &[u8]) = match kind {
                12 => (tcp_flags::ACK, b""),
                13 => (tcp_flags::SYN, b""),
                _ => (tcp_flags::ACK | tcp_flags::PSH, b"data"),
            };
            FrameSpec::tcp(ip(1), ip(2), sport, 80, id, id / 2, flags, payload).build()
        }
        14 => {
            let mut f = FrameSpec::udp(ip(1), ip(2), sport, 53, 40).build();
            f[20] = 0x20;
            f
        }
        _ => {
            let mut f = vec![0u8; 60];
            f[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
            f
        }
    };
    tag(f, id)
}

/// Which order stream a packet belongs to: the L4 flow (TCP and UDP of one flow index are
/// different 5-tuples), or none for non-IP.
fn stream(flow: u8, kind: u8) -> Option<(u8, bool)> {
    match kind {
        15 => None,
        8..=13 => Some((flow, true)),
        _ => Some((flow, false)),
    }
}

/// What the harness remembers of a pushed packet.
struct Pushed {
    at: u64,
    stream: Option<(u8, bool)>,
    pure_ack: bool,
}

struct Harness {
    s: Scheduler<Vec<u8>>,
    cfg: Config,
    now: u64,
    next_id: u32,
    pushed: HashMap<u32, Pushed>,
    seen: HashMap<u32, u64>,
    last_in_stream: HashMap<(u8, bool), u32>,
    coalesced: u64,
}

impl Harness {
    fn drain(&mut self) {
        let mut b = Vec::new();
        while self.s.pop_tx_batch(&mut b) > 0 {
            assert!(b.len() <= self.cfg.max_tx_burst);
            for f in b.drain(..) {
                let id = id_of(&f);
                let Pushed { at: t, stream, .. } = self.pushed[&id];
                assert!(
                    self.seen.insert(id, self.now).is_none(),
                    "packet {id} out twice"
                );
                assert!(
                    self.now - t <= self.cfg.delay_ns,
                    "packet {id} held {} ns > window {}",
                    self.now - t,
                    self.cfg.delay_ns
                );
                if let Some(st) = stream {
                    if let Some(prev) = self.last_in_stream.insert(st, id) {
                        // TCP reorder may sort a burst by seq, which equals id order anyway.
                        assert!(prev < id, "flow {st:?}: {id} after {prev}");
                    }
                }
            }
        }
        while let Some(f) = self.s.pop_discarded() {
            let id = id_of(&f);
            assert!(self.pushed[&id].pure_ack, "only pure ACKs are ever removed");
            assert!(self.seen.insert(id, self.now).is_none());
            self.coalesced += 1;
        }
    }

    fn check_bounds(&self) {
        assert!(self.s.buffered_packets() <= self.cfg.max_buffered_packets as usize);
        if let Some(m) = self.cfg.max_flows {
            assert!(self.s.buffered_flows() <= m as usize);
        }
        assert!(self.s.tracked_flows() <= self.cfg.flow_table_capacity as usize);
        assert_eq!(self.s.tx_pending(), 0);
        let st = self.s.stats();
        assert_eq!(
            st.packets_in,
            st.packets_out
                + st.acks_coalesced
                + st.dropped_total()
                + self.s.buffered_packets() as u64
        );
    }

    fn packet(&mut self, flow: u8, kind: u8) -> Vec<u8> {
        let id = self.next_id;
        self.next_id += 1;
        self.pushed.insert(
            id,
            Pushed {
                at: self.now,
                stream: stream(flow, kind),
                pure_ack: kind == 12,
            },
        );
        frame(flow, kind, id)
    }

    fn advance_to(&mut self, t: u64) {
        while let Some(d) = self.s.next_deadline() {
            if d > t {
                break;
            }
            self.now = self.now.max(d);
            self.s.poll(self.now);
            self.drain();
        }
        self.now = t;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn scheduler_invariants(cfg in config(), ops in prop::collection::vec(op(), 1..300)) {
        let mut h = Harness {
            s: Scheduler::new(cfg.clone()).unwrap(),
            cfg,
            now: 0,
            next_id: 0,
            pushed: HashMap::new(),
            seen: HashMap::new(),
            last_in_stream: HashMap::new(),
            coalesced: 0,
        };
        for op in ops {
            match op {
                Op::Push { flow, kind } => {
                    let p = h.packet(flow, kind);
                    h.s.push(p, h.now);
                }
                Op::Batch(pkts) => {
                    let v: Vec<Vec<u8>> = pkts.into_iter().map(|(f, k)| h.packet(f, k)).collect();
                    h.s.push_batch(v, h.now);
                }
                Op::Advance(dt) => h.advance_to(h.now + u64::from(dt)),
                Op::Flush => h.s.flush(h.now),
                Op::Poll => h.s.poll(h.now),
            }
            h.drain();
            h.check_bounds();
        }
        h.s.shutdown(h.now);
        h.drain();
        prop_assert_eq!(h.s.buffered_packets(), 0);
        prop_assert_eq!(h.seen.len(), h.pushed.len(), "every packet out exactly once");
        prop_assert_eq!(h.s.stats().dropped_total(), 0);
        prop_assert_eq!(h.coalesced, h.s.stats().acks_coalesced);
        let st = h.s.stats();
        prop_assert_eq!(
            st.held_packets(),
            st.packets_out + st.acks_coalesced - st.bypassed_total(),
            "every held packet's hold time is in the histogram"
        );
        prop_assert!(h.s.stats().hold_max_ns <= h.cfg.delay_ns);
    }
}

/// How a test takes the scheduler's output.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Output {
    /// `pop_tx_batch`.
    Packets,
    /// `pop_burst`, one burst at a time.
    Burst,
    /// `pop_bursts`, a TX batch of whole bursts at a time.
    Bursts,
}

/// Checks one handed-out burst: its packets are all of the flow `key` names (hashed as
/// `hash`), or it is one unkeyed packet.
fn check_burst(burst: &[Vec<u8>], key: Option<reframer_core::wire::FlowKey>, hash: u32) {
    for f in burst {
        let k = match reframer_core::wire::parse(f) {
            reframer_core::wire::Parsed::Flow(i) => Some(i.key),
            reframer_core::wire::Parsed::Bypass { key, .. } => key,
        };
        match key {
            Some(key) => {
                assert_eq!(k, Some(key), "a burst holds one flow");
                assert_eq!(hash, key.hash64() as u32);
            }
            None => assert_eq!(burst.len(), 1, "unkeyed packets are bursts of one"),
        }
    }
}

/// Drives one scheduler through `ops`. `batched`: a batch op goes through `push_batch` (else
/// one `push` per packet); `output`: how the output is taken, checking that each burst names
/// the flow of every packet in it. Returns `(id, time)` of every packet handed out (and every
/// coalesced ACK, marked by `u64::MAX`), in order.
fn run_variant(cfg: &Config, ops: &[Op], batched: bool, output: Output) -> Vec<(u32, u64)> {
    let mut s: Scheduler<Vec<u8>> = Scheduler::new(cfg.clone()).unwrap();
    let mut out = Vec::new();
    let mut now = 0u64;
    let mut next_id = 0u32;
    let max_tx = cfg.max_tx_burst;
    let drain = |s: &mut Scheduler<Vec<u8>>, now: u64, out: &mut Vec<(u32, u64)>| {
        let mut b = Vec::new();
        match output {
            Output::Burst => {
                loop {
                    let peeked = s.peek_bursts().next().copied();
                    let Some(info) = s.pop_burst(&mut b) else {
                        break;
                    };
                    let peeked = peeked.expect("peek shows the next burst");
                    assert_eq!(
                        (peeked.hash, peeked.len, peeked.keyed),
                        (info.hash, info.len, info.key.is_some()),
                        "peek shows the next burst"
                    );
                    assert_eq!(b.len(), info.len as usize);
                    check_burst(&b, info.key, info.hash);
                    out.extend(b.drain(..).map(|f| (id_of(&f), now)));
                }
                assert_eq!(s.tx_pending(), 0);
            }
            Output::Bursts => {
                let mut hints = Vec::new();
                loop {
                    let peeked: Vec<_> = s.peek_bursts().copied().collect();
                    let k = s.pop_bursts(&mut b, &mut hints);
                    if k == 0 {
                        assert_eq!(s.tx_pending(), 0, "no burst left, no packet left");
                        break;
                    }
                    assert_eq!(hints.len(), k);
                    assert_eq!(&hints[..], &peeked[..k], "peek shows the next bursts");
                    assert!(
                        k == 1 || b.len() <= max_tx,
                        "a batch of several bursts fits"
                    );
                    let mut at = 0;
                    for h in &hints {
                        let burst = &b[at..at + h.len as usize];
                        let key = s.burst_key(h, &burst[0]);
                        assert_eq!(key.is_some(), h.keyed);
                        check_burst(burst, key, h.hash);
                        at += h.len as usize;
                    }
                    assert_eq!(at, b.len(), "the bursts' lengths add up to the packets");
                    hints.clear();
                    out.extend(b.drain(..).map(|f| (id_of(&f), now)));
                }
            }
            Output::Packets => {
                while s.pop_tx_batch(&mut b) > 0 {
                    out.extend(b.drain(..).map(|f| (id_of(&f), now)));
                }
                assert_eq!(
                    s.peek_bursts().count(),
                    0,
                    "burst list drained with the packets"
                );
            }
        }
        while let Some(f) = s.pop_discarded() {
            out.push((id_of(&f), u64::MAX));
        }
    };
    let mut pkt = |flow: u8, kind: u8| {
        let id = next_id;
        next_id += 1;
        frame(flow, kind, id)
    };
    for op in ops {
        match op {
            Op::Push { flow, kind } => s.push(pkt(*flow, *kind), now),
            Op::Batch(v) => {
                let v: Vec<Vec<u8>> = v.iter().map(|&(f, k)| pkt(f, k)).collect();
                if batched {
                    s.push_batch(v, now);
                } else {
                    for p in v {
                        s.push(p, now);
                    }
                }
            }
            Op::Advance(dt) => {
                let t = now + u64::from(*dt);
                while let Some(d) = s.next_deadline().filter(|&d| d <= t) {
                    now = now.max(d);
                    s.poll(now);
                    drain(&mut s, now, &mut out);
                }
                now = t;
            }
            Op::Flush => s.flush(now),
            Op::Poll => s.poll(now),
        }
        drain(&mut s, now, &mut out);
    }
    s.shutdown(now);
    drain(&mut s, now, &mut out);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    /// `push`, `push_batch` and the burst API (one burst or a batch of bursts at a time)
    /// release exactly the same packets, in the same order, at the same times.
    #[test]
    fn push_push_batch_and_bursts_agree(cfg in config(), ops in prop::collection::vec(op(), 1..200)) {
        let one_by_one = run_variant(&cfg, &ops, false, Output::Packets);
        let batched = run_variant(&cfg, &ops, true, Output::Packets);
        let by_burst = run_variant(&cfg, &ops, true, Output::Burst);
        let by_bursts = run_variant(&cfg, &ops, false, Output::Bursts);
        prop_assert_eq!(&one_by_one, &batched);
        prop_assert_eq!(&batched, &by_burst);
        prop_assert_eq!(&batched, &by_bursts);
    }
}
