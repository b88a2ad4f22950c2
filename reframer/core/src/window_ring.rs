//! Open windows in the order they opened. Each window carries its flow's packet list, so
//! releasing a burst never touches the flow table: only this ring (small and hot: it spans
//! one `delay` of arrivals) and the packet slab.
//!
//! Deadlines are `open + delay` with one `delay`, so ring order is deadline order and expiry
//! only looks at the front. A window released early is marked dead and skipped; the front is
//! always live (or the ring empty). Positions are absolute `u32` counters; a flow remembers
//! the position of the window it opened and checks [`WindowRing::is_open`] before using it.

use crate::flow_table::{FlowTable, NIL};
use crate::sys::ZeroedTable;

/// One open window: a flow's queued packets and what release ordering needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Window {
    pub(crate) open_ns: u64,
    /// Flow-table slot of the owner, or [`NIL`] once released.
    pub(crate) slot: u32,
    /// First and last packet (slab indices) and how many.
    pub(crate) head: u32,
    pub(crate) tail: u32,
    pub(crate) count: u32,
    /// Packets the flow has pushed so far (SFMaker's `packet_sent` at release).
    pub(crate) sent: u32,
    /// The flow's hash tag (locality accounting) and first-seen time (coarse ms).
    pub(crate) tag: u32,
    pub(crate) first_seen: u32,
}

const DEAD: Window = Window {
    open_ns: 0,
    slot: NIL,
    head: NIL,
    tail: NIL,
    count: 0,
    sent: 0,
    tag: 0,
    first_seen: 0,
};

pub(crate) struct WindowRing {
    buf: ZeroedTable<Window>,
    mask: usize,
    head: u32,
    tail: u32,
}

impl WindowRing {
    /// `live_max` bounds live windows (one per buffered flow); twice that leaves room for
    /// dead ones so compaction is rare and amortised O(1).
    pub(crate) fn new(live_max: u32) -> Self {
        let size = Self::windows_for(live_max);
        Self {
            // Positions outside the live range are never read: zero pages, touched on use.
            buf: ZeroedTable::new(size),
            mask: size - 1,
            head: 0,
            tail: 0,
        }
    }

    fn windows_for(live_max: u32) -> usize {
        (live_max as usize * 2).next_power_of_two().max(16)
    }

    /// Bytes [`Self::new`] allocates for `live_max`.
    pub(crate) fn bytes_for(live_max: u32) -> u64 {
        (Self::windows_for(live_max) * size_of::<Window>()) as u64
    }

    fn len(&self) -> usize {
        self.tail.wrapping_sub(self.head) as usize
    }

    #[inline]
    pub(crate) fn get(&self, pos: u32) -> &Window {
        &self.buf[pos as usize & self.mask]
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, pos: u32) -> &mut Window {
        &mut self.buf[pos as usize & self.mask]
    }

    /// True when `pos` is a live window owned by table slot `slot`.
    #[inline]
    pub(crate) fn is_open(&self, pos: u32, slot: u32) -> bool {
        pos.wrapping_sub(self.head) < self.tail.wrapping_sub(self.head)
            && self.get(pos).slot == slot
    }

    /// Position of the oldest live window.
    #[inline]
    pub(crate) fn front(&self) -> Option<u32> {
        (self.head != self.tail).then_some(self.head)
    }

    /// Appends a window; compacts first when full. Returns its position.
    pub(crate) fn push(&mut self, w: Window, table: &mut FlowTable) -> u32 {
        if self.len() == self.buf.len() {
            self.compact(table);
        }
        let pos = self.tail;
        *self.get_mut(pos) = w;
        self.tail = self.tail.wrapping_add(1);
        pos
    }

    /// Closes the window at `pos`. Its fields stay readable until the next `push` (the
    /// caller emits the burst before buffering anything else).
    #[inline]
    pub(crate) fn close(&mut self, pos: u32) {
        self.get_mut(pos).slot = NIL;
        while self.head != self.tail && self.buf[self.head as usize & self.mask].slot == NIL {
            self.head = self.head.wrapping_add(1);
        }
    }

    /// Squeezes out dead windows, keeping order, and re-points the flows at their new places.
    fn compact(&mut self, table: &mut FlowTable) {
        let mut write = self.head;
        let mut read = self.head;
        while read != self.tail {
            let w = *self.get(read);
            if w.slot != NIL {
                *self.get_mut(write) = w;
                table.slots[w.slot as usize].ring_pos = write;
                write = write.wrapping_add(1);
            }
            read = read.wrapping_add(1);
        }
        let mut p = write;
        while p != self.tail {
            *self.get_mut(p) = DEAD;
            p = p.wrapping_add(1);
        }
        self.tail = write;
    }
}
