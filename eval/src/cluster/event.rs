//! The event queue: a binary heap of (time, insertion number, event), so events due at the
//! same picosecond run in the order they were scheduled and every run is reproducible.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Simulated time in picoseconds: one byte at 100 Gb/s is exactly 80 ps, so link arithmetic
/// stays in integers.
pub type Ps = u64;

pub const PS_PER_NS: Ps = 1_000;
pub const PS_PER_US: Ps = 1_000_000;

/// Timestamped events, earliest first, FIFO among equal times.
#[derive(Debug)]
pub struct EventQueue<E: Ord> {
    heap: BinaryHeap<Reverse<(Ps, u64, E)>>,
    seq: u64,
    now: Ps,
}

impl<E: Ord> Default for EventQueue<E> {
    fn default() -> Self {
        Self {
            heap: BinaryHeap::new(),
            seq: 0,
            now: 0,
        }
    }
}

impl<E: Ord> EventQueue<E> {
    /// Schedules `e` at `at`; a time in the past is run now (time never goes backwards).
    pub fn at(&mut self, at: Ps, e: E) {
        self.seq += 1;
        self.heap.push(Reverse((at.max(self.now), self.seq, e)));
    }

    /// The next event, advancing the clock to its time.
    pub fn pop(&mut self) -> Option<(Ps, E)> {
        let Reverse((t, _, e)) = self.heap.pop()?;
        self.now = t;
        Some((t, e))
    }

    /// Time of the last event popped.
    pub fn now(&self) -> Ps {
        self.now
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}
