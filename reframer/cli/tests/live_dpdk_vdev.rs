//! DPDK ports without hardware (feature `dpdk`): net_pcap and net_ring vdevs under
//! `--no-huge --no-pci --no-shconf`, so tests run anywhere and in parallel.
#![cfg(feature = "dpdk")]

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
};

use reframer_core::frames::FrameSpec;
use reframer_core::{Config, Scheduler};
use reframer_io::pcap::{PcapReader, PcapWriter};

const EAL: &str = "--no-huge --no-pci --no-shconf -m 256 -l 0 --no-telemetry";

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("reframer-dpdk-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// Writes a pcap of `frames` 1 µs apart with reframer-io's writer.
fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
    let mut w = PcapWriter::create(path).unwrap();
    for (i, f) in frames.iter().enumerate() {
        w.write(i as u64 * 1_000, f).unwrap();
    }
    w.finish().unwrap();
}

fn read_pcap(path: &Path) -> Vec<Vec<u8>> {
    let mut r = PcapReader::open(path).unwrap();
    let mut out = Vec::new();
    let mut f = Vec::new();
    while r.next_into(&mut f).unwrap().is_some() {
        out.push(f.clone());
    }
    out
}

/// UDP/IPv4 frame of flow `flow` (source port 10000 + flow) carrying `seq`.
fn udp(flow: u16, seq: u32) -> Vec<u8> {
    FrameSpec::numbered_flow(flow, 26).tagged(seq).build()
}

/// Frames grouped by flow (UDP source port), each flow's frames in order.
fn per_flow(frames: &[Vec<u8>]) -> BTreeMap<Vec<u8>, Vec<Vec<u8>>> {
    let mut m: BTreeMap<Vec<u8>, Vec<Vec<u8>>> = BTreeMap::new();
    for f in frames {
        m.entry(f[34..36].to_vec()).or_default().push(f.clone());
    }
    m
}

/// What the offline mode produces: the core scheduler over the input, on the pcap clock.
fn offline(frames: &[Vec<u8>], delay_ns: u64) -> Vec<Vec<u8>> {
    let mut s: Scheduler<Vec<u8>> = Scheduler::new(Config {
        delay_ns,
        ..Default::default()
    })
    .unwrap();
    let mut out = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        s.push(f.clone(), i as u64 * 1000);
        while s.pop_tx_batch(&mut out) > 0 {}
    }
    s.shutdown(frames.len() as u64 * 1000);
    while s.pop_tx_batch(&mut out) > 0 {}
    out
}

fn run_live(
    ports: [&str; 2],
    vdevs: &str,
    secs: &str,
) -> (std::process::Output, serde_json::Value) {
    run_reframer(&ports, &[], vdevs, secs, false)
}

/// Runs `reframer --port P ... EXTRA`, with the EAL arguments as `--dpdk-args` or after `--`
/// (both README forms), and returns its output and summary.
fn run_reframer(
    ports: &[&str],
    extra: &[&str],
    vdevs: &str,
    secs: &str,
    eal_after_dashes: bool,
) -> (std::process::Output, serde_json::Value) {
    // One file per run: the tests of this file run in parallel threads of one process.
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let json = tmp(&format!("sum-{run}.json"));
    let mut c = Command::new(env!("CARGO_BIN_EXE_reframer"));
    for p in ports {
        c.args(["--port", p]);
    }
    c.args(["--duration", secs, "--delay-us", "64", "--quiet-stats"])
        .args(extra)
        .arg("--summary-json")
        .arg(&json);
    let eal = format!("{EAL} {vdevs}");
    if eal_after_dashes {
        c.arg("--").args(eal.split_whitespace());
    } else {
        c.arg("--dpdk-args").arg(eal);
    }
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "reframer failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    (o, v)
}

fn input() -> Vec<Vec<u8>> {
    (0..3000u32).map(|i| udp((i % 37) as u16, i / 37)).collect()
}

#[test]
fn net_pcap_in_and_out_gives_the_offline_modes_packets() {
    let frames = input();
    let (inp, empty, out0, out1) = (
        tmp("in.pcap"),
        tmp("empty.pcap"),
        tmp("out0.pcap"),
        tmp("out1.pcap"),
    );
    write_pcap(&inp, &frames);
    write_pcap(&empty, &[]);
    let vdevs = format!(
        "--vdev=net_pcap0,rx_pcap={},tx_pcap={} --vdev=net_pcap1,rx_pcap={},tx_pcap={}",
        inp.display(),
        out0.display(),
        empty.display(),
        out1.display()
    );
    let (o, sum) = run_live(["dpdk:net_pcap0", "dpdk:net_pcap1"], &vdevs, "1.5");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.starts_with("EVENT REFRAMER_READY\n"), "{stdout}");
    assert!(stdout.contains("RESULT-TX-PACKETS 3000\n"), "{stdout}");
    let live = read_pcap(&out1);
    let off = offline(&frames, 64_000);
    assert_eq!(
        live.len(),
        off.len(),
        "live forwarded {} of {} frames: {sum}",
        live.len(),
        off.len()
    );
    // Same packets, same order within every flow (the interleaving across flows depends on
    // the clock: packet timestamps offline, the real clock live).
    assert_eq!(per_flow(&live), per_flow(&off));
    assert_eq!(per_flow(&live), per_flow(&frames));
    assert!(
        read_pcap(&out0).is_empty(),
        "nothing goes back towards port A"
    );
}

