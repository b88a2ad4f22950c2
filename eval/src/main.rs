//! `eval`: the Reframer evaluation suite (issue 4): calibrated synthetic traces, the paper's NF
//! chain, experiments E1-E4, the E5 Ribosome cluster model and cachegrind counts, written as
//! tidy CSV, SVG/PNG plots and summary.json. See eval/EVAL.md.

use reframer_eval::{calib, exp, summary, trace};

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "eval",
    version,
    about = "Reframer evaluation suite: traces, NF chain, experiments E1-E5"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Clone, Args)]
struct Common {
    /// Output folder for CSV, plots and summary.json (created if missing).
    #[arg(long, default_value = "eval-out")]
    out: PathBuf,
    /// Small sizes for CI (well under 2 minutes for `all`).
    #[arg(long)]
    quick: bool,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Repetitions of each timed run (default 3, or 1 with --quick); medians are reported.
    #[arg(long)]
    reps: Option<u32>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TraceKind {
    Campus,
    Motivation,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Every experiment, the calibration report and summary.json.
    All(Common),
    /// E1: SLF after Reframer vs window T and number of segments (virtual clock).
    E1(Common),
    /// E2: NF chain cost vs SLF on the motivation trace.
    E2(Common),
    /// E3: Reframer + chain vs chain alone on one core, sweeping T.
    E3(Common),
    /// E4: added hold time distribution vs T.
    E4(Common),
    /// E5: Ribosome cluster model at 100G (discrete-event, fed with NF costs measured here).
    #[command(alias = "e5")]
    Cluster(Common),
    /// Cache misses per packet for E2/E3 on reduced runs (valgrind --tool=cachegrind).
    Cachegrind(Common),
    /// The campus generator's statistics next to the reference's published ones.
    Calibrate {
        #[command(flatten)]
        common: Common,
        /// Override a generator parameter, e.g. --set subburst_mean=2 (repeatable).
        #[arg(long = "set")]
        sets: Vec<String>,
    },
    /// Write a synthetic trace as a nanosecond pcap.
    Trace {
        #[arg(value_enum)]
        kind: TraceKind,
        /// Output pcap file.
        #[arg(long)]
        pcap: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// campus: parallel segments.
        #[arg(long, default_value_t = 8)]
        segments: u32,
        /// campus: trace length.
        #[arg(long, default_value_t = 100)]
        duration_ms: u64,
        /// motivation: clients (flows), packets per client, interleave (= SLF).
        #[arg(long, default_value_t = 10_000)]
        clients: u32,
        #[arg(long, default_value_t = 400)]
        packets: u32,
        #[arg(long, default_value_t = 1)]
        interleave: u32,
        /// Write every frame at full length (zero payload) instead of headers only.
        #[arg(long)]
        full: bool,
    },
    /// One reduced configuration (what the cachegrind experiment wraps).
    #[command(hide = true)]
    OneRun {
        #[arg(value_parser = ["e2", "e3"])]
        which: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 1)]
        interleave: u32,
        #[arg(long, default_value_t = 5_000)]
        clients: u32,
        #[arg(long, default_value_t = 32)]
        packets: u32,
        #[arg(long, default_value_t = 4)]
        duration_ms: u64,
        /// E3: run Reframer with this window before the chain (otherwise the chain alone).
        #[arg(long)]
        delay_us: Option<u64>,
        /// Only generate the trace and build frames (the cachegrind baseline).
        #[arg(long)]
        skip_chain: bool,
        /// E3 with --delay-us: the scheduler alone, without the chain.
        #[arg(long)]
        reframer_only: bool,
        /// Print the E3 trace's packet count and exit.
        #[arg(long)]
        count_only: bool,
    },
}

