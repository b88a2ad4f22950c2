//! The end-of-run summary: one schema for every mode ([`Summary`], `--summary-json`) and a
//! human block on stderr.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use reframer_core::Stats;
use reframer_io::outfile::AtomicFile;
use reframer_live::LiveSummary;
use serde::Serialize;

/// Which mode ran.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RunMode {
    /// pcap in, pcap out (`--input`/`--output`).
    Offline,
    /// Between ports (`--port`).
    Live,
    /// `reframer demo`.
    Demo,
}

/// The run summary `--summary-json` writes, the same object for every mode: the scheduler's
/// counters (merged over workers and directions) at the top level, then what the mode adds.
/// Times are µs, rates Mpps; absent optional parts are left out, never `null`.
#[derive(Debug, Serialize)]
pub(crate) struct Summary {
    /// "offline", "live" or "demo".
    pub(crate) mode: RunMode,
    /// The per-flow window in force, µs.
    pub(crate) delay_us: f64,
    /// Packets the scheduler took in (bypassed ones included).
    pub(crate) packets_in: u64,
    /// Packets it handed out.
    pub(crate) packets_out: u64,
    /// Packets forwarded at once, all reasons (`bypassed_by_reason`).
    pub(crate) bypassed: u64,
    /// Packets dropped, all reasons (`dropped_by_reason`): only coalesced ACKs, if enabled.
    pub(crate) dropped: u64,
    /// Flows created.
    pub(crate) flows: u64,
    /// Same-flow locality of the input and of the output (mean same-flow run length).
    pub(crate) slf_in: f64,
    pub(crate) slf_out: f64,
    /// Hold time of held packets: median, 99th percentile, maximum, µs.
    pub(crate) hold_us_p50: f64,
    pub(crate) hold_us_p99: f64,
    pub(crate) hold_us_max: f64,
    /// Packets whose hold time was recorded (held, not bypassed).
    pub(crate) held_packets: u64,
    /// Bursts released.
    pub(crate) bursts: u64,
    /// Pure ACKs coalesced away (TCP ACK coalescing).
    pub(crate) acks_coalesced: u64,
    /// Idle flow entries aged out.
    pub(crate) flows_aged: u64,
    /// Per-reason counters, every reason listed (zeros included).
    pub(crate) bypassed_by_reason: BTreeMap<&'static str, u64>,
    pub(crate) dropped_by_reason: BTreeMap<&'static str, u64>,
    pub(crate) flushes_by_reason: BTreeMap<&'static str, u64>,
    /// Wall time of the run, s (live: from ready to stop).
    pub(crate) elapsed_s: f64,
    /// packets_in / elapsed_s, Mpps.
    pub(crate) mpps: f64,
    /// Offline: the input and output files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) input: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) output: Option<String>,
    /// Offline: input timestamps that went backwards (taken as the latest time seen).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) clamped_timestamps: Option<u64>,
    /// `--ribosome`: frames returned under the NF contract, split headers and whole packets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ribosome_split_headers: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ribosome_whole_packets: Option<u64>,
    /// Live: workers, each port's counters, every loss outside the scheduler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) live: Option<LiveSummary>,
}

impl Summary {
    /// The common part, from (merged) scheduler counters; the mode fills in the rest.
    pub(crate) fn new(mode: RunMode, delay_ns: u64, stats: &Stats, elapsed_s: f64) -> Self {
        let us = |ns: u64| ns as f64 / 1_000.0;
        let by_reason = |it: &mut dyn Iterator<Item = (&'static str, u64)>| it.collect();
        Self {
            mode,
            delay_us: us(delay_ns),
            packets_in: stats.packets_in,
            packets_out: stats.packets_out,
            bypassed: stats.bypassed_total(),
            dropped: stats.dropped_total(),
            flows: stats.flows_created,
            slf_in: round3(stats.locality_in.slf()),
            slf_out: round3(stats.locality_out.slf()),
            hold_us_p50: us(stats.hold_percentile_ns(0.5)),
            hold_us_p99: us(stats.hold_percentile_ns(0.99)),
            hold_us_max: us(stats.hold_max_ns),
            held_packets: stats.held_packets(),
            bursts: stats.bursts,
            acks_coalesced: stats.acks_coalesced,
            flows_aged: stats.flows_aged,
            bypassed_by_reason: by_reason(&mut stats.bypassed.iter()),
            dropped_by_reason: by_reason(&mut stats.dropped.iter()),
            flushes_by_reason: by_reason(&mut stats.flushes.iter()),
            elapsed_s,
            mpps: if elapsed_s > 0.0 {
                stats.packets_in as f64 / elapsed_s / 1e6
            } else {
                0.0
            },
            input: None,
            output: None,
            clamped_timestamps: None,
            ribosome_split_headers: None,
            ribosome_whole_packets: None,
            live: None,
        }
    }

    /// Adds the NF contract's counts (`--ribosome`).
    pub(crate) fn with_ribosome(mut self, nf: Option<ribosome_wire::NfCounts>) -> Self {
        if let Some(n) = nf {
            self.ribosome_split_headers = Some(n.split);
            self.ribosome_whole_packets = Some(n.whole);
        }
        self
    }
}

fn round3(x: f64) -> f64 {
    (x * 1_000.0).round() / 1_000.0
}

/// Writes the summary into `file` (created before the run) and puts it in place.
pub(crate) fn write_json(mut file: AtomicFile, v: &Summary) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(v).expect("the summary always serialises");
    let path = file.path().to_owned();
    file.write_all((text + "\n").as_bytes())
        .and_then(|()| file.commit())
        .with_context(|| format!("--summary-json {}: cannot write", path.display()))
}

/// Creates the summary file's temporary before the run, so a bad place fails first.
pub(crate) fn create_json(path: &Path) -> anyhow::Result<AtomicFile> {
    AtomicFile::create(path)
        .with_context(|| format!("--summary-json {}: cannot create", path.display()))
}

/// A few lines for a person, on stderr.
pub(crate) fn print_human(stats: &Stats, elapsed_s: f64) {
    let nonzero = |it: &mut dyn Iterator<Item = (&'static str, u64)>| {
        let v: Vec<String> = it
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.join(", ")
        }
    };
    let rate = if elapsed_s > 0.0 {
        stats.packets_in as f64 / elapsed_s / 1e6
    } else {
        0.0
    };
    eprintln!(
        "packets   in {} out {} | flows {} | bursts {} | {:.2} Mpps over {:.3} s",
        stats.packets_in, stats.packets_out, stats.flows_created, stats.bursts, rate, elapsed_s
    );
    eprintln!(
        "locality  SLF in {:.3} -> out {:.3}",
        stats.locality_in.slf(),
        stats.locality_out.slf()
    );
    eprintln!(
        "hold      p50 {:.1} us, p99 {:.1} us, max {:.1} us ({} packets held)",
        stats.hold_percentile_ns(0.5) as f64 / 1e3,
        stats.hold_percentile_ns(0.99) as f64 / 1e3,
        stats.hold_max_ns as f64 / 1e3,
        stats.held_packets()
    );
    eprintln!("bypassed  {}", nonzero(&mut stats.bypassed.iter()));
    eprintln!("flushes   {}", nonzero(&mut stats.flushes.iter()));
    eprintln!(
        "dropped   {}{}",
        nonzero(&mut stats.dropped.iter()),
        if stats.acks_coalesced > 0 {
            format!(" (ACKs coalesced: {})", stats.acks_coalesced)
        } else {
            String::new()
        }
    );
}
