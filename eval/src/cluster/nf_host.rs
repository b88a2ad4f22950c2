//! The NF host: `cores` cores taking frames from one RX ring in FIFO order, each frame costing
//! a fixed CPU time (measured, see `cost`). With a fixed cost and first-free-core dispatch the
//! start times are non-decreasing, so the ring occupancy is the queue of not-yet-started frames.

use super::event::Ps;
use std::collections::VecDeque;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NfStats {
    pub processed: u64,
    pub dropped: u64,
    /// Core time of frames started in the measurement window.
    pub busy_in_window: Ps,
}

#[derive(Debug, Clone)]
pub struct NfHost {
    cost: Ps,
    free_at: Vec<Ps>,
    ring: usize,
    waiting: VecDeque<Ps>,
    window: (Ps, Ps),
    pub stats: NfStats,
}

impl NfHost {
    /// `cores` (at least 1) cores of `cost` ps per frame behind an RX ring of `ring` frames.
    pub fn new(cores: usize, cost: Ps, ring: usize, window: (Ps, Ps)) -> Self {
        Self {
            cost: cost.max(1),
            free_at: vec![0; cores.max(1)],
            ring: ring.max(1),
            waiting: VecDeque::new(),
            window,
            stats: NfStats::default(),
        }
    }

    /// A frame arrives at `now` (non-decreasing): returns when a core has finished it, or
    /// `None` if the RX ring was full (the NIC drops it).
    pub fn admit(&mut self, now: Ps) -> Option<Ps> {
        while self.waiting.front().is_some_and(|&s| s <= now) {
            self.waiting.pop_front();
        }
        if self.waiting.len() >= self.ring {
            self.stats.dropped += 1;
            return None;
        }
        let (core, free) = self
            .free_at
            .iter()
            .copied()
            .enumerate()
            .min_by_key(|&(i, t)| (t, i))
            .unwrap_or((0, 0));
        let start = now.max(free);
        let done = start + self.cost;
        if let Some(f) = self.free_at.get_mut(core) {
            *f = done;
        }
        if start > now {
            self.waiting.push_back(start);
        }
        if (self.window.0..self.window.1).contains(&start) {
            self.stats.busy_in_window += self.cost;
        }
        self.stats.processed += 1;
        Some(done)
    }

    /// Busy fraction of all cores over the measurement window.
    pub fn utilisation(&self) -> f64 {
        let w = self.window.1.saturating_sub(self.window.0).max(1) * self.free_at.len() as u64;
        self.stats.busy_in_window as f64 / w as f64
    }

    /// Frames per second the cores can take.
    pub fn capacity_pps(cores: usize, cost: Ps) -> f64 {
        cores.max(1) as f64 * 1e12 / cost.max(1) as f64
    }
}
