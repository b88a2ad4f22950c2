//! In-memory cost of the live datapath: a worker moving frames from one `MemPort` to another
//! (copy in, optional scheduler, copy out, buffer recycling), on the real clock.
//! `cargo bench -p reframer-live --bench port_layer` prints Mpps and ns/packet, median of 5.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use reframer_core::frames::FrameSpec;
use reframer_core::Config;
use reframer_io::{mem::MemPort, Port};
use reframer_live::{run_worker, Passthrough, WorkerGauges, WorkerParams};

/// 64-byte UDP/IPv4 frames, round-robin over `flows` flows (worst-case locality).
fn frames(flows: u16) -> Vec<Vec<u8>> {
    (0..flows)
        .map(|fl| FrameSpec::numbered_flow(fl, 22).build())
        .collect()
}

fn once(n: u64, flows: u16, sched: Option<u64>, nf_contract: bool) -> f64 {
    let a: Box<dyn Port> = Box::new(MemPort::new("a", frames(flows), n, 0));
    let b: Box<dyn Port> = Box::new(MemPort::new("b", Vec::new(), 0, 0));
    let params = WorkerParams {
        sched: Config {
            delay_ns: sched.unwrap_or(0),
            ..Default::default()
        },
        passthrough: if sched.is_some() {
            Passthrough::None
        } else {
            Passthrough::AToB
        },
        rx_burst: 64,
        frame_bytes: 2048,
        idle_spin: Duration::from_millis(10),
        drain_timeout: Duration::from_secs(1),
        nf_contract,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let g = Arc::new(WorkerGauges::default());
    let (s2, g2) = (Arc::clone(&stop), Arc::clone(&g));
    let t0 = Instant::now();
    let h = std::thread::spawn(move || run_worker(vec![a, b], &params, &s2, &g2).unwrap());
    while g.tx_packets.load(Ordering::Relaxed) < n && t0.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_micros(200));
    }
    let dt = t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let r = h.join().unwrap();
    assert_eq!(r.ports[1].tx_packets, n, "every frame left");
    n as f64 / dt / 1e6
}

fn main() {
    let n = 4_000_000;
    println!("port layer, in memory: {n} x 64 B frames, 1 worker, median of 5 runs");
    let mut base = 0.0;
    for (label, flows, sched, nf) in [
        ("mem rx -> mem tx (no scheduler)", 1000, None, false),
        (
            "mem rx -> scheduler T=0 -> mem tx, 1k flows",
            1000,
            Some(0),
            false,
        ),
        (
            "mem rx -> scheduler T=64us -> mem tx, 1k flows",
            1000,
            Some(64_000),
            false,
        ),
        (
            "mem rx -> scheduler T=64us -> mem tx, 50k flows",
            50_000,
            Some(64_000),
            false,
        ),
        (
            "... the same under the NF contract (--ribosome)",
            50_000,
            Some(64_000),
            true,
        ),
    ] {
        let mut v: Vec<f64> = (0..5).map(|_| once(n, flows, sched, nf)).collect();
        v.sort_by(f64::total_cmp);
        let m = v[2];
        if sched.is_none() {
            base = m;
        }
        println!(
            "{label:50} {m:6.2} Mpps  {:6.1} ns/pkt  ({:.2}x the port layer alone)",
            1e3 / m,
            m / base
        );
    }
}
