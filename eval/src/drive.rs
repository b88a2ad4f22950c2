//! Drives the real scheduler over a trace on a virtual clock (time = packet timestamps): before
//! each arrival, every window due by then is released at its own deadline
//! ([`Scheduler::advance_to`]); output is handed to a sink with its release time.

use crate::trace::{Frame, Packet, Trace};
use anyhow::{anyhow, Result};
use reframer_core::{BurstHint, Config, Priority, Scheduler, Stats};
use std::convert::Infallible;

/// The settings of the paper's experiments (reference §1.12): MAX_BURST 128, PRIO DELAY, first
/// packet bypass, no compression. MAX_CAP is 1000 per core there; one instance here takes the
/// traffic of all 8 of the paper's cores, hence 8000. The flow table is sized for the trace's
/// `flows` (+25%; the core adds its own load-factor headroom), so neither side pays for a table
/// far larger than its working set.
pub fn paper_config(delay_ns: u64, flows: usize) -> Config {
    Config {
        delay_ns,
        max_burst: 128,
        max_tx_burst: 32,
        max_flows: Some(8000),
        max_buffered_packets: 65_536,
        flow_table_capacity: (flows + flows / 4).clamp(1024, 1 << 26) as u32,
        flow_timeout_ns: 10_000_000_000u64.max(delay_ns),
        priority: Priority::Delay,
        first_packet_bypass: true,
        bypass_syn: false,
        tcp_ack_coalescing: false,
        tcp_reorder: false,
        ..Config::default()
    }
}

pub fn scheduler<P: Packet>(cfg: Config) -> Result<Scheduler<P>> {
    Scheduler::new(cfg).map_err(|e| anyhow!("scheduler config: {e}"))
}

/// What a run lost (the scheduler's own drops, e.g. memory bound): must be 0 in our runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunCounts {
    pub pushed: u64,
    pub released: u64,
    pub discarded: u64,
}

/// Pushes `frames` (their `id` indexes `trace.pkts` for the arrival time) through `s`, calling
/// `sink(frame, release_ns)` for each packet in output order.
pub fn run<P, I, F>(s: &mut Scheduler<P>, trace: &Trace, frames: I, mut sink: F) -> RunCounts
where
    P: Packet,
    I: IntoIterator<Item = P>,
    F: FnMut(P, u64),
{
    let mut out: Vec<P> = Vec::with_capacity(64);
    let mut c = RunCounts::default();
    let end = trace
        .duration_ns
        .max(trace.pkts.last().map_or(0, |p| p.t_ns));
    // Arrivals, then one more step at the end so windows due before it leave at their deadline.
    let arrivals = frames.into_iter().map(Some).chain(std::iter::once(None));
    for f in arrivals {
        let t = f.as_ref().map_or(end, |f| trace.pkts[f.id() as usize].t_ns);
        let Ok(()) = s.advance_to(t, &mut out, |p, at| {
            c.released += 1;
            sink(p, at);
            Ok::<(), Infallible>(())
        });
        if let Some(f) = f {
            c.pushed += 1;
            s.push(f, t);
            drain_released(s, t, &mut out, &mut c, &mut sink);
        }
    }
    s.shutdown(end);
    drain_released(s, end, &mut out, &mut c, &mut sink);
    c
}

/// Convenience: the frames of a trace, built on the fly.
pub fn frames(trace: &Trace) -> impl Iterator<Item = Frame> + '_ {
    (0..trace.pkts.len()).map(|i| trace.frame(i))
}

/// The scheduler's counters after a run, for the CSVs.
pub fn stats<P: Packet>(s: &Scheduler<P>) -> &Stats {
    s.stats()
}

/// The datapath's way of driving the scheduler (as a live worker does with RX bursts): arrivals
/// are taken `batch` at a time, `now` is the last arrival's time, then `poll(now)`,
/// `push_batch(..)` and the released packets go to `sink`. Window releases are thus batch-grained
/// (at 8 Mpps and 32 packets, ~4 µs), and aging/prefetching run per batch as they would live.
pub fn run_batched<P, I, F>(
    s: &mut Scheduler<P>,
    trace: &Trace,
    frames: I,
    batch: usize,
    mut sink: F,
) -> RunCounts
where
    P: Packet,
    I: IntoIterator<Item = P>,
    F: FnMut(P, u64),
{
    let mut out: Vec<P> = Vec::with_capacity(64);
    run_batched_with(s, trace, frames, batch, |s, at, c| {
        drain_released(s, at, &mut out, c, &mut sink)
    })
}

