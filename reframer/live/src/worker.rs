//! One worker: owns its port handles (two; one for the one-armed NF host), one scheduler per
//! direction, and a frame pool.
//! Busy-polls while traffic flows; after `idle_spin` without work it sleeps on epoll over the
//! ports plus a timerfd armed at the earliest window deadline.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering::Relaxed},
        Arc,
    },
    time::Duration,
};

use reframer_core::{Config, Scheduler, Stats};
use reframer_io::{now_ns, Frame, FramePool, Poller, Port, PortCounters};
use ribosome_wire::NfCounts;

use crate::{
    error::WorkerError,
    metrics::{WorkerDetail, DETAIL_EVERY_NS},
    options::Passthrough,
    shared::WorkerGauges,
};

/// One direction: frames read on `rx` go, scheduled or not, to `tx`.
struct Direction {
    rx: usize,
    tx: usize,
    sched: Option<Scheduler<Frame>>,
    /// Released frames waiting for room on the TX port.
    pending: Vec<Frame>,
}

/// What a worker hands back when it stops.
#[derive(Debug)]
pub struct WorkerResult {
    /// Scheduler counters of both directions, merged.
    pub stats: Stats,
    /// Final counters of port A and port B as seen by this worker (B stays zero one-armed).
    pub ports: [PortCounters; 2],
    /// NF contract counts (zero unless [`WorkerParams::nf_contract`]).
    pub nf: NfCounts,
    /// Frames still unsent when the drain timed out.
    pub unsent_at_exit: u64,
    /// Frame buffers this worker ever allocated.
    pub frames_allocated: usize,
}

/// Settings a worker needs.
#[derive(Debug, Clone)]
pub struct WorkerParams {
    /// Scheduler settings.
    pub sched: Config,
    /// Unscheduled direction.
    pub passthrough: Passthrough,
    /// Frames per RX burst.
    pub rx_burst: usize,
    /// Frame buffer size.
    pub frame_bytes: usize,
    /// Idle busy-poll time before sleeping.
    pub idle_spin: Duration,
    /// Drain limit at shutdown.
    pub drain_timeout: Duration,
    /// Ribosome NF host: every frame leaves under the NF contract (MACs swapped, trailer and
    /// lengths intact), counted as split or whole.
    pub nf_contract: bool,
}

/// Runs until `stop` is set, then flushes every window and drains TX. Two ports: A->B and
/// B->A; one port (one-armed NF host): frames leave on the port they came in on.
pub fn run_worker(
    mut ports: Vec<Box<dyn Port>>,
    p: &WorkerParams,
    stop: &AtomicBool,
    gauges: &Arc<WorkerGauges>,
) -> Result<WorkerResult, WorkerError> {
    let mk = |scheduled: bool| -> Result<Option<Scheduler<Frame>>, WorkerError> {
        if scheduled {
            Ok(Some(
                Scheduler::new(p.sched.clone()).map_err(WorkerError::Scheduler)?,
            ))
        } else {
            Ok(None)
        }
    };
    if !matches!(ports.len(), 1 | 2) {
        return Err(WorkerError::PortCount(ports.len()));
    }
    let mut dirs = if ports.len() == 1 {
        vec![Direction {
            rx: 0,
            tx: 0,
            sched: mk(true)?,
            pending: Vec::with_capacity(1024),
        }]
    } else {
        vec![
            Direction {
                rx: 0,
                tx: 1,
                sched: mk(p.passthrough != Passthrough::AToB)?,
                pending: Vec::with_capacity(1024),
            },
            Direction {
                rx: 1,
                tx: 0,
                sched: mk(p.passthrough != Passthrough::BToA)?,
                pending: Vec::with_capacity(1024),
            },
        ]
    };
    let mut nf = NfCounts::default();
    // Up to 4096 buffers ready (64 MiB at most: super-frame buffers are 64 KiB); the pool
    // grows on demand beyond that.
    let prealloc = ((64 << 20) / p.frame_bytes).clamp(64, 4096);
    let mut pool = FramePool::new(p.frame_bytes, prealloc);
    let mut poller = Poller::new()?;
    let mut all_fds = true;
    for (i, port) in ports.iter().enumerate() {
        match port.rx_fd() {
            Some(fd) => poller.add(fd, i as u64)?,
            None => all_fds = false,
        }
    }
    // Ports without a descriptor (DPDK) can only be polled: an idle worker naps on the timer
    // for at most NAP_NS instead of sleeping until a port wakes it.
    const NAP_NS: u64 = 200_000;
    let max_sleep = Duration::from_millis(100);
    let spin_ns = p.idle_spin.as_nanos() as u64;
    let mut rxbuf: Vec<Frame> = Vec::with_capacity(p.rx_burst);
    let mut ready = [0u64; 8];
    let mut last_work = now_ns();
    let mut last_publish = 0u64;
    let mut last_detail = 0u64;

    while !stop.load(Relaxed) {
        let mut work = 0usize;
        let now = now_ns();
        for d in &mut dirs {
            let n = ports[d.rx].rx_burst(&mut pool, &mut rxbuf, p.rx_burst)?;
            if n > 0 {
                work += n;
                if p.nf_contract {
                    // The contract touches only the MACs, which the scheduler never reads:
                    // applied on arrival, the frames leave exactly as if applied on release.
                    for f in &mut rxbuf {
                        nf.apply(f.as_mut());
                    }
                }
                match &mut d.sched {
                    Some(s) => s.push_batch(rxbuf.drain(..), now),
                    None => d.pending.append(&mut rxbuf),
                }
            }
        }
        let now = now_ns();
        for d in &mut dirs {
            work += pump(d, &mut ports, &mut pool, now)?;
        }
        if now - last_publish > 20_000_000 {
            publish(&dirs, &mut ports, gauges);
            last_publish = now;
            if gauges.detail_on.load(Relaxed) && now - last_detail > DETAIL_EVERY_NS {
                publish_detail(&dirs, &mut ports, gauges);
                last_detail = now;
            }
        }
        if work > 0 {
            last_work = now;
            continue;
        }
        if now - last_work < spin_ns
            || dirs.iter().any(|d| !d.pending.is_empty())
            || ports.iter().any(|p| p.tx_stalled())
        {
            std::hint::spin_loop();
            continue;
        }
        let deadline = dirs
            .iter()
            .filter_map(|d| d.sched.as_ref().and_then(Scheduler::next_deadline))
            .min();
        if let Some(t) = deadline {
            if t <= now + 20_000 {
                continue; // Too close for a timer (timerfd wakes ~7 µs late at best).
            }
        }
        let wake = if all_fds {
            deadline
        } else {
            Some(deadline.map_or(now + NAP_NS, |d| d.min(now + NAP_NS)))
        };
        poller.arm(wake)?;
        poller.wait(&mut ready, max_sleep)?;
    }

    // Graceful stop: no more RX; release every window and drain TX.
    let now = now_ns();
    for d in &mut dirs {
        if let Some(s) = &mut d.sched {
            s.shutdown(now);
        }
    }
    let give_up = now + p.drain_timeout.as_nanos() as u64;
    loop {
        let now = now_ns();
        let mut left = 0;
        for d in &mut dirs {
            pump(d, &mut ports, &mut pool, now)?;
            left += d.pending.len() + d.sched.as_ref().map_or(0, |s| s.tx_pending());
        }
        for port in ports.iter_mut().filter(|p| p.tx_stalled()) {
            port.tx_burst(&mut Vec::new(), &mut pool)?; // pokes the ring
            left += 1;
        }
        if left == 0 || now > give_up {
            break;
        }
    }
    let unsent: u64 = dirs
        .iter()
        .map(|d| (d.pending.len() + d.sched.as_ref().map_or(0, |s| s.tx_pending())) as u64)
        .sum();
    publish(&dirs, &mut ports, gauges);
    if gauges.detail_on.load(Relaxed) {
        publish_detail(&dirs, &mut ports, gauges);
    }
    let mut stats = Stats::default();
    for d in &dirs {
        if let Some(s) = &d.sched {
            stats.merge(s.stats());
        }
    }
    Ok(WorkerResult {
        stats,
        ports: counters(&mut ports),
        nf,
        unsent_at_exit: unsent,
        frames_allocated: pool.allocated(),
    })
}

