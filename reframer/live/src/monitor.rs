//! The 1 s stats line on stderr, the CSV time series, SIGUSR1 snapshots, and one-time hints.

use std::{fs::File, io::Write, path::Path, time::Duration};

use crate::{error::RunError, shared::Snapshot};

/// Rates between two snapshots, and the CSV writer.
#[derive(Debug)]
pub(crate) struct Monitor {
    prev: Snapshot,
    csv: Option<File>,
    warned_oversize: bool,
    warned_csum: bool,
    frame_bytes: usize,
    ports: String,
}

impl Monitor {
    /// Opens the CSV (header written at once) if asked.
    pub(crate) fn new(
        csv: Option<&Path>,
        frame_bytes: usize,
        ports: String,
    ) -> Result<Self, RunError> {
        let csv = match csv {
            Some(p) => {
                let err = |err| RunError::StatsCsv {
                    path: p.to_path_buf(),
                    err,
                };
                let mut f = File::create(p).map_err(err)?;
                writeln!(
                    f,
                    "time_s,rx_pps,tx_pps,rx_bps,tx_bps,buffered_packets,buffered_flows,slf_out,drops,oversize"
                )
                .map_err(err)?;
                Some(f)
            }
            None => None,
        };
        Ok(Self {
            prev: Snapshot::default(),
            csv,
            warned_oversize: false,
            warned_csum: false,
            frame_bytes,
            ports,
        })
    }

    /// One interval: prints the line (if `line`), appends a CSV row, and warns once about
    /// offloads.
    pub(crate) fn tick(&mut self, t: Duration, dt: Duration, s: Snapshot, line: bool) {
        let p = self.prev;
        let secs = dt.as_secs_f64().max(1e-9);
        let rate = |a: u64, b: u64| a.saturating_sub(b) as f64 / secs;
        let (rx_pps, tx_pps) = (
            rate(s.rx_packets, p.rx_packets),
            rate(s.tx_packets, p.tx_packets),
        );
        let (rx_bps, tx_bps) = (
            8.0 * rate(s.rx_bytes, p.rx_bytes),
            8.0 * rate(s.tx_bytes, p.tx_bytes),
        );
        let bursts = s.bursts.saturating_sub(p.bursts);
        let slf = if bursts > 0 {
            s.sched_out.saturating_sub(p.sched_out) as f64 / bursts as f64
        } else {
            0.0
        };
        if line {
            eprintln!(
                "[{:7.1}s] rx {:.3} Mpps {:.3} Gbps | tx {:.3} Mpps {:.3} Gbps | buffered {} pkts {} flows | slf-out {:.2} | drops {}",
                t.as_secs_f64(),
                rx_pps / 1e6,
                rx_bps / 1e9,
                tx_pps / 1e6,
                tx_bps / 1e9,
                s.buffered_packets,
                s.buffered_flows,
                slf,
                s.drops
            );
        }
        if let Some(f) = &mut self.csv {
            let _ = writeln!(
                f,
                "{:.3},{:.0},{:.0},{:.0},{:.0},{},{},{:.3},{},{}",
                t.as_secs_f64(),
                rx_pps,
                tx_pps,
                rx_bps,
                tx_bps,
                s.buffered_packets,
                s.buffered_flows,
                slf,
                s.drops,
                s.oversize
            );
        }
        self.hints(&s);
        self.prev = s;
    }

    fn hints(&mut self, s: &Snapshot) {
        if s.oversize > 0 && !self.warned_oversize {
            self.warned_oversize = true;
            eprintln!(
                "warning: {} frames larger than {} B were dropped (GRO/LRO/TSO is on): run \
                 `ethtool -K IFACE gro off lro off` on {} and `ethtool -K IFACE tx off` on the senders",
                s.oversize, self.frame_bytes, self.ports
            );
        }
        if s.csum_partial > 0 && !self.warned_csum {
            self.warned_csum = true;
            eprintln!(
                "warning: {} frames arrived with checksums left to TX offload by their sender; \
                 receivers will drop them: run `ethtool -K IFACE tx off` on the sending hosts",
                s.csum_partial
            );
        }
    }

    /// Multi-line cumulative snapshot (SIGUSR1).
    pub(crate) fn print_snapshot(t: Duration, s: &Snapshot) {
        eprintln!(
            "snapshot at {:.1}s: rx {} pkts {} B, tx {} pkts {} B, buffered {} pkts {} flows, \
             released {} pkts in {} bursts, drops {}, oversize {}, csum-partial {}",
            t.as_secs_f64(),
            s.rx_packets,
            s.rx_bytes,
            s.tx_packets,
            s.tx_bytes,
            s.buffered_packets,
            s.buffered_flows,
            s.sched_out,
            s.bursts,
            s.drops,
            s.oversize,
            s.csum_partial
        );
    }
}
