//! `ribosome-switch`: the switch model as a daemon on AF_PACKET ports, so a plain server can
//! be the splitter where no Tofino exists.
//!
//! ```text
//! ribosome-switch --config configs/cluster.toml
//! ```
//! Ports, roles, threshold and the rest come from `[switch]`; the key, QPs per server and
//! the fake client addresses from `[servers]`. SIGINT/SIGTERM stop it with a counter summary.

use anyhow::{Context, Result};
use clap::Parser;
use ribosome_config::cli::{self, EXIT_RUNTIME, EXIT_USAGE};
use ribosome_rnic::sys::RawSocket;
use ribosome_switch::{LoadedSwitch, Out, PortId, Switch};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Ribosome split switch (behavioural model) on AF_PACKET ports.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// Cluster file with [servers] and [switch].
    #[arg(long)]
    config: PathBuf,
    /// Override an interface: `--iface PORT=NAME` (repeatable).
    #[arg(long, value_parser = parse_override)]
    iface: Vec<(PortId, String)>,
    /// Print counters every this many seconds (0: only at exit).
    #[arg(long, default_value_t = 0)]
    stats_every_s: u64,
}

fn parse_override(s: &str) -> Result<(PortId, String), String> {
    let (p, n) = s.split_once('=').ok_or("want PORT=NAME")?;
    let p: PortId = p.parse().map_err(|_| format!("bad port number {p:?}"))?;
    Ok((p, n.to_string()))
}

fn summary(sw: &Switch) -> String {
    let mut s = String::from("ribosome-switch:");
    sw.counters()
        .for_each(|k, v| s.push_str(&format!(" {k}={v}")));
    sw.losses()
        .for_each(|k, v| s.push_str(&format!(" lost_{k}={v}")));
    sw.whole_reasons()
        .for_each(|k, v| s.push_str(&format!(" whole_{k}={v}")));
    s
}

/// Reads the flags and the cluster file: every error here is a usage or config error.
fn setup(cli: &Cli) -> Result<(LoadedSwitch, Switch)> {
    let mut loaded = LoadedSwitch::load(&cli.config)?;
    for (p, name) in &cli.iface {
        let e = loaded
            .ports
            .get_mut(usize::from(*p))
            .with_context(|| format!("--iface: no port {p} in [[switch.port]]"))?;
        e.iface.clone_from(name);
    }
    let sw = Switch::new(loaded.config.clone())?;
    Ok((loaded, sw))
}

/// Opens the ports and switches until SIGINT/SIGTERM: every error here is a run-time one.
fn run(cli: &Cli, loaded: &LoadedSwitch, mut sw: Switch) -> Result<()> {
    let mut socks = Vec::new();
    for (i, p) in loaded.ports.iter().enumerate() {
        let s = RawSocket::open(&p.iface)
            .with_context(|| format!("opening port {i} ({:?}) on {}", p.role, p.iface))?;
        s.set_read_timeout(Duration::from_millis(50))?;
        s.set_promiscuous()
            .with_context(|| format!("promiscuous mode on {}", p.iface))?;
        socks.push(Arc::new(s));
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).context("signal handler")?;
    }
    let (tx, rx) = mpsc::sync_channel::<(PortId, Vec<u8>)>(65536);
    let mut threads = Vec::new();
    for (i, s) in socks.iter().enumerate() {
        let (s, tx, stop) = (Arc::clone(s), tx.clone(), Arc::clone(&stop));
        threads.push(std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            while !stop.load(Ordering::Relaxed) {
                match s.recv(&mut buf) {
                    Ok(Some(n)) => {
                        if tx.send((i as PortId, buf[..n].to_vec())).is_err() {
                            break;
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        eprintln!("ribosome-switch: receive on port {i}: {e}");
                        break;
                    }
                }
            }
        }));
    }
    drop(tx);
    let names: Vec<String> = loaded
        .ports
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{i}={}({:?})", p.iface, p.role))
        .collect();
    eprintln!(
        "ribosome-switch: ready: ports {} split_threshold {:?}",
        names.join(" "),
        loaded.config.split_threshold
    );
    let start = Instant::now();
    let mut out = Out::new();
    let mut next_stats = cli.stats_every_s;
    let mut send_errors = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let got = rx.recv_timeout(Duration::from_millis(1));
        let now = start.elapsed().as_nanos() as u64;
        match got {
            Ok((port, frame)) => sw.process(port, &frame, now, &mut out),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        sw.tick(now, &mut out);
        for (port, f) in out.drain(..) {
            match socks.get(usize::from(port)) {
                Some(s) => {
                    if s.send(&f).is_err() {
                        send_errors += 1;
                    }
                }
                None => send_errors += 1,
            }
        }
        if cli.stats_every_s > 0 && start.elapsed().as_secs() >= next_stats {
            next_stats += cli.stats_every_s;
            eprintln!("{}", summary(&sw));
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    eprintln!("{} send_errors={send_errors}", summary(&sw));
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (loaded, sw) = match setup(&cli) {
        Ok(x) => x,
        Err(e) => return cli::fail("ribosome-switch", EXIT_USAGE, format!("{e:#}")),
    };
    match run(&cli, &loaded, sw) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cli::fail("ribosome-switch", EXIT_RUNTIME, format!("{e:#}")),
    }
}
