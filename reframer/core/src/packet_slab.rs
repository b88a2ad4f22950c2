//! Fixed-capacity packet store with intrusive per-flow links: buffering a packet is a
//! free-list pop and two index writes, never a heap allocation.

use crate::flow_table::NIL;

struct Entry<P> {
    pkt: Option<P>,
    next: u32,
    enq_ns: u64,
}

pub(crate) struct PacketSlab<P> {
    entries: Vec<Entry<P>>,
    free: Vec<u32>,
    cap: usize,
    used: usize,
}

impl<P> PacketSlab<P> {
    pub(crate) fn new(cap: u32) -> Self {
        let cap = cap as usize;
        Self {
            entries: Vec::with_capacity(cap),
            free: Vec::with_capacity(cap),
            cap,
            used: 0,
        }
    }

    /// Bytes [`Self::new`] reserves for `cap` packets (the entries and the free list).
    pub(crate) fn bytes_for(cap: u32) -> u64 {
        u64::from(cap) * (size_of::<Entry<P>>() + size_of::<u32>()) as u64
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
        let e = Entry {
            pkt: Some(pkt),
            next: NIL,
            enq_ns,
        };
        if let Some(i) = self.free.pop() {
            self.entries[i as usize] = e;
            i
        } else {
            self.entries.push(e);
            (self.entries.len() - 1) as u32
        }
    }

    #[inline]
    pub(crate) fn link(&mut self, from: u32, to: u32) {
        self.entries[from as usize].next = to;
    }

    /// Removes a packet: `(packet, next index, enqueue time)`.
    #[inline]
    pub(crate) fn take(&mut self, i: u32) -> (P, u32, u64) {
        let e = &mut self.entries[i as usize];
        let pkt = e
            .pkt
            .take()
            .expect("slab index of a queued packet is occupied");
        self.free.push(i);
        self.used -= 1;
        (pkt, e.next, e.enq_ns)
    }
}