#[test]
fn net_ring_loopback_carries_both_directions() {
    let frames = input();
    let (inp, out0) = (tmp("in-ring.pcap"), tmp("out0-ring.pcap"));
    write_pcap(&inp, &frames);
    // A -> scheduler -> ring (loops back) -> scheduler -> A's tx file.
    let vdevs = format!(
        "--vdev=net_pcap0,rx_pcap={},tx_pcap={} --vdev=net_ring0",
        inp.display(),
        out0.display()
    );
    let (_, sum) = run_live(["dpdk:net_pcap0", "dpdk:net_ring0"], &vdevs, "1.5");
    let back = read_pcap(&out0);
    assert_eq!(back.len(), frames.len(), "{sum}");
    assert_eq!(per_flow(&back), per_flow(&frames));
    assert_eq!(sum["live"]["port_b"]["rx_packets"], 3000);
    assert_eq!(sum["live"]["drops_total"], 0);
}

/// The live NF host one-armed (`reframer --ribosome --port dpdk:X -- EAL...`): every frame
/// comes back on its port under the NF contract (MACs swapped, trailer and lengths intact),
/// each flow in order, split headers and whole packets counted.
#[test]
fn one_armed_nf_host_returns_every_frame_under_the_nf_contract() {
    let frames: Vec<Vec<u8>> = input()
        .into_iter()
        .enumerate()
        .map(|(i, mut f)| {
            if i % 4 == 0 {
                f[11] = 0; // a whole packet
                return f;
            }
            // A split header copy: the flag (already f[11]), the UDP header, the trailer.
            f.truncate(14 + 20 + 8);
            let t = ribosome_wire::SplitTrailer {
                remote_va: (i as u64) << 12,
                length: 1000,
                qp_index: 1,
                server_index: 0,
                pad_count: 0,
                header_slot: i as u16,
                generation: Some(i as u32),
            };
            t.write_to(&mut f);
            let total = (20 + 8 + t.len()) as u16;
            f[16..18].copy_from_slice(&total.to_be_bytes());
            f
        })
        .collect();
    assert_eq!(frames[1][11], ribosome_wire::SPLIT_FLAG);
    let (inp, out) = (tmp("nf-in.pcap"), tmp("nf-out.pcap"));
    write_pcap(&inp, &frames);
    let vdevs = format!(
        "--vdev=net_pcap0,rx_pcap={},tx_pcap={}",
        inp.display(),
        out.display()
    );
    let (_, sum) = run_reframer(
        &["dpdk:net_pcap0"],
        &["--ribosome", "--max-burst", "32"],
        &vdevs,
        "1.5",
        true,
    );
    let back = read_pcap(&out);
    assert_eq!(back.len(), frames.len(), "{sum}");
    let expected: Vec<Vec<u8>> = frames
        .iter()
        .map(|f| {
            let mut e = f.clone();
            ribosome_wire::swap_macs(&mut e);
            e
        })
        .collect();
    assert_eq!(per_flow(&back), per_flow(&expected));
    let whole = frames.len().div_ceil(4) as u64;
    assert_eq!(sum["ribosome_whole_packets"], whole, "{sum}");
    assert_eq!(
        sum["ribosome_split_headers"],
        frames.len() as u64 - whole,
        "{sum}"
    );
    assert_eq!(sum["live"]["drops_total"], 0, "{sum}");
    assert!(sum["live"].get("port_b").is_none(), "one-armed: {sum}");
}

/// Runs the binary on ports that cannot start: (exit status, stderr, its last line). DPDK's
/// EAL logs on its own before our one error line, which comes last.
fn failed_start(args: &[&str]) -> (Option<i32>, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_reframer"))
        .args(args)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr).into_owned();
    let last = e.lines().last().unwrap_or_default().to_owned();
    assert!(last.starts_with("reframer: error: "), "{e}");
    (o.status.code(), e, last)
}

#[test]
fn bad_eal_arguments_are_one_clear_error() {
    let (code, e, last) = failed_start(&[
        "--port",
        "dpdk:0",
        "--port",
        "dpdk:1",
        "--dpdk-args",
        "--no-huge --no-shconf --definitely-not-an-eal-flag",
    ]);
    assert!(last.contains("EAL"), "{e}");
    assert_eq!(
        code,
        Some(1),
        "EAL refusing its arguments is a runtime failure"
    );
}

#[test]
fn unknown_dpdk_port_names_the_port() {
    let eal = format!("{EAL} --vdev=net_ring0");
    let (_, e, last) = failed_start(&[
        "--port",
        "dpdk:net_ring0",
        "--port",
        "dpdk:nope0",
        "--dpdk-args",
        &eal,
    ]);
    assert!(last.contains("dpdk:nope0"), "{e}");
}
