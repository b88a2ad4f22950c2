//! Soft responder throughput in-process: WRITE Only and READ (request in, response out, ICRC
//! computed on every reply and, where stated, verified on every request), against a plain
//! memcpy of the same payload bytes in the same run. Prints medians of 5 runs.
//!
//! `cargo bench -p ribosome-rnic --bench soft_responder`

use ribosome_rnic::soft::{SoftConfig, SoftRnic};
use ribosome_rnic::RdmaTransport;
use ribosome_wire::{Bth, MacAddr, Opcode, Reth, RoceSpec};
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

const SRV_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x10]);
const SRV_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 40, 1);
const RING: usize = 512;
const REGION: usize = 64 << 20;
const RUN: Duration = Duration::from_millis(250);

struct Rig {
    rnic: SoftRnic,
    qpn: u32,
    va: u64,
    rkey: u32,
}

fn rig(verify_icrc: bool) -> Rig {
    let mut cfg = SoftConfig::new(SRV_MAC, SRV_IP);
    cfg.verify_icrc = verify_icrc;
    let mut rnic = SoftRnic::new(cfg);
    let mem = rnic.register_memory(REGION as u64).unwrap();
    let qpn = rnic.create_qp(1).unwrap();
    Rig {
        rnic,
        qpn,
        va: mem.va,
        rkey: mem.rkey,
    }
}

fn frames(r: &Rig, op: Opcode, size: usize) -> Vec<Vec<u8>> {
    let payload = vec![0xabu8; size];
    (0..RING)
        .map(|i| {
            let reth = Reth {
                va: r.va + (i * size) as u64 % (REGION - size) as u64,
                rkey: r.rkey,
                dma_len: size as u32,
            };
            let body: &[u8] = if op == Opcode::READ_REQUEST {
                &[]
            } else {
                &payload
            };
            let step = if op == Opcode::READ_REQUEST {
                size.div_ceil(4096).max(1)
            } else {
                1
            };
            RoceSpec {
                src_mac: MacAddr([0, 0, 0, 0, 0, 1]),
                dst_mac: SRV_MAC,
                src_ip: Ipv4Addr::new(192, 168, 40, 254),
                dst_ip: SRV_IP,
                ip_ident: i as u16,
                tos: 0,
                ttl: 64,
                udp_src_port: 0,
                bth: Bth::new(op, r.qpn, (i * step) as u32, true),
                reth: Some(reth),
                aeth: None,
            }
            .to_bytes(body, true)
            .unwrap()
        })
        .collect()
}

/// Ops per second of one timed run.
fn run_responder(r: &mut Rig, frames: &[Vec<u8>]) -> f64 {
    let mut out = Vec::with_capacity(4200);
    let mut ops = 0u64;
    let t0 = Instant::now();
    while t0.elapsed() < RUN {
        r.rnic.set_expected_psn(r.qpn, 0);
        for f in frames {
            r.rnic.handle_frame(f);
            while r.rnic.poll_transmit(&mut out) {
                black_box(&out);
            }
        }
        ops += frames.len() as u64;
    }
    ops as f64 / t0.elapsed().as_secs_f64()
}

fn run_memcpy(size: usize) -> f64 {
    let src = vec![0xabu8; size];
    let mut dst = vec![0u8; REGION];
    let mut ops = 0u64;
    let t0 = Instant::now();
    while t0.elapsed() < RUN {
        for i in 0..RING {
            let off = (i * size) % (REGION - size);
            dst[off..off + size].copy_from_slice(black_box(&src));
        }
        black_box(&dst);
        ops += RING as u64;
    }
    ops as f64 / t0.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!("soft responder, in-process, 1 QP, medians of 5 x {RUN:?}; Gbps = payload bits");
    println!(
        "{:<26} {:>7} {:>12} {:>9} {:>9} {:>10}",
        "case", "bytes", "ops/s", "Gbps", "ns/op", "x memcpy"
    );
    for size in [64usize, 1024, 4096] {
        let copy = median((0..5).map(|_| run_memcpy(size)).collect());
        let line = |name: &str, ops: f64| {
            println!(
                "{:<26} {:>7} {:>12.0} {:>9.2} {:>9.1} {:>10.1}",
                name,
                size,
                ops,
                ops * size as f64 * 8.0 / 1e9,
                1e9 / ops,
                copy / ops
            );
        };
        line("memcpy (baseline)", copy);
        for (name, op, verify) in [
            ("WRITE Only + ACK, ICRC chk", Opcode::WRITE_ONLY, true),
            ("WRITE Only + ACK, no chk", Opcode::WRITE_ONLY, false),
            ("READ req + response", Opcode::READ_REQUEST, true),
        ] {
            let mut r = rig(verify);
            let f = frames(&r, op, size);
            let ops = median((0..5).map(|_| run_responder(&mut r, &f)).collect());
            let c = r.rnic.counters();
            assert!(
                c.naks_remote_access + c.naks_invalid_request + c.psn_gap_naks + c.icrc_bad == 0,
                "{c:?}"
            );
            line(name, ops);
        }
    }
}