/// Moves released frames to the TX port; returns frames sent.
fn pump(
    d: &mut Direction,
    ports: &mut [Box<dyn Port>],
    pool: &mut FramePool,
    now: u64,
) -> std::io::Result<usize> {
    if let Some(s) = &mut d.sched {
        s.poll(now);
        while let Some(f) = s.pop_discarded() {
            pool.put(f);
        }
        while s.tx_pending() > 0 && d.pending.len() < 1024 {
            s.pop_tx_batch(&mut d.pending);
        }
    }
    if d.pending.is_empty() {
        return Ok(0);
    }
    ports[d.tx].tx_burst(&mut d.pending, pool)
}

/// Port A's and port B's counters (B zero when one-armed).
fn counters(ports: &mut [Box<dyn Port>]) -> [PortCounters; 2] {
    let mut c = [PortCounters::default(); 2];
    for (c, p) in c.iter_mut().zip(ports) {
        *c = p.counters();
    }
    c
}

fn publish(dirs: &[Direction], ports: &mut [Box<dyn Port>], g: &WorkerGauges) {
    let [a, b] = counters(ports);
    g.rx_packets.store(a.rx_packets + b.rx_packets, Relaxed);
    g.rx_bytes.store(a.rx_bytes + b.rx_bytes, Relaxed);
    g.tx_packets.store(a.tx_packets + b.tx_packets, Relaxed);
    g.tx_bytes.store(a.tx_bytes + b.tx_bytes, Relaxed);
    g.oversize.store(a.rx_oversize + b.rx_oversize, Relaxed);
    g.csum_partial
        .store(a.rx_csum_partial + b.rx_csum_partial, Relaxed);
    let port_drops = a.rx_dropped + b.rx_dropped + a.tx_dropped + b.tx_dropped;
    let (mut bp, mut bf, mut out, mut bursts, mut drops) = (0, 0, 0, 0, 0);
    for d in dirs {
        if let Some(s) = &d.sched {
            bp += s.buffered_packets() as u64;
            bf += s.buffered_flows() as u64;
            out += s.stats().packets_out;
            bursts += s.stats().bursts;
            drops += s.stats().dropped_total();
        }
    }
    g.buffered_packets.store(bp, Relaxed);
    g.buffered_flows.store(bf, Relaxed);
    g.sched_out.store(out, Relaxed);
    g.bursts.store(bursts, Relaxed);
    g.drops
        .store(drops + port_drops + a.rx_oversize + b.rx_oversize, Relaxed);
}

/// Per-port counters and merged scheduler stats for `/metrics`.
fn publish_detail(dirs: &[Direction], ports: &mut [Box<dyn Port>], g: &WorkerGauges) {
    let mut stats = Stats::default();
    for d in dirs {
        if let Some(s) = &d.sched {
            stats.merge(s.stats());
        }
    }
    let detail = Box::new(WorkerDetail {
        ports: counters(ports),
        stats,
    });
    if let Ok(mut slot) = g.detail.lock() {
        *slot = Some(detail);
    }
}
