//! The binary never destroys a file, says what is wrong in one line with the right exit code
//! (2: usage or configuration, found before any work; 1: runtime), survives a closed stdout,
//! and refuses settings that would take more memory than the machine allows.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use reframer_core::frames::FrameSpec;
use reframer_io::pcap::{PcapReader, PcapWriter};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_reframer"))
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("reframer-rel-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A fresh directory holding `in.pcap`, one frame per timestamp (as `write_pcap` takes them).
fn dir_with_input(name: &str, stamps: &[u64]) -> (PathBuf, PathBuf) {
    let d = tmpdir(name);
    let inp = d.join("in.pcap");
    write_pcap(&inp, stamps, None);
    (d, inp)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `n` UDP packets of 3 flows, 10 µs apart (times from `ts`), snapped to `snap` bytes if given.
fn write_pcap(path: &Path, ts: &[u64], snap: Option<usize>) -> Vec<Vec<u8>> {
    let mut w = PcapWriter::create(path).unwrap();
    let mut frames = Vec::new();
    for (i, t) in ts.iter().enumerate() {
        let src = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1 + (i % 3) as u8));
        let dst = IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1));
        let f = FrameSpec::udp(src, dst, 1000, 53, 1400).build();
        match snap {
            Some(n) => w.write_snapped(*t, &f[..n], f.len()).unwrap(),
            None => w.write(*t, &f).unwrap(),
        }
        frames.push(f);
    }
    w.finish().unwrap();
    frames
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

/// Exit `code` and exactly one stderr line, `reframer: error: ...`, containing `needle`.
fn expect(o: &Output, code: i32, needle: &str) {
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "stderr: {e}");
    assert_eq!(e.trim().lines().count(), 1, "one line: {e}");
    assert!(e.starts_with("reframer: error: "), "{e}");
    assert!(e.contains(needle), "`{e}` lacks `{needle}`");
}

