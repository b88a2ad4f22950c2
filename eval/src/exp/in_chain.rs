//! E3: Reframer + NF chain on one core vs the chain alone, campus trace at 30 segments (the
//! paper's in-chain offered load), sweeping T, for two chains: the paper's (flow statistics,
//! router, firewall, NAT) and a heavier one with a connection-tracking stateful firewall in
//! front ([`Chain::stateful`]). All variants run in the same process, interleaved per
//! repetition, and the headline gain includes Reframer's own measured cost:
//! - `baseline`: the chain over the trace in arrival order, at full speed;
//! - `fused`: arrivals in RX bursts of 32 into the scheduler (clock = trace time, as the live
//!   datapath drives it), then the chain on every released packet, in one loop on one core:
//!   Reframer + chain;
//! - `reframer_only`: the same loop with the chain removed (Reframer's own cost);
//!   `reframer_only_burst` takes the output through the burst API, as `fused_burst` does;
//! - `chain_reordered`: the chain alone over Reframer's output order.
//!
//! Each chain variant also runs burst-aware (`*_burst`), as FastClick's flow elements do: the
//! chain's per-flow work (flow table, route, rule walk, NAT/LB mapping, connection entry) once
//! per run of one flow's packets, per packet only the header rewrite. In arrival order the runs
//! are the ones the trace has in each RX batch; behind Reframer they are the bursts its burst
//! API hands out, with their flow key and hash. `fused_burst_prefetch` also prefetches the
//! next burst's connection entry from the burst list's hash while it works on the current one
//! (just-in-time state prefetching).
//!
//! Behind Reframer, packets travel as 8-byte handles to recycled buffers ([`Mbuf`]), as a
//! DPDK mbuf pointer does: RX copies each arriving frame into a buffer (the baseline copies
//! each frame too), the scheduler holds the handle, the chain rewrites the buffer in place.

use super::timing::{time, Timing};
use super::{p, round3, Ctx};
use crate::drive;
use crate::nf::Chain;
use crate::out::csv::Table;
use crate::out::plot::{self, Chart, Series};
use crate::out::progress::Progress;
use crate::paper;
use crate::trace::campus::{self, CampusParams};
use crate::trace::{slf, Frame, Packet, Trace};
use anyhow::{ensure, Result};
use serde_json::{json, Value};
use std::cell::RefCell;
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

/// Which NF chain runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The paper's chain.
    Paper,
    /// The paper's chain behind a connection-tracking stateful firewall.
    Stateful,
}

impl Kind {
    pub(crate) fn chain(self, cap: usize) -> Chain {
        match self {
            Self::Paper => Chain::paper(cap, false),
            Self::Stateful => Chain::stateful(cap),
        }
    }

    /// Prefix of this chain's variant names in the CSV ("" for the paper's chain).
    fn prefix(self) -> &'static str {
        match self {
            Self::Paper => "",
            Self::Stateful => "stateful_",
        }
    }
}

/// A frame buffer behind one pointer: what the scheduler moves is 8 bytes, as a DPDK mbuf.
#[derive(Debug)]
pub struct Mbuf(Box<Frame>);

impl AsRef<[u8]> for Mbuf {
    fn as_ref(&self) -> &[u8] {
        self.0.as_ref().as_ref()
    }
}

impl AsMut<[u8]> for Mbuf {
    fn as_mut(&mut self) -> &mut [u8] {
        self.0.as_mut().as_mut()
    }
}

impl Mbuf {
    /// Starts loading both lines the 72-byte buffer touches (diagnostics).
    #[inline]
    pub(crate) fn prefetch(&self) {
        let f: *const Frame = &*self.0;
        reframer_core::prefetch(f);
        reframer_core::prefetch(f.wrapping_byte_add(size_of::<Frame>() - 1));
    }
}

impl Packet for Mbuf {
    fn id(&self) -> u32 {
        self.0.id
    }
    fn wire_len(&self) -> u16 {
        self.0.wire_len
    }
}

/// Recycled buffers (a mempool). It starts empty and grows to what is in flight at once
/// (what Reframer holds plus a batch, a few hundred at these rates), so neither the timings nor
/// cachegrind's counts carry the cost of buffers that are never used.
pub(crate) struct Pool(RefCell<Vec<Mbuf>>);

impl Pool {
    pub(crate) fn new() -> Self {
        Self(RefCell::new(Vec::with_capacity(4096)))
    }

