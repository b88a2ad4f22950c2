//! The end-of-run report: merged scheduler stats, port counters, NPF lines and JSON.

use std::{fmt::Write as _, time::Duration};

use reframer_core::Stats;
use reframer_io::PortCounters;
use serde_json::json;

/// Everything a live run measured.
#[derive(Debug)]
pub struct LiveReport {
    /// Scheduler counters merged over workers and directions.
    pub stats: Stats,
    /// Port A and port B counters merged over workers.
    pub ports: [PortCounters; 2],
    /// From ready to stop.
    pub elapsed: Duration,
    /// Frames that could not be sent before the drain timeout.
    pub unsent_at_exit: u64,
    /// Number of workers.
    pub workers: usize,
    /// Frame buffers allocated by all workers (steady: no per-packet allocation).
    pub frames_allocated: usize,
}

impl LiveReport {
    fn sum(&self, f: impl Fn(&PortCounters) -> u64) -> u64 {
        f(&self.ports[0]) + f(&self.ports[1])
    }

    /// Every frame that did not leave, whatever the reason.
    pub fn drops_total(&self) -> u64 {
        self.stats.dropped_total()
            + self.sum(|p| p.rx_dropped + p.tx_dropped + p.rx_oversize)
            + self.unsent_at_exit
    }

    /// NPF result lines (`RESULT-NAME value`), one per line. Units: THROUGHPUT in bit/s, PPS in
    /// packets/s, LAT* (scheduler hold time) in µs.
    pub fn npf_lines(&self) -> String {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let tx_p = self.sum(|p| p.tx_packets);
        let tx_b = self.sum(|p| p.tx_bytes);
        let rx_p = self.sum(|p| p.rx_packets);
        let s = &self.stats;
        let held = s.packets_out.saturating_sub(s.bypassed_total());
        let avg_burst = if s.bursts > 0 {
            held as f64 / s.bursts as f64
        } else {
            0.0
        };
        let us = |q: f64| s.hold_percentile_ns(q) as f64 / 1000.0;
        let mut o = String::new();
        let _ = writeln!(o, "RESULT-THROUGHPUT {:.0}", tx_b as f64 * 8.0 / secs);
        let _ = writeln!(o, "RESULT-PPS {:.0}", tx_p as f64 / secs);
        let _ = writeln!(o, "RESULT-RX-PPS {:.0}", rx_p as f64 / secs);
        let _ = writeln!(o, "RESULT-AVG-BATCH-SIZE {avg_burst:.2}");
        let _ = writeln!(o, "RESULT-SLF-IN {:.3}", s.locality_in.slf());
        let _ = writeln!(o, "RESULT-SLF-OUT {:.3}", s.locality_out.slf());
        let _ = writeln!(o, "RESULT-LAT50 {:.1}", us(0.5));
        let _ = writeln!(o, "RESULT-LAT99 {:.1}", us(0.99));
        let _ = writeln!(o, "RESULT-LATMAX {:.1}", us(1.0));
        let _ = writeln!(o, "RESULT-DROPPED {}", self.drops_total());
        let _ = writeln!(o, "RESULT-RX-PACKETS {rx_p}");
        let _ = writeln!(o, "RESULT-TX-PACKETS {tx_p}");
        o
    }

    /// The live part of the summary JSON (ports, timing, drops); the scheduler part comes
    /// from the stats summary of the main binary.
    pub fn live_json(&self) -> serde_json::Value {
        let port = |p: &PortCounters| {
            json!({
                "rx_packets": p.rx_packets, "rx_bytes": p.rx_bytes,
                "tx_packets": p.tx_packets, "tx_bytes": p.tx_bytes,
                "rx_oversize": p.rx_oversize, "rx_csum_partial": p.rx_csum_partial,
                "rx_dropped": p.rx_dropped, "tx_dropped": p.tx_dropped,
            })
        };
        json!({
            "elapsed_s": self.elapsed.as_secs_f64(),
            "workers": self.workers,
            "port_a": port(&self.ports[0]),
            "port_b": port(&self.ports[1]),
            "unsent_at_exit": self.unsent_at_exit,
            "drops_total": self.drops_total(),
            "frames_allocated": self.frames_allocated,
        })
    }

    /// A standalone summary (used by `reframer-live`): live part plus the main scheduler counters.
    pub fn summary_json(&self) -> serde_json::Value {
        let s = &self.stats;
        json!({
            "live": self.live_json(),
            "scheduler": {
                "packets_in": s.packets_in, "packets_out": s.packets_out,
                "bypassed": s.bypassed_total(), "dropped": s.dropped_total(),
                "bursts": s.bursts, "slf_in": s.locality_in.slf(), "slf_out": s.locality_out.slf(),
                "hold_ns_p50": s.hold_percentile_ns(0.5), "hold_ns_p99": s.hold_percentile_ns(0.99),
                "hold_ns_max": s.hold_percentile_ns(1.0),
                "flushes": s.flushes.iter().collect::<std::collections::BTreeMap<_, _>>(),
            }
        })
    }
}
