//! Diagnostics for E3's in-chain "interference" (`eval one-run e3 --variant x_*`, under
//! callgrind): variants that sit between `reframer_only(_burst)`, `chain_reordered(_burst)`
//! and `fused(_burst)`, so that the gap `fused - (reframer_only + chain_reordered)` splits
//! into named parts. Not part of `eval e3`.
//!
//! - `x_pool`: RX copy into a pooled buffer and its release, nothing else (what both
//!   `reframer_only` and the `x_chain_*` variants pay, counted twice in their sum);
//! - `x_reframer_only_reading`: `reframer_only` reading each released packet's id, as E3's
//!   did before (the first touch of a held packet);
//! - `x_chain_handles(_burst)`: the chain alone on Reframer's output through pooled buffers
//!   filled just before it (handles, packets hot);
//! - `x_chain_held(_burst)`: the same, but each packet is received at its arrival and held
//!   until the RX batch Reframer released it in (handles, packets as cold as behind Reframer,
//!   no scheduler tables); `x_chain_held(_burst)_pf4` prefetches the buffers of the next
//!   four packets before each burst (it does not pay);
//! - `x_fused(_burst)_recording`: `fused(_burst)` recording the output order (and burst
//!   lengths) inside the timed loop, as E3 did before.

use super::in_chain::{self, Kind, Mbuf, Pool, RX_BATCH};
use super::timing::{time, Timing};
use crate::drive;
use crate::trace::{Frame, Packet, Trace};
use anyhow::{ensure, Result};
use std::hint::black_box;

/// The diagnostic variants.
pub const VARIANTS: [&str; 10] = [
    "x_pool",
    "x_reframer_only_reading",
    "x_chain_handles",
    "x_chain_handles_burst",
    "x_chain_held",
    "x_chain_held_burst",
    "x_chain_held_pf4",
    "x_chain_held_burst_pf4",
    "x_fused_recording",
    "x_fused_burst_recording",
];

/// Runs diagnostic `variant` (one of [`VARIANTS`]).
pub fn run(
    variant: &str,
    kind: Kind,
    trace: &Trace,
    frames: &[Frame],
    cap: usize,
    d: u64,
) -> Result<Timing> {
    let n = frames.len();
    Ok(match variant {
        "x_pool" => pool_only(frames),
        "x_reframer_only_reading" => reframer_only_reading(trace, frames, cap, d)?,
        "x_chain_handles" | "x_chain_handles_burst" => {
            let s = Schedule::of(trace, frames, cap, d)?;
            let reordered: Vec<Frame> = s.order.iter().map(|&i| frames[i as usize]).collect();
            chain_handles(kind, &reordered, &s, variant.ends_with("burst"), cap)
        }
        "x_chain_held" | "x_chain_held_burst" => {
            let s = Schedule::of(trace, frames, cap, d)?;
            chain_held::<0>(kind, frames, &s, variant.ends_with("burst"), cap)
        }
        "x_chain_held_pf4" | "x_chain_held_burst_pf4" => {
            let s = Schedule::of(trace, frames, cap, d)?;
            chain_held::<4>(kind, frames, &s, variant.ends_with("burst_pf4"), cap)
        }
        "x_fused_recording" => {
            let mut order = Vec::with_capacity(n);
            let tm = in_chain::fused_with(kind, trace, frames, cap, d, |m| order.push(m.id()))?;
            black_box(order);
            tm
        }
        "x_fused_burst_recording" => {
            let (mut order, mut lens) = (Vec::with_capacity(n), Vec::with_capacity(n));
            let tm = in_chain::fused_burst_with(kind, trace, frames, cap, d, false, |b| {
                order.extend(b.iter().map(|m| m.id()));
                lens.push(b.len() as u32);
            })?;
            black_box((order, lens));
            tm
        }
        other => anyhow::bail!("unknown diagnostic variant {other:?}"),
    })
}

/// Reframer's output: the order, and each burst's length with the step it left at (the
/// driver's drain calls in order: step `2i` before RX batch `i` is pushed, `2i + 1` after it,
/// then the two at the end).
struct Schedule {
    order: Vec<u32>,
    bursts: Vec<(usize, u32)>,
}

impl Schedule {
    /// Runs the E3 driver on the scheduler alone and notes the step of each burst.
    fn of(trace: &Trace, frames: &[Frame], cap: usize, d: u64) -> Result<Self> {
        let mut s = drive::scheduler::<Frame>(drive::paper_config(d * 1000, cap))?;
        let (mut order, mut bursts, mut out, mut step) = (Vec::new(), Vec::new(), Vec::new(), 0);
        let c = drive::run_batched_with(
            &mut s,
            trace,
            frames.iter().copied(),
            RX_BATCH,
            |s, _, c| {
                while let Some(info) = s.pop_burst(&mut out) {
                    c.released += out.len() as u64;
                    order.extend(out.iter().map(|f: &Frame| f.id));
                    bursts.push((step, info.len));
                    out.clear();
                }
                step += 1;
            },
        );
        ensure!(c.released == c.pushed, "scheduler lost packets: {c:?}");
        Ok(Self { order, bursts })
    }
}

