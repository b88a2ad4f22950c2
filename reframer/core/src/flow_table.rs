//! Open-addressing flow table: one 32-byte slot per flow (two per cache line) holds the key
//! and the state every packet needs, so a packet touches one line of the table (prefetched for
//! a whole batch) and the table is half the size of one with a line per flow.
//!
//! An IPv4 5-tuple fits in the slot. An IPv6 one does not: its slot keeps the ports, protocol
//! and an index into a side store of full keys, read only once the 32-bit tag matches. The
//! first-seen time (`Priority::First` only) lives in a side array indexed like the slots.
//!
//! Linear probing with backward-shift deletion (no tombstones). A moved slot that has packets
//! buffered updates its window-ring entry, so the ring never points at the wrong flow.

use crate::sys::{advise_huge_pages, prefetch, ZeroedTable};
use crate::window_ring::WindowRing;
use crate::wire::FlowKey;

/// No packet / no ring position.
pub(crate) const NIL: u32 = u32::MAX;

/// Per-flow state: half a cache line, touched once per packet.
#[derive(Clone, Copy)]
#[repr(C, align(32))]
pub(crate) struct FlowSlot {
    /// Low 32 bits of the key hash: home bucket and cheap pre-compare.
    pub(crate) tag: u32,
    /// Ring position of the window this flow last opened (see `WindowRing::is_open`).
    pub(crate) ring_pos: u32,
    /// Coarse time (ns >> 20, ~1 ms) of the last packet, for ageing.
    pub(crate) last_seen: u32,
    /// Packets pushed by this flow (saturating), for `Priority::Sent`.
    pub(crate) sent: u32,
    /// The IPv4 addresses, or the IPv6 key's index in `FlowTable::v6_keys`.
    addrs: u64,
    /// Ports, protocol and family ([`FlowKey::packed`]); 0 in an empty slot.
    rest: u64,
}

const _: () = assert!(size_of::<FlowSlot>() == 32);

impl FlowSlot {
    const EMPTY: Self = Self {
        tag: 0,
        ring_pos: NIL,
        last_seen: 0,
        sent: 0,
        addrs: 0,
        rest: 0,
    };

    #[inline(always)]
    fn used(&self) -> bool {
        self.rest != 0
    }

    /// The family field of `rest` ([`FlowKey::packed`]) says IPv6.
    fn is_v6(&self) -> bool {
        self.rest >> 40 == 2
    }
}

pub(crate) enum Lookup {
    Found(u32),
    Inserted(u32),
    Full,
}

/// A key as the probe loop compares it with slots.
struct Probe<'k> {
    key: &'k FlowKey,
    tag: u32,
    addrs: u64,
    rest: u64,
    v6: bool,
}

impl<'k> Probe<'k> {
    #[inline(always)]
    fn new(key: &'k FlowKey, hash: u64) -> Self {
        let (addrs, rest) = key.packed();
        Self {
            key,
            tag: hash as u32,
            addrs,
            rest,
            v6: key.is_v6(),
        }
    }
}

pub(crate) struct FlowTable {
    pub(crate) slots: ZeroedTable<FlowSlot>,
    /// Full IPv6 keys, at most `capacity` (one per flow), and the indices free among them.
    v6_keys: Vec<FlowKey>,
    v6_free: Vec<u32>,
    /// Coarse first-seen time per slot, kept only for `Priority::First` (the only reader):
    /// elsewhere it would cost a second cache miss per new flow for nothing.
    first_seen: Option<ZeroedTable<u32>>,
    mask: usize,
    len: usize,
    capacity: usize,
    hand: usize,
}

impl FlowTable {
    /// Slots of a table tracking up to `capacity` flows: load factor <= 0.75 keeps
    /// linear-probe chains short.
    pub(crate) fn slots_for(capacity: u32) -> usize {
        let capacity = capacity as usize;
        (capacity + capacity / 3).next_power_of_two().max(16)
    }

    /// Bytes a table for `capacity` allocates at most (the IPv6 key store and its free list
    /// at their bound: every flow IPv6).
    pub(crate) fn bytes_for(capacity: u32, first_seen: bool) -> u64 {
        let slots = Self::slots_for(capacity);
        let per_slot = size_of::<FlowSlot>() + if first_seen { size_of::<u32>() } else { 0 };
        let per_flow = size_of::<FlowKey>() + size_of::<u32>();
        (slots * per_slot + capacity as usize * per_flow) as u64
    }

