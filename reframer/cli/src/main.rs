//! `reframer`: the Reframer middlebox. Offline over pcap files, live between two ports, the
//! Ribosome NF host (`--ribosome`, offline or live, one-armed or on two ports), or a
//! self-contained demo. See `reframer --help` and the README.
#![deny(unsafe_code)]

mod config;
mod demo;
mod generate;
mod limits;
mod live;
mod offline;
mod progress;
mod summary;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;

use clap::{Args, Parser, Subcommand};
use reframer_core::{Config as CoreConfig, MAX_BURST_LIMIT, MAX_TABLE_LIMIT};
use reframer_io::outfile::same_file;
use reframer_live::LiveOptions;

use config::{FileConfig, SchedulerSection};

/// Reframer: a traffic-locality scheduler. Holds each flow's packets for a bounded window and
/// releases them as per-flow bursts, so network functions downstream keep flow state in cache.
#[derive(Debug, Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// TOML config file (see --print-default-config).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Validate the config and flags, print the effective scheduler settings, and exit.
    #[arg(long)]
    check: bool,
    /// Print a fully commented default config and exit.
    #[arg(long)]
    print_default_config: bool,
    /// Offline input, `pcap:FILE` (micro- or nanosecond pcap, Ethernet).
    #[arg(long, value_name = "pcap:FILE")]
    input: Option<String>,
    /// Offline output, `pcap:FILE` (nanosecond pcap stamped with release times).
    #[arg(long, value_name = "pcap:FILE")]
    output: Option<String>,
    /// Write the run summary as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    summary_json: Option<PathBuf>,
    /// No human summary on stderr.
    #[arg(short, long)]
    quiet: bool,
    /// Ribosome NF host: frames come from a Ribosome switch; split headers are scheduled by
    /// the flow of the header they carry, and every frame leaves with its MACs swapped and its
    /// trailer intact (the NF contract). Offline, or live on two ports or one (one-armed:
    /// `--ribosome --port afpacket:IF`, frames leave on the port they came in on).
    #[arg(long)]
    ribosome: bool,
    #[command(flatten)]
    sched: SchedFlags,
    #[command(flatten)]
    live: live::LiveArgs,
}

/// Scheduler overrides (each beats the config file).
#[derive(Debug, Args)]
struct SchedFlags {
    /// Per-flow window, µs [config: delay_us, default 64].
    #[arg(long, value_name = "US")]
    delay_us: Option<f64>,
    /// Release a flow holding more than N packets [max_burst, 1024].
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_BURST_LIMIT)))]
    max_burst: Option<u32>,
    /// Output batch size [max_tx_burst, 32].
    #[arg(long, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=4096))]
    max_tx_burst: Option<usize>,
    /// Max flows with packets buffered, 0 = off [max_flows, 0].
    #[arg(long, value_name = "N")]
    max_flows: Option<u32>,
    /// Max packets buffered [max_buffered_packets, 65536].
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_TABLE_LIMIT)))]
    max_buffered_packets: Option<u32>,
    /// Max tracked flows [flow_table_capacity, 262144].
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_TABLE_LIMIT)))]
    flow_table_capacity: Option<u32>,
    /// Idle flow timeout, ms [flow_timeout_ms, 10000].
    #[arg(long, value_name = "MS")]
    flow_timeout_ms: Option<u64>,
    /// Burst order in a round: sent | delay | first [priority, sent].
    #[arg(long, value_name = "P")]
    priority: Option<String>,
    /// Hold a new flow's first packet too [first_packet_bypass = false].
    #[arg(long)]
    no_first_packet_bypass: bool,
    /// Forward TCP SYNs at once [bypass_syn = true].
    #[arg(long)]
    bypass_syn: bool,
    /// TCP ACK coalescing [tcp_ack_coalescing = true].
    #[arg(long)]
    tcp_ack_coalescing: bool,
    /// Sort TCP bursts by sequence number (with coalescing) [tcp_reorder = true].
    #[arg(long)]
    tcp_reorder: bool,
}

