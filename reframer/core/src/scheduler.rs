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
use crate::flow_table::{FlowTable, Lookup};
use crate::packet_slab::PacketSlab;
use crate::stats::{BypassReason, DropReason, FlushReason, Stats};
use crate::sys::Fifo;
use crate::window_ring::{Window, WindowRing};
use crate::wire::{self, FlowInfo, FlowKey, Parsed};

/// Most slots the idle-flow sweep examines in one call.
const AGE_BUDGET: usize = 64;
/// Slots examined when the table is full and a new flow needs room.
const AGE_BUDGET_FULL: usize = 256;
/// Round entries that fit the index part of a sort key.
const ROUND_INDEX_LIMIT: u64 = 1 << 24;
/// Largest priority value (40 bits).
const PRIO_MAX: u64 = (1 << 40) - 1;
/// Burst-list entries reserved up front (it grows with the TX queue if needed).
const BURSTS_RESERVED: usize = 1024;
/// Packets classified before their flow-table lines are used (one RX burst).
const PREFETCH_BATCH: usize = 32;
/// Flow-table lines in flight at once: the first ones are prefetched while the batch is
/// classified, each later one as the packet this many places before it is handled. All 32
/// at once overflow the core's miss buffers (the prefetch instruction itself then stalls,
/// seen at 1M flows); a rolling window keeps the memory system busy while packets are handled.
const LOOKAHEAD: usize = 12;

/// One released burst: consecutive packets of one flow in the TX queue (a window's packets,
/// or one passed-through packet). A downstream NF can do its per-flow work once per burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BurstInfo {
    /// The flow's 5-tuple; `None` for a passed-through packet whose 5-tuple is unreadable.
    pub key: Option<FlowKey>,
    /// Low 32 bits of [`FlowKey::hash64`] (0 without a key): a ready hash for the NF's own
    /// flow table, and for prefetching its state ahead of the burst ([`Scheduler::peek_bursts`]).
    pub hash: u32,
    /// Packets of this burst still in the TX queue.
    pub len: u32,
}

/// A burst waiting in the TX queue, as [`Scheduler::peek_bursts`] shows it: enough to
/// prefetch an NF's state for it. Kept small (the key is read from the burst's first packet
/// only when [`Scheduler::pop_burst`] hands it out), so callers that never use bursts pay
/// one 12-byte entry per burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BurstHint {
    /// As [`BurstInfo::hash`].
    pub hash: u32,
    /// Packets of this burst still in the TX queue.
    pub len: u32,
    /// The burst's 5-tuple is known (false: one passed-through packet with no readable key).
    pub keyed: bool,
    /// The first packet classified as a flow, so its key can be read again without a parse
    /// ([`wire::reread_key`]); false: a passed-through packet the parser gave up on.
    reread: bool,
}

const _: () = assert!(size_of::<BurstHint>() == 12);

/// A closed window waiting in the current round (its fields stay in the ring until emitted).
#[derive(Clone, Copy)]
struct RoundItem {
    pos: u32,
    reason: FlushReason,
}

/// One scheduler instance (one per core; no shared state). `P` is the caller's packet
/// buffer holding an Ethernet frame.
pub struct Scheduler<P> {
    cfg: Config,
    table: FlowTable,
    slab: PacketSlab<P>,
    ring: WindowRing,
    /// Released packets, oldest first, until the caller takes them.
    out: Fifo<P>,
    /// Burst boundaries of `out`: the lengths add up to `out.len()`.
    bursts: VecDeque<BurstHint>,
    max_out: usize,
    discarded: VecDeque<P>,
    round: Vec<RoundItem>,
    /// Sort keys `priority << 24 | index into round`: sorted instead of the larger items.
    order: Vec<u64>,
    burst: Vec<P>,
    coalescer: Coalescer<P>,
    batch: Vec<(P, Parsed, u64)>,
    buffered_flows: usize,
    timeout_coarse: u32,
    /// Time up to which the sweep has been paid for.
    age_clock_ns: u64,
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
    /// Bytes of the tables [`Self::new`] allocates for `cfg` (flow table, window ring, packet
    /// slab, output queue, burst buffer), from their real slot and entry sizes. Callers
    /// check it against the memory they allow before building a scheduler.
    pub fn memory_bytes(cfg: &Config) -> u64 {
        FlowTable::bytes_for(cfg.flow_table_capacity, cfg.priority == Priority::First)
            + WindowRing::bytes_for(cfg.max_buffered_packets)
            + PacketSlab::<P>::bytes_for(cfg.max_buffered_packets)
            + Fifo::<P>::bytes_for(Self::out_capacity(cfg))
            + (cfg.max_burst as u64 + 1) * size_of::<P>() as u64
            + BURSTS_RESERVED as u64 * size_of::<BurstHint>() as u64
    }

