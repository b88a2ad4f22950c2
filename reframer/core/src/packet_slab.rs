//! Fixed-capacity packet store with intrusive per-flow links: buffering a packet is a
//! free-list pop and two index writes, never a heap allocation.

use crate::flow_table::NIL;
use crate::sys::prefetch;

struct Entry<P> {
    pkt: Option<P>,
    /// The next packet of the same window, or of the free list when `pkt` is `None`.
    next: u32,
    enq_ns: u64,
}

/// The free list runs through the entries' own `next` fields (the line an insert or a take
/// touches anyway), so it costs no second array and no capacity checks.
pub(crate) struct PacketSlab<P> {
    entries: Vec<Entry<P>>,
    free: u32,
    cap: usize,
    used: usize,
}

impl<P> PacketSlab<P> {
    pub(crate) fn new(cap: u32) -> Self {
        let cap = cap as usize;
        Self {
            entries: Vec::with_capacity(cap),
            free: NIL,
            cap,
            used: 0,
        }
    }

    /// Bytes [`Self::new`] reserves for `cap` packets.
    pub(crate) fn bytes_for(cap: u32) -> u64 {
        u64::from(cap) * size_of::<Entry<P>>() as u64
    }

    pub(crate) fn len(&self) -> usize {
        self.used
    }

    pub(crate) fn is_full(&self) -> bool {
        self.used == self.cap
    }

    /// Stores `pkt`; the caller checked `!is_full()`.
    #[inline]
    pub(crate) fn insert(&mut self, pkt: P, enq_ns: u64) -> u32 {
        self.used += 1;
        let i = self.free;
        match self.entries.get_mut(i as usize) {
            Some(e) => {
                self.free = e.next;
                *e = Entry {
                    pkt: Some(pkt),
                    next: NIL,
                    enq_ns,
                };
                i
            }
            None => {
                self.entries.push(Entry {
                    pkt: Some(pkt),
                    next: NIL,
                    enq_ns,
                });
                (self.entries.len() - 1) as u32
            }
        }
    }

    #[inline]
    pub(crate) fn link(&mut self, from: u32, to: u32) {
        self.entries[from as usize].next = to;
    }

    /// Starts loading entry `i` (the head of a window about to be emitted: written a whole
    /// window ago, it is rarely still in L1).
    #[inline]
    pub(crate) fn prefetch(&self, i: u32) {
        if let Some(e) = self.entries.get(i as usize) {
            prefetch(e);
        }
    }

    /// Removes a packet: `(packet, next index, enqueue time)`.
    #[inline]
    pub(crate) fn take(&mut self, i: u32) -> (P, u32, u64) {
        let e = &mut self.entries[i as usize];
        let pkt = e
            .pkt
            .take()
            .expect("slab index of a queued packet is occupied");
        let next = std::mem::replace(&mut e.next, self.free);
        self.free = i;
        self.used -= 1;
        (pkt, next, e.enq_ns)
    }
}
