//! A worker between two in-memory ports forwards every frame with per-flow order kept and
//! recycled buffers, and one-armed under the NF contract returns every frame on its port with
//! MACs swapped and trailers intact (no root needed). The shipped `configs/inline-*.toml` are
//! checked through the `reframer` binary (`reframer/cli/tests/live_testbed.rs`).

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use reframer_core::frames::FrameSpec;
use reframer_io::{mem::MemPort, Port};
use reframer_live::{run_worker, NfCounts, Passthrough, WorkerGauges, WorkerParams, WorkerResult};

/// UDP/IPv4 frame of flow `flow` (source port 10000 + flow) carrying `seq`, 64 bytes.
fn udp(flow: u16, seq: u32) -> Vec<u8> {
    FrameSpec::numbered_flow(flow, 22).tagged(seq).build()
}

#[test]
fn worker_forwards_everything_in_flow_order_and_recycles_buffers() {
    // 97 flows round-robin, 40 frames each; the source loops, so send exactly one pass.
    let frames: Vec<Vec<u8>> = (0..40u32)
        .flat_map(|s| (0..97u16).map(move |f| udp(f, s)))
        .collect();
    let n = frames.len() as u64;
    let a: Box<dyn Port> = Box::new(MemPort::new("a", frames.clone(), n, 0));
    let b = MemPort::new("b", Vec::new(), 0, frames.len());
    let (r, out) = run_until_sent(vec![a], b, Passthrough::BToA, false, n);
    assert_eq!(r.ports[1].tx_packets, n);
    assert_eq!(r.unsent_at_exit, 0);
    assert_eq!(r.stats.packets_in, n);
    assert!(
        r.stats.bursts > 0 && r.stats.bursts < n,
        "bursts {}",
        r.stats.bursts
    );
    let key = |f: &Vec<u8>| (f[34..36].to_vec(), f[42..46].to_vec());
    let mut last: std::collections::HashMap<Vec<u8>, Vec<u8>> = Default::default();
    for f in &out {
        let (flow, seq) = key(f);
        if let Some(prev) = last.insert(flow.clone(), seq.clone()) {
            assert!(prev < seq, "flow {flow:?} reordered");
        }
    }
    assert_eq!(out.len() as u64, n);
    // Buffers are recycled: far fewer than one per packet once the pool is warm.
    assert!(
        r.frames_allocated <= 4096 + 1024,
        "allocated {}",
        r.frames_allocated
    );
}

/// A split header copy as the switch sends it to the NF port: the split flag in the source
/// MAC, the UDP header, then a trailer (the IPv4 total length covering it).
fn split_header(flow: u16, seq: u32) -> Vec<u8> {
    let mut f = udp(flow, seq);
    f.truncate(14 + 20 + 8);
    f[11] = ribosome_wire::SPLIT_FLAG;
    let t = ribosome_wire::SplitTrailer {
        remote_va: u64::from(seq) << 12,
        length: 1000,
        qp_index: flow,
        server_index: 1,
        pad_count: 0,
        header_slot: seq as u16,
        generation: Some(seq),
    };
    t.write_to(&mut f);
    let total = (20 + 8 + t.len()) as u16;
    f[16..18].copy_from_slice(&total.to_be_bytes());
    f
}

