//! The in-process pipeline benchmark: packets per second through switch model + soft
//! payload servers + Reframer NF host, and the bytes that reach the NF host compared with
//! the full packets, per packet size, all in one run.

use crate::host::NfHost;
use crate::sim::{Result, SimError};
use crate::sim::{Sim, SimConfig};
use crate::traffic::{generate, verify, TrafficSpec};
use reframer_core::stats::median;
use std::time::Instant;

/// One size's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchRow {
    /// Frame size, bytes (FCS excluded).
    pub size: usize,
    /// Packets pushed through.
    pub packets: u64,
    /// Packets per second through the whole in-process pipeline (median of the repeats).
    pub pipeline_pps: f64,
    /// Packets per second through the NF host alone on full packets (same traffic).
    pub nf_only_pps: f64,
    /// Bytes that reached the NF host.
    pub nf_bytes: u64,
    /// Bytes of the full packets.
    pub full_bytes: u64,
    /// Packets that went through the split path.
    pub split: u64,
}

impl BenchRow {
    /// NF-host bytes as a fraction of the full packets.
    pub fn nf_fraction(&self) -> f64 {
        self.nf_bytes as f64 / self.full_bytes.max(1) as f64
    }
}

/// Measures one size: `repeats` runs of `packets` packets over 64 flows; fails if any
/// packet is lost or corrupted (a benchmark of a broken pipeline is meaningless).
pub fn bench_size(size: usize, packets: usize, repeats: usize) -> Result<BenchRow> {
    let pkts = generate(&TrafficSpec::fixed(size, packets, 64));
    let mut pps = Vec::new();
    let mut nf_pps = Vec::new();
    let mut row = None;
    for _ in 0..repeats.max(1) {
        let mut cfg = SimConfig::small();
        cfg.server_memory = 64 << 20;
        cfg.switch.payload_log = 64 << 20;
        cfg.switch.header_slots = 8192;
        let mut sim = Sim::new(cfg.clone())?;
        let frames: Vec<Vec<u8>> = pkts.iter().map(|p| p.frame.clone()).collect();
        let t = Instant::now();
        sim.inject(frames);
        sim.drain(1_000_000_000);
        pps.push(packets as f64 / t.elapsed().as_secs_f64());
        let v = verify(&pkts, sim.output(), None);
        if v.exact != packets as u64 || v.corrupted != 0 {
            return Err(SimError::Check(format!(
                "size {size}: {v:?} losses {:?}",
                sim.switch.losses()
            )));
        }
        row = Some(BenchRow {
            size,
            packets: packets as u64,
            pipeline_pps: 0.0,
            nf_only_pps: 0.0,
            nf_bytes: sim.stats().nf_bytes_in,
            full_bytes: sim.stats().generated_bytes,
            split: v.split,
        });

        // Baseline: the NF host alone on the full packets, same clock steps.
        let mut nf = NfHost::new(cfg.scheduler.clone(), None)?;
        let frames: Vec<Vec<u8>> = pkts.iter().map(|p| p.frame.clone()).collect();
        let mut out = Vec::with_capacity(packets);
        let t = Instant::now();
        for (i, f) in frames.into_iter().enumerate() {
            let now = i as u64 * cfg.gap_ns;
            nf.push(f, now);
            nf.poll(now, &mut out);
        }
        nf.flush(u64::MAX / 2, &mut out);
        nf_pps.push(packets as f64 / t.elapsed().as_secs_f64());
        if out.len() != packets {
            return Err(SimError::Check("NF-only baseline lost packets".into()));
        }
    }
    let mut row = row.unwrap_or(BenchRow {
        size,
        packets: 0,
        pipeline_pps: 0.0,
        nf_only_pps: 0.0,
        nf_bytes: 0,
        full_bytes: 0,
        split: 0,
    });
    row.pipeline_pps = median(pps).unwrap_or(0.0);
    row.nf_only_pps = median(nf_pps).unwrap_or(0.0);
    Ok(row)
}
