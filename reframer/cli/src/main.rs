//! `reframer`: the Reframer middlebox. Offline over pcap files, live between two ports, or a
//! self-contained demo. See `reframer --help` and the README.
#![deny(unsafe_code)]

mod config;
mod demo;
mod generate;
mod live;
mod offline;
mod progress;
mod summary;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

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
    /// Ribosome NF-host mode: frames come from a Ribosome switch; split headers are scheduled
    /// by the flow of the header they carry, and every frame leaves with its MACs swapped and
    /// its trailer intact (the NF contract).
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
    /// Per-flow window, µs [config: delay_us, default 100].
    #[arg(long, value_name = "US")]
    delay_us: Option<f64>,
    /// Release a flow holding more than N packets [max_burst, 1024].
    #[arg(long, value_name = "N")]
    max_burst: Option<u32>,
    /// Output batch size [max_tx_burst, 32].
    #[arg(long, value_name = "N")]
    max_tx_burst: Option<usize>,
    /// Max flows with packets buffered, 0 = off [max_flows, 0].
    #[arg(long, value_name = "N")]
    max_flows: Option<u32>,
    /// Max packets buffered [max_buffered_packets, 65536].
    #[arg(long, value_name = "N")]
    max_buffered_packets: Option<u32>,
    /// Max tracked flows [flow_table_capacity, 262144].
    #[arg(long, value_name = "N")]
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("reframer: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if cli.print_default_config {
        print!("{}", config::DEFAULT_CONFIG);
        return Ok(());
    }
    if let Some(Command::Demo(a)) = &cli.command {
        return demo::run(a);
    }
    if let Some(Command::Generate(g)) = &cli.command {
        return generate::run(g, <Cli as clap::CommandFactory>::command());
    }
    let mut file = match &cli.config {
        Some(p) => FileConfig::load(p)?,
        None => FileConfig::default(),
    };
    cli.sched.apply(&mut file.scheduler);
    let core = file.scheduler.to_core()?;
    let input = cli.input.clone().or(file.offline.input.clone());
    let output = cli.output.clone().or(file.offline.output.clone());
    let live_mode = !cli.live.ports.is_empty() || !file.live.ports.is_empty();
    if live_mode && (input.is_some() || output.is_some()) {
        anyhow::bail!("--port (live mode) cannot be combined with --input/--output (offline mode)");
    }
    if cli.check {
        if live_mode {
            reframer_live::LiveOptions::resolve(&cli.live, &file.live)?;
        }
        eprintln!("config ok: {core:?}");
        return Ok(());
    }
    if live_mode {
        if cli.ribosome {
            anyhow::bail!("--ribosome is available in offline mode; for a live NF host use `ribosome-nfhost serve`");
        }
        return live::run(&cli.live, &file.live, &core, cli.summary_json.as_deref());
    }
    let (Some(input), Some(output)) = (input, output) else {
        anyhow::bail!(
            "nothing to do: give --input pcap:IN --output pcap:OUT (offline), --port A --port B (live), or run `reframer demo`"
        );
    };
    let input = offline::pcap_path(&input, "--input")?;
    let output = offline::pcap_path(&output, "--output")?;
    if cli.ribosome && core.tcp_ack_coalescing {
        anyhow::bail!("--ribosome cannot be combined with TCP ACK coalescing (a split header's trailer would read as payload)");
    }
    let report = offline::run(&input, &output, &core, cli.ribosome, cli.quiet)?;
    if !cli.quiet {
        summary::print_human(&report.stats, report.elapsed_s);
    }
    if let Some(p) = &cli.summary_json {
        let extra = offline::extra(&report, &input, &output, &core);
        summary::write_json(
            p,
            &summary::summary_json(&report.stats, report.elapsed_s, extra),
        )?;
    }
    Ok(())
}
