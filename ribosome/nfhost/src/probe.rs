//! `ribosome-nfhost probe`: a traffic generator and sink on a client port of a deployed
//! pipeline; checks every returned packet byte for byte (NF = MAC swap only) and prints
//! key=value results. Exit status 0 only if nothing was corrupted, duplicated, missing or
//! out of flow order.

use anyhow::{bail, Context, Result};
use ribosome_config::outln;
use ribosome_nfhost::traffic::{generate, verify, TrafficSpec};
use ribosome_rnic::sys::RawSocket;
use std::time::{Duration, Instant};

/// Options of `probe`.
#[derive(Debug, clap::Args)]
pub(crate) struct ProbeArgs {
    /// Interface on a switch client port.
    #[arg(long)]
    iface: String,
    /// Packets to send.
    #[arg(long, default_value_t = 2000)]
    packets: usize,
    /// Flows.
    #[arg(long, default_value_t = 16)]
    flows: usize,
    /// Pause between packets, µs.
    #[arg(long, default_value_t = 50)]
    gap_us: u64,
    /// Give up waiting for returns after this many ms of silence.
    #[arg(long, default_value_t = 3000)]
    quiet_ms: u64,
}

/// Refuses counts the generator cannot hold (usage errors).
pub(crate) fn check(a: &ProbeArgs) -> Result<()> {
    crate::check_traffic(a.packets, a.flows, 1500, 2)
}

pub(crate) fn run(a: &ProbeArgs) -> Result<()> {
    let pkts = generate(&TrafficSpec {
        seed: 99,
        flows: a.flows,
        packets: a.packets,
        sizes: (80, 1500),
        small_every: 4,
        small_max: 78,
    });
    let sock = RawSocket::open(&a.iface)
        .with_context(|| format!("opening a raw socket on {}", a.iface))?;
    sock.set_read_timeout(Duration::from_micros(200))?;
    let mut got: Vec<Vec<u8>> = Vec::new();
    let mut buf = vec![0u8; 65536];
    // Ours: IPv4 from 10.1.0.0/16 to 10.0.0.100 (the generator's addresses).
    let ours = |f: &[u8]| {
        f.get(12..14) == Some(&[8, 0])
            && f.get(26..28) == Some(&[10, 1])
            && f.get(30..34) == Some(&[10, 0, 0, 100])
    };
    let mut collect = |sock: &RawSocket, got: &mut Vec<Vec<u8>>| -> Result<bool> {
        match sock.recv(&mut buf)? {
            Some(n) => {
                if ours(&buf[..n]) {
                    got.push(buf[..n].to_vec());
                }
                Ok(true)
            }
            None => Ok(false),
        }
    };
    let t0 = Instant::now();
    for (i, p) in pkts.iter().enumerate() {
        sock.send(&p.frame).context("send")?;
        let due = t0 + Duration::from_micros(a.gap_us * (i as u64 + 1));
        while Instant::now() < due {
            if !collect(&sock, &mut got)? {
                std::hint::spin_loop();
            }
        }
    }
    let mut last = Instant::now();
    while got.len() < pkts.len() && last.elapsed() < Duration::from_millis(a.quiet_ms) {
        if collect(&sock, &mut got)? {
            last = Instant::now();
        }
    }
    let v = verify(&pkts, &got, None);
    outln!("sent={}", pkts.len());
    outln!("received={}", got.len());
    outln!("exact={}", v.exact);
    outln!("via_split={}", v.split);
    outln!("corrupted={}", v.corrupted);
    outln!("duplicates={}", v.duplicates);
    outln!("missing={}", v.missing);
    outln!("reordered={}", v.reordered);
    if v.corrupted != 0 || v.duplicates != 0 || v.missing != 0 || v.reordered != 0 {
        bail!("probe failed: {v:?}");
    }
    Ok(())
}
