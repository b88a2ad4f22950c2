//! End-to-end tests of the `reframer` binary on pcap files the tests write themselves.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use reframer_core::frames::FrameSpec;
use reframer_io::pcap::{PcapReader, PcapWriter};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_reframer"))
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("reframer-e2e-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Interleaved UDP/TCP flows, ~2 Mpps, each packet carrying (flow, index) in its payload.
fn write_trace(path: &Path, flows: u32, per_flow: u32) -> Vec<(u64, Vec<u8>)> {
    let mut pkts = Vec::new();
    let mut t = 1_000_000_000u64;
    for i in 0..per_flow {
        for f in 0..flows {
            let src = IpAddr::V4(Ipv4Addr::new(10, 1, (f >> 8) as u8, f as u8));
            let dst = IpAddr::V4(Ipv4Addr::new(10, 2, 0, 1));
            let mut payload = f.to_be_bytes().to_vec();
            payload.extend_from_slice(&i.to_be_bytes());
            let spec = if f % 2 == 0 {
                let mut s = FrameSpec::udp(src, dst, 5000, 53, 0);
                s.payload = payload;
                s
            } else {
                FrameSpec::tcp(src, dst, 40000, 80, i * 8, 1, 0x18, &payload)
            };
            pkts.push((t, spec.build()));
            t += 500 + u64::from((f * 7 + i) % 3) * 100;
        }
    }
    let mut w = PcapWriter::create(path).unwrap();
    for (t, f) in &pkts {
        w.write(*t, f).unwrap();
    }
    w.finish().unwrap();
    pkts
}

fn read_all(path: &Path) -> Vec<(u64, Vec<u8>)> {
    let mut r = PcapReader::open(path).unwrap();
    let mut out = Vec::new();
    let mut b = Vec::new();
    while let Some(t) = r.next_into(&mut b).unwrap() {
        out.push((t, b.clone()));
    }
    out
}

fn tag(frame: &[u8]) -> (u32, u32) {
    let p = &frame[frame.len() - 8..];
    (
        u32::from_be_bytes(p[0..4].try_into().unwrap()),
        u32::from_be_bytes(p[4..8].try_into().unwrap()),
    )
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn offline_run_keeps_every_packet_in_flow_order_within_the_window() {
    let d = tmpdir("run");
    let (inp, out, js) = (d.join("in.pcap"), d.join("out.pcap"), d.join("s.json"));
    let input = write_trace(&inp, 50, 40);
    let o = bin()
        .args(["--input", &format!("pcap:{}", inp.display())])
        .args(["--output", &format!("pcap:{}", out.display())])
        .args(["--delay-us", "64", "--summary-json", js.to_str().unwrap()])
        .output()
        .unwrap();
    ok(&o);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("SLF in"),
        "human summary on stderr: {stderr}"
    );

    let output = read_all(&out);
    assert_eq!(output.len(), input.len(), "no packet lost or duplicated");
    let sent_at: HashMap<(u32, u32), u64> = input.iter().map(|(t, f)| (tag(f), *t)).collect();
    let mut last: HashMap<u32, u32> = HashMap::new();
    let mut prev_t = 0;
    for (t, f) in &output {
        let (flow, i) = tag(f);
        let t_in = sent_at[&(flow, i)];
        assert!(*t >= t_in && *t - t_in <= 64_000, "held {} ns", t - t_in);
        assert!(*t >= prev_t, "output timestamps are monotonic");
        prev_t = *t;
        if let Some(p) = last.insert(flow, i) {
            assert!(i > p, "flow {flow}: {i} after {p}");
        }
    }
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&js).unwrap()).unwrap();
    for k in [
        "packets_in",
        "packets_out",
        "bypassed",
        "dropped",
        "flows",
        "slf_in",
        "slf_out",
        "hold_us_p50",
        "hold_us_p99",
        "hold_us_max",
    ] {
        assert!(j.get(k).is_some(), "summary has {k}: {j}");
    }
    assert_eq!(j["packets_in"], 2000);
    assert_eq!(j["packets_out"], 2000);
    assert_eq!(j["flows"], 50);
    assert_eq!(j["dropped"], 0);
    assert!(
        j["slf_out"].as_f64().unwrap() > 2.0 * j["slf_in"].as_f64().unwrap(),
        "{j}"
    );
    assert!(j["hold_us_max"].as_f64().unwrap() <= 64.0);

    // Deterministic: the same input and settings give the same bytes.
    let out2 = d.join("out2.pcap");
    ok(&bin()
        .args([
            "--input",
            inp.to_str().unwrap(),
            "--output",
            out2.to_str().unwrap(),
        ])
        .args(["--delay-us", "64", "-q"])
        .output()
        .unwrap());
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&out2).unwrap());
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn microsecond_input_and_config_file() {
    let d = tmpdir("us");
    let inp = d.join("in.pcap");
    // A microsecond pcap written by hand: two packets of one flow 10 µs apart.
    let f = FrameSpec::udp(
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        1,
        2,
        4,
    )
    .build();
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&0xA1B2_C3D4u32.to_le_bytes());
    bytes.extend_from_slice(&[
        2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 1, 0, 0, 0,
    ]);
    for (i, us) in [(0u32, 5u32), (1, 15), (2, 17)] {
        let _ = i;
        bytes.extend_from_slice(&3u32.to_le_bytes());
        bytes.extend_from_slice(&us.to_le_bytes());
        bytes.extend_from_slice(&(f.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&(f.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&f);
    }
    std::fs::write(&inp, bytes).unwrap();
    let cfg = d.join("c.toml");
    std::fs::write(
        &cfg,
        format!(
            "[scheduler]\ndelay_us = 100\n[offline]\ninput = \"pcap:{}\"\noutput = \"pcap:{}\"\n",
            inp.display(),
            d.join("out.pcap").display()
        ),
    )
    .unwrap();
    ok(&bin()
        .args(["-c", cfg.to_str().unwrap(), "-q"])
        .output()
        .unwrap());
    let out = read_all(&d.join("out.pcap"));
    let times: Vec<u64> = out.iter().map(|(t, _)| *t).collect();
    // First packet bypasses; the other two leave together at 15 µs + 100 µs.
    assert_eq!(times, vec![3_000_005_000, 3_000_115_000, 3_000_115_000]);
    std::fs::remove_dir_all(d).unwrap();
}

fn fails_with(args: &[&str], needle: &str) {
    fails_with_code(args, needle, 2);
}

/// Fails with exit `code` (2: usage or configuration, 1: runtime) and one line naming `needle`.
fn fails_with_code(args: &[&str], needle: &str, code: i32) {
    let o = bin().args(args).output().unwrap();
    assert_eq!(o.status.code(), Some(code), "{args:?}: {o:?}");
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains(needle),
        "{args:?}: stderr `{e}` lacks `{needle}`"
    );
    assert_eq!(e.trim().lines().count(), 1, "one line: {e}");
}

