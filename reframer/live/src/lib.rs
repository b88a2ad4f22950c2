//! Reframer's live mode, a library of the `reframer` binary: a bump in the wire between two
//! ports, or the Ribosome NF host (`--ribosome`: every frame leaves under the NF contract, on
//! two ports or one-armed on one). Each worker (one per `--cores` entry, pinned) owns a handle
//! on every port and one scheduler per direction; flows are spread over workers by the ports
//! (AF_PACKET fanout hash, DPDK RSS queues). The main thread is the monitor: stats line, CSV,
//! signals, duration.
//!
//! Lifecycle: ports are opened (one clear error if not), workers start, `EVENT REFRAMER_READY`
//! goes to stdout. SIGINT/SIGTERM/`--duration` stop RX, flush every window, drain TX, and
//! return the [`LiveReport`]; a second SIGINT exits at once (status 130); SIGUSR1 prints a
//! snapshot.

mod cores;
#[cfg(feature = "dpdk")]
mod dpdk;
mod error;
mod metrics;
mod monitor;
mod options;
mod ports;
mod report;
mod shared;
mod worker;

use std::{
    io::Write,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

pub use cores::parse_core_list;
pub use error::{ConfigError, PortError, RunError, WorkerError};
pub use metrics::WorkerDetail;
pub use options::{AfPacketConfig, LiveArgs, LiveConfig, LiveOptions, Passthrough};
use reframer_io::PortCounters;
pub use report::{LiveReport, LiveSummary, PortSummary};
pub use ribosome_wire::NfCounts;
pub use shared::WorkerGauges;
pub use worker::{run_worker, WorkerParams, WorkerResult};

use crate::{monitor::Monitor, shared::Snapshot};

/// Stop flags set by signals.
struct Signals {
    term: Arc<AtomicBool>,
    usr1: Arc<AtomicBool>,
}

fn install_signals() -> std::io::Result<Signals> {
    use signal_hook::{consts::*, flag};
    let term = Arc::new(AtomicBool::new(false));
    let usr1 = Arc::new(AtomicBool::new(false));
    // Order matters: the conditional exit sees the flag set by an earlier SIGINT.
    flag::register_conditional_shutdown(SIGINT, 130, Arc::clone(&term))?;
    flag::register(SIGINT, Arc::clone(&term))?;
    flag::register(SIGTERM, Arc::clone(&term))?;
    flag::register(SIGUSR1, Arc::clone(&usr1))?;
    Ok(Signals { term, usr1 })
}

/// Runs the bump in the wire until a signal or the duration stops it.
pub fn run(opts: &LiveOptions, sched: &reframer_core::Config) -> Result<LiveReport, RunError> {
    sched.validate().map_err(RunError::Scheduler)?;
    if opts.afpacket.vnet_hdr && sched.tcp_ack_coalescing {
        // ACK rewriting patches the TCP checksum incrementally, which is wrong for a frame
        // whose checksum the kernel has yet to compute.
        return Err(RunError::VnetHdrAckCoalescing);
    }
    let sig = install_signals().map_err(RunError::Signals)?;
    let handles = ports::open_all(opts)?;
    let workers = handles.len();
    let port_names: Vec<String> = opts.ports.iter().map(ToString::to_string).collect();
    let monitor_ports = port_names.join(" and ");
    let mut mon = Monitor::new(opts.stats_csv.as_deref(), opts.frame_bytes, monitor_ports)?;
    let params = WorkerParams {
        sched: sched.clone(),
        passthrough: opts.passthrough,
        rx_burst: opts.rx_burst,
        frame_bytes: opts.frame_bytes,
        idle_spin: opts.idle_spin,
        drain_timeout: opts.drain_timeout,
        nf_contract: opts.nf_contract,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let gauges: Vec<Arc<WorkerGauges>> = (0..workers).map(|_| Arc::default()).collect();
    let _metrics = opts
        .metrics_listen
        .map(|addr| {
            metrics::MetricsServer::start(
                addr,
                metrics::MetricsSource {
                    gauges: gauges.clone(),
                    ports: port_names.clone(),
                    started: Instant::now(),
                },
            )
        })
        .transpose()?;
    let mut threads = Vec::with_capacity(workers);
    for (w, set) in handles.into_iter().enumerate() {
        let core = opts.cores.as_ref().map(|c| c[w]);
        let (params, stop, g) = (params.clone(), Arc::clone(&stop), Arc::clone(&gauges[w]));
        let t = std::thread::Builder::new()
            .name(format!("reframer-w{w}"))
            .spawn(move || -> Result<WorkerResult, WorkerError> {
                if let Some(c) = core {
                    reframer_io::pin_current_thread(c).map_err(|err| WorkerError::Pin {
                        worker: w,
                        core: c,
                        err,
                    })?;
                }
                run_worker(set, &params, &stop, &g)
            })
            .map_err(|err| RunError::Spawn {
                what: "a worker thread",
                err,
            })?;
        threads.push(t);
    }
    println!("EVENT REFRAMER_READY");
    let _ = std::io::stdout().flush();

    let start = Instant::now();
    let mut last_tick = start;
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let now = Instant::now();
        if sig.usr1.swap(false, Ordering::Relaxed) {
            Monitor::print_snapshot(now - start, &Snapshot::sum(&gauges));
        }
        if now - last_tick >= opts.stats_interval {
            mon.tick(
                now - start,
                now - last_tick,
                Snapshot::sum(&gauges),
                opts.stats_line,
            );
            last_tick = now;
        }
        let timed_out = opts.duration.is_some_and(|d| now - start >= d);
        let worker_quit = threads.iter().any(|t| t.is_finished());
        if sig.term.load(Ordering::Relaxed) || timed_out || worker_quit {
            break;
        }
    }
    let elapsed = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut stats = reframer_core::Stats::default();
    let mut ports = [PortCounters::default(); 2];
    let (mut unsent, mut frames, mut nf) = (0, 0, NfCounts::default());
    let mut first_err = None;
    for (w, t) in threads.into_iter().enumerate() {
        match t.join() {
            Ok(Ok(r)) => {
                stats.merge(&r.stats);
                ports[0].merge(&r.ports[0]);
                ports[1].merge(&r.ports[1]);
                unsent += r.unsent_at_exit;
                frames += r.frames_allocated;
                nf.merge(&r.nf);
            }
            Ok(Err(e)) => {
                first_err.get_or_insert(RunError::Worker { worker: w, err: e });
            }
            Err(_) => {
                first_err.get_or_insert(RunError::WorkerPanicked(w));
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    mon.tick(
        elapsed,
        Instant::now() - last_tick,
        Snapshot::sum(&gauges),
        false,
    );
    Ok(LiveReport {
        stats,
        ports,
        elapsed,
        unsent_at_exit: unsent,
        workers,
        frames_allocated: frames,
        port_names,
        nf: opts.nf_contract.then_some(nf),
    })
}

/// Prints the final human summary on stderr and the NPF lines on stdout.
pub fn print_final(r: &LiveReport) {
    let s = &r.stats;
    let ports: Vec<String> = r
        .port_names
        .iter()
        .zip(["A", "B"])
        .zip(&r.ports)
        .map(|((_, side), p)| format!("{side}: rx {} tx {}", p.rx_packets, p.tx_packets))
        .collect();
    let nf = r.nf.map_or(String::new(), |n| {
        format!(" | NF contract: split {} whole {}", n.split, n.whole)
    });
    eprintln!(
        "reframer: {:.1}s, {} workers | {} | scheduled in {} out {} \
         bursts {} slf-out {:.2} | hold p99 {:.1} µs max {:.1} µs | drops {}{nf}",
        r.elapsed.as_secs_f64(),
        r.workers,
        ports.join(" | "),
        s.packets_in,
        s.packets_out,
        s.bursts,
        s.locality_out.slf(),
        s.hold_percentile_ns(0.99) as f64 / 1e3,
        s.hold_percentile_ns(1.0) as f64 / 1e3,
        r.drops_total()
    );
    print!("{}", r.npf_lines());
    let _ = std::io::stdout().flush();
}
