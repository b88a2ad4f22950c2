//! The end-of-run report: merged scheduler stats, port counters, NPF lines, and the `live`
//! section of the run summary.

use std::{fmt::Write as _, time::Duration};

use reframer_core::Stats;
use reframer_io::PortCounters;
use serde::Serialize;

use ribosome_wire::NfCounts;

/// Everything a live run measured.
#[derive(Debug)]
pub struct LiveReport {
    /// Scheduler counters merged over workers and directions.
    pub stats: Stats,
    /// Port A and port B counters merged over workers (B zero when one-armed).
    pub ports: [PortCounters; 2],
    /// The ports as given: A and B, or A alone.
    pub port_names: Vec<String>,
    /// NF contract counts of the Ribosome NF host; `None` for the plain bump in the wire.
    pub nf: Option<NfCounts>,
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

    /// The `live` section of the run summary (`reframer --summary-json`).
    pub fn summary(&self) -> LiveSummary {
        let port = |i: usize| PortSummary::new(&self.port_names[i], &self.ports[i]);
        LiveSummary {
            workers: self.workers,
            port_a: port(0),
            port_b: (self.port_names.len() > 1).then(|| port(1)),
            unsent_at_exit: self.unsent_at_exit,
            drops_total: self.drops_total(),
            frames_allocated: self.frames_allocated,
        }
    }
}

/// The `live` section of the run summary: ports, workers, every loss outside the scheduler.
#[derive(Debug, Clone, Serialize)]
pub struct LiveSummary {
    /// Worker threads.
    pub workers: usize,
    /// Port A (the first `--port`), merged over workers.
    pub port_a: PortSummary,
    /// Port B; absent for the one-armed NF host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_b: Option<PortSummary>,
    /// Frames still unsent when the shutdown drain timed out.
    pub unsent_at_exit: u64,
    /// Every frame that did not leave: scheduler drops, ring drops, oversize, TX errors,
    /// unsent at exit.
    pub drops_total: u64,
    /// Frame buffers allocated by all workers (steady: no per-packet allocation).
    pub frames_allocated: usize,
}

/// One port's counters in the run summary: its name, then [`PortCounters`]' fields.
#[derive(Debug, Clone, Serialize)]
pub struct PortSummary {
    /// The port as given (`afpacket:eth1`).
    pub port: String,
    /// Its counters, flattened into the same object.
    #[serde(flatten)]
    pub counters: PortCounters,
}

impl PortSummary {
    fn new(name: &str, p: &PortCounters) -> Self {
        Self {
            port: name.to_owned(),
            counters: *p,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port's summary is one flat object: its name and every counter of the port.
    #[test]
    fn port_summary_is_flat() {
        let c = PortCounters {
            rx_packets: 1,
            tx_dropped: 8,
            ..PortCounters::default()
        };
        let v = serde_json::to_value(PortSummary::new("afpacket:a", &c)).expect("serialize");
        let keys: Vec<&str> = v
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        for k in [
            "port",
            "rx_packets",
            "rx_bytes",
            "tx_packets",
            "tx_bytes",
            "rx_oversize",
            "rx_csum_partial",
            "rx_dropped",
            "tx_dropped",
        ] {
            assert!(keys.contains(&k), "{k} missing from {keys:?}");
        }
        assert_eq!(
            (v["rx_packets"].as_u64(), v["tx_dropped"].as_u64()),
            (Some(1), Some(8))
        );
    }
}
