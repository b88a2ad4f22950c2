//! Open-addressing flow table: one 64-byte slot per flow holds the key and all hot state,
//! so a packet touches one cache line of the table (prefetched for a whole batch).
//!
//! Linear probing with backward-shift deletion (no tombstones). A moved slot that has packets
//! buffered updates its window-ring entry, so the ring never points at the wrong flow.

use crate::sys::prefetch;
use crate::window_ring::WindowRing;
use crate::wire::FlowKey;

/// No packet / no ring position.
pub(crate) const NIL: u32 = u32::MAX;

/// Hot per-flow state: exactly one cache line.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(crate) struct FlowSlot {
    pub(crate) key: FlowKey,
    /// Low 32 bits of the key hash: home bucket and cheap pre-compare.
    pub(crate) tag: u32,
    /// First and last buffered packet (slab indices), valid when `count > 0`.
    pub(crate) head: u32,
    pub(crate) tail: u32,
    /// Position of this flow's open window in the ring, valid when `count > 0`.
    pub(crate) ring_pos: u32,
    /// Coarse time (ns >> 20) of the last packet, for ageing.
    pub(crate) last_seen: u32,
    /// Packets buffered in the open window.
    pub(crate) count: u16,
    pub(crate) used: bool,
    _pad: u8,
}

const _: () = assert!(size_of::<FlowSlot>() == 64);

impl FlowSlot {
    const EMPTY: Self = Self {
        key: FlowKey::ZERO,
        tag: 0,
        head: NIL,
        tail: NIL,
        ring_pos: NIL,
        last_seen: 0,
        count: 0,
        used: false,
        _pad: 0,
    };
}

/// Cold per-flow state, only read when a burst is released.
#[derive(Clone, Copy, Default)]
pub(crate) struct FlowCold {
    pub(crate) first_seen_ns: u64,
    pub(crate) sent: u64,
}

pub(crate) enum Lookup {
    Found(u32),
    Inserted(u32),
    Full,
}

pub(crate) struct FlowTable {
    pub(crate) slots: Vec<FlowSlot>,
    pub(crate) cold: Vec<FlowCold>,
    mask: usize,
    len: usize,
    capacity: usize,
    hand: usize,
}

impl FlowTable {
    pub(crate) fn new(capacity: u32) -> Self {
        let capacity = capacity as usize;
        // Load factor <= 0.75 keeps linear-probe chains short.
        let size = (capacity + capacity / 3).next_power_of_two().max(16);
        Self {
            slots: vec![FlowSlot::EMPTY; size],
            cold: vec![FlowCold::default(); size],
            mask: size - 1,
            len: 0,
            capacity,
            hand: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        prefetch(&self.slots[hash as usize & self.mask]);
    }

    #[inline]
    pub(crate) fn lookup_or_insert(&mut self, key: &FlowKey, hash: u64) -> Lookup {
        let tag = hash as u32;
        let mut i = tag as usize & self.mask;
        loop {
            let s = &self.slots[i];
            if !s.used {
                break;
            }
            if s.tag == tag && s.key == *key {
                return Lookup::Found(i as u32);
            }
            i = (i + 1) & self.mask;
        }
        if self.len >= self.capacity {
            return Lookup::Full;
        }
        self.slots[i] = FlowSlot {
            key: *key,
            tag,
            used: true,
            ..FlowSlot::EMPTY
        };
        self.cold[i] = FlowCold::default();
        self.len += 1;
        Lookup::Inserted(i as u32)
    }

    /// Finds a flow without inserting it.
    pub(crate) fn find(&self, key: &FlowKey, hash: u64) -> Option<u32> {
        let tag = hash as u32;
        let mut i = tag as usize & self.mask;
        loop {
            let s = &self.slots[i];
            if !s.used {
                return None;
            }
            if s.tag == tag && s.key == *key {
                return Some(i as u32);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Removes slot `i` (which must hold no packets), shifting later chain members back.
    fn remove(&mut self, mut i: usize, ring: &mut WindowRing) {
        debug_assert!(self.slots[i].used && self.slots[i].count == 0);
        let mut j = i;
        loop {
            j = (j + 1) & self.mask;
            let s = self.slots[j];
            if !s.used {
                break;
            }
            let home = s.tag as usize & self.mask;
            // Move j back to i when i lies cyclically within [home, j).
            if (j.wrapping_sub(home) & self.mask) >= (j.wrapping_sub(i) & self.mask) {
                self.slots[i] = s;
                self.cold[i] = self.cold[j];
                if s.count > 0 {
                    ring.set_slot(s.ring_pos, i as u32);
                }
                i = j;
            }
        }
        self.slots[i] = FlowSlot::EMPTY;
        self.len -= 1;
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
            let s = &self.slots[i];
            if s.used && s.count == 0 && now_coarse.wrapping_sub(s.last_seen) > timeout {
                // A later entry may shift into `i`: look at `i` again next step.
                self.remove(i, ring);
                removed += 1;
            } else {
                self.hand = (i + 1) & self.mask;
            }
        }
        removed
    }
}