fn ctx(c: &Common) -> Result<exp::Ctx> {
    std::fs::create_dir_all(&c.out)
        .with_context(|| format!("creating output folder {}", c.out.display()))?;
    let reps = c.reps.unwrap_or(if c.quick { 1 } else { 3 });
    anyhow::ensure!(reps >= 1, "--reps must be at least 1");
    Ok(exp::Ctx {
        out: c.out.clone(),
        quick: c.quick,
        seed: c.seed,
        reps,
    })
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::All(c) => {
            let ctx = ctx(&c)?;
            let start = std::time::Instant::now();
            summary::update(&ctx, "calibration", calib::report(&ctx, &[])?)?;
            let runs = exp::locality::runs(&ctx)?;
            summary::update(&ctx, "e1_locality", exp::locality::e1(&ctx, &runs)?)?;
            summary::update(&ctx, "e4_latency", exp::locality::e4(&ctx, &runs)?)?;
            drop(runs);
            summary::update(&ctx, "e2_nf_cost", exp::nf_cost::run(&ctx)?)?;
            summary::update(&ctx, "e3_in_chain", exp::in_chain::run(&ctx)?)?;
            summary::update(&ctx, "e5_cluster", exp::cluster::run_e5(&ctx)?)?;
            summary::update(&ctx, "cachegrind", exp::cachegrind::run(&ctx)?)?;
            summary::update(
                &ctx,
                "wall_s",
                serde_json::json!(start.elapsed().as_secs_f64().round()),
            )?;
            summary::write_table(&ctx)?;
            summary::print_headlines(&ctx)?;
        }
        Cmd::E1(c) => {
            let ctx = ctx(&c)?;
            let runs = exp::locality::runs(&ctx)?;
            summary::update(&ctx, "e1_locality", exp::locality::e1(&ctx, &runs)?)?;
        }
        Cmd::E4(c) => {
            let ctx = ctx(&c)?;
            let runs = exp::locality::runs(&ctx)?;
            summary::update(&ctx, "e4_latency", exp::locality::e4(&ctx, &runs)?)?;
        }
        Cmd::E2(c) => {
            let ctx = ctx(&c)?;
            summary::update(&ctx, "e2_nf_cost", exp::nf_cost::run(&ctx)?)?;
        }
        Cmd::E3(c) => {
            let ctx = ctx(&c)?;
            summary::update(&ctx, "e3_in_chain", exp::in_chain::run(&ctx)?)?;
        }
        Cmd::Cluster(c) => {
            let ctx = ctx(&c)?;
            summary::update(&ctx, "e5_cluster", exp::cluster::run_e5(&ctx)?)?;
        }
        Cmd::Cachegrind(c) => {
            let ctx = ctx(&c)?;
            summary::update(&ctx, "cachegrind", exp::cachegrind::run(&ctx)?)?;
        }
        Cmd::Calibrate { common, sets } => {
            let ctx = ctx(&common)?;
            let v = calib::report(&ctx, &sets)?;
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        Cmd::Trace {
            kind,
            pcap,
            seed,
            segments,
            duration_ms,
            clients,
            packets,
            interleave,
            full,
        } => {
            anyhow::ensure!(
                segments >= 1 && clients >= 1 && packets >= 1 && interleave >= 1,
                "counts must be at least 1"
            );
            let t = match kind {
                TraceKind::Campus => trace::campus::generate(
                    &Default::default(),
                    segments,
                    duration_ms * 1_000_000,
                    seed,
                ),
                TraceKind::Motivation => {
                    trace::motivation::generate(clients, packets, interleave, 1000, seed)
                }
            };
            let f = std::fs::File::create(&pcap)
                .with_context(|| format!("creating {}", pcap.display()))?;
            trace::pcap::write(&t, full, f)
                .with_context(|| format!("writing {}", pcap.display()))?;
            eprintln!(
                "{}: {} packets, {} flows, SLF {:.3}, {:.2} Gbps",
                pcap.display(),
                t.pkts.len(),
                t.distinct_flows(),
                t.slf(),
                t.gbps()
            );
        }
        Cmd::OneRun {
            which,
            seed,
            interleave,
            clients,
            packets,
            duration_ms,
            delay_us,
            skip_chain,
            reframer_only,
            count_only,
        } => {
            let n = if which == "e2" {
                exp::one_run::e2(clients, packets, interleave, seed, skip_chain)
            } else {
                exp::one_run::e3(
                    duration_ms,
                    delay_us,
                    seed,
                    skip_chain,
                    reframer_only,
                    count_only,
                )?
            };
            if count_only {
                println!("{n}");
            }
        }
    }
    Ok(())
}