fn pool_only(frames: &[Frame]) -> Timing {
    let pool = Pool::new();
    let mut rx: Vec<Mbuf> = Vec::with_capacity(RX_BATCH);
    let (tm, ()) = time(|| {
        for batch in frames.chunks(RX_BATCH) {
            rx.extend(batch.iter().map(|f| pool.rx(f)));
            for m in rx.drain(..) {
                pool.free(m);
            }
        }
    });
    tm
}

fn reframer_only_reading(trace: &Trace, frames: &[Frame], cap: usize, d: u64) -> Result<Timing> {
    in_chain::reframer_only_with(trace, frames, cap, d, |m, at| u64::from(m.id()) ^ at)
}

/// The chain on `reordered` (Reframer's order), each burst received into pooled buffers just
/// before the chain takes it.
fn chain_handles(
    kind: Kind,
    reordered: &[Frame],
    s: &Schedule,
    bursts: bool,
    cap: usize,
) -> Timing {
    let mut chain = kind.chain(cap);
    let pool = Pool::new();
    let mut buf: Vec<Mbuf> = Vec::with_capacity(256);
    let (tm, ()) = time(|| {
        let mut at = 0;
        for (i, &(_, n)) in s.bursts.iter().enumerate() {
            buf.extend(reordered[at..at + n as usize].iter().map(|f| pool.rx(f)));
            at += n as usize;
            process(&mut chain, &mut buf, bursts, i as u64);
            for m in buf.drain(..) {
                pool.free(m);
            }
        }
    });
    black_box(chain.stats.digest);
    tm
}

/// The chain on Reframer's order, each packet received at its arrival (in RX batches) and
/// handed to the chain in the step Reframer released it: the packets' lifetimes of `fused`,
/// without the scheduler.
fn chain_held<const PF: usize>(
    kind: Kind,
    frames: &[Frame],
    s: &Schedule,
    bursts: bool,
    cap: usize,
) -> Timing {
    let mut chain = kind.chain(cap);
    let pool = Pool::new();
    let mut held: Vec<Option<Mbuf>> = (0..frames.len()).map(|_| None).collect();
    let mut buf: Vec<Mbuf> = Vec::with_capacity(256);
    let (tm, ()) = time(|| {
        let (mut next, mut at) = (0, 0);
        let mut release = |step: usize, held: &mut [Option<Mbuf>]| {
            while let Some(&(st, n)) = s.bursts.get(next).filter(|b| b.0 <= step) {
                buf.extend(
                    s.order[at..at + n as usize]
                        .iter()
                        .filter_map(|&id| held[id as usize].take()),
                );
                at += n as usize;
                for id in s.order.iter().skip(at).take(PF) {
                    if let Some(m) = &held[*id as usize] {
                        m.prefetch();
                    }
                }
                process(&mut chain, &mut buf, bursts, st as u64);
                for m in buf.drain(..) {
                    pool.free(m);
                }
                next += 1;
            }
        };
        for (i, b) in frames.chunks(RX_BATCH).enumerate() {
            release(2 * i, &mut held);
            for f in b {
                held[f.id as usize] = Some(pool.rx(f));
            }
            release(2 * i + 1, &mut held);
        }
        release(usize::MAX, &mut held);
    });
    black_box(chain.stats.digest);
    tm
}

#[inline(always)]
fn process(chain: &mut crate::nf::Chain, buf: &mut [Mbuf], bursts: bool, now: u64) {
    if bursts {
        chain.process_burst(buf, now);
    } else {
        for m in buf {
            let w = m.wire_len();
            black_box(chain.process(m.as_mut(), w, now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::campus::{self, CampusParams};

    /// The schedule the held-packet replays follow is E3's: same order, same bursts, and
    /// no burst leaves before its packets have arrived.
    #[test]
    fn schedule_is_the_drivers() {
        let t = campus::generate(&CampusParams::default(), 4, 5_000_000, 3);
        let frames: Vec<Frame> = (0..t.pkts.len()).map(|i| t.frame(i)).collect();
        let cap = in_chain::capacity(&t);
        let s = Schedule::of(&t, &frames, cap, 64).unwrap();
        let (order, lens) = in_chain::output_order(&t, &frames, cap, 64).unwrap();
        assert_eq!(s.order, order);
        assert_eq!(s.bursts.iter().map(|b| b.1).collect::<Vec<_>>(), lens);
        let mut at = 0;
        for &(step, n) in &s.bursts {
            for &id in &s.order[at..at + n as usize] {
                // Packet `id` is in RX batch id / 32, pushed between steps 2i and 2i + 1.
                assert!(
                    step > 2 * (id as usize / RX_BATCH),
                    "packet {id} out at step {step}"
                );
            }
            at += n as usize;
        }
    }
}
