//! E5: the Ribosome cluster model (Figs 5-8 of the Ribosome paper) at 100G link speeds. The NF
//! host's per-frame cost is measured first, in this run, on header frames that our switch model
//! emits for the campus trace; per-packet link bytes come from walking real frames through the
//! switch model. The discrete-event model then sweeps offered load, packet size and NF cores,
//! for Ribosome and for the NF server alone, and reports which resource bounds each point.

use super::{p, round3, Ctx};
use crate::cluster::cost::{self, NfCosts};
use crate::cluster::event::{Ps, PS_PER_US};
use crate::cluster::sizes::{self, FrameSizes, WIRE_OVERHEAD};
use crate::cluster::{run, Mode, Outcome, Resource, Scenario};
use crate::out::csv::Table;
use crate::out::plot::{self, Chart, Series};
use crate::out::progress::Progress;
use crate::paper;
use anyhow::Result;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// NF cores of the load and size sweeps (the top of the paper's Fig 8).
pub const CORES: usize = 16;
/// Packet size of the load and cores sweeps (the paper's `GEN_LENGTH`).
pub const FRAME: usize = 1024;
const PARAMS: [&str; 7] = [
    "mode",
    "nf",
    "cores",
    "frame_b",
    "offered_mpps",
    "bound",
    "model_bound",
];

/// The swept values: offered Mpps, frame sizes, cores, simulated and warm-up µs.
#[derive(Debug, Clone)]
pub struct Plan {
    pub loads_mpps: Vec<f64>,
    pub frames: Vec<usize>,
    pub cores: Vec<usize>,
    pub duration_us: u64,
    pub warmup_us: u64,
}

pub fn plan(quick: bool) -> Plan {
    if quick {
        Plan {
            loads_mpps: vec![1.25, 5.0, 10.0, 11.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0],
            frames: vec![64, 128, 256, 384, 512, 768, 1024, 1500],
            cores: vec![1, 2, 4, 8, 16],
            duration_us: 200,
            warmup_us: 50,
        }
    } else {
        Plan {
            loads_mpps: [1.25, 11.0]
                .into_iter()
                .chain((1..=16).map(|i| f64::from(i) * 2.5))
                .collect(),
            frames: vec![64, 128, 192, 256, 320, 384, 448, 512, 768, 1024, 1280, 1500],
            cores: vec![1, 2, 4, 6, 8, 12, 16, 24, 32],
            duration_us: 1000,
            warmup_us: 200,
        }
    }
}

/// The NF variants of the model, with their measured cost in ps per frame.
fn variants(c: &NfCosts) -> [(&'static str, Ps); 2] {
    let ps = |ns: f64| (ns.max(1.0) * 1000.0).round() as Ps;
    [
        ("chain", ps(c.chain_ns)),
        ("reframer_chain", ps(c.reframer_chain_ns)),
    ]
}

struct Point {
    mode: Mode,
    nf: &'static str,
    cores: usize,
    frame: usize,
    offered_mpps: f64,
    out: Outcome,
    model: (Resource, f64),
}

struct Runner<'a> {
    plan: &'a Plan,
    seed: u64,
    sizes: BTreeMap<usize, FrameSizes>,
}

impl Runner<'_> {
    fn sizes(&mut self, frame: usize) -> Result<FrameSizes> {
        if let Some(s) = self.sizes.get(&frame) {
            return Ok(*s);
        }
        let s = sizes::walk(frame)?;
        self.sizes.insert(frame, s);
        Ok(s)
    }

    fn point(
        &mut self,
        mode: Mode,
        nf: (&'static str, Ps),
        cores: usize,
        frame: usize,
        mpps: Option<f64>,
    ) -> Result<Point> {
        let sz = self.sizes(frame)?;
        let mut sc = Scenario::paper(mode, sz, 0.0, cores, nf.1);
        // None: every input port at line rate.
        sc.offered_pps = mpps.map_or_else(
            || sc.input_ports as f64 * 100e9 / (8.0 * f64::from(sz.frame + WIRE_OVERHEAD)),
            |m| m * 1e6,
        );
        sc.duration = self.plan.duration_us * PS_PER_US;
        sc.warmup = self.plan.warmup_us * PS_PER_US;
        sc.seed = self.seed;
        let out = run(&sc);
        Ok(Point {
            mode,
            nf: nf.0,
            cores,
            frame,
            offered_mpps: sc.offered_pps / 1e6,
            model: sc.model_bound(),
            out,
        })
    }
}

