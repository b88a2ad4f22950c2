//! `ribosome-nfhost probe`: a traffic generator and sink on a client port of a deployed
//! pipeline; checks every returned packet byte for byte (NF = MAC swap only) and prints
//! key=value results. Exit status 0 only if nothing was corrupted, duplicated, missing or
//! out of flow order.

use anyhow::{bail, Context, Result};
use reframer_io::portset::{port_spec, PortSet, JUMBO_FRAME_BYTES};
use reframer_io::PortSpec;
use ribosome_config::outln;
use ribosome_nfhost::traffic::{generate, verify, TrafficSpec};
use std::time::{Duration, Instant};

/// Options of `probe`.
#[derive(Debug, clap::Args)]
pub(crate) struct ProbeArgs {
    /// Interface on a switch client port (`eth0` is `afpacket:eth0`; `xdp:eth0` also works).
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
pub(crate) fn check(a: &ProbeArgs) -> Result<PortSpec> {
    crate::check_traffic(a.packets, a.flows, 1500, 2)?;
    port_spec(&a.iface).map_err(|e| anyhow::anyhow!("--iface: {e}"))
}

pub(crate) fn run(a: &ProbeArgs, spec: PortSpec) -> Result<()> {
    let pkts = generate(&TrafficSpec {
        seed: 99,
        flows: a.flows,
        packets: a.packets,
        sizes: (80, 1500),
        small_every: 4,
        small_max: 78,
    });
    let mut set = PortSet::open(&[spec], JUMBO_FRAME_BYTES)
        .with_context(|| format!("opening {}", a.iface))?;
    let mut got: Vec<Vec<u8>> = Vec::with_capacity(pkts.len());
    // Ours: IPv4 from 10.1.0.0/16 to 10.0.0.100 (the generator's addresses).
    let ours = |f: &[u8]| {
        f.get(12..14) == Some(&[8, 0])
            && f.get(26..28) == Some(&[10, 1])
            && f.get(30..34) == Some(&[10, 0, 0, 100])
    };
    // Frames received (ours or not) in one pass.
    let collect = |set: &mut PortSet, got: &mut Vec<Vec<u8>>| -> Result<usize> {
        let n = set
            .poll_rx(64, |_, f, _| {
                if ours(f) {
                    got.push(f.to_vec());
                }
            })
            .context("receive")?;
        set.flush().context("send")?;
        Ok(n)
    };
    let t0 = Instant::now();
    for (i, p) in pkts.iter().enumerate() {
        // A frame refused here (backlog full) is counted by the port and shows as missing.
        set.send(0, &p.frame);
        set.flush().context("send")?;
        let due = t0 + Duration::from_micros(a.gap_us * (i as u64 + 1));
        while Instant::now() < due {
            if collect(&mut set, &mut got)? == 0 {
                std::hint::spin_loop();
            }
        }
    }
    let mut last = Instant::now();
    while got.len() < pkts.len() && last.elapsed() < Duration::from_millis(a.quiet_ms) {
        if collect(&mut set, &mut got)? > 0 {
            last = Instant::now();
        } else {
            set.wait(None, Duration::from_millis(1)).context("poll")?;
        }
    }
    set.drain(Duration::from_millis(100)).context("send")?;
    let c = set.counters(0).unwrap_or_default();
    let v = verify(&pkts, &got, None);
    outln!("sent={}", pkts.len());
    outln!("received={}", got.len());
    outln!("exact={}", v.exact);
    outln!("via_split={}", v.split);
    outln!("corrupted={}", v.corrupted);
    outln!("duplicates={}", v.duplicates);
    outln!("missing={}", v.missing);
    outln!("reordered={}", v.reordered);
    outln!(
        "port_tx={} tx_backlog_full={} tx_error={} rx_kernel_dropped={}",
        c.port.tx_packets,
        c.tx_backlog_full,
        c.port.tx_dropped,
        c.port.rx_dropped
    );
    if v.corrupted != 0 || v.duplicates != 0 || v.missing != 0 || v.reordered != 0 {
        bail!("probe failed: {v:?}");
    }
    Ok(())
}