    /// A table for up to `capacity` flows; `first_seen` keeps each flow's first-seen time.
    pub(crate) fn new(capacity: u32, first_seen: bool) -> Self {
        let size = Self::slots_for(capacity);
        let capacity = capacity as usize;
        // All-zero slots are empty: zero pages from the OS, so a large table costs nothing
        // until flows land in it.
        let slots = ZeroedTable::new(size);
        advise_huge_pages(slots.as_ptr(), size * size_of::<FlowSlot>());
        Self {
            slots,
            v6_keys: Vec::new(),
            v6_free: Vec::new(),
            first_seen: first_seen.then(|| ZeroedTable::new(size)),
            mask: size - 1,
            len: 0,
            capacity,
            hand: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Coarse first-seen time of the flow in `slot` (0 unless the table keeps them).
    #[inline]
    pub(crate) fn first_seen(&self, slot: u32) -> u32 {
        self.first_seen.as_ref().map_or(0, |f| *f.at(slot as usize))
    }

    /// Records the first-seen time of the flow just inserted in `slot`, if the table keeps them.
    #[inline]
    pub(crate) fn set_first_seen(&mut self, slot: u32, coarse: u32) {
        if let Some(f) = &mut self.first_seen {
            *f.at_mut(slot as usize) = coarse;
        }
    }

    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        prefetch(self.slots.at(hash as usize));
    }

    /// True when slot `s` holds the probed key. An IPv6 key is read from the side store only
    /// after tag, ports and protocol match.
    #[inline(always)]
    fn matches(&self, s: &FlowSlot, p: &Probe<'_>) -> bool {
        s.tag == p.tag
            && s.rest == p.rest
            && if p.v6 {
                self.v6_keys[s.addrs as usize] == *p.key
            } else {
                s.addrs == p.addrs
            }
    }

    #[inline]
    pub(crate) fn lookup_or_insert(&mut self, key: &FlowKey, hash: u64) -> Lookup {
        let p = Probe::new(key, hash);
        let mut i = p.tag as usize & self.mask;
        loop {
            let s = self.slots.at(i);
            if !s.used() {
                break;
            }
            if self.matches(s, &p) {
                return Lookup::Found(i as u32);
            }
            i = (i + 1) & self.mask;
        }
        if self.len >= self.capacity {
            return Lookup::Full;
        }
        let addrs = if p.v6 { self.push_v6(key) } else { p.addrs };
        *self.slots.at_mut(i) = FlowSlot {
            tag: p.tag,
            addrs,
            rest: p.rest,
            ..FlowSlot::EMPTY
        };
        self.len += 1;
        Lookup::Inserted(i as u32)
    }

    /// Stores an IPv6 key and returns its index (a freed one if any).
    #[cold]
    fn push_v6(&mut self, key: &FlowKey) -> u64 {
        if let Some(idx) = self.v6_free.pop() {
            self.v6_keys[idx as usize] = *key;
            return u64::from(idx);
        }
        push_bounded(&mut self.v6_keys, *key, self.capacity);
        (self.v6_keys.len() - 1) as u64
    }

    /// Frees the IPv6 key at `idx` for the next IPv6 flow.
    #[cold]
    fn remove_v6(&mut self, idx: u64) {
        push_bounded(&mut self.v6_free, idx as u32, self.capacity);
    }

    /// Finds a flow without inserting it.
    pub(crate) fn find(&self, key: &FlowKey, hash: u64) -> Option<u32> {
        let p = Probe::new(key, hash);
        let mut i = p.tag as usize & self.mask;
        loop {
            let s = self.slots.at(i);
            if !s.used() {
                return None;
            }
            if self.matches(s, &p) {
                return Some(i as u32);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Removes slot `i` (whose flow has no open window), shifting later chain members back.
    fn remove(&mut self, mut i: usize, ring: &mut WindowRing) {
        let gone = *self.slots.at(i);
        let mut j = i;
        loop {
            j = (j + 1) & self.mask;
            let s = *self.slots.at(j);
            if !s.used() {
                break;
            }
            let home = s.tag as usize & self.mask;
            // Move j back to i when i lies cyclically within [home, j).
            if (j.wrapping_sub(home) & self.mask) >= (j.wrapping_sub(i) & self.mask) {
                *self.slots.at_mut(i) = s;
                if let Some(f) = &mut self.first_seen {
                    *f.at_mut(i) = *f.at(j);
                }
                if ring.is_open(s.ring_pos, j as u32) {
                    ring.get_mut(s.ring_pos).slot = i as u32;
                }
                i = j;
            }
        }
        *self.slots.at_mut(i) = FlowSlot::EMPTY;
        self.len -= 1;
        if gone.is_v6() {
            self.remove_v6(gone.addrs);
        }
    }

    /// Visits up to `budget` slots from the sweep hand and removes idle entries with no
    /// packets whose last packet is older than `timeout` (coarse units). Returns removals.
    pub(crate) fn age(
        &mut self,
        now_coarse: u32,
        timeout: u32,
        budget: usize,
        ring: &mut WindowRing,
    ) -> u64 {
        let mut removed = 0;
        for _ in 0..budget.min(self.slots.len()) {
            let i = self.hand;
            // A later entry may shift into `i` after a removal: look at `i` again.
            loop {
                let s = self.slots.at(i);
                let idle = s.used()
                    && now_coarse.wrapping_sub(s.last_seen) > timeout
                    && !ring.is_open(s.ring_pos, i as u32);
                if !idle {
                    break;
                }
                self.remove(i, ring);
                removed += 1;
            }
            self.hand = (i + 1) & self.mask;
        }
        removed
    }
}

/// Pushes `x`, growing `v` by doubling but never past `bound` entries, so what
/// [`FlowTable::bytes_for`] counts is what the side stores can reach.
fn push_bounded<T>(v: &mut Vec<T>, x: T, bound: usize) {
    if v.len() == v.capacity() {
        let n = v.len();
        v.reserve_exact(n.max(16).min(bound.saturating_sub(n)).max(1));
    }
    v.push(x);
}
