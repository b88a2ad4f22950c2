//! The synthetic campus trace: `segments` independent copies of one segment model, merged by
//! timestamp (the paper replays segments of a campus trace in parallel, so load = segments).
//!
//! Segment model (per flow): Poisson flow arrivals; heavy-tailed sizes (a mice/Pareto mix); each
//! flow has a bottleneck rate (log-uniform) and sends sub-bursts of back-to-back packets at the
//! link rate (TSO-like), sub-bursts spaced so the flow averages its bottleneck rate. Parameters
//! are calibrated to the reference's published *input* statistics only (see EVAL.md).

use super::frame::{Tuple, PROTO_TCP, PROTO_UDP, TCP_ACK, TCP_PSH, TCP_SYN};
use super::hosts::{client_addr, server_pool};
use super::{Pkt, Trace};
use crate::rng::Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Parameters of one segment. `Default` is the calibrated model.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampusParams {
    /// New flows per second per segment.
    pub flows_per_s: f64,
    /// Share of flows that are mice (a few small packets, e.g. DNS, handshakes).
    pub mice_frac: f64,
    pub mice_mean_pkts: f64,
    /// Pareto scale and shape for the packet count of the other flows, capped.
    pub size_xm: f64,
    pub size_alpha: f64,
    pub size_cap: f64,
    /// Per-flow bottleneck rate range (log-uniform), bit/s.
    pub rate_lo_bps: f64,
    pub rate_hi_bps: f64,
    /// Link rate at which a sub-burst's packets follow each other, bit/s.
    pub line_bps: f64,
    /// Mean packets per back-to-back sub-burst.
    pub subburst_mean: f64,
    /// Share of full-size (1514 B) frames in bulk flows; the rest are small (ACK-like).
    pub full_frac: f64,
    pub udp_frac: f64,
    /// Mean gap between a mouse's packets (a round trip), ns.
    pub mice_gap_ns: f64,
    /// Simulated time before t = 0 so long flows are already running at the start, s.
    pub warmup_s: f64,
}

impl Default for CampusParams {
    fn default() -> Self {
        Self {
            flows_per_s: 13_600.0,
            mice_frac: 0.45,
            mice_mean_pkts: 1.6,
            size_xm: 6.0,
            size_alpha: 1.15,
            size_cap: 50_000.0,
            rate_lo_bps: 20e6,
            rate_hi_bps: 1e9,
            line_bps: 40e9,
            subburst_mean: 1.75,
            full_frac: 0.72,
            udp_frac: 0.15,
            mice_gap_ns: 20e6,
            warmup_s: 3.0,
        }
    }
}

struct FlowGen {
    rng: Rng,
    id: u32,
    left: u64,
    mouse: bool,
    rate_bps: f64,
    burst_left: u64,
    burst_start: f64,
    burst_bytes: f64,
    next_t: f64,
    next_len: u16,
    first: bool,
}

impl FlowGen {
    fn new(p: &CampusParams, mut rng: Rng, id: u32, t0: f64) -> Self {
        let mouse = rng.chance(p.mice_frac);
        let left = if mouse {
            rng.geometric(p.mice_mean_pkts)
        } else {
            rng.pareto(p.size_xm, p.size_alpha).min(p.size_cap) as u64
        };
        let rate_bps = rng.log_uniform(p.rate_lo_bps, p.rate_hi_bps);
        let mut g = Self {
            rng,
            id,
            left: left.max(1),
            mouse,
            rate_bps,
            burst_left: 0,
            burst_start: t0,
            burst_bytes: 0.0,
            next_t: t0,
            next_len: 0,
            first: true,
        };
        g.burst_left = g.rng.geometric(p.subburst_mean);
        g.next_len = g.draw_len(p);
        g
    }

    fn draw_len(&mut self, p: &CampusParams) -> u16 {
        if !self.mouse && self.rng.chance(p.full_frac) {
            1514
        } else if self.mouse {
            self.rng.range(70, 400) as u16
        } else {
            self.rng.range(60, 300) as u16
        }
    }

    /// Emits the pending packet (time, length, first?) and schedules the next; None when done.
    fn advance(&mut self, p: &CampusParams) -> Option<(f64, u16, bool)> {
        if self.left == 0 {
            return None;
        }
        let out = (self.next_t, self.next_len, self.first);
        self.first = false;
        self.left -= 1;
        let len = f64::from(self.next_len);
        self.burst_bytes += len;
        self.burst_left = self.burst_left.saturating_sub(1);
        self.next_len = self.draw_len(p);
        if self.mouse {
            self.next_t += self.rng.exp(p.mice_gap_ns);
        } else if self.burst_left > 0 {
            self.next_t += len * 8.0 / p.line_bps * 1e9;
        } else {
            let spacing = self.burst_bytes * 8.0 / self.rate_bps * 1e9;
            self.burst_start += spacing * self.rng.exp(1.0);
            self.next_t = self
                .burst_start
                .max(self.next_t + len * 8.0 / p.line_bps * 1e9);
            self.burst_start = self.next_t;
            self.burst_bytes = 0.0;
            self.burst_left = self.rng.geometric(p.subburst_mean);
        }
        Some(out)
    }
}

