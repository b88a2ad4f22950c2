//! The Reframer scheduler: per-flow windows released as bursts, in window order.
//!
//! A packet of a flow opens that flow's window if none is open; the window closes at
//! `open + delay` (or earlier: `max_burst`, `max_flows`, `max_buffered_packets`, a bypassed
//! packet of the same flow, flush, shutdown) and the flow's whole FIFO leaves as one burst.
//! Bursts released at the same instant form a round, ordered by [`Priority`]. Order inside a
//! flow never changes (unless `tcp_reorder` sorts a TCP burst by sequence number).

use std::collections::VecDeque;

use crate::ack_coalesce::Coalescer;
use crate::config::{Config, ConfigError, Priority};
use crate::flow_table::{FlowTable, Lookup, NIL};
use crate::packet_slab::PacketSlab;
use crate::stats::{BypassReason, DropReason, FlushReason, Stats};
use crate::window_ring::WindowRing;
use crate::wire::{self, FlowKey, Parsed, PROTO_TCP};

/// Slots examined by the idle-flow sweep per `poll` (and per batch).
const AGE_BUDGET: usize = 32;
/// Slots examined when the table is full and a new flow needs room.
const AGE_BUDGET_FULL: usize = 256;
/// Batch size for lookups with prefetch.
const PREFETCH_BATCH: usize = 32;

#[derive(Clone, Copy)]
struct RoundItem {
    prio: i64,
    slot: u32,
    reason: FlushReason,
}

/// One scheduler instance (one per core; no shared state). `P` is the caller's packet
/// buffer holding an Ethernet frame.
pub struct Scheduler<P> {
    cfg: Config,
    table: FlowTable,
    slab: PacketSlab<P>,
    ring: WindowRing,
    out: VecDeque<P>,
    max_out: usize,
    discarded: VecDeque<P>,
    round: Vec<RoundItem>,
    burst: Vec<P>,
    coalescer: Coalescer<P>,
    batch: Vec<(P, Parsed, u64)>,
    buffered_flows: usize,
    timeout_coarse: u32,
    stats: Stats,
}

impl<P> std::fmt::Debug for Scheduler<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("cfg", &self.cfg)
            .field("buffered_packets", &self.slab.len())
            .field("buffered_flows", &self.buffered_flows)
            .field("tracked_flows", &self.table.len())
            .finish_non_exhaustive()
    }
}

#[inline]
fn coarse(now: u64) -> u32 {
    (now >> 20) as u32
}

/// Hash used for locality accounting: the same for bypassed and released packets of a flow.
#[inline]
fn flow_id(hash: u64) -> u64 {
    u64::from(hash as u32)
}

impl<P: AsRef<[u8]> + AsMut<[u8]>> Scheduler<P> {
    /// Builds a scheduler; every table is allocated here, none on the packet path.
    pub fn new(cfg: Config) -> Result<Self, ConfigError> {
        cfg.validate()?;
        let burst_cap = cfg.max_burst as usize + 1;
        Ok(Self {
            table: FlowTable::new(cfg.flow_table_capacity),
            slab: PacketSlab::new(cfg.max_buffered_packets),
            ring: WindowRing::new(cfg.max_buffered_packets),
            out: VecDeque::with_capacity(cfg.max_buffered_packets as usize + 1024),
            max_out: 2 * cfg.max_buffered_packets as usize + 4096,
            discarded: VecDeque::new(),
            round: Vec::with_capacity(64),
            burst: Vec::with_capacity(burst_cap),
            coalescer: Coalescer::new(),
            batch: Vec::with_capacity(PREFETCH_BATCH),
            buffered_flows: 0,
            timeout_coarse: coarse(cfg.flow_timeout_ns).max(1),
            stats: Stats::default(),
            cfg,
        })
    }

    /// The settings in force.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Packets held now.
    pub fn buffered_packets(&self) -> usize {
        self.slab.len()
    }

