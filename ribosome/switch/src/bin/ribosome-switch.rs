//! `ribosome-switch`: the switch model as a daemon on reframer-io ports (AF_PACKET TPACKET_V3
//! ring by default, AF_XDP with `xdp:IFACE`), so a plain server can be the splitter where no
//! Tofino exists.
//!
//! ```text
//! ribosome-switch --config configs/cluster.toml
//! ```
//! Ports, roles, threshold and the rest come from `[switch]` (`iface = "eth1"` is
//! `afpacket:eth1`; `iface = "xdp:eth1"` picks AF_XDP); the key, QPs per server and the fake
//! client addresses from `[servers]`. One thread drives every port: batched receive, the
//! model, batched send with a bounded retry backlog, and epoll when idle. SIGINT/SIGTERM stop
//! it with a counter summary; every frame that did not leave is in a named counter.

use anyhow::{Context, Result};
use clap::Parser;
use reframer_io::portset::{port_spec, PortSet, JUMBO_FRAME_BYTES};
use reframer_io::{now_ns, PortSpec, SetCounters};
use ribosome_config::cli::{self, EXIT_RUNTIME, EXIT_USAGE};
use ribosome_switch::{LoadedSwitch, Out, PortId, Switch};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Ribosome split switch (behavioural model) on AF_PACKET or AF_XDP ports.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// Cluster file with [servers] and [switch].
    #[arg(long)]
    config: PathBuf,
    /// Override an interface: `--iface PORT=NAME` or `PORT=KIND:NAME` (repeatable).
    #[arg(long, value_parser = parse_override)]
    iface: Vec<(PortId, String)>,
    /// Print counters every this many seconds (0: only at exit).
    #[arg(long, default_value_t = 0)]
    stats_every_s: u64,
}

/// Frames taken from each port per pass.
const BURST: usize = 64;

/// Longest idle sleep: the model's liveness and control timers tick at least this often.
const TICK: Duration = Duration::from_millis(1);

fn parse_override(s: &str) -> Result<(PortId, String), String> {
    let (p, n) = s.split_once('=').ok_or("want PORT=NAME")?;
    let p: PortId = p.parse().map_err(|_| format!("bad port number {p:?}"))?;
    Ok((p, n.to_string()))
}

fn summary(sw: &Switch, ports: &mut PortSet) -> String {
    let mut s = String::from("ribosome-switch:");
    sw.counters()
        .for_each(|k, v| s.push_str(&format!(" {k}={v}")));
    sw.losses()
        .for_each(|k, v| s.push_str(&format!(" lost_{k}={v}")));
    sw.whole_reasons()
        .for_each(|k, v| s.push_str(&format!(" whole_{k}={v}")));
    let mut t = SetCounters::default();
    for i in 0..ports.len() {
        if let Some(c) = ports.counters(i) {
            t.port.merge(&c.port);
            t.tx_backlog_full += c.tx_backlog_full;
            t.tx_oversize += c.tx_oversize;
        }
    }
    let p = &t.port;
    s.push_str(&format!(
        " port_rx={} port_tx={} rx_kernel_dropped={} rx_oversize={} tx_error={} \
         tx_backlog_full={} tx_oversize={} tx_no_port={}",
        p.rx_packets,
        p.tx_packets,
        p.rx_dropped,
        p.rx_oversize,
        p.tx_dropped,
        t.tx_backlog_full,
        t.tx_oversize,
        ports.tx_no_port()
    ));
    s
}

/// Reads the flags and the cluster file: every error here is a usage or config error.
fn setup(cli: &Cli) -> Result<(LoadedSwitch, Vec<PortSpec>, Switch)> {
    let mut loaded = LoadedSwitch::load(&cli.config)?;
    for (p, name) in &cli.iface {
        let e = loaded
            .ports
            .get_mut(usize::from(*p))
            .with_context(|| format!("--iface: no port {p} in [[switch.port]]"))?;
        e.iface.clone_from(name);
    }
    let specs = loaded
        .ports
        .iter()
        .enumerate()
        .map(|(i, p)| port_spec(&p.iface).map_err(|e| anyhow::anyhow!("switch.port[{i}]: {e}")))
        .collect::<Result<Vec<_>>>()?;
    let sw = Switch::new(loaded.config.clone())?;
    Ok((loaded, specs, sw))
}

/// Opens the ports and switches until SIGINT/SIGTERM: every error here is a run-time one.
fn run(cli: &Cli, loaded: &LoadedSwitch, specs: &[PortSpec], mut sw: Switch) -> Result<()> {
    let mut ports = Vec::with_capacity(specs.len());
    for (i, (spec, p)) in specs.iter().zip(&loaded.ports).enumerate() {
        let port = reframer_io::portset::open_port(spec, JUMBO_FRAME_BYTES)
            .with_context(|| format!("opening port {i} ({:?})", p.role))?;
        ports.push(port);
    }
    let mut set = PortSet::new(ports, JUMBO_FRAME_BYTES).context("poller")?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).context("signal handler")?;
    }
    let names: Vec<String> = specs
        .iter()
        .zip(&loaded.ports)
        .enumerate()
        .map(|(i, (s, p))| format!("{i}={s}({:?})", p.role))
        .collect();
    eprintln!(
        "ribosome-switch: ready: ports {} split_threshold {:?}",
        names.join(" "),
        loaded.config.split_threshold
    );
    let start = now_ns();
    let mut out = Out::new();
    let mut sending: Vec<(PortId, Vec<u8>)> = Vec::new();
    let every_ns = cli.stats_every_s.saturating_mul(1_000_000_000);
    let mut next_stats = every_ns;
    while !stop.load(Ordering::Relaxed) {
        let now = now_ns() - start;
        let got = set
            .poll_rx(BURST, |port, frame, _| {
                sw.process(port as PortId, frame, now, &mut out)
            })
            .context("receive")?;
        sw.tick(now, &mut out);
        out.take_into(&mut sending);
        for (port, f) in sending.drain(..) {
            set.send(usize::from(port), &f);
            out.recycle(f);
        }
        set.flush().context("send")?;
        if got == 0 {
            set.wait(None, TICK).context("poll")?;
        }
        if every_ns > 0 && now >= next_stats {
            next_stats += every_ns;
            eprintln!("{}", summary(&sw, &mut set));
        }
    }
    set.drain(Duration::from_millis(100)).context("send")?;
    eprintln!("{}", summary(&sw, &mut set));
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (loaded, specs, sw) = match setup(&cli) {
        Ok(x) => x,
        Err(e) => return cli::fail("ribosome-switch", EXIT_USAGE, format!("{e:#}")),
    };
    match run(&cli, &loaded, &specs, sw) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cli::fail("ribosome-switch", EXIT_RUNTIME, format!("{e:#}")),
    }
}
