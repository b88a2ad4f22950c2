//! `ribosome-nfhost serve`: the one-armed NF host on an AF_PACKET port (netns deployments).

use anyhow::{Context, Result};
use reframer_io::portset::{PortSet, JUMBO_FRAME_BYTES};
use reframer_io::{now_ns, PortKind, PortSpec};
use ribosome_config::cluster;
use ribosome_nfhost::{Nat, NfHost};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Options of `serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Cluster file whose `[nfhost]` gives the defaults.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Interface facing the switch's NF port (frames come and go on it).
    #[arg(long)]
    iface: Option<String>,
    /// Scheduler window, µs (default 64).
    #[arg(long)]
    delay_us: Option<u64>,
    /// Largest per-flow burst (default 32).
    #[arg(long)]
    max_burst: Option<u32>,
    /// Rewrite destinations to this address (and port 8080), updating checksums incrementally.
    #[arg(long)]
    nat: Option<Ipv4Addr>,
}

/// The `[nfhost]` part of the cluster file.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NfSection {
    iface: Option<String>,
    delay_us: Option<u64>,
    max_burst: Option<u32>,
}

/// What `serve` runs with, checked before the interface is opened.
#[derive(Debug)]
pub(crate) struct Serve {
    iface: String,
    host: NfHost,
}

/// Reads the flags and `[nfhost]`: every error here is a usage or config error.
pub(crate) fn setup(a: &ServeArgs) -> Result<Serve> {
    let file = match &a.config {
        Some(p) => {
            let table = cluster::parse(&cluster::read_text(p)?)
                .with_context(|| format!("in {}", p.display()))?;
            cluster::section::<NfSection>(&table, "nfhost")
                .with_context(|| format!("in {}", p.display()))?
                .unwrap_or_default()
        }
        None => NfSection::default(),
    };
    let iface = a
        .iface
        .clone()
        .or(file.iface)
        .context("no --iface and no [nfhost] iface")?;
    let delay_us = a.delay_us.or(file.delay_us).unwrap_or(64);
    let cfg = reframer_core::Config {
        delay_ns: delay_us
            .checked_mul(1000)
            .with_context(|| format!("--delay-us / nfhost.delay_us {delay_us}: too large"))?,
        max_burst: a.max_burst.or(file.max_burst).unwrap_or(32),
        ..reframer_core::Config::default()
    };
    let nat = a.nat.map(|to_ip| Nat {
        to_ip,
        to_port: 8080,
    });
    let host = NfHost::new(cfg, nat)?;
    Ok(Serve { iface, host })
}

/// Serves until SIGINT/SIGTERM: every error here is a run-time one.
pub(crate) fn run(s: Serve) -> Result<()> {
    let Serve { iface, mut host } = s;
    let spec = PortSpec {
        kind: PortKind::AfPacket,
        name: iface.clone(),
    };
    let mut set =
        PortSet::open(&[spec], JUMBO_FRAME_BYTES).with_context(|| format!("opening {iface}"))?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).context("signal handler")?;
    }
    eprintln!("ribosome-nfhost: serving on {iface}");
    let start = now_ns();
    let mut out = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let now = now_ns() - start;
        let got = set
            .poll_rx(64, |_, f, _| host.push(f.to_vec(), now))
            .context("receive")?;
        host.poll(now_ns() - start, &mut out);
        for f in out.drain(..) {
            set.send(0, &f);
        }
        set.flush().context("send")?;
        if got == 0 {
            let deadline = host.next_deadline().map(|d| start + d);
            set.wait(deadline, Duration::from_millis(1))
                .context("poll")?;
        }
    }
    host.flush(now_ns() - start, &mut out);
    for f in out.drain(..) {
        set.send(0, &f);
    }
    set.drain(Duration::from_millis(100)).context("send")?;
    let s = host.stats();
    eprintln!(
        "ribosome-nfhost: shutting down: rx {} tx {} split {} whole {}",
        s.rx, s.tx, s.split, s.whole
    );
    Ok(())
}
