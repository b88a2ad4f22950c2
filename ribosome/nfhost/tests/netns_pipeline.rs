//! The split pipeline across network namespaces: `ribosome-switch` (AF_PACKET ports), two
//! `ribosome-agent --backend soft` payload servers and the live NF host, the shipped
//! middlebox binary one-armed (`reframer --ribosome --port afpacket:IF`), each in its own
//! namespace joined to the switch's by a veth pair; `ribosome-nfhost probe` on the client port
//! sends 2000 packets and checks every one comes back byte for byte.
//!
//! Needs root, iproute2, and the workspace binaries built next to this test (the workspace
//! nextest run builds them). Without root it is a skip with a message on a developer
//! machine and a failure under CI (`CI=true`).

#![cfg(feature = "sim")]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills children, deletes the namespaces (and with them the veths) and the config file,
/// even on panic.
struct Testbed {
    ns: Vec<String>,
    children: Vec<Child>,
    config: PathBuf,
    /// The NF host's `--summary-json`.
    summary: PathBuf,
}

impl Drop for Testbed {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in &self.ns {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
        let _ = std::fs::remove_file(&self.config);
        let _ = std::fs::remove_file(&self.summary);
    }
}

fn ip(args: &[&str]) {
    let st = Command::new("ip").args(args).status().unwrap();
    assert!(st.success(), "ip {args:?} failed");
}

#[path = "../../config/tests/support/mod.rs"]
mod support;

/// Root, iproute2 and working network namespaces; otherwise a skip with `SKIPPED: <why>` on
/// a developer's run and a failure under CI (`CI=true`).
fn can_run() -> bool {
    support::can_use_netns()
}

/// A workspace binary built in the same target directory as this test; `None` (a skip)
/// outside CI when it is not built, a failure under CI.
fn sibling_bin(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let p = dir.join(name);
    if p.exists() {
        return Some(p);
    }
    let msg = format!(
        "{} not built: run `cargo build --release -p ribosome-switch -p ribosome-agent -p \
         reframer` (the workspace nextest run builds it)",
        p.display()
    );
    support::skip_or_fail(&msg);
    None
}

/// Spawns `cmd` in namespace `ns`; waits for a line containing `ready` on its stderr or its
/// stdout (then keeps draining both on threads so the child never blocks).
fn spawn_ready(bed: &mut Testbed, ns: &str, cmd: &[&str], ready: &str) {
    let mut c = Command::new("ip")
        .args(["netns", "exec", ns])
        .args(cmd)
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let streams: [Box<dyn std::io::Read + Send>; 2] = [
        Box::new(c.stderr.take().unwrap()),
        Box::new(c.stdout.take().unwrap()),
    ];
    bed.children.push(c);
    let (tx, rx) = std::sync::mpsc::channel();
    let name = Path::new(cmd[0])
        .file_name()
        .map_or(cmd[0].to_string(), |n| n.to_string_lossy().into_owned());
    for stream in streams {
        let (tx, ready, name) = (tx.clone(), ready.to_string(), name.clone());
        std::thread::spawn(move || {
            let mut r = BufReader::new(stream);
            let mut line = String::new();
            while r.read_line(&mut line).is_ok_and(|n| n > 0) {
                eprint!("[{name}] {line}");
                if line.contains(&ready) {
                    let _ = tx.send(());
                }
                line.clear();
            }
        });
    }
    rx.recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("{cmd:?} did not get ready"));
}