impl SchedFlags {
    fn apply(&self, s: &mut SchedulerSection) {
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = self.$f.clone() { s.$f = v; } )* };
        }
        set!(
            delay_us,
            max_burst,
            max_tx_burst,
            max_flows,
            max_buffered_packets,
            flow_table_capacity,
            flow_timeout_ms,
            priority
        );
        s.first_packet_bypass &= !self.no_first_packet_bypass;
        s.bypass_syn |= self.bypass_syn;
        s.tcp_ack_coalescing |= self.tcp_ack_coalescing;
        s.tcp_reorder |= self.tcp_reorder;
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a self-contained demo on a synthetic many-flow trace (no files, no hardware).
    Demo(demo::DemoArgs),
    /// Write the man pages or the shell completions (used to build the Debian package).
    #[command(hide = true)]
    Generate(generate::GenerateArgs),
}

/// How a run fails, by the exit-code convention of every binary of the project.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A usage or configuration error found before any work started: exit 2.
    Usage(anyhow::Error),
    /// A runtime failure (a file that cannot be opened, read or written; a failure mid-run):
    /// exit 1. A closed stdout (broken pipe) ends the program quietly with 0 instead.
    Runtime(anyhow::Error),
}

/// Marks an error as a [`Failure::Usage`] or a [`Failure::Runtime`].
pub(crate) trait Classify<T> {
    fn usage(self) -> Result<T, Failure>;
    fn runtime(self) -> Result<T, Failure>;
}

impl<T, E: Into<anyhow::Error>> Classify<T> for Result<T, E> {
    fn usage(self) -> Result<T, Failure> {
        self.map_err(|e| Failure::Usage(e.into()))
    }
    fn runtime(self) -> Result<T, Failure> {
        self.map_err(|e| Failure::Runtime(e.into()))
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help, --version: a closed stdout is no error here either.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // A usage error: one line, like every other error.
            let text = e.to_string();
            let line = text.lines().next().unwrap_or_default();
            eprintln!("reframer: {line}");
            return ExitCode::from(2);
        }
    };
    let (code, e) = match run(&cli) {
        Ok(()) => return ExitCode::SUCCESS,
        Err(Failure::Usage(e)) => (2, e),
        Err(Failure::Runtime(e)) => (1, e),
    };
    if is_broken_pipe(&e) {
        // The reader of our stdout is gone (`reframer demo | head -1`): nothing left to say.
        return ExitCode::SUCCESS;
    }
    reframer_io::cli::fail("reframer", code, format!("{e:#}"))
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Writes `text` to stdout; a closed stdout ends the program quietly (status 0), not a panic.
pub(crate) fn print_stdout(text: &str) {
    reframer_io::out!("{text}");
    reframer_io::cli::flush_stdout();
}

/// What a validated command line asks for.
#[derive(Debug)]
enum Mode {
    /// Neither offline nor live settings: `--check` of a config alone.
    Nothing,
    Offline {
        input: PathBuf,
        output: PathBuf,
    },
    Live(Box<LiveOptions>),
}

/// Everything checked before any work, by `--check` and by a run alike.
#[derive(Debug)]
struct Plan {
    core: CoreConfig,
    mode: Mode,
}

const LIVE_ONLY: &str = "applies to live mode only (--port A --port B, or --ribosome --port A)";

/// The one validation of the command line and config file: every section, every flag,
/// the memory the tables will take and the files involved. `--check` runs exactly this.
fn validate(cli: &Cli) -> anyhow::Result<Plan> {
    let mut file = match &cli.config {
        Some(p) => FileConfig::load(p)?,
        None => FileConfig::default(),
    };
    cli.sched.apply(&mut file.scheduler);
    let core = file.scheduler.to_core()?;
    let (input, output) = file
        .offline
        .resolve(cli.input.as_deref(), cli.output.as_deref())?;
    file.live.validate()?;
    let live_mode = !cli.live.ports.is_empty() || !file.live.ports.is_empty();
    if live_mode && (input.is_some() || output.is_some()) {
        bail!("--port (live mode) cannot be combined with --input/--output (offline mode)");
    }
    if cli.ribosome && core.tcp_ack_coalescing {
        bail!("--ribosome cannot be combined with TCP ACK coalescing (a split header's trailer would read as payload)");
    }
    let mode = if live_mode {
        let opts = LiveOptions::resolve(&cli.live, &file.live, cli.ribosome)?;
        if opts.afpacket.vnet_hdr && core.tcp_ack_coalescing {
            // A configuration error (exit 2), found before any port opens; `run` refuses it too.
            bail!("{}", reframer_live::RunError::VnetHdrAckCoalescing);
        }
        if let (Some(js), Some(csv)) = (&cli.summary_json, &opts.stats_csv) {
            refuse_same("--summary-json", js, "--stats-csv", csv)?;
        }
        Mode::Live(Box::new(opts))
    } else {
        refuse_live_flags(&cli.live)?;
        match (input, output) {
            (Some(input), Some(output)) => {
                refuse_same("--output", &output, "--input", &input)?;
                if let Some(js) = &cli.summary_json {
                    refuse_same("--summary-json", js, "--input", &input)?;
                    refuse_same("--summary-json", js, "--output", &output)?;
                }
                Mode::Offline { input, output }
            }
            (Some(_), None) => bail!("--input needs --output pcap:OUT (offline mode)"),
            (None, Some(_)) => bail!("--output needs --input pcap:IN (offline mode)"),
            (None, None) => Mode::Nothing,
        }
    };
    limits::check_scheduler_memory(&core, &mode_schedulers(&mode))?;
    Ok(Plan { core, mode })
}

