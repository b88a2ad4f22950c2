//! In-memory cost of the live datapath: a worker moving frames from one `MemPort` to another
//! (copy in, optional scheduler, copy out, buffer recycling), on the real clock.
//! `cargo bench -p reframer-live --bench port_layer` prints Mpps and ns/packet, median of 5; the
//! rate is taken between two of the worker's TX-count publications (see `once`).

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
    // The worker publishes its TX count every 20 ms, so timing "until it reads n" is off by
    // up to 20 ms in a ~200 ms run (rates came out in steps of ~10%). The rate is taken
    // between two publications instead, each seen within the 200 µs poll: the first past a
    // tenth of the frames (start-up excluded) and the last before all had left (the one at
    // `n` may come after idle time).
    let (mut seen, mut first, mut last) = (0, None, None);
    while seen < n && t0.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_micros(200));
        let tx = g.tx_packets.load(Ordering::Relaxed);
        if tx != seen {
            seen = tx;
            let at = (Instant::now(), tx);
            if first.is_none() && tx >= n / 10 {
                first = Some(at);
            } else if first.is_some() && tx < n {
                last = Some(at);
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let r = h.join().unwrap();
    assert_eq!(r.ports[1].tx_packets, n, "every frame left");
    let ((t1, x1), (t2, x2)) = (
        first.expect("a publication past a tenth"),
        last.expect("a later publication"),
    );
    (x2 - x1) as f64 / (t2 - t1).as_secs_f64() / 1e6
}

fn main() {
    let n = 8_000_000;
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