fn names_in(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn the_input_is_never_overwritten_whatever_its_name() {
    let (d, inp) = dir_with_input("same", &[1_000, 2_000, 3_000]);
    let before = std::fs::read(&inp).unwrap();
    std::os::unix::fs::symlink(&inp, d.join("link.pcap")).unwrap();
    std::fs::hard_link(&inp, d.join("hard.pcap")).unwrap();
    let dot = d.join(".").join("in.pcap");
    for out in [
        format!("pcap:{}", s(&inp)),
        s(&dot).to_owned(),
        s(&d.join("link.pcap")).to_owned(),
        format!("pcap:{}", s(&d.join("hard.pcap"))),
    ] {
        let o = run(&["--input", &format!("pcap:{}", s(&inp)), "--output", &out]);
        expect(&o, 2, "is the same file as --input");
        let o = run(&["--input", s(&inp), "--output", &out, "--check"]);
        expect(&o, 2, "is the same file as --input");
    }
    let other = d.join("out.pcap");
    let o = run(&[
        "--input",
        s(&inp),
        "--output",
        s(&other),
        "--summary-json",
        s(&dot),
    ]);
    expect(&o, 2, "--summary-json");
    std::fs::write(&other, b"an older output").unwrap();
    let o = run(&[
        "--input",
        s(&inp),
        "--output",
        s(&other),
        "--summary-json",
        s(&other),
    ]);
    expect(&o, 2, "is the same file as --output");
    assert_eq!(std::fs::read(&inp).unwrap(), before, "input intact");
    assert_eq!(std::fs::read(&other).unwrap(), b"an older output");
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn a_failed_run_leaves_no_partial_file_and_keeps_the_old_one() {
    let (d, inp) = dir_with_input("partial", &[1_000, 2_000, 3_000, 4_000]);
    // Cut the last record short: the run fails at the end of the input.
    let full = std::fs::read(&inp).unwrap();
    std::fs::write(&inp, &full[..full.len() - 100]).unwrap();
    let (out, js) = (d.join("out.pcap"), d.join("s.json"));
    let o = run(&[
        "--input",
        s(&inp),
        "--output",
        s(&out),
        "--summary-json",
        s(&js),
    ]);
    expect(&o, 1, "cut short");
    assert_eq!(
        names_in(&d),
        ["in.pcap"],
        "no output, no summary, no temp file"
    );
    std::fs::write(&out, b"previous output").unwrap();
    let o = run(&["--input", s(&inp), "--output", s(&out)]);
    expect(&o, 1, "cut short");
    assert_eq!(std::fs::read(&out).unwrap(), b"previous output");
    assert_eq!(names_in(&d), ["in.pcap", "out.pcap"]);
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn unwritable_outputs_are_found_before_the_run() {
    let (d, inp) = dir_with_input("unwritable", &[1_000, 2_000]);
    let out = d.join("out.pcap");
    let bad = d.join("no-such-dir").join("s.json");
    let o = run(&[
        "--input",
        s(&inp),
        "--output",
        s(&out),
        "--summary-json",
        s(&bad),
    ]);
    expect(&o, 1, "no-such-dir");
    assert!(
        !out.exists(),
        "the run did not start, so no output was written"
    );
    let o = run(&["--input", s(&inp), "--output", s(&d.join("nope/o.pcap"))]);
    expect(&o, 1, "cannot create");
    // A directory as output is refused before the run, and left alone.
    let o = run(&["--input", s(&inp), "--output", s(&d)]);
    expect(&o, 1, "is a directory");
    assert_eq!(names_in(&d), ["in.pcap"]);
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn the_summary_can_go_to_stdout() {
    // A pipe (or device) is written, never replaced by a renamed temporary.
    let d = tmpdir("stdout");
    let (inp, out) = (d.join("in.pcap"), d.join("out.pcap"));
    write_pcap(&inp, &[1_000, 2_000], None);
    let o = run(&[
        "-q",
        "--input",
        s(&inp),
        "--output",
        s(&out),
        "--summary-json",
        "/dev/stdout",
    ]);
    assert!(o.status.success(), "{o:?}");
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["packets_in"], 2);
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn snap_length_records_keep_their_wire_length() {
    let d = tmpdir("snap");
    let (inp, out) = (d.join("in.pcap"), d.join("out.pcap"));
    let frames = write_pcap(&inp, &[1_000, 2_000, 3_000, 4_000], Some(64));
    let o = run(&["--input", s(&inp), "--output", s(&out), "-q"]);
    assert!(o.status.success(), "{o:?}");
    let mut r = PcapReader::open(&out).unwrap();
    let mut b = Vec::new();
    let mut n = 0;
    while r.next_into(&mut b).unwrap().is_some() {
        assert_eq!(b.len(), 64);
        assert_eq!(
            r.last_orig_len() as usize,
            frames[0].len(),
            "wire length kept"
        );
        n += 1;
    }
    assert_eq!(n, 4);
    std::fs::remove_dir_all(d).unwrap();
}

/// Runs `args` with a stdout pipe whose reader is gone before the program writes.
fn with_closed_stdout(args: &str) -> Output {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "sleep 0.3; exec '{}' {args}",
            env!("CARGO_BIN_EXE_reframer")
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_stdout_ends_quietly() {
    for args in ["--print-default-config", "demo --packets 2000"] {
        let o = with_closed_stdout(args);
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{args}: {e}");
        assert!(
            !e.contains("panicked") && !e.contains("error"),
            "{args}: {e}"
        );
    }
}

#[test]
fn memory_hungry_settings_are_refused_by_check_and_run_alike() {
    let (d, inp) = dir_with_input("mem", &[1_000, 2_000]);
    let out = d.join("out.pcap");
    for (flag, key) in [
        ("--flow-table-capacity", "`flow_table_capacity` = 268435456"),
        (
            "--max-buffered-packets",
            "`max_buffered_packets` = 268435456",
        ),
    ] {
        let o = run(&[flag, "268435456", "--check"]);
        expect(&o, 2, key);
        expect(&o, 2, "bytes");
        let o = run(&[flag, "268435456", "--input", s(&inp), "--output", s(&out)]);
        expect(&o, 2, key);
    }
    let cfg = d.join("big.toml");
    std::fs::write(&cfg, "[scheduler]\nflow_table_capacity = 268435456\n").unwrap();
    expect(&run(&["-c", s(&cfg), "--check"]), 2, "flow_table_capacity");
    expect(
        &run(&["demo", "--packets", "4000000000"]),
        2,
        "--packets 4000000000",
    );
    // The accepted range is the one the message states.
    expect(
        &run(&["--flow-table-capacity", "0", "--check"]),
        2,
        "1..=268435456",
    );
    expect(
        &run(&["--max-buffered-packets", "0", "--check"]),
        2,
        "1..=268435456",
    );
    expect(&run(&["--max-burst", "0", "--check"]), 2, "1..=60000");
    // Large but allowed: 2 GiB of flow table costs nothing until flows arrive.
    let t0 = std::time::Instant::now();
    let o = run(&["--flow-table-capacity", "20000000", "-q"]
        .into_iter()
        .chain(["--input", s(&inp), "--output", s(&out)])
        .collect::<Vec<_>>());
    assert!(o.status.success(), "{o:?}");
    assert!(t0.elapsed().as_secs_f64() < 2.0, "took {:?}", t0.elapsed());
    assert_eq!(names_in(&d), ["big.toml", "in.pcap", "out.pcap"]);
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn check_refuses_what_the_run_refuses() {
    let (d, inp) = dir_with_input("check", &[1_000]);
    let out = d.join("out.pcap");
    for (text, needle) in [
        ("[live]\nrx_burst = 0\n", "rx_burst"),
        ("[live]\nframe_bytes = 1\n", "frame_bytes"),
        ("[offline]\ninput = \"foo:/x\"\n", "[offline] input"),
        ("[offline]\noutput = \"pcap:\"\n", "the path is empty"),
    ] {
        let cfg = d.join("c.toml");
        std::fs::write(&cfg, text).unwrap();
        expect(&run(&["-c", s(&cfg), "--check"]), 2, needle);
        let o = run(&["-c", s(&cfg), "--input", s(&inp), "--output", s(&out)]);
        expect(&o, 2, needle);
    }
    assert!(!out.exists());
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn errors_name_the_problem_once() {
    let (d, inp) = dir_with_input("errors", &[1_000]);
    let out = s(&d.join("out.pcap")).to_owned();
    expect(
        &run(&["--input", "pcap:", "--output", &out]),
        2,
        "the path is empty",
    );
    expect(
        &run(&["--input", s(&inp), "--output", "pcap:"]),
        2,
        "--output `pcap:`",
    );
    let o = run(&["--input", s(&d.join("gone.pcap")), "--output", &out]);
    expect(&o, 1, "cannot open");
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(e.matches("No such file").count(), 1, "{e}");
    assert!(e.contains("gone.pcap"), "{e}");
    for live_only in [
        &["--cores", "0"][..],
        &["--duration", "1"],
        &["--stats-csv", "x.csv"],
        &["--passthrough", "a-to-b"],
        &["--dpdk-args", "-l 0"],
        &["--quiet-stats"],
    ] {
        let mut a = vec!["--input", s(&inp), "--output", &out];
        a.extend_from_slice(live_only);
        expect(
            &run(&a),
            2,
            &format!("{} applies to live mode only", live_only[0]),
        );
    }
    for bad in [
        "--delay-us=-1",
        "--delay-us=nan",
        "--delay-us=inf",
        "--delay-us=4e9",
    ] {
        expect(&run(&["demo", "--packets", "10", bad]), 2, "--delay-us");
    }
    expect(&run(&["--input", s(&inp)]), 2, "--output");
    let o = run(&[
        "demo",
        "--packets",
        "10",
        "--write-pcap",
        s(&d.join("no/t.pcap")),
    ]);
    expect(&o, 1, "cannot create");
    assert!(!String::from_utf8_lossy(&o.stderr).contains("synthesising"));
    expect(&run(&["--bogus-flag"]), 2, "--bogus-flag");
    assert!(!Path::new(&out).exists());
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn clamped_timestamps_are_told_in_both_summaries() {
    let d = tmpdir("clamp");
    let (inp, out, js) = (d.join("in.pcap"), d.join("o.pcap"), d.join("s.json"));
    write_pcap(&inp, &[5_000, 9_000, 2_000, 3_000, 10_000], None);
    let o = run(&[
        "--input",
        s(&inp),
        "--output",
        s(&out),
        "--summary-json",
        s(&js),
    ]);
    assert!(o.status.success(), "{o:?}");
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("clamped   2 input timestamps went backwards"),
        "{e}"
    );
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&js).unwrap()).unwrap();
    assert_eq!(j["clamped_timestamps"], 2, "{j}");
    std::fs::remove_dir_all(d).unwrap();
}