#[test]
fn one_armed_nf_host_returns_every_frame_under_the_nf_contract_in_flow_order() {
    // 31 flows; split headers and whole packets interleaved, 20 rounds.
    let frames: Vec<Vec<u8>> = (0..20u32)
        .flat_map(|s| {
            (0..31u16).map(move |f| {
                if f % 3 == 0 {
                    let mut w = udp(f, s);
                    w[11] = 0; // whole: no split flag
                    w
                } else {
                    split_header(f, s)
                }
            })
        })
        .collect();
    let n = frames.len() as u64;
    let whole = frames
        .iter()
        .filter(|f| f[11] != ribosome_wire::SPLIT_FLAG)
        .count() as u64;
    let port = MemPort::new("nf", frames.clone(), n, frames.len());
    let (r, out) = run_until_sent(Vec::new(), port, Passthrough::None, true, n);
    assert_eq!(
        r.nf,
        NfCounts {
            split: n - whole,
            whole
        }
    );
    assert_eq!((r.ports[0].rx_packets, r.ports[0].tx_packets), (n, n));
    assert_eq!(
        (r.ports[1].rx_packets, r.ports[1].tx_packets),
        (0, 0),
        "one-armed: no port B"
    );
    assert_eq!(r.unsent_at_exit, 0);
    assert!(
        r.stats.bursts > 0 && r.stats.bursts < n,
        "bursts {}",
        r.stats.bursts
    );
    // Every frame came back once, MACs swapped, everything after them byte for byte, each
    // flow in its order.
    assert_eq!(out.len() as u64, n);
    let mut back: std::collections::HashMap<Vec<u8>, Vec<Vec<u8>>> = Default::default();
    for f in &out {
        back.entry(f[34..36].to_vec()).or_default().push(f.clone());
    }
    let mut sent: std::collections::HashMap<Vec<u8>, Vec<Vec<u8>>> = Default::default();
    for f in &frames {
        let mut e = f.clone();
        ribosome_wire::swap_macs(&mut e);
        sent.entry(f[34..36].to_vec()).or_default().push(e);
    }
    assert_eq!(back, sent);
}

/// Runs a worker on `ports` plus `last` (whose sent frames are returned) until `n` frames
/// have left (10 s at most), then stops it.
fn run_until_sent(
    mut ports: Vec<Box<dyn Port>>,
    last: MemPort,
    passthrough: Passthrough,
    nf_contract: bool,
    n: u64,
) -> (WorkerResult, Vec<Vec<u8>>) {
    let params = WorkerParams {
        sched: reframer_core::Config {
            delay_ns: 200_000,
            ..Default::default()
        },
        passthrough,
        rx_burst: 32,
        frame_bytes: 2048,
        idle_spin: Duration::from_micros(50),
        drain_timeout: Duration::from_secs(1),
        nf_contract,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let g = Arc::new(WorkerGauges::default());
    let (s2, g2) = (Arc::clone(&stop), Arc::clone(&g));
    // The worker owns the ports; read the last one's frames back through a channel at the end.
    let (tx, rx) = std::sync::mpsc::channel();
    let h = std::thread::spawn(move || {
        let (p, sent) = shared_mem(last);
        ports.push(p);
        let r = run_worker(ports, &params, &s2, &g2).unwrap();
        tx.send(sent()).unwrap();
        r
    });
    let t0 = Instant::now();
    while g.tx_packets.load(Ordering::Relaxed) < n && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::Relaxed);
    let r = h.join().unwrap();
    (r, rx.recv().unwrap())
}

/// Wraps a MemPort so its sent frames can be taken after the worker returns.
fn shared_mem(p: MemPort) -> (Box<dyn Port>, impl FnOnce() -> Vec<Vec<u8>>) {
    use std::sync::Mutex;
    #[derive(Debug)]
    struct Shared(Arc<Mutex<MemPort>>);
    impl reframer_io::RxPort for Shared {
        fn rx_burst(
            &mut self,
            pool: &mut reframer_io::FramePool,
            out: &mut Vec<reframer_io::Frame>,
            max: usize,
        ) -> std::io::Result<usize> {
            self.0.lock().unwrap().rx_burst(pool, out, max)
        }
        fn rx_fd(&self) -> Option<std::os::fd::RawFd> {
            None
        }
    }
    impl reframer_io::TxPort for Shared {
        fn tx_burst(
            &mut self,
            frames: &mut Vec<reframer_io::Frame>,
            pool: &mut reframer_io::FramePool,
        ) -> std::io::Result<usize> {
            self.0.lock().unwrap().tx_burst(frames, pool)
        }
    }
    impl Port for Shared {
        fn name(&self) -> &str {
            "shared"
        }
        fn counters(&mut self) -> reframer_io::PortCounters {
            self.0.lock().unwrap().counters()
        }
    }
    let arc = Arc::new(Mutex::new(p));
    let arc2 = Arc::clone(&arc);
    (Box::new(Shared(arc)), move || {
        arc2.lock().unwrap().sent.iter().cloned().collect()
    })
}
