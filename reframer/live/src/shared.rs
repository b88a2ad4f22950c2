//! Counters each worker publishes for the monitor thread (relaxed atomics, written by one
//! worker, summed by the monitor once per interval).

use std::sync::{
    atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    Mutex,
};

use crate::metrics::WorkerDetail;

/// One worker's published counters (both directions together).
#[derive(Debug, Default)]
pub struct WorkerGauges {
    /// Frames received.
    pub rx_packets: AtomicU64,
    /// Bytes received.
    pub rx_bytes: AtomicU64,
    /// Frames transmitted.
    pub tx_packets: AtomicU64,
    /// Bytes transmitted.
    pub tx_bytes: AtomicU64,
    /// Packets held by the schedulers now.
    pub buffered_packets: AtomicU64,
    /// Flows with an open window now.
    pub buffered_flows: AtomicU64,
    /// Packets released by the schedulers.
    pub sched_out: AtomicU64,
    /// Per-flow bursts released.
    pub bursts: AtomicU64,
    /// Drops of every kind (scheduler, ports, oversize).
    pub drops: AtomicU64,
    /// Frames larger than the frame buffer (GRO/LRO on).
    pub oversize: AtomicU64,
    /// Frames with a checksum left to offload by the sender.
    pub csum_partial: AtomicU64,
    /// Set when `/metrics` is served: the worker then refreshes `detail` every 250 ms.
    pub(crate) detail_on: AtomicBool,
    /// Per-port counters and scheduler stats for `/metrics` (only the scraper waits on it).
    pub(crate) detail: Mutex<Option<Box<WorkerDetail>>>,
}

/// A plain copy of [`WorkerGauges`] summed over workers.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Snapshot {
    /// See [`WorkerGauges`].
    pub rx_packets: u64,
    /// See [`WorkerGauges`].
    pub rx_bytes: u64,
    /// See [`WorkerGauges`].
    pub tx_packets: u64,
    /// See [`WorkerGauges`].
    pub tx_bytes: u64,
    /// See [`WorkerGauges`].
    pub buffered_packets: u64,
    /// See [`WorkerGauges`].
    pub buffered_flows: u64,
    /// See [`WorkerGauges`].
    pub sched_out: u64,
    /// See [`WorkerGauges`].
    pub bursts: u64,
    /// See [`WorkerGauges`].
    pub drops: u64,
    /// See [`WorkerGauges`].
    pub oversize: u64,
    /// See [`WorkerGauges`].
    pub csum_partial: u64,
}

impl Snapshot {
    /// Sums the gauges of all workers.
    pub(crate) fn sum(gauges: &[std::sync::Arc<WorkerGauges>]) -> Self {
        let mut s = Self::default();
        for g in gauges {
            s.rx_packets += g.rx_packets.load(Relaxed);
            s.rx_bytes += g.rx_bytes.load(Relaxed);
            s.tx_packets += g.tx_packets.load(Relaxed);
            s.tx_bytes += g.tx_bytes.load(Relaxed);
            s.buffered_packets += g.buffered_packets.load(Relaxed);
            s.buffered_flows += g.buffered_flows.load(Relaxed);
            s.sched_out += g.sched_out.load(Relaxed);
            s.bursts += g.bursts.load(Relaxed);
            s.drops += g.drops.load(Relaxed);
            s.oversize += g.oversize.load(Relaxed);
            s.csum_partial += g.csum_partial.load(Relaxed);
        }
        s
    }
}