    /// Flows with an open window now.
    pub fn buffered_flows(&self) -> usize {
        self.buffered_flows
    }

    /// Flow-table entries now.
    pub fn tracked_flows(&self) -> usize {
        self.table.len()
    }

    /// Released packets waiting for [`Self::pop_tx_batch`].
    pub fn tx_pending(&self) -> usize {
        self.out.len()
    }

    /// Earliest pending window deadline, ns.
    pub fn next_deadline(&self) -> Option<u64> {
        self.ring
            .front()
            .map(|e| e.open_ns.saturating_add(self.cfg.delay_ns))
    }

    /// Appends up to `max_tx_burst` released packets, oldest first. Returns how many.
    pub fn pop_tx_batch(&mut self, out: &mut Vec<P>) -> usize {
        let n = self.out.len().min(self.cfg.max_tx_burst);
        out.extend(self.out.drain(..n));
        n
    }

    /// A buffer the scheduler no longer needs (a coalesced ACK or a dropped packet).
    pub fn pop_discarded(&mut self) -> Option<P> {
        self.discarded.pop_front()
    }

    /// Classifies one frame and buffers or passes it.
    pub fn push(&mut self, pkt: P, now: u64) {
        let parsed = wire::parse(pkt.as_ref());
        let hash = flow_hash(&parsed);
        self.handle(pkt, parsed, hash, now);
        self.release_expired(now);
    }

    /// Same as calling [`Self::push`] for each packet, with the flow-table lines of a whole
    /// batch prefetched before any is used (the table is the cache-miss hot spot).
    pub fn push_batch(&mut self, pkts: impl IntoIterator<Item = P>, now: u64) {
        let mut it = pkts.into_iter();
        let mut batch = std::mem::take(&mut self.batch);
        loop {
            batch.extend(it.by_ref().take(PREFETCH_BATCH).map(|p| {
                let parsed = wire::parse(p.as_ref());
                let hash = flow_hash(&parsed);
                self.table.prefetch(hash);
                (p, parsed, hash)
            }));
            if batch.is_empty() {
                break;
            }
            for (p, parsed, hash) in batch.drain(..) {
                self.handle(p, parsed, hash, now);
            }
        }
        self.batch = batch;
        self.release_expired(now);
        self.age(now, AGE_BUDGET);
    }

    /// Releases every window whose deadline is `<= now` and ages a few idle flows.
    pub fn poll(&mut self, now: u64) {
        self.release_expired(now);
        self.age(now, AGE_BUDGET);
    }

    /// Releases everything buffered now (an operator's flush).
    pub fn flush(&mut self, now: u64) {
        self.release_all(now, FlushReason::Explicit);
    }

    /// Releases everything buffered, counted as shutdown.
    pub fn shutdown(&mut self, now: u64) {
        self.release_all(now, FlushReason::Shutdown);
    }

