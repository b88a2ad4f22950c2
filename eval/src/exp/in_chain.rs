//! E3: Reframer + NF chain on one core vs the chain alone, campus trace at 30 segments (the
//! paper's in-chain offered load), sweeping T. All variants run in the same process, interleaved
//! per repetition, and the headline gain includes Reframer's own measured cost:
//! - `baseline`: the chain over the trace in arrival order, at full speed;
//! - `fused`: arrivals in RX bursts of 32 into the scheduler (clock = trace time, as the live
//!   datapath drives it), then the chain on every released packet, in one loop on one core:
//!   Reframer + chain;
//! - `reframer_only`: the same loop with the chain removed (Reframer's own cost);
//! - `chain_reordered`: the chain alone over Reframer's output order.
//!
//! Each chain variant also runs burst-aware (`*_burst`), as FastClick's flow elements do: the
//! chain's per-flow work (flow table, route, rule walk, NAT/LB mapping) once per run of one
//! flow's packets, per packet only the header rewrite. In arrival order the runs are the ones
//! the trace has in each RX batch; behind Reframer they are the bursts its burst API hands out.

use super::timing::{time, Timing};
use super::{p, round3, Ctx};
use crate::drive;
use crate::nf::Chain;
use crate::out::csv::Table;
use crate::out::plot::{self, Chart, Series};
use crate::out::progress::Progress;
use crate::paper;
use crate::trace::campus::{self, CampusParams};
use crate::trace::{slf, Frame, Trace};
use anyhow::{ensure, Result};
use serde_json::{json, Value};
use std::hint::black_box;

/// Arrivals per scheduler call, as a live worker's RX burst (the paper's BURST=32).
pub const RX_BATCH: usize = 32;

pub fn plan(quick: bool) -> (u32, u64, Vec<u64>) {
    if quick {
        (30, 20_000_000, vec![16, 64, 128])
    } else {
        (30, 250_000_000, vec![8, 16, 32, 64, 104, 128, 192, 256])
    }
}

/// Chain table capacity: every flow of the trace fits (the paper sized its table at 2M).
fn capacity(trace: &Trace) -> usize {
    trace.distinct_flows() + trace.distinct_flows() / 4 + 1024
}

pub fn baseline(frames: &[Frame], cap: usize) -> Timing {
    crate::exp::nf_cost::time_chain(frames, cap).0
}

/// Reframer + chain fused; returns (seconds, output flow order).
pub fn fused(
    trace: &Trace,
    frames: &[Frame],
    cap: usize,
    delay_us: u64,
) -> Result<(Timing, Vec<u32>)> {
    let mut chain = Chain::paper(cap, false);
    let mut sched = drive::scheduler(drive::paper_config(delay_us * 1000, cap))?;
    let mut order = Vec::with_capacity(frames.len());
    let (tm, c) = time(|| {
        drive::run_batched(
            &mut sched,
            trace,
            frames.iter().copied(),
            RX_BATCH,
            |mut f, at| {
                order.push(f.id);
                let w = f.wire_len;
                black_box(chain.process(f.as_mut(), w, at));
            },
        )
    });
    ensure!(c.released == c.pushed, "scheduler lost packets: {c:?}");
    black_box(chain.stats.digest);
    Ok((tm, order))
}

/// The burst-aware chain alone in arrival order, RX batch by RX batch (same copies as the
/// per-packet baseline).
pub fn baseline_burst(frames: &[Frame], cap: usize) -> Timing {
    let mut chain = Chain::paper(cap, false);
    let mut rx: Vec<Frame> = Vec::with_capacity(RX_BATCH);
    let (tm, ()) = time(|| {
        for (i, batch) in frames.chunks(RX_BATCH).enumerate() {
            rx.clear();
            rx.extend_from_slice(batch);
            chain.process_burst(&mut rx, i as u64);
            black_box(&rx);
        }
    });
    black_box(chain.stats.digest);
    tm
}

