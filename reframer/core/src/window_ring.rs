//! Open windows in the order they opened. Deadlines are `open + delay` with one `delay`, so
//! ring order is deadline order and expiry only ever looks at the front. Flows released
//! early leave a dead entry that is skipped; the front is always live (or the ring empty).

use crate::flow_table::{FlowTable, NIL};

#[derive(Clone, Copy)]
pub(crate) struct RingEntry {
    pub(crate) slot: u32,
    pub(crate) open_ns: u64,
}

pub(crate) struct WindowRing {
    buf: Vec<RingEntry>,
    mask: usize,
    head: u32,
    tail: u32,
}

impl WindowRing {
    /// `live_max` bounds live entries (one per buffered flow); twice that leaves room for
    /// dead ones so compaction is rare and amortised O(1).
    pub(crate) fn new(live_max: u32) -> Self {
        let size = (live_max as usize * 2).next_power_of_two().max(16);
        Self {
            buf: vec![
                RingEntry {
                    slot: NIL,
                    open_ns: 0
                };
                size
            ],
            mask: size - 1,
            head: 0,
            tail: 0,
        }
    }

    fn len(&self) -> usize {
        self.tail.wrapping_sub(self.head) as usize
    }

    #[inline]
    fn at(&mut self, pos: u32) -> &mut RingEntry {
        &mut self.buf[pos as usize & self.mask]
    }

    /// The oldest live window.
    #[inline]
    pub(crate) fn front(&self) -> Option<RingEntry> {
        (self.head != self.tail).then(|| self.buf[self.head as usize & self.mask])
    }

    /// Appends a window; compacts first when full. Returns its position.
    pub(crate) fn push(&mut self, slot: u32, open_ns: u64, table: &mut FlowTable) -> u32 {
        if self.len() == self.buf.len() {
            self.compact(table);
        }
        let pos = self.tail;
        *self.at(pos) = RingEntry { slot, open_ns };
        self.tail = self.tail.wrapping_add(1);
        pos
    }

    /// Marks a window closed (its flow was released).
    #[inline]
    pub(crate) fn kill(&mut self, pos: u32) {
        self.at(pos).slot = NIL;
        while self.head != self.tail && self.buf[self.head as usize & self.mask].slot == NIL {
            self.head = self.head.wrapping_add(1);
        }
    }

    /// Follows a flow moved inside the table.
    pub(crate) fn set_slot(&mut self, pos: u32, slot: u32) {
        self.at(pos).slot = slot;
    }

    /// Squeezes out dead entries, keeping order, and re-points the flows at their new places.
    fn compact(&mut self, table: &mut FlowTable) {
        let mut write = self.head;
        let mut read = self.head;
        while read != self.tail {
            let e = self.buf[read as usize & self.mask];
            if e.slot != NIL {
                *self.at(write) = e;
                table.slots[e.slot as usize].ring_pos = write;
                write = write.wrapping_add(1);
            }
            read = read.wrapping_add(1);
        }
        self.tail = write;
    }
}

impl WindowRing {
    /// When the window at `pos` opened.
    pub(crate) fn open_ns(&self, pos: u32) -> u64 {
        self.buf[pos as usize & self.mask].open_ns
    }
}
