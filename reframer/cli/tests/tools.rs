//! The operators' tools of the `reframer` binary: the offline progress bar (only on a
//! terminal), `reframer generate man|completions`, and the `--metrics-listen` flag and
//! `[live] metrics_listen` key (the server itself is tested in reframer-live).

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Command;

use reframer_core::frames::FrameSpec;
use reframer_io::pcap::PcapWriter;

const BIN: &str = env!("CARGO_BIN_EXE_reframer");

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("reframer-tools-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// 200 000 UDP packets over 1000 flows (~20 MB): long enough for the bar to draw.
fn write_trace(path: &Path) {
    let mut w = PcapWriter::create(path).unwrap();
    let frames: Vec<Vec<u8>> = (0..1000u32)
        .map(|f| {
            let src = IpAddr::V4(Ipv4Addr::new(10, 1, (f >> 8) as u8, f as u8));
            let dst = IpAddr::V4(Ipv4Addr::new(10, 2, 0, 1));
            let mut s = FrameSpec::udp(src, dst, 5000, 53, 0);
            s.payload = vec![0; 40];
            s.build()
        })
        .collect();
    for i in 0..200_000u64 {
        w.write(1_000_000_000 + i * 1_000, &frames[(i % 1000) as usize])
            .unwrap();
    }
    w.finish().unwrap();
}

/// Runs `args` under a pseudo-terminal (util-linux `script`); returns what the terminal got.
fn on_tty(args: &[&str]) -> Option<String> {
    let probe = Command::new("script").arg("--version").output();
    if !probe.is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but `script` (util-linux) is missing"
        );
        eprintln!("SKIPPED: needs `script` from util-linux");
        return None;
    }
    let cmd = std::iter::once(BIN)
        .chain(args.iter().copied())
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let o = Command::new("script")
        .args(["-qefc", &cmd, "/dev/null"])
        .env("TERM", "xterm")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{cmd}: {o:?}");
    Some(String::from_utf8_lossy(&o.stdout).into_owned())
}

#[test]
fn progress_bar_only_on_a_terminal_and_not_with_quiet() {
    let d = tmpdir("progress");
    let (input, output) = (d.join("in.pcap"), d.join("out.pcap"));
    write_trace(&input);
    let inp = format!("pcap:{}", input.display());
    let out = format!("pcap:{}", output.display());

    // A pipe: the stderr is the summary alone, no bar and no terminal control codes.
    let o = Command::new(BIN)
        .args(["--input", &inp, "--output", &out])
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("ETA") && !err.contains("pkt/s"), "{err}");
    assert!(!err.contains('\x1b'), "control codes on a pipe: {err:?}");

    let Some(tty) = on_tty(&["--input", &inp, "--output", &out]) else {
        return;
    };
    assert!(tty.contains("in.pcap"), "no bar on a terminal: {tty:?}");
    assert!(tty.contains("ETA"), "{tty:?}");
    assert!(tty.contains("MiB"), "bytes of the input: {tty:?}");

    let quiet = on_tty(&["--input", &inp, "--output", &out, "--quiet"]).unwrap();
    assert!(
        !quiet.contains("ETA"),
        "--quiet still drew a bar: {quiet:?}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn generate_writes_man_pages_and_completions() {
    let d = tmpdir("generate");
    let o = Command::new(BIN)
        .args(["generate", "man"])
        .arg(d.join("man"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let page = std::fs::read_to_string(d.join("man/reframer.1")).unwrap();
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH reframer 1"),
        "{page}"
    );
    for flag in ["metrics\\-listen", "input", "port", "quiet"] {
        assert!(page.contains(flag), "man page lacks {flag}");
    }
    assert!(
        !page.contains("generate"),
        "the hidden subcommand leaked into the page"
    );
    assert!(d.join("man/reframer-demo.1").exists());
    let o = Command::new(BIN)
        .args(["generate", "completions"])
        .arg(d.join("comp"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    for f in ["reframer.bash", "_reframer", "reframer.fish"] {
        let t = std::fs::read_to_string(d.join("comp").join(f)).unwrap();
        assert!(t.contains("metrics-listen"), "{f} lacks --metrics-listen");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn metrics_listen_flag_and_config_key_are_validated_before_work() {
    let d = tmpdir("metrics");
    let ports = ["--port", "afpacket:a0", "--port", "afpacket:b0"];
    let ok = Command::new(BIN)
        .args(ports)
        .args(["--metrics-listen", "127.0.0.1:9900", "--check"])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    let bad = Command::new(BIN)
        .args(ports)
        .args(["--metrics-listen", "localhost", "--check"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--metrics-listen"));
    let cfg = d.join("bad.toml");
    std::fs::write(&cfg, "[live]\nmetrics_listen = \"9900\"\n").unwrap();
    let bad = Command::new(BIN)
        .args(ports)
        .arg("--config")
        .arg(&cfg)
        .arg("--check")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("[live] metrics_listen") && err.contains("`9900`"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&d);
}