    fn out_capacity(cfg: &Config) -> usize {
        cfg.max_buffered_packets as usize + 1024
    }

    /// Builds a scheduler; every table is allocated here, none on the packet path. Large
    /// tables are zero pages until used, so their cost follows the traffic, not the setting.
    pub fn new(cfg: Config) -> Result<Self, ConfigError> {
        cfg.validate()?;
        let burst_cap = cfg.max_burst as usize + 1;
        Ok(Self {
            table: FlowTable::new(cfg.flow_table_capacity, cfg.priority == Priority::First),
            slab: PacketSlab::new(cfg.max_buffered_packets),
            ring: WindowRing::new(cfg.max_buffered_packets),
            out: Fifo::with_capacity(Self::out_capacity(&cfg)),
            bursts: VecDeque::with_capacity(BURSTS_RESERVED),
            max_out: 2 * cfg.max_buffered_packets as usize + 4096,
            discarded: VecDeque::new(),
            round: Vec::with_capacity(64),
            order: Vec::with_capacity(64),
            burst: Vec::with_capacity(burst_cap),
            coalescer: Coalescer::new(),
            batch: Vec::with_capacity(PREFETCH_BATCH),
            buffered_flows: 0,
            timeout_coarse: coarse(cfg.flow_timeout_ns).max(1),
            age_clock_ns: 0,
            stats: Stats::default(),
            cfg,
        })
    }

    #[cfg(test)]
    pub(crate) fn ring(&self) -> &WindowRing {
        &self.ring
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
            .map(|pos| self.ring.get(pos).open_ns.saturating_add(self.cfg.delay_ns))
    }

    /// Appends up to `max_tx_burst` released packets, oldest first. Returns how many.
    pub fn pop_tx_batch(&mut self, out: &mut Vec<P>) -> usize {
        let n = self.out.len().min(self.cfg.max_tx_burst);
        self.take_out(n, out);
        if self.out.len() == 0 {
            // The usual end of a drain: every burst went, no need to walk them.
            self.bursts.clear();
            return n;
        }
        let mut left = n as u32;
        while left > 0 {
            let Some(b) = self.bursts.front_mut() else {
                break;
            };
            if b.len > left {
                b.len -= left;
                break;
            }
            left -= b.len;
            self.bursts.pop_front();
        }
        n
    }

    /// Appends the packets of the next released burst (all of one flow, in order) to `out`
    /// and says which flow they belong to. The packets and their order are exactly those
    /// [`Self::pop_tx_batch`] would hand out; the two may be mixed.
    pub fn pop_burst(&mut self, out: &mut Vec<P>) -> Option<BurstInfo> {
        let b = self.bursts.pop_front()?;
        let start = out.len();
        self.take_out(b.len as usize, out);
        let key = out.get(start).and_then(|f| self.burst_key(&b, f));
        Some(BurstInfo {
            key,
            hash: b.hash,
            len: b.len,
        })
    }

