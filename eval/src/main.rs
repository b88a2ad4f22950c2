//! `eval`: the Reframer evaluation suite (issue 4): calibrated synthetic traces, the paper's NF
//! chain, experiments E1-E4, the E5 Ribosome cluster model and cachegrind counts, written as
//! tidy CSV, SVG/PNG plots and summary.json. See eval/EVAL.md.

use reframer_eval::{calib, exp, summary, trace};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use ribosome_config::cli::{self, EXIT_RUNTIME, EXIT_USAGE};
use ribosome_config::outln;
use std::path::PathBuf;
use std::process::ExitCode;

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
        /// E3: run one variant of `eval e3` (`fused_burst`, ...) exactly as it times it, or a
        /// diagnostic `x_*` one (exp/interference.rs), on `eval e3 --quick`'s trace (with
        /// --delay-us where it has a window); for `valgrind --tool=callgrind
        /// --toggle-collect='*timing::time*'`, which counts only the timed region.
        #[arg(long)]
        variant: Option<String>,
        /// E3 with --variant: the chain (`paper`, `stateful`, or `acl<rules>`, e.g. `acl1000`).
        #[arg(long, default_value = "paper")]
        chain: String,
        /// E3 with --variant: runs of it, each printed as CPU ns per packet.
        #[arg(long, default_value_t = 1)]
        reps: u32,
        /// E3 with --variant: a second variant timed right after each run of the first (A, B,
        /// A, B, ...), printed on the same line.
        #[arg(long)]
        vs: Option<String>,
    },
}

fn ctx(c: &Common) -> Result<exp::Ctx> {
    std::fs::create_dir_all(&c.out)
        .with_context(|| format!("creating output folder {}", c.out.display()))?;
    let reps = c.reps.unwrap_or(if c.quick { 1 } else { 3 });
    Ok(exp::Ctx {
        out: c.out.clone(),
        quick: c.quick,
        seed: c.seed,
        reps,
    })
}

/// `--duration-ms` in ns; the error names the flag.
fn duration_ns(duration_ms: u64) -> Result<u64> {
    duration_ms
        .checked_mul(1_000_000)
        .with_context(|| format!("--duration-ms {duration_ms}: too large"))
}

/// Refuses `flag` when what it makes the run allocate exceeds the limit.
fn check_alloc(flag: &str, value: impl std::fmt::Display, needs: u128) -> Result<()> {
    cli::check_alloc(flag, value, needs, cli::alloc_limit()).map_err(anyhow::Error::msg)
}

/// Checks the flags before any work: every error here is a usage error (status 2).
fn check(cmd: &Cmd) -> Result<()> {
    let common = match cmd {
        Cmd::All(c)
        | Cmd::E1(c)
        | Cmd::E2(c)
        | Cmd::E3(c)
        | Cmd::E4(c)
        | Cmd::Cluster(c)
        | Cmd::Cachegrind(c) => Some(c),
        Cmd::Calibrate { common, .. } => Some(common),
        _ => None,
    };
    if common.is_some_and(|c| c.reps == Some(0)) {
        bail!("--reps 0: must be at least 1");
    }
    match cmd {
        Cmd::Trace {
            kind,
            segments,
            duration_ms,
            clients,
            packets,
            interleave,
            ..
        } => {
            for (flag, v) in [
                ("--segments", segments),
                ("--clients", clients),
                ("--packets", packets),
                ("--interleave", interleave),
            ] {
                if *v == 0 {
                    bail!("{flag} 0: must be at least 1");
                }
            }
            match kind {
                TraceKind::Campus => {
                    let d = duration_ns(*duration_ms)?;
                    check_alloc(
                        "--segments x --duration-ms",
                        format_args!("{segments} x {duration_ms}"),
                        trace::campus_bytes(*segments, d),
                    )?;
                }
                TraceKind::Motivation => check_alloc(
                    "--clients x --packets",
                    format_args!("{clients} x {packets}"),
                    trace::motivation_bytes(*clients, *packets),
                )?,
            }
        }
        Cmd::OneRun {
            which,
            clients,
            packets,
            duration_ms,
            ..
        } => {
            if which == "e2" {
                let pkts = u128::from(*clients) * u128::from(*packets);
                check_alloc(
                    "--clients x --packets",
                    format_args!("{clients} x {packets}"),
                    trace::motivation_bytes(*clients, *packets) + trace::frames_bytes(pkts),
                )?;
            } else {
                let d = duration_ns(*duration_ms)?;
                let bytes =
                    trace::campus_bytes(30, d) + trace::frames_bytes(trace::campus_packets(30, d));
                check_alloc("--duration-ms", duration_ms, bytes)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = check(&cli.cmd) {
        return cli::fail("eval", EXIT_USAGE, format!("{e:#}"));
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cli::fail("eval", EXIT_RUNTIME, format!("{e:#}")),
    }
}

fn run(cli: Cli) -> Result<()> {
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
            outln!("{}", serde_json::to_string_pretty(&v)?);
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
            let t = match kind {
                TraceKind::Campus => trace::campus::generate(
                    &Default::default(),
                    segments,
                    duration_ns(duration_ms)?,
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
            variant,
            chain,
            reps,
            vs,
        } => {
            let n = if let Some(v) = variant {
                let (n, runs) =
                    exp::one_run::e3_variant(&v, &chain, delay_us, seed, reps, vs.as_deref())?;
                for r in runs {
                    let r: Vec<String> = r.iter().map(|x| format!("{x:.1}")).collect();
                    outln!("{}", r.join(" "));
                }
                n
            } else if which == "e2" {
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
                outln!("{n}");
            }
        }
    }
    Ok(())
}
