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

/// Windows the ring starts with; it doubles (up to its bound) when more are live at once.
const START_WINDOWS: usize = 1024;

pub(crate) struct WindowRing {
    buf: ZeroedTable<Window>,
    /// Positions map to `pos & mask`: the part of `buf` in use, a power of two. Starting small
    /// keeps the part the tail sweeps through cache-resident (the whole bound is megabytes,
    /// and a ring that cycles through all of it writes a cold line every few windows).
    mask: usize,
    head: u32,
    tail: u32,
    /// Windows not yet closed.
    live: usize,
}

impl WindowRing {
    /// `live_max` bounds live windows (one per buffered flow); twice that leaves room for
    /// dead ones so compaction is rare and amortised O(1).
    pub(crate) fn new(live_max: u32) -> Self {
        let size = Self::windows_for(live_max);
        Self {
            // Positions outside the live range are never read: zero pages, touched on use.
            buf: ZeroedTable::new(size),
            mask: size.min(START_WINDOWS) - 1,
            head: 0,
            tail: 0,
            live: 0,
        }
    }

    fn windows_for(live_max: u32) -> usize {
        (live_max as usize * 2).next_power_of_two().max(16)
    }

    /// Bytes [`Self::new`] allocates for `live_max`.
    pub(crate) fn bytes_for(live_max: u32) -> u64 {
        (Self::windows_for(live_max) * size_of::<Window>()) as u64
    }

    /// Windows in the ring, live and dead: an upper bound on one round's size.
    pub(crate) fn len(&self) -> usize {
        self.tail.wrapping_sub(self.head) as usize
    }

    #[inline]
    pub(crate) fn get(&self, pos: u32) -> &Window {
        self.buf.at(pos as usize & self.mask)
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, pos: u32) -> &mut Window {
        self.buf.at_mut(pos as usize & self.mask)
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

    /// Appends a window; when the part in use is full, compacts it (at most half live) or
    /// doubles it first. Returns its position.
    #[inline]
    pub(crate) fn push(&mut self, w: Window, table: &mut FlowTable) -> u32 {
        if self.len() == self.mask + 1 {
            self.make_room(table);
        }
        let pos = self.tail;
        *self.get_mut(pos) = w;
        self.tail = self.tail.wrapping_add(1);
        self.live += 1;
        pos
    }

    #[cold]
    fn make_room(&mut self, table: &mut FlowTable) {
        if self.live * 2 > self.mask + 1 && self.mask + 1 < self.buf.len() {
            self.grow();
        } else {
            self.compact(table);
        }
    }

    /// Doubles the part in use. Positions stay as they are (flows keep theirs); each entry of
    /// the range moves to where the wider mask puts it, which is its old index or that plus
    /// the old size: the new half is unused, so no move overwrites an entry still to move.
    fn grow(&mut self) {
        let old = self.mask;
        let new = old * 2 + 1;
        let mut p = self.head;
        while p != self.tail {
            let (from, to) = (p as usize & old, p as usize & new);
            if from != to {
                self.buf[to] = self.buf[from];
            }
            p = p.wrapping_add(1);
        }
        self.mask = new;
    }

    /// Closes every live window whose deadline `open_ns + delay` is `<= now` (ring order is
    /// deadline order), calling `f(pos, window)` for each in ring order, and returns how
    /// many. One pass and one move of the head, where closing them one by one would look at
    /// the head once per window. Their fields stay readable until the next `push`.
    #[inline]
    pub(crate) fn close_due(
        &mut self,
        delay: u64,
        now: u64,
        mut f: impl FnMut(u32, &Window),
    ) -> usize {
        let mut p = self.head;
        let mut n = 0;
        while p != self.tail {
            let w = self.get(p);
            if w.slot != NIL {
                if w.open_ns.saturating_add(delay) > now {
                    break;
                }
                f(p, w);
                n += 1;
            }
            p = p.wrapping_add(1);
        }
        // `p` is the tail or a live window: the front stays live. Windows behind the head are
        // not open whatever their `slot` says (see `is_open`).
        self.head = p;
        self.live -= n;
        n
    }

    /// Closes the window at `pos`. Its fields stay readable until the next `push` (the
    /// caller emits the burst before buffering anything else).
    #[inline]
    pub(crate) fn close(&mut self, pos: u32) {
        self.get_mut(pos).slot = NIL;
        self.live -= 1;
        while self.head != self.tail && self.buf.at(self.head as usize & self.mask).slot == NIL {
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
                table.slots.at_mut(w.slot as usize).ring_pos = write;
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

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use crate::frames::FrameSpec;
    use crate::{Config, Scheduler};

    fn frame(flow: u32, id: u32) -> Vec<u8> {
        let src = IpAddr::V4(Ipv4Addr::from(0x0A00_0000 | (flow >> 8)));
        let dst = IpAddr::V4(Ipv4Addr::new(10, 9, 9, 9));
        let mut f = FrameSpec::udp(src, dst, 1000 + (flow & 0xFF) as u16, 80, 16).build();
        f[6..10].copy_from_slice(&id.to_be_bytes());
        f
    }

    /// Thousands of windows open at once make the ring double several times while early
    /// closes leave dead entries inside it; releases keep window order throughout, and a
    /// second wave exercises compaction at the grown size.
    #[test]
    fn growing_and_compacting_keep_window_order() {
        let cfg = Config {
            delay_ns: 1_000_000,
            max_burst: 1,
            flow_table_capacity: 20_000,
            first_packet_bypass: false,
            ..Config::default()
        };
        let mut s: Scheduler<Vec<u8>> = Scheduler::new(cfg).expect("config");
        let mut expected = Vec::new();
        let mut late = Vec::new();
        let mut id = 0;
        for wave in 0..2u32 {
            let base = u64::from(wave) * 10_000_000;
            for f in 0..5_000u32 {
                let flow = wave * 5_000 + f;
                let now = base + u64::from(f) * 10;
                s.push(frame(flow, id), now);
                if f % 7 == 0 {
                    // A second packet closes the window at once (max_burst 1): a dead entry.
                    s.push(frame(flow, id + 1), now);
                    expected.extend([id, id + 1]);
                    id += 2;
                } else {
                    late.push(id);
                    id += 1;
                }
            }
            s.poll(base + 5_000_000);
            expected.append(&mut late);
        }
        assert!(
            s.ring().mask + 1 >= 8192,
            "ring grew to {}",
            s.ring().mask + 1
        );
        let mut out = Vec::new();
        let mut batch = Vec::new();
        while s.pop_tx_batch(&mut batch) > 0 {
            out.extend(
                batch
                    .drain(..)
                    .map(|f| u32::from_be_bytes([f[6], f[7], f[8], f[9]])),
            );
        }
        assert_eq!(out, expected);
        assert_eq!(s.ring().live, 0);
    }
}