    /// Hands out whole bursts in one go: appends the packets of the next bursts, up to
    /// `max_tx_burst` packets (but always one whole burst), to `out` and one [`BurstHint`] per
    /// burst to `bursts`, in the same order. Returns the number of bursts. Same packets and
    /// order as [`Self::pop_tx_batch`] and [`Self::pop_burst`]; what it saves is their
    /// per-burst work (one queue move for all, and no key read: the NF asks
    /// [`Self::burst_key`] for the bursts whose key it needs).
    pub fn pop_bursts(&mut self, out: &mut Vec<P>, bursts: &mut Vec<BurstHint>) -> usize {
        let limit = self.cfg.max_tx_burst as u32;
        let (mut k, mut n) = (0, 0u32);
        for b in &self.bursts {
            if k > 0 && n + b.len > limit {
                break;
            }
            n += b.len;
            k += 1;
        }
        bursts.extend(self.bursts.drain(..k));
        self.take_out(n as usize, out);
        k
    }

    /// The 5-tuple of a burst [`Self::pop_bursts`] handed out, from its first packet `first`:
    /// for a flow packet read again straight from its headers (a few loads, not a parse:
    /// ~90 instructions less a burst), else parsed. `None` for an unkeyed burst.
    pub fn burst_key(&self, hint: &BurstHint, first: &P) -> Option<FlowKey> {
        if !hint.keyed {
            return None;
        }
        let f = first.as_ref();
        hint.reread
            .then(|| wire::reread_key(f))
            .flatten()
            .or_else(|| match self.classify(f) {
                Parsed::Flow(info) => Some(info.key),
                Parsed::Bypass { key, .. } => key,
            })
    }

    /// Moves the first `n` packets of the TX queue to `out` (two bulk copies at most).
    #[inline]
    fn take_out(&mut self, n: usize, out: &mut Vec<P>) {
        self.out.move_front_to(n, out);
    }