/// [`run_batched`] with the output taken as bursts through the scheduler's burst API
/// ([`Scheduler::pop_bursts`], a TX batch of whole bursts at a time):
/// `sink(s, packets, hint, next_hash, release_ns)` gets one flow's consecutive packets with
/// its hash (and `s`, for [`Scheduler::burst_key`] where the NF needs the key), so an NF can
/// do its per-flow work once per burst, and the next burst's flow hash (if one is waiting),
/// so it can prefetch that flow's state meanwhile. Then `recycle` gets every packet of the
/// batch. Same packets, same order.
pub fn run_batched_bursts<P, I, F, R>(
    s: &mut Scheduler<P>,
    trace: &Trace,
    frames: I,
    batch: usize,
    mut sink: F,
    mut recycle: R,
) -> RunCounts
where
    P: Packet,
    I: IntoIterator<Item = P>,
    F: FnMut(&Scheduler<P>, &mut [P], &BurstHint, Option<u32>, u64),
    R: FnMut(P),
{
    let mut out: Vec<P> = Vec::with_capacity(256);
    let mut hints: Vec<BurstHint> = Vec::with_capacity(64);
    run_batched_with(s, trace, frames, batch, |s, at, c| {
        while s.pop_bursts(&mut out, &mut hints) > 0 {
            c.released += out.len() as u64;
            let mut start = 0;
            for (i, h) in hints.iter().enumerate() {
                let end = start + h.len as usize;
                // The next burst's flow hash, for prefetching its state (`peek_bursts` past
                // this batch).
                let next = match hints.get(i + 1) {
                    Some(n) => Some(n.hash),
                    None => s.peek_bursts().next().map(|n| n.hash),
                };
                sink(s, &mut out[start..end], h, next, at);
                start = end;
            }
            hints.clear();
            out.drain(..).for_each(&mut recycle);
        }
        while s.pop_discarded().is_some() {
            c.discarded += 1;
        }
    })
}

/// The loop both batched drivers share; `drain(s, now, counts)` takes what was released. It
/// is called twice per RX batch (before and after the batch is pushed), then twice at the end
/// (after the last poll and after shutdown).
pub(crate) fn run_batched_with<P, I>(
    s: &mut Scheduler<P>,
    trace: &Trace,
    frames: I,
    batch: usize,
    mut drain: impl FnMut(&mut Scheduler<P>, u64, &mut RunCounts),
) -> RunCounts
where
    P: Packet,
    I: IntoIterator<Item = P>,
{
    let mut c = RunCounts::default();
    let mut it = frames.into_iter();
    let mut rx: Vec<P> = Vec::with_capacity(batch.max(1));
    loop {
        rx.extend(it.by_ref().take(batch.max(1)));
        let Some(last) = rx.last() else { break };
        let now = trace.pkts[last.id() as usize].t_ns;
        s.poll(now);
        drain(s, now, &mut c);
        c.pushed += rx.len() as u64;
        s.push_batch(rx.drain(..), now);
        drain(s, now, &mut c);
    }
    let end = trace
        .duration_ns
        .max(trace.pkts.last().map_or(0, |p| p.t_ns));
    s.poll(end);
    drain(s, end, &mut c);
    s.shutdown(end);
    drain(s, end, &mut c);
    c
}

/// Hands every released packet to `sink` stamped `at`, and counts recycled buffers.
fn drain_released<P: Packet>(
    s: &mut Scheduler<P>,
    at: u64,
    out: &mut Vec<P>,
    c: &mut RunCounts,
    sink: &mut impl FnMut(P, u64),
) {
    let Ok(()) = s.hand_out(at, out, |f, at| {
        c.released += 1;
        sink(f, at);
        Ok::<(), Infallible>(())
    });
    while s.pop_discarded().is_some() {
        c.discarded += 1;
    }
}