    /// RX: the arriving frame lands in a free buffer.
    #[inline]
    pub(crate) fn rx(&self, f: &Frame) -> Mbuf {
        match self.0.borrow_mut().pop() {
            Some(mut m) => {
                *m.0 = *f;
                m
            }
            None => Mbuf(Box::new(*f)),
        }
    }

    /// TX done: the buffer goes back.
    #[inline]
    pub(crate) fn free(&self, m: Mbuf) {
        self.0.borrow_mut().push(m);
    }
}

/// Chain table capacity: every flow of the trace fits (the paper sized its table at 2M).
pub fn capacity(trace: &Trace) -> usize {
    trace.distinct_flows() + trace.distinct_flows() / 4 + 1024
}

pub fn baseline(kind: Kind, frames: &[Frame], cap: usize) -> Timing {
    crate::exp::nf_cost::time_chain_on(frames, kind.chain(cap)).0
}

/// Reframer + chain fused.
pub fn fused(
    kind: Kind,
    trace: &Trace,
    frames: &[Frame],
    cap: usize,
    delay_us: u64,
) -> Result<Timing> {
    fused_with(kind, trace, frames, cap, delay_us, |_| {})
}

/// [`fused`], with `seen` shown each packet before the chain. The timed runs pass a no-op
/// (compiled away), so nothing but the deployment's own work is timed; the tests record the
/// order with it.
pub fn fused_with(
    kind: Kind,
    trace: &Trace,
    frames: &[Frame],
    cap: usize,
    delay_us: u64,
    mut seen: impl FnMut(&Mbuf),
) -> Result<Timing> {
    let mut chain = kind.chain(cap);
    let mut sched = drive::scheduler(drive::paper_config(delay_us * 1000, cap))?;
    let pool = Pool::new();
    let (tm, c) = time(|| {
        drive::run_batched(
            &mut sched,
            trace,
            frames.iter().map(|f| pool.rx(f)),
            RX_BATCH,
            |mut m, at| {
                seen(&m);
                let w = m.wire_len();
                black_box(chain.process(m.as_mut(), w, at));
                pool.free(m);
            },
        )
    });
    ensure!(c.released == c.pushed, "scheduler lost packets: {c:?}");
    black_box(chain.stats.digest);
    Ok(tm)
}