    fn handle(&mut self, pkt: P, parsed: Parsed, hash: u64, now: u64) {
        self.stats.packets_in += 1;
        // Windows already due leave before anything that arrives at `now`.
        if self.next_deadline().is_some_and(|d| d <= now) {
            self.release_expired(now);
        }
        match parsed {
            Parsed::Bypass { reason, key } => {
                if let Some(key) = key {
                    self.stats.locality_in.observe(flow_id(hash));
                    self.release_flow_of(&key, hash, now);
                    self.bypass(pkt, reason, Some(hash));
                } else {
                    self.stats.locality_in.observe_unkeyed();
                    self.bypass(pkt, reason, None);
                }
            }
            Parsed::Flow(info) => {
                self.stats.locality_in.observe(flow_id(hash));
                let mut lookup = self.table.lookup_or_insert(&info.key, hash);
                if matches!(lookup, Lookup::Full) {
                    self.age(now, AGE_BUDGET_FULL);
                    lookup = self.table.lookup_or_insert(&info.key, hash);
                }
                let slot = match lookup {
                    Lookup::Found(i) => i,
                    Lookup::Inserted(i) => {
                        self.stats.flows_created += 1;
                        self.table.slots[i as usize].last_seen = coarse(now);
                        self.table.cold[i as usize].first_seen_ns = now;
                        if self.cfg.first_packet_bypass {
                            self.table.cold[i as usize].sent += 1;
                            self.bypass(pkt, BypassReason::FirstPacket, Some(hash));
                            return;
                        }
                        i
                    }
                    Lookup::Full => {
                        // Not in the table, so nothing of this flow is queued.
                        self.bypass(pkt, BypassReason::TableFull, Some(hash));
                        return;
                    }
                };
                self.table.slots[slot as usize].last_seen = coarse(now);
                if self.cfg.bypass_syn && info.is_syn() {
                    if self.table.slots[slot as usize].count > 0 {
                        self.release_now(slot, FlushReason::BypassOrder, now);
                    }
                    self.table.cold[slot as usize].sent += 1;
                    self.bypass(pkt, BypassReason::Syn, Some(hash));
                    return;
                }
                self.enqueue(slot, pkt, now);
            }
        }
    }

    fn enqueue(&mut self, slot: u32, pkt: P, now: u64) {
        while self.slab.is_full() && self.ring.front().is_some() {
            self.release_oldest(now, FlushReason::Memory);
        }
        // Releasing the oldest may have moved nothing in the table (no deletions here), so
        // `slot` is still this flow's index.
        let idx = self.slab.insert(pkt, now);
        let s = &mut self.table.slots[slot as usize];
        if s.count == 0 {
            s.head = idx;
            s.tail = idx;
            s.count = 1;
            let pos = self.ring.push(slot, now, &mut self.table);
            self.table.slots[slot as usize].ring_pos = pos;
            self.buffered_flows += 1;
            if let Some(max) = self.cfg.max_flows {
                if self.buffered_flows > max as usize {
                    self.release_oldest(now, FlushReason::Capacity);
                }
            }
        } else {
            let tail = s.tail;
            s.tail = idx;
            s.count += 1;
            let over = u32::from(s.count) > self.cfg.max_burst;
            self.slab.link(tail, idx);
            if over {
                self.release_now(slot, FlushReason::MaxBurst, now);
            }
        }
    }

    fn bypass(&mut self, pkt: P, reason: BypassReason, hash: Option<u64>) {
        self.stats.bypassed.add(reason, 1);
        self.emit(pkt, hash.map(flow_id));
    }

    #[inline]
    fn emit(&mut self, pkt: P, id: Option<u64>) {
        if self.out.len() >= self.max_out {
            self.stats.dropped.add(DropReason::TxQueueFull, 1);
            self.discarded.push_back(pkt);
            return;
        }
        match id {
            Some(id) => self.stats.locality_out.observe(id),
            None => self.stats.locality_out.observe_unkeyed(),
        }
        self.stats.packets_out += 1;
        self.out.push_back(pkt);
    }

    /// Releases the queue of `key`'s flow, if any, so a bypassed packet cannot overtake it.
    fn release_flow_of(&mut self, key: &FlowKey, hash: u64, now: u64) {
        if let Some(slot) = self.table.find(key, hash) {
            if self.table.slots[slot as usize].count > 0 {
                self.release_now(slot, FlushReason::BypassOrder, now);
            }
        }
    }

    fn release_oldest(&mut self, now: u64, reason: FlushReason) {
        if let Some(e) = self.ring.front() {
            self.release_now(e.slot, reason, now);
        }
    }

    /// Releases one flow early, together with every window already due (one round).
    fn release_now(&mut self, slot: u32, reason: FlushReason, now: u64) {
        self.collect(slot, reason, now);
        self.collect_expired(now);
        self.emit_round(now);
    }