fn push(t: &mut Table, pt: &Point) {
    let k = [
        p(pt.mode.name()),
        p(pt.nf),
        p(pt.cores),
        p(pt.frame),
        p(round3(pt.offered_mpps)),
        p(pt.out.bound.name()),
        p(pt.model.0.name()),
    ];
    let o = &pt.out;
    let loss = o.lost as f64 / o.generated.max(1) as f64;
    for (m, v, u) in [
        ("offered_gbps", o.offered_gbps, "Gbps"),
        ("delivered_gbps", o.delivered_gbps, "Gbps"),
        ("delivered_mpps", o.delivered_pps / 1e6, "Mpps"),
        ("model_bound_mpps", pt.model.1 / 1e6, "Mpps"),
        ("latency_p50_us", o.latency_p50_us, "us"),
        ("latency_p99_us", o.latency_p99_us, "us"),
        ("loss_fraction", loss, "fraction"),
        (
            "util_input_ports",
            o.util_of(Resource::InputPorts),
            "fraction",
        ),
        (
            "util_server_links",
            o.util_of(Resource::ServerLinks),
            "fraction",
        ),
        ("util_nf_link", o.util_of(Resource::NfLink), "fraction"),
        ("util_nf_cores", o.util_of(Resource::NfPps), "fraction"),
        (
            "util_output_ports",
            o.util_of(Resource::OutputPorts),
            "fraction",
        ),
        (
            "drops_nf_pps",
            o.drops_of(Resource::NfPps) as f64,
            "packets",
        ),
        (
            "drops_nf_link",
            o.drops_of(Resource::NfLink) as f64,
            "packets",
        ),
        (
            "drops_server_links",
            o.drops_of(Resource::ServerLinks) as f64,
            "packets",
        ),
        (
            "drops_input_ports",
            o.drops_of(Resource::InputPorts) as f64,
            "packets",
        ),
        (
            "drops_output_ports",
            o.drops_of(Resource::OutputPorts) as f64,
            "packets",
        ),
    ] {
        t.push(0, &k, m, v, u);
    }
}

fn series(
    pts: &[Point],
    mode: Mode,
    nf: &str,
    x: impl Fn(&Point) -> f64,
    y: impl Fn(&Point) -> f64,
) -> Series {
    Series {
        name: format!("ours: {} / {nf}", mode.name()),
        points: pts
            .iter()
            .filter(|p| p.mode == mode && p.nf == nf)
            .map(|p| (x(p), y(p)))
            .collect(),
        dashed: false,
    }
}

fn paper_series<T: Copy + Into<f64>>(name: &str, pts: &[(T, f64)]) -> Series {
    Series {
        name: format!("paper: {name}"),
        points: pts.iter().map(|&(x, y)| (x.into(), y)).collect(),
        dashed: true,
    }
}

fn find<'a>(
    pts: &'a [Point],
    mode: Mode,
    nf: &str,
    f: impl Fn(&Point) -> bool,
) -> Option<&'a Point> {
    pts.iter().find(|p| p.mode == mode && p.nf == nf && f(p))
}

fn gbps_bound(p: Option<&Point>) -> Value {
    p.map_or(Value::Null, |p| {
        json!({"gbps": round3(p.out.delivered_gbps), "mpps": round3(p.out.delivered_pps / 1e6),
               "bound": p.out.bound.name(), "model_bound": p.model.0.name()})
    })
}

