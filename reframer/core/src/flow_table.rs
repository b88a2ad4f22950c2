//! Open-addressing flow table: one 64-byte slot per flow holds the key and all hot state,
//! so a packet touches one cache line of the table (prefetched for a whole batch).
//!
//! Linear probing with backward-shift deletion (no tombstones). A moved slot that has packets
//! buffered updates its window-ring entry, so the ring never points at the wrong flow.

use crate::sys::{advise_huge_pages, prefetch, ZeroedTable};
use crate::window_ring::WindowRing;
use crate::wire::FlowKey;

/// No packet / no ring position.
pub(crate) const NIL: u32 = u32::MAX;

/// Per-flow state: exactly one cache line, touched once per packet.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(crate) struct FlowSlot {
    pub(crate) key: FlowKey,
    /// Low 32 bits of the key hash: home bucket and cheap pre-compare.
    pub(crate) tag: u32,
    /// Ring position of the window this flow last opened (see `WindowRing::is_open`).
    pub(crate) ring_pos: u32,
    /// Coarse time (ns >> 20, ~1 ms) of the last packet, for ageing.
    pub(crate) last_seen: u32,
    /// Coarse time of the first packet, for `Priority::First`.
    pub(crate) first_seen: u32,
    /// Packets pushed by this flow (saturating), for `Priority::Sent`.
    pub(crate) sent: u32,
    pub(crate) used: bool,
    _pad: [u8; 3],
}

const _: () = assert!(size_of::<FlowSlot>() == 64);

impl FlowSlot {
    const EMPTY: Self = Self {
        key: FlowKey::ZERO,
        tag: 0,
        ring_pos: NIL,
        last_seen: 0,
        first_seen: 0,
        sent: 0,
        used: false,
        _pad: [0; 3],
    };
}

pub(crate) enum Lookup {
    Found(u32),
    Inserted(u32),
    Full,
}

pub(crate) struct FlowTable {
    pub(crate) slots: ZeroedTable<FlowSlot>,
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

    /// Bytes [`Self::new`] allocates for `capacity`.
    pub(crate) fn bytes_for(capacity: u32) -> u64 {
        (Self::slots_for(capacity) * size_of::<FlowSlot>()) as u64
    }

    pub(crate) fn new(capacity: u32) -> Self {
        let size = Self::slots_for(capacity);
        let capacity = capacity as usize;
        // All-zero slots are empty (`used = false`): zero pages from the OS, so a large table
        // costs nothing until flows land in it.
        let slots = ZeroedTable::new(size);
        advise_huge_pages(slots.as_ptr(), size * size_of::<FlowSlot>());
        Self {
            slots,
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

    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        prefetch(self.slots.at(hash as usize));
    }

    #[inline]
    pub(crate) fn lookup_or_insert(&mut self, key: &FlowKey, hash: u64) -> Lookup {
        let tag = hash as u32;
        let mut i = tag as usize & self.mask;
        loop {
            let s = self.slots.at(i);
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
        *self.slots.at_mut(i) = FlowSlot {
            key: *key,
            tag,
            used: true,
            ..FlowSlot::EMPTY
        };
        self.len += 1;
        Lookup::Inserted(i as u32)
    }

    /// Finds a flow without inserting it.
    pub(crate) fn find(&self, key: &FlowKey, hash: u64) -> Option<u32> {
        let tag = hash as u32;
        let mut i = tag as usize & self.mask;
        loop {
            let s = self.slots.at(i);
            if !s.used {
                return None;
            }
            if s.tag == tag && s.key == *key {
                return Some(i as u32);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Removes slot `i` (whose flow has no open window), shifting later chain members back.
    fn remove(&mut self, mut i: usize, ring: &mut WindowRing) {
        let mut j = i;
        loop {
            j = (j + 1) & self.mask;
            let s = *self.slots.at(j);
            if !s.used {
                break;
            }
            let home = s.tag as usize & self.mask;
            // Move j back to i when i lies cyclically within [home, j).
            if (j.wrapping_sub(home) & self.mask) >= (j.wrapping_sub(i) & self.mask) {
                *self.slots.at_mut(i) = s;
                if ring.is_open(s.ring_pos, j as u32) {
                    ring.get_mut(s.ring_pos).slot = i as u32;
                }
                i = j;
            }
        }
        *self.slots.at_mut(i) = FlowSlot::EMPTY;
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
            // A later entry may shift into `i` after a removal: look at `i` again.
            loop {
                let s = self.slots.at(i);
                let idle = s.used
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
