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

    fn is_v6(&self) -> bool {
        FlowKey::packed_is_v6(self.rest)
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
            v6: FlowKey::packed_is_v6(rest),
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
    /// linear-probe chains short (a hit takes <= 2.5 probes on average, and `prefetch`
    /// covers the first two).
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
            // Reserved, not touched: the allocator maps stores this large lazily, so their
            // memory follows the IPv6 flows there are, and none is allocated per packet.
            v6_keys: Vec::with_capacity(capacity),
            v6_free: Vec::with_capacity(capacity),
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

    /// Starts loading the home slot of `hash` and the slot after it: a flow not at home is
    /// most often there, and for an odd home that is the next cache line.
    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        let i = hash as u32 as usize;
        prefetch(self.slots.at(i));
        prefetch(self.slots.at(i + 1));
    }

    /// True when slot `s` holds the probed key. An IPv6 key is read from the side store only
    /// after tag, ports and protocol match.
    #[inline(always)]
    fn matches(&self, s: &FlowSlot, p: &Probe<'_>) -> bool {
        s.tag == p.tag
            && s.rest == p.rest
            && if p.v6 {
                self.v6_key_is(s.addrs, *p.key)
            } else {
                s.addrs == p.addrs
            }
    }

    /// Out of line, so the IPv4 probe loop stays small enough to inline into the packet path;
    /// the key by value, so the caller's key need not be kept in memory for it.
    #[cold]
    #[inline(never)]
    fn v6_key_is(&self, idx: u64, key: FlowKey) -> bool {
        self.v6_keys[idx as usize] == key
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
        let addrs = if p.v6 { self.push_v6(*key) } else { p.addrs };
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
    #[inline(never)]
    fn push_v6(&mut self, key: FlowKey) -> u64 {
        if let Some(idx) = self.v6_free.pop() {
            self.v6_keys[idx as usize] = key;
            return u64::from(idx);
        }
        // At most `capacity` keys are live and freed ones go first: never past the reserve.
        self.v6_keys.push(key);
        (self.v6_keys.len() - 1) as u64
    }

    /// Frees the IPv6 key at `idx` for the next IPv6 flow.
    #[cold]
    fn remove_v6(&mut self, idx: u64) {
        self.v6_free.push(idx as u32);
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::rng::SplitMix64;

    fn v6(n: u8) -> FlowKey {
        let mut src = [0x20; 16];
        src[15] = n;
        FlowKey::v6(src, [0xFE; 16], 4000, 443, 6)
    }

    fn v4(n: u8) -> FlowKey {
        FlowKey::v4([10, 0, 0, n], [10, 0, 0, 200], 4000, 443, 6)
    }

    fn insert(t: &mut FlowTable, key: &FlowKey, hash: u64) -> u32 {
        match t.lookup_or_insert(key, hash) {
            Lookup::Inserted(i) => i,
            _ => panic!("{key:?} should be new"),
        }
    }

    /// What must hold after every operation: each live key is found where it is, the side
    /// store holds exactly one entry per IPv6 flow, and no probe chain has a hole.
    fn check(t: &FlowTable, live: &HashMap<FlowKey, u64>) {
        assert_eq!(t.len(), live.len());
        for (k, &h) in live {
            let i = t.find(k, h).expect("live key found");
            assert_eq!(t.slots.at(i as usize).tag, h as u32);
        }
        let v6_live = live.keys().filter(|k| k.src().is_ipv6()).count();
        assert_eq!(t.v6_keys.len() - t.v6_free.len(), v6_live);
        assert!(t.v6_keys.len() <= t.capacity);
    }

    #[test]
    fn slots_are_half_a_cache_line() {
        assert_eq!(size_of::<FlowSlot>(), 32);
        assert_eq!(align_of::<FlowSlot>(), 32);
    }

    /// IPv6 flows sharing a home bucket form one probe chain; removing its head shifts the
    /// rest back (first-seen times move with them) and the freed side-store entry serves the
    /// next IPv6 flow instead of growing the store.
    #[test]
    fn ipv6_chain_backward_shift_and_side_store_reuse() {
        let mut t = FlowTable::new(12, true);
        let mut ring = WindowRing::new(16);
        let mut live = HashMap::new();
        // Home bucket 3 for all (tag & 15 == 3), distinct tags.
        let hash = |n: u8| 3 + 16 * u64::from(n);
        for n in 0..5 {
            let i = insert(&mut t, &v6(n), hash(n));
            assert_eq!(i, 3 + u32::from(n), "linear probing from the home bucket");
            t.set_first_seen(i, 100 + u32::from(n));
            live.insert(v6(n), hash(n));
        }
        check(&t, &live);
        assert_eq!(t.v6_keys.len(), 5);

        t.remove(3, &mut ring);
        live.remove(&v6(0));
        check(&t, &live);
        for n in 1..5 {
            let i = t.find(&v6(n), hash(n)).unwrap();
            assert_eq!(i, 2 + u32::from(n), "shifted back by one");
            assert_eq!(t.first_seen(i), 100 + u32::from(n));
        }
        assert!(!t.slots.at(7).used());
        assert_eq!(t.find(&v6(0), hash(0)), None);

        let i = insert(&mut t, &v6(9), hash(9));
        live.insert(v6(9), hash(9));
        assert_eq!(i, 7);
        assert_eq!(t.v6_keys.len(), 5, "the freed entry is reused");
        assert!(t.v6_free.is_empty());
        check(&t, &live);
        assert!(matches!(
            t.lookup_or_insert(&v6(9), hash(9)),
            Lookup::Found(7)
        ));
    }

    /// Keys with the same 32-bit tag (and ports and protocol) but different families or
    /// addresses stay distinct flows: the family is part of the inline compare, and IPv6
    /// addresses are compared in full.
    #[test]
    fn equal_tags_across_families_stay_distinct() {
        let mut t = FlowTable::new(12, false);
        let mut ring = WindowRing::new(16);
        let h = 0xABCD_0005;
        let keys = [v4(1), v6(1), v4(2), v6(2)];
        let mut live = HashMap::new();
        for (n, k) in keys.iter().enumerate() {
            assert_eq!(insert(&mut t, k, h), 5 + n as u32);
            live.insert(*k, h);
        }
        check(&t, &live);
        for (n, k) in keys.iter().enumerate() {
            assert_eq!(t.find(k, h), Some(5 + n as u32));
        }
        // A v4 key whose packed addresses equal a v6 slot's side-store index is still apart.
        let low = FlowKey::v4([0; 4], [0; 4], 4000, 443, 6);
        assert_eq!(t.find(&low, h), None);

        t.remove(6, &mut ring);
        live.remove(&v6(1));
        check(&t, &live);
        assert_eq!(t.find(&v6(1), h), None);
        assert_eq!(t.find(&v6(2), h), Some(7));
        assert_eq!(t.find(&v4(2), h), Some(6));
    }

    /// Random inserts and removals of mixed IPv4/IPv6 keys over few tags (long chains, many
    /// collisions, wrap-around) agree with a map at every step, up to a full table.
    #[test]
    fn mixed_families_agree_with_a_map() {
        let mut rng = SplitMix64(7);
        let mut t = FlowTable::new(40, true);
        let mut ring = WindowRing::new(16);
        let mut live: HashMap<FlowKey, u64> = HashMap::new();
        let mut first: HashMap<FlowKey, u32> = HashMap::new();
        for step in 0..20_000u32 {
            let r = rng.next_u64();
            let n = (r % 60) as u8;
            let key = if r & 1 << 20 != 0 { v6(n) } else { v4(n) };
            // Few distinct tags: hash depends on n only, so v4(n) and v6(n) collide.
            let hash = (u64::from(n) % 7) * 9 + 60;
            if r & 1 << 21 != 0 {
                match t.lookup_or_insert(&key, hash) {
                    Lookup::Found(_) => assert!(live.contains_key(&key)),
                    Lookup::Inserted(i) => {
                        assert!(live.insert(key, hash).is_none());
                        t.set_first_seen(i, step);
                        first.insert(key, step);
                    }
                    Lookup::Full => assert_eq!(live.len(), 40),
                }
            } else if let Some(i) = t.find(&key, hash) {
                t.remove(i as usize, &mut ring);
                assert!(live.remove(&key).is_some());
                first.remove(&key);
            } else {
                assert!(!live.contains_key(&key));
            }
            check(&t, &live);
            for (k, &h) in &live {
                assert_eq!(t.first_seen(t.find(k, h).unwrap()), first[k]);
            }
        }
    }

    #[test]
    fn side_stores_stay_within_what_bytes_for_counts() {
        let cap = 100;
        let mut t = FlowTable::new(cap, false);
        let mut ring = WindowRing::new(16);
        for round in 0..3u64 {
            for n in 0..cap as u8 {
                insert(&mut t, &v6(n), u64::from(n) * 2654435761 + round);
            }
            for n in 0..cap as u8 {
                let h = u64::from(n) * 2654435761 + round;
                let i = t.find(&v6(n), h).unwrap();
                t.remove(i as usize, &mut ring);
            }
        }
        assert!(t.v6_keys.capacity() <= cap as usize);
        assert!(t.v6_free.capacity() <= cap as usize);
        assert_eq!(t.len(), 0);
    }
}
