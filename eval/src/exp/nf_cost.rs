//! E2: NF chain cost vs SLF on the motivation trace (C clients x N packets, interleave I), the
//! chain run at full speed on one core. No scheduler involved.

use super::timing::{time, Timing};
use super::{p, round3, Ctx};
use crate::nf::Chain;
use crate::out::csv::Table;
use crate::out::plot::{self, Chart, Series};
use crate::out::progress::Progress;
use crate::paper;
use crate::trace::{motivation, Frame};
use anyhow::Result;
use serde_json::{json, Value};
use std::hint::black_box;

pub const INTERLEAVES: [u32; 6] = [1, 2, 4, 8, 16, 32];
pub const FRAME_LEN: u16 = 1000;

/// (clients, packets per client); the paper used 10,000 x 400.
pub fn size(quick: bool) -> (u32, u32) {
    if quick {
        (4_000, 32)
    } else {
        (10_000, 128)
    }
}

/// Runs the chain over `frames` once; returns its timing and the chain (for its counters).
pub fn time_chain(frames: &[Frame], capacity: usize) -> (Timing, Chain) {
    time_chain_on(frames, Chain::paper(capacity, false))
}

/// Times `chain` over `frames` in their order, each frame copied in first (as RX would).
pub fn time_chain_on(frames: &[Frame], mut chain: Chain) -> (Timing, Chain) {
    let (t, ()) = time(|| {
        for (i, f) in frames.iter().enumerate() {
            let mut g = *f;
            let w = g.wire_len;
            black_box(chain.process(g.as_mut(), w, i as u64));
        }
    });
    black_box(chain.stats.digest);
    (t, chain)
}

pub fn run(ctx: &Ctx) -> Result<Value> {
    let (clients, packets) = size(ctx.quick);
    let mut t = Table::new(
        "e2_nf_cost",
        ctx.seed,
        &["interleave", "clients", "packets_per_client"],
    );
    let mut prog = Progress::new("E2 NF cost vs SLF", INTERLEAVES.len() * ctx.reps as usize);
    let mut ns = Vec::new();
    for &i in &INTERLEAVES {
        let trace = motivation::generate(clients, packets, i, FRAME_LEN, ctx.seed);
        let frames: Vec<Frame> = (0..trace.pkts.len()).map(|j| trace.frame(j)).collect();
        let k = [p(i), p(clients), p(packets)];
        t.push(0, &k, "slf", trace.slf(), "packets");
        for rep in 0..ctx.reps {
            let (tm, chain) = time_chain(&frames, clients as usize * 2);
            let n = frames.len() as f64;
            let mpps = n / tm.cpu_s / 1e6;
            t.push(rep, &k, "ns_per_packet", tm.cpu_s * 1e9 / n, "ns");
            t.push(rep, &k, "ns_per_packet_wall", tm.wall_s * 1e9 / n, "ns");
            t.push(rep, &k, "mpps", mpps, "Mpps");
            t.push(
                rep,
                &k,
                "gbps",
                mpps * f64::from(FRAME_LEN) * 8.0 / 1e3,
                "Gbps",
            );
            let hit = |h: u64| h as f64 / n;
            t.push(
                rep,
                &k,
                "router_cache_hit_rate",
                hit(chain.router.cache_hits),
                "fraction",
            );
            t.push(
                rep,
                &k,
                "fw_cache_hit_rate",
                hit(chain.fw.cache_hits),
                "fraction",
            );
            t.push(rep, &k, "dropped", chain.stats.dropped as f64, "packets");
            prog.step(&format!("I={i} rep {rep}"));
        }
        ns.push((
            i,
            t.median(&k, "ns_per_packet").unwrap_or(f64::NAN),
            t.median(&k, "mpps").unwrap_or(f64::NAN),
        ));
    }
    prog.finish();
    t.write(&ctx.out)?;
    let base = ns[0].2;
    let pbase = paper::E2_CHAIN_GBPS[0].1;
    let series = vec![
        Series {
            name: "ours: chain throughput / SLF 1".into(),
            points: ns
                .iter()
                .map(|&(i, _, m)| (f64::from(i), m / base))
                .collect(),
            dashed: false,
        },
        Series {
            name: "paper: 4-NF chain / SLF 1".into(),
            points: paper::E2_CHAIN_GBPS
                .iter()
                .map(|&(i, g)| (f64::from(i), g / pbase))
                .collect(),
            dashed: true,
        },
    ];
    plot::write(
        &Chart {
            title: "E2: NF chain throughput vs SLF (normalised)".into(),
            x_label: "SLF (interleave I)".into(),
            y_label: "throughput relative to SLF 1".into(),
            series,
        },
        &ctx.out,
        "e2_nf_cost",
    )?;
    let ns_series = vec![Series {
        name: "ours: ns per packet".into(),
        points: ns.iter().map(|&(i, n, _)| (f64::from(i), n)).collect(),
        dashed: false,
    }];
    plot::write(
        &Chart {
            title: "E2: NF chain cost per packet vs SLF".into(),
            x_label: "SLF (interleave I)".into(),
            y_label: "ns / packet".into(),
            series: ns_series,
        },
        &ctx.out,
        "e2_ns_per_packet",
    )?;
    let at = |i: u32| {
        ns.iter()
            .find(|x| x.0 == i)
            .map(|x| x.2 / base)
            .unwrap_or(f64::NAN)
    };
    let gain8 = at(8) - 1.0;
    let gain32 = at(32) - 1.0;
    Ok(json!({
        "clients": clients, "packets_per_client": packets,
        "ns_per_packet": ns.iter().map(|&(i, n, m)| json!({"slf": i, "ns": round3(n), "mpps": round3(m)})).collect::<Vec<_>>(),
        "speedup_slf32_vs_1": round3(at(32)), "paper_speedup_slf32_vs_1": round3(paper::E2_CHAIN_GBPS[5].1 / pbase),
        "share_of_gain_by_slf8": round3(if gain32 > 0.0 { gain8 / gain32 } else { f64::NAN }),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chain's last-X caches hit (I-1)/I of the time at interleave I, and every packet is
    /// either forwarded or dropped with a reason.
    #[test]
    fn cache_hit_rates_follow_slf() {
        for i in [1u32, 4, 16] {
            let trace = motivation::generate(500, 32, i, FRAME_LEN, 5);
            let frames: Vec<Frame> = (0..trace.pkts.len()).map(|j| trace.frame(j)).collect();
            let (tm, chain) = time_chain(&frames, 1000);
            let n = frames.len() as u64;
            assert_eq!(chain.stats.forwarded + chain.stats.dropped, n);
            let want = f64::from(i - 1) / f64::from(i);
            let fw_rate =
                chain.fw.cache_hits as f64 / (chain.fw.cache_hits + chain.fw.lookups) as f64;
            assert!(
                (fw_rate - want).abs() < 0.01,
                "I={i}: firewall cache hit rate {fw_rate}"
            );
            assert!(
                chain.router.cache_hits as f64 / n as f64 >= want - 0.01,
                "I={i}"
            );
            // Verdicts are per flow: a client is either NATed (one mapping) or dropped whole.
            assert_eq!(chain.stats.dropped % 32, 0);
            assert_eq!(chain.nat.mappings() as u64 + chain.stats.dropped / 32, 500);
            assert!(tm.cpu_s > 0.0 && tm.wall_s > 0.0);
        }
    }
}
