//! One direction of a point-to-point link behind an egress FIFO with a finite buffer (a
//! switch port queue or a NIC's TX ring). Frames are offered in time order, so the queue
//! never needs its own events: the serializer's next free instant tells how many bytes wait.

use super::event::Ps;

/// Counters of one link direction (frame counts and wire bytes, overhead included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub sent: u64,
    pub sent_bytes: u64,
    pub dropped: u64,
    pub dropped_bytes: u64,
    /// Serialization time of frames that started in the measurement window.
    pub busy_in_window: Ps,
}

#[derive(Debug, Clone)]
pub struct Link {
    ps_per_byte: Ps,
    buffer_bytes: u64,
    prop: Ps,
    free_at: Ps,
    window: (Ps, Ps),
    pub stats: LinkStats,
}

impl Link {
    /// A link of `gbps` (8000 / gbps ps per byte: 80 at 100G), `buffer_bytes` of queue ahead of
    /// it and `prop` of propagation (cable, PHY, MAC); utilisation counts inside `window`.
    pub fn new(gbps: u64, buffer_bytes: u64, prop: Ps, window: (Ps, Ps)) -> Self {
        Self {
            ps_per_byte: 8_000 / gbps.clamp(1, 8_000),
            buffer_bytes,
            prop,
            free_at: 0,
            window,
            stats: LinkStats::default(),
        }
    }

    /// Bytes queued (including the frame being serialized) at `now`.
    pub fn backlog(&self, now: Ps) -> u64 {
        self.free_at.saturating_sub(now) / self.ps_per_byte
    }

    /// Offers a frame of `wire_bytes` (overhead included) at `now`, which must not be earlier
    /// than the previous offer. Returns when its last bit reaches the far end, or `None` if the
    /// buffer had no room (tail drop).
    pub fn send(&mut self, now: Ps, wire_bytes: u64) -> Option<Ps> {
        if self.backlog(now) + wire_bytes > self.buffer_bytes {
            self.stats.dropped += 1;
            self.stats.dropped_bytes += wire_bytes;
            return None;
        }
        let start = now.max(self.free_at);
        let ser = wire_bytes * self.ps_per_byte;
        self.free_at = start + ser;
        self.stats.sent += 1;
        self.stats.sent_bytes += wire_bytes;
        if (self.window.0..self.window.1).contains(&start) {
            self.stats.busy_in_window += ser;
        }
        Some(self.free_at + self.prop)
    }

    /// Busy fraction of the measurement window.
    pub fn utilisation(&self) -> f64 {
        let w = self.window.1.saturating_sub(self.window.0).max(1);
        self.stats.busy_in_window as f64 / w as f64
    }

    /// Packets per second this link carries for frames of `wire_bytes`.
    pub fn capacity_pps(gbps: u64, wire_bytes: u64) -> f64 {
        gbps as f64 * 1e9 / (8.0 * wire_bytes.max(1) as f64)
    }
}