/// Generates `segments` merged segments covering `[0, duration_ns)`.
pub fn generate(p: &CampusParams, segments: u32, duration_ns: u64, seed: u64) -> Trace {
    let servers = server_pool();
    let horizon = duration_ns as f64;
    let warm = -p.warmup_s * 1e9;
    let mut flows: Vec<Tuple> = Vec::new();
    let mut gens: Vec<Option<FlowGen>> = Vec::new();
    // Heap of (time, kind, index): kind 0 = flow arrival of segment `index`, 1 = packet of flow.
    let mut heap: BinaryHeap<Reverse<(u64, u8, u32)>> = BinaryHeap::new();
    let mut seg_rng: Vec<Rng> = (0..segments)
        .map(|s| Rng::new(seed, 1 + u64::from(s)))
        .collect();
    let mut seg_t: Vec<f64> = vec![warm; segments as usize];
    let mut seg_count: Vec<u64> = vec![0; segments as usize];
    // Arrivals before 0 are fast-forwarded directly, so the heap only holds live flows.
    for s in 0..segments as usize {
        loop {
            seg_t[s] += seg_rng[s].exp(1e9 / p.flows_per_s);
            if seg_t[s] >= 0.0 {
                break;
            }
            let mut g = new_flow(p, seed, s, &mut seg_count, &servers, &mut flows, seg_t[s]);
            while g.left > 0 && g.next_t < 0.0 {
                g.advance(p);
            }
            if g.left > 0 && g.next_t < horizon {
                heap.push(Reverse((g.next_t as u64, 1, g.id)));
                gens.push(Some(g));
            } else {
                gens.push(None);
            }
        }
        if seg_t[s] < horizon {
            heap.push(Reverse((seg_t[s] as u64, 0, s as u32)));
        }
    }
    let mut pkts = Vec::with_capacity(
        (horizon * 1e-9 * super::CAMPUS_PKTS_PER_SEGMENT_S * f64::from(segments)) as usize,
    );
    while let Some(Reverse((_, kind, idx))) = heap.pop() {
        if kind == 0 {
            let s = idx as usize;
            let g = new_flow(p, seed, s, &mut seg_count, &servers, &mut flows, seg_t[s]);
            heap.push(Reverse((g.next_t as u64, 1, g.id)));
            gens.push(Some(g));
            seg_t[s] += seg_rng[s].exp(1e9 / p.flows_per_s);
            if seg_t[s] < horizon {
                heap.push(Reverse((seg_t[s] as u64, 0, idx)));
            }
            continue;
        }
        let Some(g) = gens[idx as usize].as_mut() else {
            continue;
        };
        if let Some((t, len, first)) = g.advance(p) {
            let tuple = flows[idx as usize];
            let tcp_flags = if tuple.proto != PROTO_TCP {
                0
            } else if first {
                TCP_SYN
            } else {
                TCP_ACK | if len > 200 { TCP_PSH } else { 0 }
            };
            pkts.push(Pkt {
                t_ns: t as u64,
                flow: idx,
                wire_len: len,
                tcp_flags,
            });
        }
        if g.left > 0 && g.next_t < horizon {
            heap.push(Reverse((g.next_t as u64, 1, idx)));
        } else {
            gens[idx as usize] = None;
        }
    }
    Trace {
        pkts,
        flows,
        duration_ns,
    }
}

fn new_flow(
    p: &CampusParams,
    seed: u64,
    seg: usize,
    seg_count: &mut [u64],
    servers: &[u32],
    flows: &mut Vec<Tuple>,
    t0: f64,
) -> FlowGen {
    // Each flow has its own stream, keyed by (segment, per-segment index): a segment's flows are
    // the same whatever the number of segments merged with it.
    let stream = ((seg as u64 + 1) << 40) | seg_count[seg];
    seg_count[seg] += 1;
    let mut r = Rng::new(seed, stream);
    let udp = r.chance(p.udp_frac);
    let tuple = Tuple {
        src: client_addr(&mut r),
        dst: servers[(r.next_u64() % servers.len() as u64) as usize],
        sport: r.range(1024, 65535) as u16,
        dport: if udp {
            443
        } else {
            [443, 443, 80, 22, 993][r.range(0, 4) as usize]
        },
        proto: if udp { PROTO_UDP } else { PROTO_TCP },
    };
    let id = flows.len() as u32;
    flows.push(tuple);
    FlowGen::new(p, r, id, t0)
}

impl CampusParams {
    /// Applies `name=value` overrides (for calibration sweeps), with a clear error for unknown names.
    pub fn with_overrides(&self, sets: &[String]) -> anyhow::Result<Self> {
        let mut v = serde_json::to_value(self)?;
        for s in sets {
            let (k, val) = s
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("--set expects name=value, got {s:?}"))?;
            let num: f64 = val
                .parse()
                .map_err(|_| anyhow::anyhow!("--set {k}: {val:?} is not a number"))?;
            match v.get_mut(k) {
                Some(slot) => *slot = serde_json::json!(num),
                None => anyhow::bail!("--set: unknown campus parameter {k:?}"),
            }
        }
        Ok(serde_json::from_value(v)?)
    }
}