pub fn run_e5(ctx: &Ctx) -> Result<Value> {
    let mut plan = plan(ctx.quick);
    plan.loads_mpps.sort_by(f64::total_cmp);
    let costs = cost::measure(ctx.quick, ctx.seed, ctx.reps)?;
    ribosome_config::outln!(
        "E5 measured NF cost per frame ({} frames, {} split headers, {} flows, mean {:.0} B): \
         chain {:.1} ns, Reframer + chain {:.1} ns, ribosome-nfhost (Reframer + contract) {:.1} ns",
        costs.frames,
        costs.headers,
        costs.flows,
        costs.mean_frame_bytes,
        costs.chain_ns,
        costs.reframer_chain_ns,
        costs.nfhost_ns
    );
    let nfs = variants(&costs);
    let mut r = Runner {
        plan: &plan,
        seed: ctx.seed,
        sizes: BTreeMap::new(),
    };
    let modes = [Mode::Ribosome, Mode::NfAlone];
    let total = 2 * nfs.len() * (plan.loads_mpps.len() + plan.frames.len()) + 3 * plan.cores.len();
    let mut prog = Progress::new("E5 cluster", total);
    let start = std::time::Instant::now();

    let mut load = Vec::new();
    for mode in modes {
        for nf in nfs {
            for &m in &plan.loads_mpps {
                load.push(r.point(mode, nf, CORES, FRAME, Some(m))?);
                prog.step(&format!("load {m} Mpps"));
            }
        }
    }
    let mut size = Vec::new();
    for mode in modes {
        for nf in nfs {
            for &f in &plan.frames {
                size.push(r.point(mode, nf, CORES, f, None)?);
                prog.step(&format!("size {f} B"));
            }
        }
    }
    let mut cores = Vec::new();
    for (mode, nf) in [
        (Mode::Ribosome, nfs[0]),
        (Mode::Ribosome, nfs[1]),
        (Mode::NfAlone, nfs[0]),
    ] {
        for &c in &plan.cores {
            cores.push(r.point(mode, nf, c, FRAME, None)?);
            prog.step(&format!("{c} cores"));
        }
    }
    prog.finish();
    let sim_s = start.elapsed().as_secs_f64();
    let events: u64 = load
        .iter()
        .chain(&size)
        .chain(&cores)
        .map(|p| p.out.events)
        .sum();

    for (name, pts) in [
        ("e5_cluster_load", &load),
        ("e5_cluster_size", &size),
        ("e5_cluster_cores", &cores),
    ] {
        let mut t = Table::new(name, ctx.seed, &PARAMS);
        for pt in pts.iter() {
            push(&mut t, pt);
        }
        t.write(&ctx.out)?;
    }
    let mut inputs = Table::new("e5_cluster_inputs", ctx.seed, &["what", "frame_b"]);
    for (m, v) in [
        ("nf_cost_chain", costs.chain_ns),
        ("nf_cost_reframer_chain", costs.reframer_chain_ns),
        ("nf_cost_nfhost", costs.nfhost_ns),
    ] {
        inputs.push(0, &[p("measured"), p("")], m, round3(v), "ns");
    }
    for (f, s) in &r.sizes {
        let k = [p("frame_sizes"), p(f)];
        for (m, v) in [
            ("split", u32::from(s.split)),
            ("write", s.write),
            ("header", s.header),
            ("read_req", s.read_req),
            ("read_resp", s.read_resp),
            ("ack", s.ack),
        ] {
            inputs.push(0, &k, m, f64::from(v), "bytes");
        }
    }
    inputs.write(&ctx.out)?;

    write_plots(ctx, &load, &size, &cores)?;

    let at_load = |mode, nf| {
        load.iter()
            .filter(|p| p.mode == mode && p.nf == nf)
            .max_by(|a, b| a.out.delivered_gbps.total_cmp(&b.out.delivered_gbps))
    };
    let rib = at_load(Mode::Ribosome, "chain");
    let alone = at_load(Mode::NfAlone, "chain");
    let ratio = match (rib, alone) {
        (Some(a), Some(b)) => a.out.delivered_gbps / b.out.delivered_gbps.max(1e-9),
        _ => f64::NAN,
    };
    let size_at = |mode, nf: &str, f: usize| gbps_bound(find(&size, mode, nf, |p| p.frame == f));
    // Smallest packet at which Ribosome reaches 90% of 300 Gb/s (the paper: ~384 B).
    let knee = size
        .iter()
        .filter(|p| p.mode == Mode::Ribosome && p.nf == "chain" && p.out.delivered_gbps >= 270.0)
        .map(|p| p.frame)
        .min();
    let cores_at =
        |nf: &str, c: usize| gbps_bound(find(&cores, Mode::Ribosome, nf, |p| p.cores == c));
    // The load point nearest to `gbps` offered (the paper's Fig 6 axis is 10-90 Gb/s).
    let lat_at = |mode, gbps: f64| {
        load.iter()
            .filter(|p| p.mode == mode && p.nf == "chain")
            .min_by(|a, b| {
                (a.out.offered_gbps - gbps)
                    .abs()
                    .total_cmp(&(b.out.offered_gbps - gbps).abs())
            })
            .map(|p| {
                let (g, l) = (round3(p.out.offered_gbps), round3(p.out.latency_p50_us));
                json!({"offered_gbps": g, "p50_us": l})
            })
    };
    let s1024 = r.sizes(FRAME)?;
    let c = &costs;
    let nf_cost = json!({
        "chain": round3(c.chain_ns), "reframer_chain": round3(c.reframer_chain_ns),
        "nfhost": round3(c.nfhost_ns), "frames": c.frames, "headers": c.headers,
        "flows": c.flows, "mean_frame_bytes": round3(c.mean_frame_bytes),
    });
    let frame_sizes = json!({
        "write": s1024.write, "header": s1024.header, "read_req": s1024.read_req,
        "read_resp": s1024.read_resp, "ack": s1024.ack, "wire_overhead": WIRE_OVERHEAD,
    });
    let (p_rib, p_alone) = (paper::E5_RIBOSOME_1KB_GBPS, paper::E5_NF_ALONE_1KB_GBPS);
    let load_1kb = json!({
        "ribosome_chain_max": gbps_bound(rib),
        "nf_alone_chain_max": gbps_bound(alone),
        "ribosome_reframer_chain_max": gbps_bound(at_load(Mode::Ribosome, "reframer_chain")),
        "ratio": round3(ratio),
        "paper": {"ribosome_gbps": p_rib, "nf_alone_gbps": p_alone, "ratio": round3(p_rib / p_alone)},
    });
    let by_size = json!({
        "ribosome_64": size_at(Mode::Ribosome, "chain", 64),
        "ribosome_384": size_at(Mode::Ribosome, "chain", 384),
        "ribosome_1024": size_at(Mode::Ribosome, "chain", 1024),
        "nf_alone_64": size_at(Mode::NfAlone, "chain", 64),
        "nf_alone_1024": size_at(Mode::NfAlone, "chain", 1024),
        "smallest_frame_at_270_gbps": knee,
    });
    let by_cores = |nf: &str| -> Vec<Value> {
        plan.cores
            .iter()
            .map(|&c| json!({"cores": c, "at": cores_at(nf, c)}))
            .collect()
    };
    let latency = json!({
        "ribosome_10g": lat_at(Mode::Ribosome, 10.0), "ribosome_90g": lat_at(Mode::Ribosome, 90.0),
        "nf_alone_10g": lat_at(Mode::NfAlone, 10.0), "nf_alone_90g": lat_at(Mode::NfAlone, 90.0),
    });
    let sim = json!({
        "points": load.len() + size.len() + cores.len(), "events": events,
        "wall_s": round3(sim_s), "duration_us": plan.duration_us, "warmup_us": plan.warmup_us,
    });
    Ok(json!({
        "nf_cost_ns": nf_cost,
        "frame_sizes_1024": frame_sizes,
        "cores_default": CORES,
        "load_1kb": load_1kb,
        "size": by_size,
        "cores": {"chain": by_cores("chain"), "reframer_chain": by_cores("reframer_chain")},
        "latency": latency,
        "sim": sim,
    }))
}

