//! `reframer-live`: the live mode on its own (the `reframer` binary embeds the same code).
//! Used by the testbed tests and benchmarks; takes the live flags plus the main scheduler
//! settings.

use std::{path::PathBuf, process::ExitCode};

use clap::Parser;
use reframer_io::outfile::AtomicFile;
use reframer_live::{load_live_config, print_final, run, LiveArgs, LiveConfig, LiveOptions};

#[derive(Debug, Parser)]
#[command(version, about = "Reframer live bump in the wire (standalone)")]
struct Cli {
    #[command(flatten)]
    live: LiveArgs,
    /// TOML file with a `[live]` section.
    #[arg(short, long)]
    config: Option<PathBuf>,
    /// Window: hold each flow's packets this long, µs (0 = pure forwarding).
    #[arg(long, default_value_t = 64)]
    delay_us: u64,
    /// Longest per-flow burst.
    #[arg(long)]
    max_burst: Option<u32>,
    /// Write the summary JSON here at exit.
    #[arg(long)]
    summary_json: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => {
            let _ = e.print(); // --help, --version
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("bad arguments");
            return fail(2, first.trim_start_matches("error: "));
        }
    };
    // Usage and configuration errors (exit 2) are all found before any port opens.
    let (opts, sched) = match setup(&cli) {
        Ok(v) => v,
        Err(e) => return fail(2, format!("{e:#}")),
    };
    match go(&cli, &opts, &sched) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(1, format!("{e:#}")),
    }
}

/// One line on stderr, the project's exit-code convention (2 usage/config, 1 runtime).
fn fail(code: u8, msg: impl std::fmt::Display) -> ExitCode {
    reframer_io::cli::fail("reframer-live", code, msg)
}

fn setup(cli: &Cli) -> anyhow::Result<(LiveOptions, reframer_core::Config)> {
    let cfg = match &cli.config {
        Some(p) => load_live_config(p)?,
        None => LiveConfig::default(),
    };
    let opts = LiveOptions::resolve(&cli.live, &cfg)?;
    let mut sched = reframer_core::Config {
        delay_ns: cli.delay_us.saturating_mul(1000),
        ..Default::default()
    };
    if let Some(b) = cli.max_burst {
        sched.max_burst = b;
    }
    sched.validate()?;
    Ok((opts, sched))
}

fn go(cli: &Cli, opts: &LiveOptions, sched: &reframer_core::Config) -> anyhow::Result<()> {
    // Created before the ports open (an unwritable place fails first), renamed into place
    // only once complete, as every output of the project.
    let name = |p: &std::path::Path| format!("--summary-json {}", p.display());
    let summary = cli
        .summary_json
        .as_deref()
        .map(|p| AtomicFile::create(p).map_err(|e| anyhow::anyhow!("{}: {e}", name(p))))
        .transpose()?;
    let report = run(opts, sched)?;
    print_final(&report);
    if let Some(mut f) = summary {
        let p = f.path().to_owned();
        serde_json::to_writer_pretty(&mut f, &report.summary_json())?;
        f.commit()
            .map_err(|e| anyhow::anyhow!("{}: {e}", name(&p)))?;
    }
    Ok(())
}