    /// The bursts waiting to be handed out, next first: an NF can prefetch its state for
    /// burst i+1 while it works on burst i.
    pub fn peek_bursts(&self) -> impl Iterator<Item = &BurstHint> + '_ {
        self.bursts.iter()
    }

    /// A buffer the scheduler no longer needs (a coalesced ACK or a dropped packet).
    pub fn pop_discarded(&mut self) -> Option<P> {
        self.discarded.pop_front()
    }

    /// Classifies one frame and buffers or passes it.
    pub fn push(&mut self, pkt: P, now: u64) {
        self.age_paced(now);
        let parsed = self.classify(pkt.as_ref());
        let hash = flow_hash(&parsed);
        self.release_due(now);
        self.handle(pkt, parsed, hash, now);
        self.release_expired(now);
    }

    /// Same as calling [`Self::push`] for each packet, with the flow-table lines prefetched
    /// a dozen packets ahead of their use (the table is the cache-miss hot spot).
    pub fn push_batch(&mut self, pkts: impl IntoIterator<Item = P>, now: u64) {
        // Ageing first, as `push` does, so a batch and the same packets pushed one by one
        // see the same table and release the same packets in the same order.
        self.age_paced(now);
        let mut it = pkts.into_iter();
        let mut batch = std::mem::take(&mut self.batch);
        loop {
            for p in it.by_ref().take(PREFETCH_BATCH) {
                let parsed = self.classify(p.as_ref());
                let hash = flow_hash(&parsed);
                if batch.len() < LOOKAHEAD {
                    self.table.prefetch(hash);
                }
                batch.push((p, parsed, hash));
            }
            if batch.is_empty() {
                break;
            }
            // With a window, nothing a packet at `now` opens is due at `now`: one check per
            // batch. Without one (`delay` 0), each packet's window is due at once.
            self.release_due(now);
            let zero_delay = self.cfg.delay_ns == 0;
            let mut pending = batch.drain(..);
            while let Some((p, parsed, hash)) = pending.next() {
                if let Some(ahead) = pending.as_slice().get(LOOKAHEAD - 1) {
                    self.table.prefetch(ahead.2);
                }
                if zero_delay {
                    self.release_due(now);
                }
                self.handle(p, parsed, hash, now);
            }
        }
        self.batch = batch;
        self.release_expired(now);
    }

    /// Releases every window whose deadline is `<= now` and ages a few idle flows.
    pub fn poll(&mut self, now: u64) {
        self.release_expired(now);
        self.age_paced(now);
    }

    /// Releases everything buffered now (an operator's flush).
    pub fn flush(&mut self, now: u64) {
        self.release_all(now, FlushReason::Explicit);
    }

    /// Releases everything buffered, counted as shutdown.
    pub fn shutdown(&mut self, now: u64) {
        self.release_all(now, FlushReason::Shutdown);
    }

    /// [`wire::parse`] (or `parse_snapped`).
    #[inline(always)]
    fn classify(&self, frame: &[u8]) -> Parsed {
        wire::parse_with(frame, self.cfg.snapped_frames)
    }

    /// Releases the windows due at `now`, so they leave before anything that arrives then.
    #[inline]
    fn release_due(&mut self, now: u64) {
        if self.next_deadline().is_some_and(|d| d <= now) {
            self.release_expired(now);
        }
    }

    /// One classified packet; the caller released what was due at `now` first.
    #[inline]
    fn handle(&mut self, pkt: P, parsed: Parsed, hash: u64, now: u64) {
        self.stats.packets_in += 1;
        let info = match parsed {
            Parsed::Flow(info) => info,
            Parsed::Bypass { reason, key } => {
                return self.handle_bypass(pkt, reason, key, hash, now)
            }
        };
        self.stats.locality_in.observe(flow_id(hash));
        let slot = match self.table.lookup_or_insert(&info.key, hash) {
            Lookup::Found(i) => i,
            lookup => match self.new_flow(lookup, &info.key, hash, pkt, now) {
                Some((i, p)) => return self.enqueue_new_flow(i, p, &info, now),
                None => return,
            },
        };
        self.enqueue_known(slot, pkt, &info, now);
    }

    /// A flow already in the table: the common case, one touch of its slot.
    #[inline(always)]
    fn enqueue_known(&mut self, slot: u32, pkt: P, info: &FlowInfo, now: u64) {
        let s = self.table.slots.at_mut(slot as usize);
        s.last_seen = coarse(now);
        s.sent = s.sent.saturating_add(1);
        let (ring_pos, sent, tag) = (s.ring_pos, s.sent, s.tag);
        if self.cfg.bypass_syn && info.is_syn() {
            self.release_slot_if_open(slot, now);
            self.bypass(pkt, BypassReason::Syn, Some(u64::from(tag)), true);
            return;
        }
        self.enqueue(slot, ring_pos, sent, tag, pkt, now);
    }

    /// A flow just inserted, or not yet in the table (full): makes room by ageing, then
    /// bypasses the packet when the flow still has no entry or `first_packet_bypass` says so.
    /// Returns the slot and the packet when it is to be buffered.
    #[cold]
    fn new_flow(
        &mut self,
        mut lookup: Lookup,
        key: &FlowKey,
        hash: u64,
        pkt: P,
        now: u64,
    ) -> Option<(u32, P)> {
        if matches!(lookup, Lookup::Full) {
            self.age(now, AGE_BUDGET_FULL);
            lookup = self.table.lookup_or_insert(key, hash);
        }
        match lookup {
            Lookup::Found(i) => Some((i, pkt)),
            Lookup::Inserted(i) => {
                self.stats.flows_created += 1;
                self.table.set_first_seen(i, coarse(now));
                let s = self.table.slots.at_mut(i as usize);
                s.last_seen = coarse(now);
                if self.cfg.first_packet_bypass {
                    s.sent = 1;
                    self.bypass(pkt, BypassReason::FirstPacket, Some(hash), true);
                    return None;
                }
                Some((i, pkt))
            }
            Lookup::Full => {
                // Not in the table, so nothing of this flow is queued.
                self.bypass(pkt, BypassReason::TableFull, Some(hash), true);
                None
            }
        }
    }

    /// [`Self::enqueue_known`] for a flow just inserted, out of line so the rare path does
    /// not put a second copy of the inlined enqueue on the packet path.
    #[cold]
    fn enqueue_new_flow(&mut self, slot: u32, pkt: P, info: &FlowInfo, now: u64) {
        self.enqueue_known(slot, pkt, info, now);
    }

    #[cold]
    fn handle_bypass(
        &mut self,
        pkt: P,
        reason: BypassReason,
        key: Option<FlowKey>,
        hash: u64,
        now: u64,
    ) {
        if let Some(key) = key {
            self.stats.locality_in.observe(flow_id(hash));
            self.release_flow_of(&key, hash, now);
            self.bypass(pkt, reason, Some(hash), false);
        } else {
            self.stats.locality_in.observe_unkeyed();
            self.bypass(pkt, reason, None, false);
        }
    }

    /// Buffers a packet of the flow in `slot` (its current `ring_pos`, `sent` and `tag` passed
    /// in, so the slot is not read again).
    #[inline(always)]
    fn enqueue(&mut self, slot: u32, ring_pos: u32, sent: u32, tag: u32, pkt: P, now: u64) {
        if self.slab.is_full() {
            self.make_slab_room(now);
        }
        let idx = self.slab.insert(pkt, now);
        // The slab's room may have come from this flow's own window: look again.
        if self.ring.is_open(ring_pos, slot) {
            let w = self.ring.get_mut(ring_pos);
            let tail = w.tail;
            w.tail = idx;
            w.count += 1;
            w.sent = sent;
            let over = w.count > self.cfg.max_burst;
            self.slab.link(tail, idx);
            if over {
                self.release_now(ring_pos, FlushReason::MaxBurst, now);
            }
        } else {
            let w = Window {
                open_ns: now,
                slot,
                head: idx,
                tail: idx,
                count: 1,
                sent,
                tag,
                first_seen: self.table.first_seen(slot),
            };
            let pos = self.ring.push(w, &mut self.table);
            self.table.slots.at_mut(slot as usize).ring_pos = pos;
            self.buffered_flows += 1;
            if let Some(max) = self.cfg.max_flows {
                if self.buffered_flows > max as usize {
                    if let Some(front) = self.ring.front() {
                        self.release_now(front, FlushReason::Capacity, now);
                    }
                }
            }
        }
    }

    /// Releases the oldest windows until the slab has room (`max_buffered_packets`).
    #[cold]
    fn make_slab_room(&mut self, now: u64) {
        while self.slab.is_full() {
            let Some(front) = self.ring.front() else {
                break;
            };
            self.release_now(front, FlushReason::Memory, now);
        }
    }

    /// Passes a packet through as a burst of one; `reread`: it classified as a flow.
    fn bypass(&mut self, pkt: P, reason: BypassReason, hash: Option<u64>, reread: bool) {
        self.stats.bypassed.add(reason, 1);
        if self.emit(pkt, hash.map(flow_id)) {
            self.note_burst(hash.is_some(), hash.map_or(0, |h| h as u32), 1, reread);
        }
    }

    /// Adds `len` packets just emitted to the burst list.
    #[inline]
    fn note_burst(&mut self, keyed: bool, hash: u32, len: u32, reread: bool) {
        if len > 0 {
            self.bursts.push_back(BurstHint {
                hash,
                len,
                keyed,
                reread,
            });
        }
    }

    /// Queues a released packet for TX; false when the TX queue was full (dropped, counted).
    #[inline]
    fn emit(&mut self, pkt: P, id: Option<u64>) -> bool {
        if self.out.len() >= self.max_out {
            self.stats.dropped.add(DropReason::TxQueueFull, 1);
            self.discarded.push_back(pkt);
            return false;
        }
        match id {
            Some(id) => self.stats.locality_out.observe(id),
            None => self.stats.locality_out.observe_unkeyed(),
        }
        self.stats.packets_out += 1;
        self.out.push_back(pkt);
        true
    }

    /// Releases the queue of `key`'s flow, if any, so a bypassed packet cannot overtake it.
    fn release_flow_of(&mut self, key: &FlowKey, hash: u64, now: u64) {
        if let Some(slot) = self.table.find(key, hash) {
            self.release_slot_if_open(slot, now);
        }
    }

    fn release_slot_if_open(&mut self, slot: u32, now: u64) {
        let pos = self.table.slots.at(slot as usize).ring_pos;
        if self.ring.is_open(pos, slot) {
            self.release_now(pos, FlushReason::BypassOrder, now);
        }
    }

    /// Releases one window early, together with every window already due (one round).
    fn release_now(&mut self, pos: u32, reason: FlushReason, now: u64) {
        self.collect(pos, reason, now);
        self.collect_expired(now);
        self.emit_round(now);
    }

    /// Releases every due window as one round. The common release, so it skips the round
    /// list: windows are closed in one pass over the ring, sorted by key, and emitted straight
    /// from their ring entries (positions are the key's index part, relative to the head).
    fn release_expired(&mut self, now: u64) {
        if !self.round.is_empty() || self.ring.len() as u64 >= ROUND_INDEX_LIMIT {
            self.collect_expired(now);
            if !self.round.is_empty() {
                self.emit_round(now);
            }
            return;
        }
        let Some(base) = self.ring.front() else {
            return;
        };
        let priority = self.cfg.priority;
        let mut order = std::mem::take(&mut self.order);
        let slab = &self.slab;
        let n = self.ring.close_due(self.cfg.delay_ns, now, |pos, w| {
            // The sort below gives the load time to land before the burst is emitted.
            slab.prefetch(w.head);
            let prio = window_priority(priority, w, now);
            order.push(prio << 24 | u64::from(pos.wrapping_sub(base)));
        });
        if n > 0 {
            self.buffered_flows -= n;
            self.stats.flushes.add(FlushReason::Deadline, n as u64);
            self.stats.bursts += n as u64;
            if !order.is_sorted() {
                order.sort_unstable();
            }
            for &k in &order {
                let pos = base.wrapping_add((k & (ROUND_INDEX_LIMIT - 1)) as u32);
                self.emit_window(pos, now);
            }
            order.clear();
            self.stats.rounds += 1;
        }
        self.order = order;
    }

    fn release_all(&mut self, now: u64, reason: FlushReason) {
        while let Some(pos) = self.ring.front() {
            self.collect(pos, reason, now);
        }
        if !self.round.is_empty() {
            self.emit_round(now);
        }
    }

    fn collect_expired(&mut self, now: u64) {
        while let Some(pos) = self.ring.front() {
            if self.ring.get(pos).open_ns.saturating_add(self.cfg.delay_ns) > now {
                break;
            }
            self.collect(pos, FlushReason::Deadline, now);
        }
    }

    /// Closes a window and adds it to the current round.
    #[inline]
    fn collect(&mut self, pos: u32, reason: FlushReason, now: u64) {
        let prio = window_priority(self.cfg.priority, self.ring.get(pos), now);
        self.ring.close(pos);
        self.buffered_flows -= 1;
        let idx = self.round.len() as u64;
        // The index makes keys unique (so an unstable sort keeps window order on ties); rounds
        // longer than 2^24 windows only happen on a flush and keep window order.
        self.order.push(if idx < ROUND_INDEX_LIMIT {
            prio << 24 | idx
        } else {
            u64::MAX
        });
        self.round.push(RoundItem { pos, reason });
    }

    /// Orders the round's bursts and moves their packets to the TX queue.
    fn emit_round(&mut self, now: u64) {
        let mut order = std::mem::take(&mut self.order);
        let round = std::mem::take(&mut self.round);
        if round.len() as u64 <= ROUND_INDEX_LIMIT && !order.is_sorted() {
            order.sort_unstable();
            for &k in &order {
                self.emit_burst(round[(k & (ROUND_INDEX_LIMIT - 1)) as usize], now);
            }
        } else {
            for &item in &round {
                self.emit_burst(item, now);
            }
        }
        self.order = order;
        self.order.clear();
        self.round = round;
        self.round.clear();
        self.stats.rounds += 1;
    }

    /// Counts one burst of the round and emits it.
    #[inline]
    fn emit_burst(&mut self, item: RoundItem, now: u64) {
        self.stats.flushes.add(item.reason, 1);
        self.stats.bursts += 1;
        self.emit_window(item.pos, now);
    }

    /// Moves one closed window's packets to the TX queue (its flush counters are the
    /// caller's). Inlined into the round loops: a burst is most often one or two packets,
    /// so call and bookkeeping overheads dominate.
    #[inline(always)]
    fn emit_window(&mut self, pos: u32, now: u64) {
        let w = self.ring.get(pos);
        let (head, count, tag) = (w.head, w.count, w.tag);
        if !self.cfg.tcp_ack_coalescing && self.out.len() + count as usize <= self.max_out {
            // The common case: the whole burst fits the TX queue, so its accounting is one
            // step (one SLF run, one counter update), not one per packet.
            self.stats
                .locality_out
                .observe_run(u64::from(tag), u64::from(count));
            self.stats.packets_out += u64::from(count);
            let mut idx = head;
            for _ in 0..count {
                let (pkt, next, enq) = self.slab.take(idx);
                self.stats.record_hold(now.saturating_sub(enq));
                self.out.push_back(pkt);
                idx = next;
            }
            self.bursts.push_back(BurstHint {
                hash: tag,
                len: count,
                keyed: true,
                reread: true,
            });
            return;
        }
        self.emit_burst_slow(head, count, tag, now);
    }

    /// [`Self::emit_window`] with ACK coalescing, or with a TX queue near its bound: the burst
    /// is gathered, coalesced if asked, and emitted packet by packet (each may meet a full
    /// queue).
    #[cold]
    fn emit_burst_slow(&mut self, head: u32, count: u32, tag: u32, now: u64) {
        let id = Some(u64::from(tag));
        let mut idx = head;
        let mut burst = std::mem::take(&mut self.burst);
        for _ in 0..count {
            let (pkt, next, enq) = self.slab.take(idx);
            self.stats.record_hold(now.saturating_sub(enq));
            burst.push(pkt);
            idx = next;
        }
        if self.cfg.tcp_ack_coalescing {
            let discarded = &mut self.discarded;
            let o = self.coalescer.run(
                &mut burst,
                self.cfg.tcp_reorder,
                self.cfg.snapped_frames,
                |p| discarded.push_back(p),
            );
            self.stats.acks_coalesced += o.removed;
            self.stats.bursts_reordered += u64::from(o.reordered);
        }
        let mut sent = 0;
        for pkt in burst.drain(..) {
            sent += u32::from(self.emit(pkt, id));
        }
        self.burst = burst;
        self.note_burst(true, tag, sent, true);
    }

    /// Sweeps the table at a pace that visits every slot twice per `flow_timeout`, so the
    /// cost per packet stays tiny and independent of how often the caller polls.
    fn age_paced(&mut self, now: u64) {
        let elapsed = now.saturating_sub(self.age_clock_ns);
        let slots = u128::from(elapsed) * 2 * self.table.slot_count() as u128
            / u128::from(self.cfg.flow_timeout_ns.max(1));
        if slots == 0 {
            return;
        }
        self.age_clock_ns = now;
        self.age(now, (slots as usize).min(AGE_BUDGET));
    }

    fn age(&mut self, now: u64, budget: usize) {
        let removed = self
            .table
            .age(coarse(now), self.timeout_coarse, budget, &mut self.ring);
        self.stats.flows_aged += removed;
    }
}

/// A closing window's sort key within its round: ascending, as SFMaker's multiset; at most
/// 40 bits.
#[inline]
fn window_priority(priority: Priority, w: &Window, now: u64) -> u64 {
    match priority {
        Priority::Sent => u64::from(u32::MAX - w.sent),
        Priority::Delay => (now.saturating_sub(w.open_ns) / 1_000).min(PRIO_MAX),
        Priority::First => u64::from(coarse(now).wrapping_sub(w.first_seen)),
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