/// The burst-aware chain alone in arrival order, RX batch by RX batch (same copies as the
/// per-packet baseline).
pub fn baseline_burst(kind: Kind, frames: &[Frame], cap: usize) -> Timing {
    let mut chain = kind.chain(cap);
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

/// Reframer + burst-aware chain fused, one flow lookup per released burst, the key and hash
/// from the burst API; with `prefetch`, the next burst's state is prefetched first.
pub fn fused_burst(
    kind: Kind,
    trace: &Trace,
    frames: &[Frame],
    cap: usize,
    delay_us: u64,
    prefetch: bool,
) -> Result<Timing> {
    fused_burst_with(kind, trace, frames, cap, delay_us, prefetch, |_| {})
}

/// [`fused_burst`], with `seen` shown each burst before the chain (as in [`fused_with`]).
pub fn fused_burst_with(
    kind: Kind,
    trace: &Trace,
    frames: &[Frame],
    cap: usize,
    delay_us: u64,
    prefetch: bool,
    mut seen: impl FnMut(&[Mbuf]),
) -> Result<Timing> {
    let mut chain = kind.chain(cap);
    let mut sched = drive::scheduler(drive::paper_config(delay_us * 1000, cap))?;
    let pool = Pool::new();
    let (tm, c) = time(|| {
        drive::run_batched_bursts(
            &mut sched,
            trace,
            frames.iter().map(|f| pool.rx(f)),
            RX_BATCH,
            |burst, info, next, at| {
                if prefetch {
                    if let Some(h) = next {
                        chain.prefetch(h);
                    }
                }
                seen(burst);
                chain.process_burst_keyed(burst, info.key.map(|k| (k, info.hash)), at);
                for m in burst.drain(..) {
                    pool.free(m);
                }
            },
        )
    });
    ensure!(c.released == c.pushed, "scheduler lost packets: {c:?}");
    black_box(chain.stats.digest);
    Ok(tm)
}

/// The burst-aware chain alone over Reframer's output (bursts as it released them).
pub fn chain_reordered_burst(kind: Kind, reordered: &[Frame], lens: &[u32], cap: usize) -> Timing {
    let mut chain = kind.chain(cap);
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

/// Reframer's output order and burst lengths at `delay_us` (untimed: the scheduler alone,
/// through the burst API, on the same RX batches as every timed variant).
pub fn output_order(
    trace: &Trace,
    frames: &[Frame],
    cap: usize,
    delay_us: u64,
) -> Result<(Vec<u32>, Vec<u32>)> {
    let mut sched = drive::scheduler(drive::paper_config(delay_us * 1000, cap))?;
    let (mut order, mut lens) = (Vec::with_capacity(frames.len()), Vec::new());
    let c = drive::run_batched_bursts(
        &mut sched,
        trace,
        frames.iter().copied(),
        RX_BATCH,
        |burst: &mut Vec<Frame>, info, _, _| {
            order.extend(burst.iter().map(|f| f.id));
            lens.push(info.len);
        },
    );
    ensure!(c.released == c.pushed, "scheduler lost packets: {c:?}");
    Ok((order, lens))
}

pub fn reframer_only(trace: &Trace, frames: &[Frame], cap: usize, delay_us: u64) -> Result<Timing> {
    let mut sched = drive::scheduler(drive::paper_config(delay_us * 1000, cap))?;
    let pool = Pool::new();
    let mut sum = 0u64;
    let (tm, c) = time(|| {
        drive::run_batched(
            &mut sched,
            trace,
            frames.iter().map(|f| pool.rx(f)),
            RX_BATCH,
            |m, at| {
                // Not the packet's bytes: held packets come back cold, and their first touch
                // is the chain's cost in `fused`, not Reframer's.
                sum = sum.wrapping_add(at);
                pool.free(m);
            },
        )
    });
    ensure!(c.released == c.pushed, "scheduler lost packets: {c:?}");
    black_box(sum);
    Ok(tm)
}

/// Reframer alone through the burst API `fused_burst` takes its output with: its own cost
/// there (one key parse and one burst record per burst on top of `reframer_only`).
pub fn reframer_only_burst(
    trace: &Trace,
    frames: &[Frame],
    cap: usize,
    delay_us: u64,
) -> Result<Timing> {
    let mut sched = drive::scheduler(drive::paper_config(delay_us * 1000, cap))?;
    let pool = Pool::new();
    let mut sum = 0u64;
    let (tm, c) = time(|| {
        drive::run_batched_bursts(
            &mut sched,
            trace,
            frames.iter().map(|f| pool.rx(f)),
            RX_BATCH,
            |burst, info, _, at| {
                sum = sum.wrapping_add(at ^ u64::from(info.hash));
                for m in burst.drain(..) {
                    pool.free(m);
                }
            },
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
    let kinds = [Kind::Paper, Kind::Stateful];
    let mut prog = Progress::new(
        "E3 in-chain",
        ctx.reps as usize * kinds.len() * (2 + 7 * delays.len()),
    );
    let base_k = [p(segs), p(0), p("baseline")];
    t.push(0, &base_k, "slf_in", trace.slf(), "packets");
    t.push(0, &base_k, "packets", n, "packets");
    t.push(0, &base_k, "flows", trace.distinct_flows() as f64, "flows");
    t.push(0, &base_k, "offered_gbps", trace.gbps(), "Gbps");
    for rep in 0..ctx.reps {
        for kind in kinds {
            let v = |name: &str| format!("{}{name}", kind.prefix());
            let tm = baseline(kind, &frames, cap);
            push_timing(&mut t, rep, &[p(segs), p(0), v("baseline")], tm, n);
            prog.step("baseline");
            let tm = baseline_burst(kind, &frames, cap);
            push_timing(&mut t, rep, &[p(segs), p(0), v("baseline_burst")], tm, n);
            prog.step("baseline, burst-aware chain");
            for &d in &delays {
                let k = |name: &str| [p(segs), p(d), v(name)];
                // Reframer's output order, from an untimed run: the timed variants record
                // nothing.
                let (order, lens) = output_order(&trace, &frames, cap, d)?;
                let tm = fused(kind, &trace, &frames, cap, d)?;
                push_timing(&mut t, rep, &k("fused"), tm, n);
                if rep == 0 && kind == Kind::Paper {
                    let slf_out = slf(order.iter().map(|&i| trace.pkts[i as usize].flow));
                    t.push(0, &k("fused"), "slf_out", slf_out, "packets");
                }
                prog.step(&format!("T={d} fused"));
                if kind == Kind::Paper {
                    // Reframer's own cost does not depend on the chain behind it.
                    let tm = reframer_only(&trace, &frames, cap, d)?;
                    push_timing(&mut t, rep, &k("reframer_only"), tm, n);
                }
                prog.step(&format!("T={d} reframer only"));
                if kind == Kind::Paper {
                    let tm = reframer_only_burst(&trace, &frames, cap, d)?;
                    push_timing(&mut t, rep, &k("reframer_only_burst"), tm, n);
                }
                prog.step(&format!("T={d} reframer only, burst API"));
                let reordered: Vec<Frame> = order.iter().map(|&i| frames[i as usize]).collect();
                let tm = baseline(kind, &reordered, cap);
                push_timing(&mut t, rep, &k("chain_reordered"), tm, n);
                prog.step(&format!("T={d} chain reordered"));
                let tm = fused_burst(kind, &trace, &frames, cap, d, false)?;
                push_timing(&mut t, rep, &k("fused_burst"), tm, n);
                if rep == 0 && kind == Kind::Paper {
                    let mean = n / lens.len().max(1) as f64;
                    t.push(0, &k("fused_burst"), "mean_burst", mean, "packets");
                }
                prog.step(&format!("T={d} fused, burst-aware chain"));
                let tm = fused_burst(kind, &trace, &frames, cap, d, true)?;
                push_timing(&mut t, rep, &k("fused_burst_prefetch"), tm, n);
                prog.step(&format!("T={d} fused, burst-aware chain, prefetch hints"));
                let tm = chain_reordered_burst(kind, &reordered, &lens, cap);
                push_timing(&mut t, rep, &k("chain_reordered_burst"), tm, n);
                prog.step(&format!("T={d} chain reordered, burst-aware"));
            }
        }
    }
    prog.finish();
    let med = |t: &Table, d: u64, v: &str| {
        t.median(&[p(segs), p(d), p(v)], "ns_per_packet")
            .unwrap_or(f64::NAN)
    };
    let mut charts: Vec<Series> = Vec::new();
    let mut chains = serde_json::Map::new();
    let mut headline = None;
    for kind in kinds {
        let v = |name: &str| format!("{}{name}", kind.prefix());
        let base_ns = med(&t, 0, &v("baseline"));
        let base_burst_ns = med(&t, 0, &v("baseline_burst"));
        // Burst-aware variants are measured against the faster of the two chains in arrival
        // order (in arrival order most runs are one packet long, where per-burst bookkeeping
        // costs).
        let best_base = base_ns.min(base_burst_ns);
        let mut rows = Vec::new();
        let (mut gain_pts, mut off_pts, mut burst_pts, mut pf_pts) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut ratio_ok = true;
        for &d in &delays {
            let (fused_ns, chain_ns) = (med(&t, d, &v("fused")), med(&t, d, &v("chain_reordered")));
            let (fused_b, chain_b) = (
                med(&t, d, &v("fused_burst")),
                med(&t, d, &v("chain_reordered_burst")),
            );
            let fused_pf = med(&t, d, &v("fused_burst_prefetch"));
            let gain = base_ns / fused_ns - 1.0;
            let (gain_b, off_b) = (best_base / fused_b - 1.0, best_base / chain_b - 1.0);
            let gain_pf = best_base / fused_pf - 1.0;
            gain_pts.push((d as f64, gain * 100.0));
            off_pts.push((d as f64, off_b * 100.0));
            burst_pts.push((d as f64, gain_b * 100.0));
            pf_pts.push((d as f64, gain_pf * 100.0));
            // In-chain must keep at least 0.7 of the off-chain gain (where there is one).
            ratio_ok &= off_b <= 0.0 || gain_b.max(gain_pf) >= 0.7 * off_b;
            rows.push(json!({"delay_us": d, "fused_ns": round3(fused_ns),
                "reframer_ns": round3(med(&t, d, "reframer_only")),
                "reframer_burst_ns": round3(med(&t, d, "reframer_only_burst")),
                "chain_reordered_ns": round3(chain_ns), "gain_incl_reframer": round3(gain),
                "gain_chain_only": round3(base_ns / chain_ns - 1.0),
                "fused_burst_ns": round3(fused_b), "fused_burst_prefetch_ns": round3(fused_pf),
                "chain_reordered_burst_ns": round3(chain_b),
                "gain_incl_reframer_burst": round3(gain_b),
                "gain_incl_reframer_burst_prefetch": round3(gain_pf),
                "gain_chain_only_burst": round3(off_b)}));
            t.push(
                0,
                &[p(segs), p(d), v("fused")],
                "gain_vs_baseline",
                gain,
                "fraction",
            );
        }
        let at = |pts: &[(f64, f64)], x: f64| pts.iter().find(|q| q.0 == x).map(|q| q.1 / 100.0);
        let best_at64 = match (at(&burst_pts, 64.0), at(&pf_pts, 64.0)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let name = match kind {
            Kind::Paper => "paper chain",
            Kind::Stateful => "stateful chain",
        };
        for (what, pts, dashed) in [
            ("per packet, incl. Reframer", &gain_pts, false),
            ("burst-aware, incl. Reframer", &burst_pts, false),
            (
                "burst-aware + prefetch hints, incl. Reframer",
                &pf_pts,
                false,
            ),
            ("burst-aware, alone on Reframer's bursts", &off_pts, true),
        ] {
            charts.push(Series {
                name: format!("{name}, {what}"),
                points: pts.clone(),
                dashed,
            });
        }
        let peak = gain_pts
            .iter()
            .copied()
            .fold((0.0, f64::MIN), |a, b| if b.1 > a.1 { b } else { a });
        let summary = json!({
            "baseline_ns": round3(base_ns), "baseline_burst_ns": round3(base_burst_ns),
            "by_delay": rows,
            "burst_gain_at_64us": best_at64.map(round3),
            "burst_meets_30pct_at_64us": best_at64.map(|g| g >= 0.30),
            "burst_in_chain_keeps_0_7_of_off_chain": ratio_ok,
            "gain_at_64us": at(&gain_pts, 64.0).map(round3),
            "peak_delay_us": peak.0, "peak_gain": round3(peak.1 / 100.0),
        });
        if kind == Kind::Paper {
            headline = Some(summary.clone());
        }
        chains.insert(
            match kind {
                Kind::Paper => "paper",
                Kind::Stateful => "stateful",
            }
            .into(),
            summary,
        );
    }
    t.write(&ctx.out)?;
    let paper_pts: Vec<(f64, f64)> = paper::E3_REFRAMER_GBPS
        .iter()
        .map(|&(d, g)| (d as f64, (g / paper::E3_BASELINE_GBPS - 1.0) * 100.0))
        .collect();
    charts.push(Series {
        name: "paper in-chain".into(),
        points: paper_pts,
        dashed: true,
    });
    plot::write(
        &Chart {
            title: format!("E3: Reframer + chain vs chain alone ({segs} segments, one core)"),
            x_label: "T (µs)".into(),
            y_label: "throughput gain (%)".into(),
            series: charts,
        },
        &ctx.out,
        "e3_in_chain",
    )?;
    let variants = [
        "fused",
        "reframer_only",
        "reframer_only_burst",
        "chain_reordered",
        "fused_burst",
        "fused_burst_prefetch",
        "chain_reordered_burst",
        "stateful_fused",
        "stateful_fused_burst",
        "stateful_fused_burst_prefetch",
        "stateful_chain_reordered_burst",
    ];
    let ns_series = variants
        .iter()
        .map(|v| Series {
            name: (*v).into(),
            points: delays.iter().map(|&d| (d as f64, med(&t, d, v))).collect(),
            dashed: false,
        })
        .chain(std::iter::once(Series {
            name: "baseline (paper chain alone, arrival order)".into(),
            points: delays
                .iter()
                .map(|&d| (d as f64, med(&t, 0, "baseline")))
                .collect(),
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
    // The paper chain's figures stay at the top level (the summary table reads them there).
    let mut out = headline.unwrap_or_default();
    if let Value::Object(m) = &mut out {
        let at64 = m["gain_at_64us"].as_f64();
        m.insert("segments".into(), json!(segs));
        m.insert("packets".into(), json!(n));
        m.insert(
            "target_gain_at_64us".into(),
            json!(paper::TARGET_E3_GAIN_AT_64),
        );
        m.insert(
            "meets_target".into(),
            json!(at64.map(|g| g >= paper::TARGET_E3_GAIN_AT_64)),
        );
        m.insert("chains".into(), Value::Object(chains));
    }
    Ok(out)
}

/// CPU time per packet (the headline) and wall time per packet (for reference).
fn push_timing(t: &mut Table, rep: u32, k: &[String], tm: Timing, n: f64) {
    t.push(rep, k, "ns_per_packet", tm.cpu_s * 1e9 / n, "ns");
    t.push(rep, k, "ns_per_packet_wall", tm.wall_s * 1e9 / n, "ns");
}
