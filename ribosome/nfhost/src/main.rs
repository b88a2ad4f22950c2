//! `ribosome-nfhost`: the NF host of a Ribosome cluster, and the in-process pipeline.
//!
//! ```text
//! ribosome-nfhost demo                       # whole pipeline in-process, faults optional
//! ribosome-nfhost bench                      # pps and NF-host bytes, sizes 64..1500
//! ribosome-nfhost probe --iface cl0          # test traffic on a client port, checked
//! ```
//!
//! The live NF host is the middlebox itself: `reframer --ribosome --port afpacket:nf0`
//! (one-armed; two ports work too), with Reframer's live I/O, stats, signals and summary.

mod probe;

use anyhow::{bail, Result};
use clap::{Parser, Subcommand};
use ribosome_config::cli::{self, EXIT_RUNTIME, EXIT_USAGE};
use ribosome_config::outln;
use ribosome_nfhost::bench::bench_size;
use ribosome_nfhost::sim::{Sim, SimConfig};
use ribosome_nfhost::traffic::{generate, verify, TrafficSpec};
use ribosome_nfhost::Nat;
use std::net::Ipv4Addr;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Ribosome NF host: Reframer scheduling of split header frames"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run generator -> switch -> 2 soft payload servers + NF host in-process and check every
    /// output packet byte for byte.
    Demo {
        /// Packets to send.
        #[arg(long, default_value_t = 20_000)]
        packets: usize,
        /// Flows.
        #[arg(long, default_value_t = 64)]
        flows: usize,
        /// Kill payload server 1 after a third of the packets, restart it after two thirds.
        #[arg(long)]
        kill_server: bool,
        /// Drop the N-th RDMA WRITE.
        #[arg(long)]
        drop_write: Option<u64>,
        /// Payload log per server, bytes (small values make it wrap before READs return).
        #[arg(long)]
        payload_log: Option<u64>,
        /// Header-store slots (small values make slots get reused while headers are held).
        #[arg(long)]
        header_slots: Option<u16>,
        /// Rewrite destinations to this address (NAT with incremental checksums).
        #[arg(long)]
        nat: Option<Ipv4Addr>,
        /// Send at the fixed gap whatever the pipeline can take (by default the generator
        /// waits while a QP's READ queue worth of packets is in flight).
        #[arg(long)]
        unpaced: bool,
        /// With injected faults: losses that are all counted end with `result=counted-loss`
        /// and status 0 (without it any lost packet is a failure, status 1).
        #[arg(long)]
        allow_counted_loss: bool,
    },
    /// Packets/s through the in-process pipeline and NF-host bytes vs full packets.
    Bench {
        /// Packets per size and repeat.
        #[arg(long, default_value_t = 20_000)]
        packets: usize,
        /// Repeats per size (the median is printed).
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        /// Frame sizes, bytes.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "64,128,256,512,1024,1500"
        )]
        sizes: Vec<usize>,
    },
    /// Send test traffic on a switch client port and check what comes back byte for byte.
    Probe(probe::ProbeArgs),
}

/// The demo's settings, checked before anything runs.
#[derive(Debug)]
struct Demo {
    packets: usize,
    flows: usize,
    kill: bool,
    drop_write: Option<u64>,
    cfg: SimConfig,
    allow_counted_loss: bool,
}

/// Largest frame the generator makes (its `sizes.1`).
const DEMO_MAX_FRAME: usize = 1500;

/// Refuses counts the in-process run cannot hold: the error names the flag and the bytes.
fn check_traffic(packets: usize, flows: usize, max_frame: usize, copies: u128) -> Result<()> {
    if flows == 0 {
        bail!("--flows 0: need at least 1 flow");
    }
    if flows > packets.max(1) {
        bail!("--flows {flows}: more flows than --packets ({packets})");
    }
    let needs = TrafficSpec::memory_bound(packets, flows, max_frame).saturating_mul(copies);
    cli::check_alloc("--packets", packets, needs, cli::alloc_limit()).map_err(anyhow::Error::msg)
}