fn write_plots(ctx: &Ctx, load: &[Point], size: &[Point], cores: &[Point]) -> Result<()> {
    let nfs = ["chain", "reframer_chain"];
    let mut s: Vec<Series> = Vec::new();
    for mode in [Mode::Ribosome, Mode::NfAlone] {
        for nf in nfs {
            s.push(series(
                load,
                mode,
                nf,
                |p| p.offered_mpps,
                |p| p.out.delivered_gbps,
            ));
        }
    }
    let top = paper::E5_OFFERED_MAX_MPPS;
    s.push(paper_series(
        "Ribosome",
        &[(0.0, 0.0), (top, paper::E5_RIBOSOME_1KB_GBPS)],
    ));
    s.push(paper_series(
        "NF server alone",
        &[
            (0.0, 0.0),
            (paper::E5_NF_ALONE_1KB_MPPS, paper::E5_NF_ALONE_1KB_GBPS),
            (top, paper::E5_NF_ALONE_1KB_GBPS),
        ],
    ));
    let chart = |title: &str, x: &str, y: &str, series| Chart {
        title: title.into(),
        x_label: x.into(),
        y_label: y.into(),
        series,
    };
    plot::write(
        &chart(
            &format!("E5 (Fig 5): output vs offered load, {FRAME} B, {CORES} NF cores"),
            "offered (Mpps)",
            "output (Gb/s)",
            s,
        ),
        &ctx.out,
        "e5_cluster_load",
    )?;
    let mut s: Vec<Series> = Vec::new();
    for mode in [Mode::Ribosome, Mode::NfAlone] {
        for nf in nfs {
            s.push(series(
                size,
                mode,
                nf,
                |p| p.frame as f64,
                |p| p.out.delivered_gbps,
            ));
        }
    }
    s.push(paper_series("Ribosome", &paper::E5_SIZE_RIBOSOME));
    s.push(paper_series("NF server alone", &paper::E5_SIZE_NF_ALONE));
    plot::write(
        &chart(
            &format!(
                "E5 (Fig 7): output vs packet size, input ports at line rate, {CORES} NF cores"
            ),
            "packet (B)",
            "output (Gb/s)",
            s,
        ),
        &ctx.out,
        "e5_cluster_size",
    )?;
    let mut s = vec![
        series(
            cores,
            Mode::Ribosome,
            "chain",
            |p| p.cores as f64,
            |p| p.out.delivered_gbps,
        ),
        series(
            cores,
            Mode::Ribosome,
            "reframer_chain",
            |p| p.cores as f64,
            |p| p.out.delivered_gbps,
        ),
        series(
            cores,
            Mode::NfAlone,
            "chain",
            |p| p.cores as f64,
            |p| p.out.delivered_gbps,
        ),
    ];
    s.push(paper_series(
        "Ribosome, LB / rate limiter",
        &paper::E5_CORES_LB,
    ));
    s.push(paper_series(
        "Ribosome, advanced scheduler",
        &paper::E5_CORES_SCHEDULER,
    ));
    plot::write(
        &chart(
            &format!("E5 (Fig 8): output vs NF cores, {FRAME} B at input line rate"),
            "NF cores",
            "output (Gb/s)",
            s,
        ),
        &ctx.out,
        "e5_cluster_cores",
    )?;
    let lat = |mode| {
        let mut v = series(
            load,
            mode,
            "chain",
            |p| p.out.offered_gbps,
            |p| p.out.latency_p50_us,
        );
        v.points.retain(|p| p.0 <= 100.0 && p.1.is_finite());
        v
    };
    let s = vec![
        lat(Mode::Ribosome),
        lat(Mode::NfAlone),
        paper_series("Ribosome", &paper::E5_LAT_RIBOSOME),
        paper_series("NF server alone", &paper::E5_LAT_NF_ALONE),
    ];
    plot::write(
        &chart(
            "E5 (Fig 6): median latency vs offered load (model: no host stack)",
            "offered (Gb/s)",
            "median latency (µs)",
            s,
        ),
        &ctx.out,
        "e5_cluster_latency",
    )
}