#[test]
fn bad_input_flags_and_configs_get_one_clear_line() {
    let d = tmpdir("bad");
    let missing = d.join("missing.pcap");
    let out = d.join("o.pcap");
    fails_with_code(
        &[
            "--input",
            missing.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ],
        "missing.pcap",
        1,
    );
    let junk = d.join("junk.pcap");
    std::fs::write(&junk, b"this is not a pcap at all").unwrap();
    fails_with_code(
        &[
            "--input",
            junk.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ],
        "bad magic",
        1,
    );
    fails_with(
        &["--input", "tap:x", "--output", out.to_str().unwrap()],
        "unknown kind `tap`",
    );
    fails_with(&["--max-burst", "0", "--check"], "--max-burst");
    fails_with(&["--priority", "loud", "--check"], "priority");
    fails_with(&["--delay-us=-3", "--check"], "delay_us");
    let cfg = d.join("bad.toml");
    std::fs::write(&cfg, "[scheduler]\ndelay = 64\n").unwrap();
    fails_with(
        &["-c", cfg.to_str().unwrap(), "--check"],
        "unknown field `delay`",
    );
    fails_with(&["-c", d.join("nope.toml").to_str().unwrap()], "nope.toml");
    fails_with(&[], "nothing to do");
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn print_default_config_round_trips_through_check() {
    let d = tmpdir("cfg");
    let o = bin().arg("--print-default-config").output().unwrap();
    ok(&o);
    let p = d.join("default.toml");
    std::fs::write(&p, &o.stdout).unwrap();
    ok(&bin()
        .args(["-c", p.to_str().unwrap(), "--check"])
        .output()
        .unwrap());
    // The shipped config is the printed one.
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/offline-pcap.toml");
    ok(&bin()
        .args(["-c", shipped.to_str().unwrap(), "--check"])
        .output()
        .unwrap());
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn demo_runs_and_improves_locality() {
    let o = bin().args(["demo", "--packets", "50000"]).output().unwrap();
    ok(&o);
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(
        s.contains("locality (SLF)") && s.contains("hold time") && s.contains("Mpps"),
        "{s}"
    );
}

#[test]
fn snap_length_captures_are_classified_on_headers() {
    let d = tmpdir("snap");
    let (full, inp, out, js) = (
        d.join("full.pcap"),
        d.join("in.pcap"),
        d.join("o.pcap"),
        d.join("s.json"),
    );
    let pkts = write_trace(&full, 20, 10);
    let mut w = PcapWriter::create(&inp).unwrap();
    for (t, f) in &pkts {
        // Headers only: Ethernet + IPv4 + UDP (42 B) or TCP (54 B).
        let hdr = if f[23] == 17 { 42 } else { 54 };
        w.write_snapped(*t, &f[..hdr], f.len()).unwrap();
    }
    w.finish().unwrap();
    let o = bin()
        .args([
            "--input",
            inp.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ])
        .args(["--delay-us", "64", "--summary-json", js.to_str().unwrap()])
        .output()
        .unwrap();
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("snap-length capture"));
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&js).unwrap()).unwrap();
    assert_eq!(j["bypassed_by_reason"]["truncated"], 0, "{j}");
    assert_eq!(j["flows"], 20);
    assert!(j["slf_out"].as_f64().unwrap() > 2.0, "{j}");
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn ribosome_mode_schedules_split_headers_and_applies_the_nf_contract() {
    use ribosome_wire::SplitTrailer;
    let d = tmpdir("ribo");
    let (inp, out, js) = (d.join("in.pcap"), d.join("o.pcap"), d.join("s.json"));
    // Header copies as the switch sends them (split flag in the source MAC, trailer after the
    // L4 header) for 4 flows, interleaved, plus a whole packet per flow.
    let mut frames = Vec::new();
    for i in 0..6u32 {
        for f in 0..4u8 {
            let src = IpAddr::V4(Ipv4Addr::new(10, 9, 0, f));
            let dst = IpAddr::V4(Ipv4Addr::new(10, 9, 1, 1));
            let mut fr = FrameSpec::tcp(src, dst, 7000, 80, i, 0, 0x18, b"").build();
            if i == 5 {
                frames.push(fr);
                continue;
            }
            fr[11] = 0x01;
            SplitTrailer {
                remote_va: u64::from(i) << 12,
                length: 1000,
                qp_index: u16::from(f),
                server_index: 0,
                pad_count: 0,
                header_slot: (i * 4 + u32::from(f)) as u16,
                generation: Some(i * 4 + u32::from(f)),
            }
            .write_to(&mut fr);
            frames.push(fr);
        }
    }
    let mut w = PcapWriter::create(&inp).unwrap();
    for (k, f) in frames.iter().enumerate() {
        w.write(1_000_000 + k as u64 * 1_000, f).unwrap();
    }
    w.finish().unwrap();
    ok(&bin()
        .args(["--ribosome", "--delay-us", "64", "-q"])
        .args([
            "--input",
            inp.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ])
        .args(["--summary-json", js.to_str().unwrap()])
        .output()
        .unwrap());
    let output = read_all(&out);
    assert_eq!(output.len(), frames.len());
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&js).unwrap()).unwrap();
    assert_eq!(j["ribosome_split_headers"], 20, "{j}");
    assert_eq!(j["ribosome_whole_packets"], 4, "{j}");
    // First packets bypass; the other 5 of each flow leave as one burst: 24 packets in 8 runs.
    assert_eq!(j["bursts"], 4, "headers scheduled by their flow: {j}");
    assert_eq!(j["slf_out"], 3.0, "{j}");
    let mut last_seq: HashMap<u8, u32> = HashMap::new();
    for (_, f) in &output {
        let orig = frames
            .iter()
            .find(|o| o[12..] == f[12..])
            .expect("body untouched");
        assert_eq!(f[..6], orig[6..12], "MACs swapped");
        assert_eq!(f[6..12], orig[..6], "MACs swapped");
        let seq = u32::from_be_bytes(f[38..42].try_into().unwrap());
        if let Some(p) = last_seq.insert(f[29], seq) {
            assert!(seq > p, "per-flow order");
        }
    }
    fails_with(
        &[
            "--ribosome",
            "--tcp-ack-coalescing",
            "--input",
            inp.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ],
        "--ribosome",
    );
    std::fs::remove_dir_all(d).unwrap();
}
