//! The NF host's CPU cost per frame, measured in the same run that feeds the model. The frames
//! are what the NF host really receives: the calibrated campus trace (30 segments, as E3) is
//! turned into full packets and pushed through our switch model, which emits split header
//! frames (and whole small packets) for the NF port. Those frames are then timed (thread CPU
//! time, median of the repetitions) through:
//! - `chain`: the eval NF chain (flow counter, router, firewall, NAT) + the NF contract;
//! - `reframer_chain`: the Reframer scheduler (T = 64 µs, RX bursts of 32) then the chain and
//!   the contract, on one core: what an NF core of a Reframer-on-Ribosome host does;
//! - `nfhost`: `ribosome-nfhost`'s `NfHost` (scheduler + contract, no NF), as built.

use super::sizes::ready_switch;
use crate::drive::paper_config;
use crate::exp::timing::{time, Timing};
use crate::nf::Chain;
use crate::out::csv::median;
use crate::trace::campus::{self, CampusParams};
use crate::trace::frame::PROTO_TCP;
use crate::trace::Trace;
use anyhow::{anyhow, ensure, Result};
use reframer_core::frames::FrameSpec;
use reframer_core::{Config, Scheduler};
use ribosome_nfhost::{apply_nf_contract, NfHost};
use ribosome_switch::Out;
use std::hint::black_box;
use std::net::Ipv4Addr;

/// Reframer's window in the timed runs (the paper's `REF_BUFF_TIME` / SFMaker DELAY 64).
pub const DELAY_NS: u64 = 64_000;
const RX_BATCH: usize = 32;

/// Measured CPU ns per frame at the NF host, and what they were measured on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NfCosts {
    pub chain_ns: f64,
    pub reframer_chain_ns: f64,
    pub nfhost_ns: f64,
    pub frames: usize,
    /// Frames that were split headers (the rest are small packets sent whole).
    pub headers: usize,
    pub flows: usize,
    pub mean_frame_bytes: f64,
}

/// The frames the switch model sends to the NF port for `trace`, with their arrival times.
pub fn nf_frames(trace: &Trace) -> Result<Vec<(u64, Vec<u8>)>> {
    let mut sw = ready_switch(4)?;
    let mut out = Out::new();
    let mut frames = Vec::with_capacity(trace.pkts.len());
    for p in &trace.pkts {
        let t = trace
            .flows
            .get(p.flow as usize)
            .ok_or_else(|| anyhow!("trace packet names a missing flow"))?;
        let (src, dst) = (Ipv4Addr::from(t.src).into(), Ipv4Addr::from(t.dst).into());
        let tcp = t.proto == PROTO_TCP;
        let hdr = 14 + 20 + if tcp { 20 } else { 8 };
        let payload = vec![0u8; usize::from(p.wire_len).saturating_sub(hdr)];
        let frame = if tcp {
            FrameSpec::tcp(src, dst, t.sport, t.dport, 1, 1, p.tcp_flags, &payload).build()
        } else {
            FrameSpec {
                payload,
                ..FrameSpec::udp(src, dst, t.sport, t.dport, 0)
            }
            .build()
        };
        out.clear();
        sw.process(0, &frame, p.t_ns, &mut out);
        frames.extend(out.drain(..).filter(|o| o.0 == 1).map(|o| (p.t_ns, o.1)));
    }
    Ok(frames)
}

fn sched_config(flows: usize) -> Config {
    paper_config(DELAY_NS, flows)
}

/// Chain + contract over the frames in arrival order.
fn chain_pass(frames: &[(u64, Vec<u8>)], cap: usize) -> Timing {
    let mut work: Vec<(u64, Vec<u8>)> = frames.to_vec();
    let mut chain = Chain::paper(cap, false);
    let (tm, ()) = time(|| {
        for (t, f) in &mut work {
            let len = f.len() as u16;
            black_box(chain.process(f, len, *t));
            black_box(apply_nf_contract(f));
        }
    });
    black_box(chain.stats.digest);
    tm
}

