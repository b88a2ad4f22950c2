//! `eval one-run`: a single reduced configuration, for wrapping in `valgrind --tool=cachegrind`.

use crate::drive;
use crate::exp::in_chain;
use crate::exp::timing::Timing;
use crate::nf::Chain;
use crate::trace::campus::{self, CampusParams};
use crate::trace::{motivation, Frame};
use anyhow::{Context, Result};
use std::hint::black_box;

/// E2: the motivation trace through the chain (or only built, with `skip_chain`).
pub fn e2(clients: u32, packets: u32, interleave: u32, seed: u64, skip_chain: bool) -> u64 {
    let trace = motivation::generate(
        clients,
        packets,
        interleave,
        crate::exp::nf_cost::FRAME_LEN,
        seed,
    );
    let frames: Vec<Frame> = (0..trace.pkts.len()).map(|i| trace.frame(i)).collect();
    if !skip_chain {
        let mut chain = Chain::paper(clients as usize * 2, false);
        for (i, f) in frames.iter().enumerate() {
            let mut g = *f;
            let w = g.wire_len;
            black_box(chain.process(g.as_mut(), w, i as u64));
        }
        black_box(chain.stats.digest);
    }
    frames.len() as u64
}

/// E3: a short campus trace (30 segments, short warm-up) through the chain in arrival order, or
/// through Reframer + chain when `delay_us` is given.
/// With `reframer_only`, the scheduler runs without the chain (Reframer's own cost).
pub fn e3(
    duration_ms: u64,
    delay_us: Option<u64>,
    seed: u64,
    skip_chain: bool,
    reframer_only: bool,
    count_only: bool,
) -> Result<u64> {
    let params = CampusParams {
        warmup_s: 0.2,
        ..CampusParams::default()
    };
    let trace = campus::generate(&params, 30, duration_ms * 1_000_000, seed);
    if count_only {
        return Ok(trace.pkts.len() as u64);
    }
    let frames: Vec<Frame> = (0..trace.pkts.len()).map(|i| trace.frame(i)).collect();
    let cap = trace.distinct_flows() * 2;
    if !skip_chain {
        match delay_us {
            None => {
                black_box(in_chain::baseline(in_chain::Kind::Paper, &frames, cap));
            }
            Some(d) if reframer_only => {
                black_box(in_chain::reframer_only(&trace, &frames, cap, d)?);
            }
            Some(d) => {
                black_box(in_chain::fused(
                    in_chain::Kind::Paper,
                    &trace,
                    &frames,
                    cap,
                    d,
                )?);
            }
        }
    } else if let Some(d) = delay_us {
        // Keep the scheduler's set-up cost (table allocation) out of the difference too.
        black_box(drive::scheduler::<Frame>(drive::paper_config(
            d * 1000,
            cap,
        ))?);
    }
    Ok(frames.len() as u64)
}

/// One variant of `eval e3 --quick` (its trace, seed `seed`, window `delay_us`), run `reps`
/// times through the very function E3 times, with whatever it needs (Reframer's output order)
/// prepared untimed first. Under `valgrind --tool=callgrind --toggle-collect='*timing::time*'`
/// the counts are those of the timed region only. With `vs`, each run times that variant too,
/// right after. Returns the packet count and the CPU ns per packet of each run.
pub fn e3_variant(
    variant: &str,
    chain: &str,
    delay_us: Option<u64>,
    seed: u64,
    reps: u32,
    vs: Option<&str>,
) -> Result<(u64, Vec<Vec<f64>>)> {
    use in_chain::Kind;
    let kind = Kind::from_key(chain)
        .with_context(|| format!("unknown chain {chain:?} (paper, stateful, acl<rules>)"))?;
    let (segs, dur, _) = in_chain::plan(true);
    let trace = campus::generate(&CampusParams::default(), segs, dur, seed);
    let frames: Vec<Frame> = (0..trace.pkts.len()).map(|i| trace.frame(i)).collect();
    let cap = in_chain::capacity(&trace);
    let d = || delay_us.context("this variant needs --delay-us");
    let reorders = |v: &str| matches!(v, "chain_reordered" | "chain_reordered_burst");
    let (reordered, lens) = if reorders(variant) || vs.is_some_and(reorders) {
        let (order, lens) = in_chain::output_order(&trace, &frames, cap, d()?)?;
        (order.iter().map(|&i| frames[i as usize]).collect(), lens)
    } else {
        (Vec::new(), Vec::new())
    };
    let once = |variant: &str| -> Result<Timing> {
        Ok(match variant {
            "baseline" => in_chain::baseline(kind, &frames, cap),
            "baseline_burst" => in_chain::baseline_burst(kind, &frames, cap),
            "fused" => in_chain::fused(kind, &trace, &frames, cap, d()?)?,
            "reframer_only" => in_chain::reframer_only(&trace, &frames, cap, d()?)?,
            "reframer_only_burst" => in_chain::reframer_only_burst(&trace, &frames, cap, d()?)?,
            "chain_reordered" => in_chain::baseline(kind, &reordered, cap),
            "fused_burst" | "fused_burst_prefetch" => {
                let pf = variant == "fused_burst_prefetch";
                in_chain::fused_burst(kind, &trace, &frames, cap, d()?, pf)?
            }
            "chain_reordered_burst" => {
                in_chain::chain_reordered_burst(kind, &reordered, &lens, cap)
            }
            x => crate::exp::interference::run(x, kind, &trace, &frames, cap, d()?)?,
        })
    };
    let n = frames.len() as f64;
    // With `vs`, the two alternate (A, B, A, B, ...), so slow drifts of a shared machine
    // hit both alike; each run's pair is one line.
    let ns = (0..reps.max(1))
        .map(|_| {
            std::iter::once(variant)
                .chain(vs)
                .map(|v| once(v).map(|t| t.cpu_s * 1e9 / n))
                .collect::<Result<Vec<f64>>>()
        })
        .collect::<Result<Vec<Vec<f64>>>>()?;
    Ok((frames.len() as u64, ns))
}
