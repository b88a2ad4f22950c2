//! The end-of-run summary: a JSON object (`--summary-json`) and a human block on stderr.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use reframer_core::Stats;
use reframer_io::outfile::AtomicFile;
use serde_json::{json, Map, Value};

/// Builds the summary object from (merged) scheduler counters.
pub(crate) fn summary_json(stats: &Stats, elapsed_s: f64, extra: Map<String, Value>) -> Value {
    let us = |q: f64| stats.hold_percentile_ns(q) as f64 / 1_000.0;
    let mut m = Map::new();
    m.insert("packets_in".into(), json!(stats.packets_in));
    m.insert("packets_out".into(), json!(stats.packets_out));
    m.insert("bypassed".into(), json!(stats.bypassed_total()));
    m.insert("dropped".into(), json!(stats.dropped_total()));
    m.insert("flows".into(), json!(stats.flows_created));
    m.insert("slf_in".into(), json!(round3(stats.locality_in.slf())));
    m.insert("slf_out".into(), json!(round3(stats.locality_out.slf())));
    m.insert("hold_us_p50".into(), json!(us(0.5)));
    m.insert("hold_us_p99".into(), json!(us(0.99)));
    m.insert(
        "hold_us_max".into(),
        json!(stats.hold_max_ns as f64 / 1_000.0),
    );
    m.insert("held_packets".into(), json!(stats.hold_ns.len()));
    m.insert("bursts".into(), json!(stats.bursts));
    m.insert("acks_coalesced".into(), json!(stats.acks_coalesced));
    m.insert("flows_aged".into(), json!(stats.flows_aged));
    m.insert(
        "bypassed_by_reason".into(),
        by_reason(stats.bypassed.iter()),
    );
    m.insert("dropped_by_reason".into(), by_reason(stats.dropped.iter()));
    m.insert("flushes_by_reason".into(), by_reason(stats.flushes.iter()));
    m.insert("elapsed_s".into(), json!(elapsed_s));
    m.extend(extra);
    Value::Object(m)
}

fn by_reason(it: impl Iterator<Item = (&'static str, u64)>) -> Value {
    Value::Object(it.map(|(k, v)| (k.to_owned(), json!(v))).collect())
}

fn round3(x: f64) -> f64 {
    (x * 1_000.0).round() / 1_000.0
}

/// Writes the summary into `file` (created before the run) and puts it in place.
pub(crate) fn write_json(mut file: AtomicFile, v: &Value) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(v).expect("a JSON value always serialises");
    let path = file.path().to_owned();
    file.write_all((text + "\n").as_bytes())
        .and_then(|()| file.commit())
        .with_context(|| format!("cannot write summary {}", path.display()))
}

/// Creates the summary file's temporary before the run, so a bad place fails first.
pub(crate) fn create_json(path: &Path) -> anyhow::Result<AtomicFile> {
    AtomicFile::create(path).with_context(|| format!("cannot create summary {}", path.display()))
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
        stats.hold_ns.len()
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