/// Reframer + burst-aware chain fused, one flow lookup per released burst; returns (seconds,
/// output order, burst lengths).
pub fn fused_burst(
    trace: &Trace,
    frames: &[Frame],
    cap: usize,
    delay_us: u64,
) -> Result<(Timing, Vec<u32>, Vec<u32>)> {
    let mut chain = Chain::paper(cap, false);
    let mut sched = drive::scheduler(drive::paper_config(delay_us * 1000, cap))?;
    let mut order = Vec::with_capacity(frames.len());
    let mut lens = Vec::with_capacity(frames.len());
    let (tm, c) = time(|| {
        drive::run_batched_bursts(
            &mut sched,
            trace,
            frames.iter().copied(),
            RX_BATCH,
            |burst, info, at| {
                order.extend(burst.iter().map(|f| f.id));
                lens.push(info.len);
                chain.process_burst(burst, at);
            },
        )
    });
    ensure!(c.released == c.pushed, "scheduler lost packets: {c:?}");
    black_box(chain.stats.digest);
    Ok((tm, order, lens))
}

/// The burst-aware chain alone over Reframer's output (bursts as it released them).
pub fn chain_reordered_burst(reordered: &[Frame], lens: &[u32], cap: usize) -> Timing {
    let mut chain = Chain::paper(cap, false);
    let mut buf: Vec<Frame> = Vec::with_capacity(256);
    let (tm, ()) = time(|| {
        let mut at = 0;
        for (i, &n) in lens.iter().enumerate() {
            buf.clear();
            buf.extend_from_slice(&reordered[at..at + n as usize]);
            at += n as usize;
            chain.process_burst(&mut buf, i as u64);
            black_box(&buf);
        }
    });
    black_box(chain.stats.digest);
    tm
}

pub fn reframer_only(trace: &Trace, frames: &[Frame], cap: usize, delay_us: u64) -> Result<Timing> {
    let mut sched = drive::scheduler(drive::paper_config(delay_us * 1000, cap))?;
    let mut sum = 0u64;
    let (tm, c) = time(|| {
        drive::run_batched(
            &mut sched,
            trace,
            frames.iter().copied(),
            RX_BATCH,
            |f, at| sum = sum.wrapping_add(u64::from(f.id) ^ at),
        )
    });
    ensure!(c.released == c.pushed, "scheduler lost packets: {c:?}");
    black_box(sum);
    Ok(tm)
}

