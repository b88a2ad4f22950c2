//! `ribosome-peer`: a switch-side stand-in for checking a payload-server agent over the wire.
//!
//! ```text
//! ribosome-peer switch --iface veth1 --config configs/cluster.toml --server-index 1 --qps 4
//! ribosome-peer forge --iface veth0 --kind qp-info --server-index 1 --global-index 4
//! ```

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use ribosome_agent::config::Servers;
use ribosome_agent::peer::{forge, run_switch, ForgeKind, SwitchArgs};
use ribosome_wire::MacAddr;
use std::io::Write;
use std::path::PathBuf;
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

fn run() -> Result<bool> {
    match Cli::parse().cmd {
        Cmd::Switch {
            iface,
            config,
            server_index,
            qps,
            timeout_ms,
        } => {
            let s = Servers::load(&config)?;
            let args = SwitchArgs {
                iface,
                key: s.key()?,
                server_index,
                qps,
                timeout: Duration::from_millis(timeout_ms),
                switch_mac: s.switch_mac.parse::<MacAddr>().context("switch_mac")?,
                switch_ip: s.switch_ip,
            };
            let report = run_switch(&args, || {
                println!("READY");
                let _ = std::io::stdout().flush();
            })?;
            print!("{}", report.lines());
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
            forge(&iface, kind, server_index, global_index)?;
            Ok(true)
        }
    }
}

fn main() {
    match run() {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("ribosome-peer: {e:#}");
            std::process::exit(2);
        }
    }
}
