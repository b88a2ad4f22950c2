//! E1 (locality vs window) and E4 (added hold time vs window): the campus trace through the real
//! scheduler on a virtual clock, for every (segments, T). CPU-independent and deterministic.

use super::{p, round3, Ctx};
use crate::drive;
use crate::out::csv::Table;
use crate::out::plot::{self, Chart, Series};
use crate::out::progress::Progress;
use crate::paper;
use crate::trace::campus::{self, CampusParams};
use crate::trace::slf;
use anyhow::{ensure, Result};
use hdrhistogram::Histogram;
use serde_json::{json, Value};

/// One (segments, T) run.
#[derive(Debug)]
pub struct Run {
    pub segments: u32,
    pub delay_us: u64,
    pub packets: u64,
    pub flows: u64,
    pub gbps: f64,
    pub slf_in: f64,
    pub slf_out: f64,
    pub core_slf_out: f64,
    pub bursts: u64,
    pub bypassed: u64,
    pub rounds: u64,
    /// Per-packet time between arrival and release, ns (0 for bypassed packets).
    pub hold: Histogram<u64>,
    /// Exact maximum hold (the histogram rounds to 3 significant digits), ns.
    pub hold_max_ns: u64,
}

/// The sweep: (segments list, T list in µs, trace duration in ns).
pub fn plan(quick: bool) -> (Vec<u32>, Vec<u64>, u64) {
    if quick {
        (vec![4, 30], vec![0, 16, 64, 128], 40_000_000)
    } else {
        (
            vec![4, 8, 16, 30],
            vec![0, 8, 16, 32, 64, 128, 256],
            400_000_000,
        )
    }
}

pub fn runs(ctx: &Ctx) -> Result<Vec<Run>> {
    let (segs, delays, dur) = plan(ctx.quick);
    let params = CampusParams::default();
    let mut prog = Progress::new("E1/E4 locality", segs.len() * delays.len());
    let mut out = Vec::new();
    for &s in &segs {
        let trace = campus::generate(&params, s, dur, ctx.seed);
        let slf_in = trace.slf();
        let flows = trace.distinct_flows() as u64;
        for &d in &delays {
            let mut sched = drive::scheduler(drive::paper_config(d * 1000, flows as usize))?;
            let mut hold = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3)?;
            let mut order: Vec<u32> = Vec::with_capacity(trace.pkts.len());
            let mut hold_max_ns = 0;
            let c = drive::run(&mut sched, &trace, drive::frames(&trace), |f, at| {
                let pk = &trace.pkts[f.id as usize];
                hold.saturating_record(at - pk.t_ns);
                hold_max_ns = hold_max_ns.max(at - pk.t_ns);
                order.push(pk.flow);
            });
            ensure!(
                c.discarded == 0 && c.released == c.pushed,
                "scheduler lost packets: {c:?}"
            );
            let st = drive::stats(&sched);
            out.push(Run {
                segments: s,
                delay_us: d,
                packets: c.pushed,
                flows,
                gbps: trace.gbps(),
                slf_in,
                slf_out: slf(order.iter().copied()),
                core_slf_out: st.locality_out.slf(),
                bursts: st.bursts,
                bypassed: st.bypassed_total(),
                rounds: st.rounds,
                hold,
                hold_max_ns,
            });
            prog.step(&format!("{s} segments, T={d}us"));
        }
    }
    prog.finish();
    Ok(out)
}