pub fn run(ctx: &Ctx) -> Result<Value> {
    let (segs, dur, delays) = plan(ctx.quick);
    let trace = campus::generate(&CampusParams::default(), segs, dur, ctx.seed);
    let frames: Vec<Frame> = (0..trace.pkts.len()).map(|i| trace.frame(i)).collect();
    let cap = capacity(&trace);
    let n = frames.len() as f64;
    let mut t = Table::new(
        "e3_in_chain",
        ctx.seed,
        &["segments", "delay_us", "variant"],
    );
    let mut prog = Progress::new("E3 in-chain", ctx.reps as usize * (2 + 5 * delays.len()));
    let base_burst_k = [p(segs), p(0), p("baseline_burst")];
    let base_k = [p(segs), p(0), p("baseline")];
    t.push(0, &base_k, "slf_in", trace.slf(), "packets");
    t.push(0, &base_k, "packets", n, "packets");
    t.push(0, &base_k, "flows", trace.distinct_flows() as f64, "flows");
    t.push(0, &base_k, "offered_gbps", trace.gbps(), "Gbps");
    for rep in 0..ctx.reps {
        let tm = baseline(&frames, cap);
        push_timing(&mut t, rep, &base_k, tm, n);
        prog.step("baseline");
        let tm = baseline_burst(&frames, cap);
        push_timing(&mut t, rep, &base_burst_k, tm, n);
        prog.step("baseline, burst-aware chain");
        for &d in &delays {
            let (tm, order) = fused(&trace, &frames, cap, d)?;
            let k = [p(segs), p(d), p("fused")];
            push_timing(&mut t, rep, &k, tm, n);
            if rep == 0 {
                t.push(
                    0,
                    &k,
                    "slf_out",
                    slf(order.iter().map(|&i| trace.pkts[i as usize].flow)),
                    "packets",
                );
            }
            prog.step(&format!("T={d} fused"));
            let tm = reframer_only(&trace, &frames, cap, d)?;
            push_timing(&mut t, rep, &[p(segs), p(d), p("reframer_only")], tm, n);
            prog.step(&format!("T={d} reframer only"));
            let reordered: Vec<Frame> = order.iter().map(|&i| frames[i as usize]).collect();
            let tm = baseline(&reordered, cap);
            push_timing(&mut t, rep, &[p(segs), p(d), p("chain_reordered")], tm, n);
            prog.step(&format!("T={d} chain reordered"));
            let (tm, order_b, lens) = fused_burst(&trace, &frames, cap, d)?;
            ensure!(
                order_b == order,
                "the burst API changed the output order at T={d}"
            );
            let kb = [p(segs), p(d), p("fused_burst")];
            push_timing(&mut t, rep, &kb, tm, n);
            if rep == 0 {
                t.push(
                    0,
                    &kb,
                    "mean_burst",
                    n / lens.len().max(1) as f64,
                    "packets",
                );
            }
            prog.step(&format!("T={d} fused, burst-aware chain"));
            let tm = chain_reordered_burst(&reordered, &lens, cap);
            push_timing(
                &mut t,
                rep,
                &[p(segs), p(d), p("chain_reordered_burst")],
                tm,
                n,
            );
            prog.step(&format!("T={d} chain reordered, burst-aware"));
        }
    }
    prog.finish();
    let base_ns = t.median(&base_k, "ns_per_packet").unwrap_or(f64::NAN);
    let base_burst_ns = t.median(&base_burst_k, "ns_per_packet").unwrap_or(f64::NAN);
    let mut rows = Vec::new();
    let mut gain_pts = Vec::new();
    let mut chain_gain_pts = Vec::new();
    let mut burst_gain_pts = Vec::new();
    let mut burst_chain_gain_pts = Vec::new();
    let mut ratio_ok = true;
    for &d in &delays {
        let med = |v: &str| {
            t.median(&[p(segs), p(d), p(v)], "ns_per_packet")
                .unwrap_or(f64::NAN)
        };
        let (fused_ns, ref_ns, chain_ns) =
            (med("fused"), med("reframer_only"), med("chain_reordered"));
        let gain = base_ns / fused_ns - 1.0;
        gain_pts.push((d as f64, gain * 100.0));
        chain_gain_pts.push((d as f64, (base_ns / chain_ns - 1.0) * 100.0));
        // Burst-aware chain, against the faster of the two chains in arrival order (in
        // arrival order most runs are one packet long, where per-burst bookkeeping costs).
        let best_base = base_ns.min(base_burst_ns);
        let (fused_b, chain_b) = (med("fused_burst"), med("chain_reordered_burst"));
        let (gain_b, off_b) = (best_base / fused_b - 1.0, best_base / chain_b - 1.0);
        burst_gain_pts.push((d as f64, gain_b * 100.0));
        burst_chain_gain_pts.push((d as f64, off_b * 100.0));
        // In-chain must keep at least 0.7 of the off-chain gain (where there is one).
        ratio_ok &= off_b <= 0.0 || gain_b >= 0.7 * off_b;
        rows.push(
            json!({"delay_us": d, "fused_ns": round3(fused_ns), "reframer_ns": round3(ref_ns),
            "chain_reordered_ns": round3(chain_ns), "gain_incl_reframer": round3(gain),
            "gain_chain_only": round3(base_ns / chain_ns - 1.0),
            "fused_burst_ns": round3(fused_b), "chain_reordered_burst_ns": round3(chain_b),
            "gain_incl_reframer_burst": round3(gain_b), "gain_chain_only_burst": round3(off_b)}),
        );
        t.push(
            0,
            &[p(segs), p(d), p("fused")],
            "gain_vs_baseline",
            gain,
            "fraction",
        );
    }
    t.write(&ctx.out)?;
    let paper_pts: Vec<(f64, f64)> = paper::E3_REFRAMER_GBPS
        .iter()
        .map(|&(d, g)| (d as f64, (g / paper::E3_BASELINE_GBPS - 1.0) * 100.0))
        .collect();
    plot::write(
        &Chart {
            title: format!("E3: Reframer + chain vs chain alone ({segs} segments, one core)"),
            x_label: "T (µs)".into(),
            y_label: "throughput gain (%)".into(),
            series: vec![
                Series {
                    name: "ours (including Reframer's cost)".into(),
                    points: gain_pts.clone(),
                    dashed: false,
                },
                Series {
                    name: "ours, chain alone on Reframer's order (Reframer on another core)".into(),
                    points: chain_gain_pts,
                    dashed: false,
                },
                Series {
                    name: "ours, burst-aware chain (including Reframer's cost)".into(),
                    points: burst_gain_pts.clone(),
                    dashed: false,
                },
                Series {
                    name: "ours, burst-aware chain alone on Reframer's bursts".into(),
                    points: burst_chain_gain_pts,
                    dashed: false,
                },
                Series {
                    name: "paper in-chain".into(),
                    points: paper_pts,
                    dashed: true,
                },
            ],
        },
        &ctx.out,
        "e3_in_chain",
    )?;
    let ns_series = [
        "fused",
        "reframer_only",
        "chain_reordered",
        "fused_burst",
        "chain_reordered_burst",
    ]
    .iter()
    .map(|v| Series {
        name: (*v).into(),
        points: delays
            .iter()
            .map(|&d| {
                (
                    d as f64,
                    t.median(&[p(segs), p(d), p(*v)], "ns_per_packet")
                        .unwrap_or(f64::NAN),
                )
            })
            .collect(),
        dashed: false,
    })
    .chain(std::iter::once(Series {
        name: "baseline (chain alone, arrival order)".into(),
        points: delays.iter().map(|&d| (d as f64, base_ns)).collect(),
        dashed: true,
    }))
    .collect();
    plot::write(
        &Chart {
            title: "E3: ns per packet".into(),
            x_label: "T (µs)".into(),
            y_label: "ns / packet".into(),
            series: ns_series,
        },
        &ctx.out,
        "e3_ns_per_packet",
    )?;
    let peak = gain_pts
        .iter()
        .copied()
        .fold((0.0, f64::MIN), |a, b| if b.1 > a.1 { b } else { a });
    let at64 = gain_pts.iter().find(|x| x.0 == 64.0).map(|x| x.1 / 100.0);
    let burst_at64 = burst_gain_pts
        .iter()
        .find(|x| x.0 == 64.0)
        .map(|x| x.1 / 100.0);
    Ok(json!({
        "segments": segs, "packets": n, "baseline_ns": round3(base_ns),
        "baseline_burst_ns": round3(base_burst_ns), "by_delay": rows,
        "burst_gain_at_64us": burst_at64.map(round3),
        "burst_meets_30pct_at_64us": burst_at64.map(|g| g >= 0.30),
        "burst_in_chain_keeps_0_7_of_off_chain": ratio_ok,
        "gain_at_64us": at64.map(round3), "target_gain_at_64us": paper::TARGET_E3_GAIN_AT_64,
        "meets_target": at64.map(|g| g >= paper::TARGET_E3_GAIN_AT_64),
        "peak_delay_us": peak.0, "peak_gain": round3(peak.1 / 100.0),
    }))
}

/// CPU time per packet (the headline) and wall time per packet (for reference).
fn push_timing(t: &mut Table, rep: u32, k: &[String], tm: Timing, n: f64) {
    t.push(rep, k, "ns_per_packet", tm.cpu_s * 1e9 / n, "ns");
    t.push(rep, k, "ns_per_packet_wall", tm.wall_s * 1e9 / n, "ns");
}