#[allow(clippy::too_many_arguments)]
fn demo_setup(
    packets: usize,
    flows: usize,
    kill: bool,
    drop_write: Option<u64>,
    log: Option<u64>,
    slots: Option<u16>,
    nat: Option<Ipv4Addr>,
    unpaced: bool,
    allow_counted_loss: bool,
) -> Result<Demo> {
    // The packets and a copy of their frames.
    check_traffic(packets, flows, DEMO_MAX_FRAME, 2)?;
    let mut cfg = SimConfig::small();
    cfg.server_memory = 16 << 20;
    cfg.switch.payload_log = log.unwrap_or(16 << 20);
    if let Some(s) = slots {
        cfg.switch.header_slots = s;
    }
    cfg.switch.validate()?;
    cfg.nat = nat.map(|to_ip| Nat {
        to_ip,
        to_port: 8080,
    });
    if !unpaced {
        let c = &cfg.switch;
        cfg.max_in_flight = Some((c.max_outstanding_reads + c.max_waiting_reads) as u64);
    }
    Ok(Demo {
        packets,
        flows,
        kill,
        drop_write,
        cfg,
        allow_counted_loss,
    })
}

fn demo(d: Demo) -> Result<()> {
    let Demo {
        packets,
        flows,
        kill,
        drop_write,
        cfg,
        allow_counted_loss,
    } = d;
    let nat = cfg.nat;
    let mut sim = Sim::new(cfg)?;
    if let Some(n) = drop_write {
        sim.drop_write(n);
    }
    let pkts = generate(&TrafficSpec {
        seed: 7,
        flows,
        packets,
        sizes: (80, DEMO_MAX_FRAME),
        small_every: 8,
        small_max: 78,
    });
    let frames: Vec<Vec<u8>> = pkts.iter().map(|p| p.frame.clone()).collect();
    let third = packets / 3;
    sim.inject(frames[..third].iter().cloned());
    if kill {
        sim.kill_server(1);
        outln!("t={}ns: payload server 1 killed", sim.now());
    }
    sim.inject(frames[third..2 * third].iter().cloned());
    if kill {
        sim.start_server(1)?;
        outln!("t={}ns: payload server 1 restarted", sim.now());
    }
    sim.inject(frames[2 * third..].iter().cloned());
    sim.drain(10_000_000_000);
    let v = verify(&pkts, sim.output(), nat.as_ref());
    outln!("generated={} virtual_time_ns={}", packets, sim.now());
    outln!(
        "delivered_exact={} via_split={} corrupted={} duplicates={} missing={} reordered={}",
        v.exact,
        v.split,
        v.corrupted,
        v.duplicates,
        v.missing,
        v.reordered
    );
    let mut line = String::from("losses:");
    sim.switch
        .losses()
        .for_each(|k, n| line.push_str(&format!(" {k}={n}")));
    outln!("{line}");
    let mut line = String::from("whole_to_nf:");
    sim.switch
        .whole_reasons()
        .for_each(|k, n| line.push_str(&format!(" {k}={n}")));
    outln!("{line}");
    let mut line = String::from("switch:");
    sim.switch
        .counters()
        .for_each(|k, n| line.push_str(&format!(" {k}={n}")));
    outln!("{line}");
    let s = sim.stats();
    outln!(
        "nf_host_bytes={} full_packet_bytes={} ratio={:.3}",
        s.nf_bytes_in,
        s.generated_bytes,
        s.nf_bytes_in as f64 / s.generated_bytes.max(1) as f64
    );
    // Every counter that means a packet did not arrive as sent.
    let mut dropped: Vec<String> = Vec::new();
    sim.switch.losses().for_each(|k, n| {
        if n > 0 {
            dropped.push(format!("lost_{k}={n}"));
        }
    });
    for (k, n) in [
        ("nf_host_dropped", sim.nf.stats().dropped),
        ("missing", v.missing),
        ("corrupted", v.corrupted),
        ("duplicates", v.duplicates),
    ] {
        if n > 0 {
            dropped.push(format!("{k}={n}"));
        }
    }
    let counted = v.corrupted == 0 && v.duplicates == 0 && v.missing == sim.switch.losses().total();
    if dropped.is_empty() {
        outln!("result=ok (every packet delivered byte for byte)");
        return Ok(());
    }
    if counted && allow_counted_loss {
        outln!(
            "result=counted-loss ({} lost, every loss counted: {})",
            v.missing,
            dropped.join(" ")
        );
        return Ok(());
    }
    outln!("result=FAIL");
    if counted {
        bail!(
            "{} of {packets} packets lost (counted: {}); --allow-counted-loss accepts counted losses",
            v.missing,
            dropped.join(" ")
        );
    }
    bail!(
        "packets lost or corrupted without a count: {}",
        dropped.join(" ")
    );
}