pub fn e1(ctx: &Ctx, runs: &[Run]) -> Result<Value> {
    let mut t = Table::new("e1_locality", ctx.seed, &["segments", "delay_us"]);
    for r in runs {
        let k = [p(r.segments), p(r.delay_us)];
        t.push(0, &k, "slf_in", r.slf_in, "packets");
        t.push(0, &k, "slf_out", r.slf_out, "packets");
        t.push(0, &k, "core_slf_out", r.core_slf_out, "packets");
        t.push(0, &k, "packets", r.packets as f64, "packets");
        t.push(0, &k, "flows", r.flows as f64, "flows");
        t.push(0, &k, "offered_gbps", r.gbps, "Gbps");
        t.push(0, &k, "bursts", r.bursts as f64, "bursts");
        t.push(0, &k, "bypassed", r.bypassed as f64, "packets");
        t.push(0, &k, "release_rounds", r.rounds as f64, "rounds");
    }
    t.write(&ctx.out)?;
    let mut segs: Vec<u32> = runs.iter().map(|r| r.segments).collect();
    segs.dedup();
    let mut series: Vec<Series> = segs
        .iter()
        .map(|&s| Series {
            name: format!("ours, {s} segments"),
            points: runs
                .iter()
                .filter(|r| r.segments == s)
                .map(|r| (r.delay_us as f64, r.slf_out))
                .collect(),
            dashed: false,
        })
        .collect();
    series.push(ref_series(
        "paper, 30 segments (off-chain)",
        &paper::E1_SLF_30,
    ));
    series.push(ref_series(
        "paper, 4 segments (off-chain)",
        &paper::E1_SLF_4,
    ));
    series.push(ref_series("paper, in-chain", &paper::E1_SLF_IN_CHAIN));
    plot::write(
        &Chart {
            title: "E1: locality vs buffering window".into(),
            x_label: "T (µs)".into(),
            y_label: "SLF after Reframer".into(),
            series,
        },
        &ctx.out,
        "e1_locality",
    )?;
    // Headline: 30 segments (or the largest run) against the paper.
    let top = *segs.last().unwrap_or(&0);
    let mut cmp = Vec::new();
    for &(d, want) in &paper::E1_SLF_30 {
        if let Some(r) = runs.iter().find(|r| r.segments == top && r.delay_us == d) {
            let err = r.slf_out / want - 1.0;
            cmp.push(json!({"delay_us": d, "ours": round3(r.slf_out), "paper": want, "rel_err": round3(err),
                "within_15pct": err.abs() <= paper::TARGET_E1_TOLERANCE}));
        }
    }
    Ok(json!({"segments": top, "slf_vs_paper_30_segments": cmp}))
}

fn ref_series(name: &str, pts: &[(u64, f64)]) -> Series {
    Series {
        name: name.into(),
        points: pts.iter().map(|&(x, y)| (x as f64, y)).collect(),
        dashed: true,
    }
}

pub fn e4(ctx: &Ctx, runs: &[Run]) -> Result<Value> {
    let mut t = Table::new("e4_latency", ctx.seed, &["segments", "delay_us"]);
    for r in runs {
        let k = [p(r.segments), p(r.delay_us)];
        let h = &r.hold;
        let us = |v: u64| v as f64 / 1e3;
        t.push(0, &k, "hold_mean", h.mean() / 1e3, "us");
        for (m, q) in [
            ("hold_p50", 0.5),
            ("hold_p90", 0.9),
            ("hold_p99", 0.99),
            ("hold_p999", 0.999),
        ] {
            t.push(0, &k, m, us(h.value_at_quantile(q)), "us");
        }
        t.push(0, &k, "hold_max", us(r.hold_max_ns), "us");
        let zero = h.count_between(0, 0) as f64;
        t.push(
            0,
            &k,
            "held_fraction",
            1.0 - zero / h.len().max(1) as f64,
            "fraction",
        );
    }
    t.write(&ctx.out)?;
    let top = runs.iter().map(|r| r.segments).max().unwrap_or(0);
    let at = |q: f64| -> Vec<(f64, f64)> {
        runs.iter()
            .filter(|r| r.segments == top)
            .map(|r| (r.delay_us as f64, r.hold.value_at_quantile(q) as f64 / 1e3))
            .collect()
    };
    let max: Vec<(f64, f64)> = runs
        .iter()
        .filter(|r| r.segments == top)
        .map(|r| (r.delay_us as f64, r.hold_max_ns as f64 / 1e3))
        .collect();
    let series = vec![
        Series {
            name: "hold p50".into(),
            points: at(0.5),
            dashed: false,
        },
        Series {
            name: "hold p99".into(),
            points: at(0.99),
            dashed: false,
        },
        Series {
            name: "hold max".into(),
            points: max,
            dashed: false,
        },
        Series {
            name: "paper in-chain median latency - 105 µs baseline".into(),
            points: paper::E4_LAT50_IN_CHAIN
                .iter()
                .map(|&(d, l)| (d as f64, l - 105.0))
                .collect(),
            dashed: true,
        },
    ];
    plot::write(
        &Chart {
            title: format!("E4: added hold time vs window ({top} segments)"),
            x_label: "T (µs)".into(),
            y_label: "hold time (µs)".into(),
            series,
        },
        &ctx.out,
        "e4_latency",
    )?;
    let rows: Vec<Value> = runs
        .iter()
        .filter(|r| r.segments == top)
        .map(|r| json!({"delay_us": r.delay_us, "p50_us": r.hold.value_at_quantile(0.5) as f64 / 1e3,
            "p99_us": r.hold.value_at_quantile(0.99) as f64 / 1e3, "max_us": r.hold_max_ns as f64 / 1e3,
            "max_within_T": r.hold_max_ns <= r.delay_us * 1000}))
        .collect();
    Ok(json!({"segments": top, "hold_by_delay": rows}))
}