    fn release_expired(&mut self, now: u64) {
        self.collect_expired(now);
        if !self.round.is_empty() {
            self.emit_round(now);
        }
    }

    fn release_all(&mut self, now: u64, reason: FlushReason) {
        while let Some(e) = self.ring.front() {
            self.collect(e.slot, reason, now);
        }
        if !self.round.is_empty() {
            self.emit_round(now);
        }
    }

    fn collect_expired(&mut self, now: u64) {
        while let Some(e) = self.ring.front() {
            if e.open_ns.saturating_add(self.cfg.delay_ns) > now {
                break;
            }
            self.collect(e.slot, FlushReason::Deadline, now);
        }
    }

    /// Closes a flow's window and adds it to the current round.
    fn collect(&mut self, slot: u32, reason: FlushReason, now: u64) {
        let s = self.table.slots[slot as usize];
        debug_assert!(s.count > 0 && s.ring_pos != NIL);
        let cold = self.table.cold[slot as usize];
        let prio = match self.cfg.priority {
            Priority::Sent => -((cold.sent + u64::from(s.count)) as i64),
            Priority::Delay => {
                let open = self.ring_open_ns(&s);
                now.saturating_sub(open) as i64
            }
            Priority::First => now.saturating_sub(cold.first_seen_ns) as i64,
        };
        self.ring.kill(s.ring_pos);
        self.table.slots[slot as usize].ring_pos = NIL;
        self.buffered_flows -= 1;
        self.round.push(RoundItem { prio, slot, reason });
    }

    fn ring_open_ns(&self, s: &crate::flow_table::FlowSlot) -> u64 {
        self.ring.open_ns(s.ring_pos)
    }

    /// Orders the round's bursts and moves their packets to the TX queue.
    fn emit_round(&mut self, now: u64) {
        if self.round.len() > 1 {
            // Stable: equal priorities keep window order.
            self.round.sort_by_key(|r| r.prio);
        }
        let mut round = std::mem::take(&mut self.round);
        for item in round.drain(..) {
            self.emit_burst(item, now);
        }
        self.round = round;
        self.stats.rounds += 1;
    }

    fn emit_burst(&mut self, item: RoundItem, now: u64) {
        let s = &mut self.table.slots[item.slot as usize];
        let (mut idx, n, tag, is_tcp) = (s.head, s.count, s.tag, s.key.proto() == PROTO_TCP);
        s.count = 0;
        s.head = NIL;
        s.tail = NIL;
        self.table.cold[item.slot as usize].sent += u64::from(n);
        self.stats.flushes.add(item.reason, 1);
        self.stats.bursts += 1;
        let id = Some(u64::from(tag));
        let mut burst = std::mem::take(&mut self.burst);
        for _ in 0..n {
            let (pkt, next, enq) = self.slab.take(idx);
            self.stats
                .hold_ns
                .saturating_record(now.saturating_sub(enq));
            burst.push(pkt);
            idx = next;
        }
        if self.cfg.tcp_ack_coalescing && is_tcp {
            let discarded = &mut self.discarded;
            let o = self
                .coalescer
                .run(&mut burst, self.cfg.tcp_reorder, |p| discarded.push_back(p));
            self.stats.acks_coalesced += o.removed;
            self.stats.bursts_reordered += u64::from(o.reordered);
        }
        for pkt in burst.drain(..) {
            self.emit(pkt, id);
        }
        self.burst = burst;
    }

    fn age(&mut self, now: u64, budget: usize) {
        let removed = self
            .table
            .age(coarse(now), self.timeout_coarse, budget, &mut self.ring);
        self.stats.flows_aged += removed;
    }
}

#[inline]
fn flow_hash(parsed: &Parsed) -> u64 {
    match parsed {
        Parsed::Flow(info) => info.key.hash64(),
        Parsed::Bypass { key: Some(k), .. } => k.hash64(),
        Parsed::Bypass { key: None, .. } => 0,
    }
}