#[test]
fn split_pipeline_across_namespaces_is_byte_exact() {
    if !can_run() {
        return;
    }
    let (Some(switch_bin), Some(agent_bin), Some(reframer_bin)) = (
        sibling_bin("ribosome-switch"),
        sibling_bin("ribosome-agent"),
        sibling_bin("reframer"),
    ) else {
        return;
    };
    let nfhost_bin = PathBuf::from(env!("CARGO_BIN_EXE_ribosome-nfhost"));
    let pid = std::process::id();
    let names = ["sw", "s0", "s1", "nf", "cl"].map(|n| format!("rp{pid}{n}"));
    let [sw, s0, s1, nf, cl] = names.clone();
    let mut bed = Testbed {
        ns: Vec::new(),
        children: Vec::new(),
        config: std::env::temp_dir().join(format!("rp{pid}-cluster.toml")),
        summary: std::env::temp_dir().join(format!("rp{pid}-nf-summary.json")),
    };
    for ns in &names {
        ip(&["netns", "add", ns]);
        bed.ns.push(ns.clone());
        let _ = Command::new("ip")
            .args([
                "netns",
                "exec",
                ns,
                "sysctl",
                "-qw",
                "net.ipv6.conf.all.disable_ipv6=1",
            ])
            .status();
    }
    // Switch port k <-> peer namespace; switch side "rp<pid>p<k>", peer side "rp<pid>x<k>".
    let peers = [&cl, &nf, &s0, &s1];
    for (k, peer) in peers.iter().enumerate() {
        let (a, b) = (format!("rp{pid}p{k}"), format!("rp{pid}x{k}"));
        ip(&[
            "link", "add", &a, "netns", &sw, "type", "veth", "peer", "name", &b, "netns", peer,
        ]);
        ip(&["-n", &sw, "link", "set", &a, "mtu", "4200", "up"]);
        ip(&["-n", peer, "link", "set", &b, "mtu", "4200", "up"]);
    }
    let config = format!(
        r#"[servers]
qps_per_server = 4
memory = "4MiB"
enable_timer = "1-1"
switch_ip = "192.168.40.254"
switch_mac = "00:00:00:00:00:01"
info_dst_mac = "00:00:00:00:00:02"
verify_icrc = true
auth_key = "3b7e0c5d9a1f48e2b6c4d0a8f2e1375c9d4b6a0e8f1c2d3b5a7e9f0c1d2e3f4a"

[[servers.server]]
index = 0
iface = "rp{pid}x2"
ip = "192.168.40.1"

[[servers.server]]
index = 1
iface = "rp{pid}x3"
ip = "192.168.40.2"

[switch]
split_threshold = 64
header_slots = 2000
payload_log = "4MiB"
liveness_timeout_ms = 2000
control_period_ms = 200

[[switch.port]]
iface = "rp{pid}p0"
role = "client"
[[switch.port]]
iface = "rp{pid}p1"
role = "nf"
[[switch.port]]
iface = "rp{pid}p2"
role = "server"
[[switch.port]]
iface = "rp{pid}p3"
role = "server"
"#
    );
    std::fs::write(&bed.config, config).unwrap();
    let cfg = bed.config.to_str().unwrap().to_string();
    let sw_path = switch_bin.to_str().unwrap();
    let nf_path = nfhost_bin.to_str().unwrap();
    let reframer_path = reframer_bin.to_str().unwrap();
    let ag_path = agent_bin.to_str().unwrap();

    spawn_ready(&mut bed, &sw, &[sw_path, "--config", &cfg], "ready");
    // The NF host: the middlebox one-armed on the switch's NF port, the README's command.
    let nf_port = format!("afpacket:rp{pid}x1");
    let summary = bed.summary.to_str().unwrap().to_string();
    spawn_ready(
        &mut bed,
        &nf,
        &[
            reframer_path,
            "--ribosome",
            "--port",
            &nf_port,
            "--delay-us",
            "64",
            "--max-burst",
            "32",
            "--quiet-stats",
            "--summary-json",
            &summary,
        ],
        "EVENT REFRAMER_READY",
    );
    for (i, ns) in [(0, &s0), (1, &s1)] {
        let idx = i.to_string();
        spawn_ready(
            &mut bed,
            ns,
            &[
                ag_path,
                "--backend",
                "soft",
                "--server-index",
                &idx,
                "--config",
                &cfg,
            ],
            "ready",
        );
    }
    // Let the registrations reach the switch.
    std::thread::sleep(Duration::from_millis(500));

    let t0 = Instant::now();
    let probe = Command::new("ip")
        .args(["netns", "exec", &cl, nf_path, "probe", "--iface"])
        .arg(format!("rp{pid}x0"))
        .args(["--packets", "2000", "--gap-us", "100", "--quiet-ms", "3000"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&probe.stdout);
    eprintln!(
        "probe ({:?}):\n{stdout}{}",
        t0.elapsed(),
        String::from_utf8_lossy(&probe.stderr)
    );
    let get = |k: &str| -> u64 {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {k}= in probe output"))
    };
    assert!(probe.status.success(), "probe failed");
    assert_eq!(get("exact"), 2000);
    assert_eq!(get("corrupted"), 0);
    assert_eq!(get("reordered"), 0);
    assert!(get("via_split") > 1000, "most packets took the split path");

    // Clean shutdown: SIGTERM every daemon; the switch prints its counters, the NF host
    // writes its summary.
    for c in &mut bed.children {
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        let _ = c.wait();
    }
    // The NF host scheduled and returned every frame the switch sent it, nothing lost, and
    // took each probe packet's split header through the split path.
    let text = std::fs::read_to_string(&bed.summary).expect("the NF host's summary");
    let num = |key: &str| -> u64 {
        let at = text
            .find(&format!("\"{key}\": "))
            .unwrap_or_else(|| panic!("no {key} in {text}"));
        let rest = &text[at + key.len() + 4..];
        rest[..rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len())]
            .parse()
            .unwrap_or_else(|_| panic!("{key} in {text}"))
    };
    assert_eq!(num("drops_total"), 0, "{text}");
    assert_eq!(num("packets_in"), num("packets_out"), "{text}");
    assert_eq!(
        num("ribosome_split_headers") + num("ribosome_whole_packets"),
        num("packets_in"),
        "{text}"
    );
    assert!(
        num("ribosome_split_headers") >= get("via_split"),
        "every split packet's header went through the NF host: {text}"
    );
}