/// The schedulers a mode builds, for the memory check.
fn mode_schedulers(mode: &Mode) -> limits::Schedulers {
    match mode {
        Mode::Nothing | Mode::Offline { .. } => limits::Schedulers::Offline,
        Mode::Live(o) => limits::Schedulers::Live {
            workers: o.workers(),
            directions: o.directions(),
        },
    }
}

/// Refuses to write `out` over `other` when they are the same file by identity (device and
/// inode), however they are named.
fn refuse_same(out_flag: &str, out: &Path, other_flag: &str, other: &Path) -> anyhow::Result<()> {
    if same_file(out, other) {
        bail!(
            "{out_flag} {} is the same file as {other_flag} {}; refusing to overwrite it",
            out.display(),
            other.display()
        );
    }
    Ok(())
}

/// Live-only flags given without a live mode would be silently ignored: refuse them.
fn refuse_live_flags(l: &live::LiveArgs) -> anyhow::Result<()> {
    let given = [
        ("--cores", l.cores.is_some()),
        ("--duration", l.duration.is_some()),
        ("--stats-csv", l.stats_csv.is_some()),
        ("--passthrough", l.passthrough.is_some()),
        ("--dpdk-args", l.dpdk_args.is_some()),
        ("--quiet-stats", l.quiet_stats),
        ("EAL arguments after --", !l.eal_args.is_empty()),
    ];
    match given.iter().find(|(_, g)| *g) {
        Some((flag, _)) => bail!("{flag} {LIVE_ONLY}"),
        None => Ok(()),
    }
}

fn run(cli: &Cli) -> Result<(), Failure> {
    if cli.print_default_config {
        print_stdout(config::DEFAULT_CONFIG);
        return Ok(());
    }
    if let Some(Command::Demo(a)) = &cli.command {
        return demo::run(a);
    }
    if let Some(Command::Generate(g)) = &cli.command {
        return generate::run(g, <Cli as clap::CommandFactory>::command()).runtime();
    }
    let plan = validate(cli).usage()?;
    if cli.check {
        eprintln!("config ok: {:?}", plan.core);
        return Ok(());
    }
    match plan.mode {
        Mode::Nothing => Err(anyhow::anyhow!(
            "nothing to do: give --input pcap:IN --output pcap:OUT (offline), --port A --port B (live), --ribosome --port A (live NF host), or run `reframer demo`"
        ))
        .usage(),
        Mode::Live(opts) => live::run(&opts, &plan.core, cli.summary_json.as_deref()).runtime(),
        Mode::Offline { input, output } => {
            run_offline(cli, &plan.core, &input, &output).runtime()
        }
    }
}

fn run_offline(cli: &Cli, core: &CoreConfig, input: &Path, output: &Path) -> anyhow::Result<()> {
    // Every output file exists under a temporary name before the work starts.
    let summary = cli
        .summary_json
        .as_deref()
        .map(summary::create_json)
        .transpose()?;
    let report = offline::run(input, output, core, cli.ribosome, cli.quiet)?;
    if !cli.quiet {
        summary::print_human(&report.stats, report.elapsed_s);
        offline::print_human(&report);
    }
    if let Some(f) = summary {
        summary::write_json(f, &offline::summary(&report, input, output, core))?;
    }
    Ok(())
}
