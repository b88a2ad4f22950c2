//! `ribosome-nfhost serve`: the one-armed NF host on AF_PACKET (netns deployments).

use anyhow::{Context, Result};
use ribosome_config::cluster;
use ribosome_nfhost::{Nat, NfHost};
use ribosome_rnic::sys::RawSocket;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    let sock =
        RawSocket::open(&iface).with_context(|| format!("opening a raw socket on {iface}"))?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).context("signal handler")?;
    }
    eprintln!("ribosome-nfhost: serving on {iface}");
    let start = Instant::now();
    let mut buf = vec![0u8; 65536];
    let mut out = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let now = start.elapsed().as_nanos() as u64;
        let wait = host.next_deadline().map_or(1_000_000, |d| {
            d.saturating_sub(now).clamp(10_000, 1_000_000)
        });
        sock.set_read_timeout(Duration::from_nanos(wait))?;
        if let Some(n) = sock.recv(&mut buf)? {
            let now = start.elapsed().as_nanos() as u64;
            host.push(buf[..n].to_vec(), now);
        }
        host.poll(start.elapsed().as_nanos() as u64, &mut out);
        for f in out.drain(..) {
            sock.send(&f).context("send")?;
        }
    }
    host.flush(start.elapsed().as_nanos() as u64, &mut out);
    for f in out.drain(..) {
        sock.send(&f).context("send")?;
    }
    let s = host.stats();
    eprintln!(
        "ribosome-nfhost: shutting down: rx {} tx {} split {} whole {}",
        s.rx, s.tx, s.split, s.whole
    );
    Ok(())
}
