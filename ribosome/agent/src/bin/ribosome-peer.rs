//! `ribosome-peer`: a switch-side stand-in for checking a payload-server agent over the wire.
//!
//! ```text
//! ribosome-peer switch --iface veth1 --config configs/cluster.toml --server-index 1 --qps 4
//! ribosome-peer forge --iface veth0 --kind qp-info --server-index 1 --global-index 4
//! ```

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use ribosome_agent::peer::{forge, run_switch, ForgeKind, SwitchArgs};
use ribosome_config::cli::{self, EXIT_RUNTIME, EXIT_USAGE};
use ribosome_config::Servers;
use ribosome_config::{out, outln};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Kind {
    QpInfo,
    MemInfo,
    Unsigned,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Verify an agent's registration, refresh one QP (forged, then genuine), WRITE and READ
    /// a payload, and check a PSN gap is NAKed. Prints READY, then key=value results; exits
    /// non-zero if any check failed.
    Switch {
        #[arg(long)]
        iface: String,
        /// Cluster file (control key, switch MAC and IP).
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        server_index: u16,
        #[arg(long)]
        qps: u16,
        #[arg(long, default_value_t = 10_000)]
        timeout_ms: u64,
    },
    /// Send one registration frame that a switch must refuse.
    Forge {
        #[arg(long)]
        iface: String,
        #[arg(long, value_enum)]
        kind: Kind,
        #[arg(long)]
        server_index: u16,
        #[arg(long)]
        global_index: u16,
    },
}

/// A failure and its exit status.
#[derive(Debug)]
struct Failure(u8, anyhow::Error);

fn run() -> Result<bool, Failure> {
    let runtime = |e: anyhow::Error| Failure(EXIT_RUNTIME, e);
    match Cli::parse().cmd {
        Cmd::Switch {
            iface,
            config,
            server_index,
            qps,
            timeout_ms,
        } => {
            let usage = |e: ribosome_config::ConfigError| {
                Failure(
                    EXIT_USAGE,
                    anyhow::Error::new(e).context(format!("in {}", config.display())),
                )
            };
            let s = Servers::load(&config).map_err(usage)?;
            let args = SwitchArgs {
                iface,
                key: s.key().map_err(usage)?,
                server_index,
                qps,
                timeout: Duration::from_millis(timeout_ms),
                switch_mac: s.switch_mac().map_err(usage)?,
                switch_ip: s.switch_ip,
            };
            let report = run_switch(&args, || {
                outln!("READY");
                cli::flush_stdout();
            })
            .map_err(|e| runtime(e.into()))?;
            out!("{}", report.lines());
            Ok(report.all_ok(qps))
        }
        Cmd::Forge {
            iface,
            kind,
            server_index,
            global_index,
        } => {
            let kind = match kind {
                Kind::QpInfo => ForgeKind::QpInfo,
                Kind::MemInfo => ForgeKind::MemInfo,
                Kind::Unsigned => ForgeKind::Unsigned,
            };
            forge(&iface, kind, server_index, global_index)
                .context("sending the forged frame")
                .map_err(runtime)?;
            Ok(true)
        }
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EXIT_RUNTIME),
        Err(Failure(code, e)) => cli::fail("ribosome-peer", code, format!("{e:#}")),
    }
}