/// Reframer, then chain + contract on every released frame, in RX bursts on one core.
fn reframer_chain_pass(frames: &[(u64, Vec<u8>)], cap: usize, flows: usize) -> Result<Timing> {
    let work: Vec<(u64, Vec<u8>)> = frames.to_vec();
    let end = work.last().map_or(0, |f| f.0) + DELAY_NS;
    let mut sched: Scheduler<Vec<u8>> =
        Scheduler::new(sched_config(flows)).map_err(|e| anyhow!("scheduler config: {e}"))?;
    let mut chain = Chain::paper(cap, false);
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(64);
    let mut released = 0usize;
    let mut drain = |s: &mut Scheduler<Vec<u8>>, now: u64, released: &mut usize| {
        while s.pop_tx_batch(&mut out) > 0 {
            for mut f in out.drain(..) {
                let len = f.len() as u16;
                black_box(chain.process(&mut f, len, now));
                black_box(apply_nf_contract(&mut f));
                *released += 1;
            }
        }
        while s.pop_discarded().is_some() {}
    };
    let n = work.len();
    let (tm, ()) = time(|| {
        let mut it = work.into_iter().peekable();
        let mut rx: Vec<Vec<u8>> = Vec::with_capacity(RX_BATCH);
        while it.peek().is_some() {
            let mut now = 0;
            for (t, f) in it.by_ref().take(RX_BATCH) {
                now = t;
                rx.push(f);
            }
            sched.poll(now);
            drain(&mut sched, now, &mut released);
            sched.push_batch(rx.drain(..), now);
            drain(&mut sched, now, &mut released);
        }
        sched.poll(end);
        drain(&mut sched, end, &mut released);
        sched.shutdown(end);
        drain(&mut sched, end, &mut released);
    });
    ensure!(released == n, "scheduler released {released} of {n} frames");
    Ok(tm)
}

/// `ribosome-nfhost`'s NF host (scheduler + contract) on the same frames and bursts.
fn nfhost_pass(frames: &[(u64, Vec<u8>)], flows: usize) -> Result<Timing> {
    let work: Vec<(u64, Vec<u8>)> = frames.to_vec();
    let end = work.last().map_or(0, |f| f.0) + DELAY_NS;
    let mut host = NfHost::new(sched_config(flows), None)?;
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(4096);
    let mut released = 0usize;
    let n = work.len();
    let (tm, ()) = time(|| {
        let mut it = work.into_iter().peekable();
        while it.peek().is_some() {
            let mut now = 0;
            for (t, f) in it.by_ref().take(RX_BATCH) {
                now = t;
                host.push(f, t);
            }
            host.poll(now, &mut out);
            released += out.len();
            out.clear();
        }
        host.flush(end, &mut out);
        released += out.len();
        out.clear();
    });
    ensure!(released == n, "NF host returned {released} of {n} frames");
    Ok(tm)
}

/// Campus trace length for the measurement: quick 10 ms (~80k packets), full 50 ms.
pub fn trace_ns(quick: bool) -> u64 {
    if quick {
        10_000_000
    } else {
        50_000_000
    }
}

/// Measures the three per-frame costs, `reps` interleaved repetitions, medians.
pub fn measure(quick: bool, seed: u64, reps: u32) -> Result<NfCosts> {
    let trace = campus::generate(&CampusParams::default(), 30, trace_ns(quick), seed);
    let frames = nf_frames(&trace)?;
    ensure!(
        !frames.is_empty(),
        "the switch model sent no frame to the NF host"
    );
    let flows = trace.distinct_flows();
    let cap = flows + flows / 4 + 1024;
    let n = frames.len() as f64;
    let (mut c, mut r, mut h) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..reps.max(1) {
        c.push(chain_pass(&frames, cap).cpu_s * 1e9 / n);
        r.push(reframer_chain_pass(&frames, cap, flows)?.cpu_s * 1e9 / n);
        h.push(nfhost_pass(&frames, flows)?.cpu_s * 1e9 / n);
    }
    let headers = frames
        .iter()
        .filter(|f| f.1.get(11) == Some(&ribosome_switch::consts::SPLIT_FLAG))
        .count();
    Ok(NfCosts {
        chain_ns: median(c).unwrap_or(f64::NAN),
        reframer_chain_ns: median(r).unwrap_or(f64::NAN),
        nfhost_ns: median(h).unwrap_or(f64::NAN),
        frames: frames.len(),
        headers,
        flows,
        mean_frame_bytes: frames.iter().map(|f| f.1.len() as f64).sum::<f64>() / n,
    })
}