fn bench(packets: usize, repeats: usize, sizes: &[usize]) -> Result<()> {
    outln!(
        "{:>6} {:>12} {:>12} {:>8} {:>14} {:>14} {:>9}",
        "size",
        "pipeline_pps",
        "nf_only_pps",
        "ratio",
        "nf_host_bytes",
        "full_bytes",
        "nf/full"
    );
    for &size in sizes {
        let r = bench_size(size, packets, repeats)?;
        outln!(
            "{:>6} {:>12.0} {:>12.0} {:>8.3} {:>14} {:>14} {:>9.3}",
            r.size,
            r.pipeline_pps,
            r.nf_only_pps,
            r.pipeline_pps / r.nf_only_pps.max(1.0),
            r.nf_bytes,
            r.full_bytes,
            r.nf_fraction()
        );
    }
    Ok(())
}

fn bench_setup(packets: usize, repeats: usize, sizes: &[usize]) -> Result<()> {
    if repeats == 0 {
        bail!("--repeats 0: need at least 1");
    }
    for &size in sizes {
        if !(60..=9014).contains(&size) {
            bail!("--sizes {size}: frame sizes are 60..=9014 bytes");
        }
    }
    let largest = sizes.iter().copied().max().unwrap_or(60);
    // The packets, their frames and the NF-only baseline's copy.
    check_traffic(packets, 64.min(packets.max(1)), largest, 3)
}

/// Every error before `run` is a usage error (status 2), every one after a run-time
/// failure (status 1).
enum Job {
    Demo(Box<Demo>),
    Bench(usize, usize, Vec<usize>),
    Probe(probe::ProbeArgs, reframer_io::PortSpec),
}

fn setup(cmd: Cmd) -> Result<Job> {
    Ok(match cmd {
        Cmd::Demo {
            packets,
            flows,
            kill_server,
            drop_write,
            payload_log,
            header_slots,
            nat,
            unpaced,
            allow_counted_loss,
        } => Job::Demo(Box::new(demo_setup(
            packets,
            flows,
            kill_server,
            drop_write,
            payload_log,
            header_slots,
            nat,
            unpaced,
            allow_counted_loss,
        )?)),
        Cmd::Bench {
            packets,
            repeats,
            sizes,
        } => {
            bench_setup(packets, repeats, &sizes)?;
            Job::Bench(packets, repeats, sizes)
        }
        Cmd::Probe(a) => {
            let spec = probe::check(&a)?;
            Job::Probe(a, spec)
        }
    })
}

fn main() -> ExitCode {
    let job = match setup(Cli::parse().cmd) {
        Ok(j) => j,
        Err(e) => return cli::fail("ribosome-nfhost", EXIT_USAGE, format!("{e:#}")),
    };
    let r = match job {
        Job::Demo(d) => demo(*d),
        Job::Bench(packets, repeats, sizes) => bench(packets, repeats, &sizes),
        Job::Probe(a, spec) => probe::run(&a, spec),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cli::fail("ribosome-nfhost", EXIT_RUNTIME, format!("{e:#}")),
    }
}
