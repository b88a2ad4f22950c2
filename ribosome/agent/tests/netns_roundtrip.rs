//! End to end over a veth pair between two network namespaces this test creates: the agent
//! (soft backend) in one, the switch stand-in `ribosome-peer` in the other. Checks
//! registration, forged registration and refresh frames being refused, a genuine refresh
//! resetting and re-announcing a QP, a payload parked with WRITE and fetched with READ
//! (single and segmented), a PSN gap NAKed, and a clean SIGTERM shutdown.
//!
//! Needs root and iproute2; without them it is a skip with a message on a developer machine
//! and a failure under CI (`CI=true`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Deletes the namespaces (and with them the veths) and kills children, even on panic.
struct Testbed {
    ns: [String; 2],
    children: Vec<Child>,
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

fn wait_exit(c: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if let Ok(Some(st)) = c.try_wait() {
            return Some(st);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[test]
fn agent_registers_refreshes_and_serves_roce_over_veth() {
    if !can_run() {
        return;
    }
    let pid = std::process::id();
    let (na, nb) = (format!("rbs{pid}a"), format!("rbs{pid}b"));
    let (va, vb) = (format!("rbs{pid}a0"), format!("rbs{pid}b0"));
    let mut bed = Testbed {
        ns: [na.clone(), nb.clone()],
        children: Vec::new(),
    };
    ip(&["netns", "add", &na]);
    ip(&["netns", "add", &nb]);
    ip(&[
        "link", "add", &va, "netns", &na, "type", "veth", "peer", "name", &vb, "netns", &nb,
    ]);
    for (ns, dev) in [(&na, &va), (&nb, &vb)] {
        ip(&["-n", ns, "link", "set", dev, "mtu", "4200", "up"]);
    }
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/cluster.toml");
    let config = config.to_str().unwrap();
    let agent_bin = env!("CARGO_BIN_EXE_ribosome-agent");
    let peer_bin = env!("CARGO_BIN_EXE_ribosome-peer");

    // The stand-in switch listens first.
    let mut peer = Command::new("ip")
        .args([
            "netns", "exec", &nb, peer_bin, "switch", "--iface", &vb, "--config", config,
        ])
        .args(["--server-index", "1", "--qps", "4", "--timeout-ms", "15000"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(peer.stdout.take().unwrap());
    bed.children.push(peer);
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "READY");

    // A host on the server link forges registrations before the real agent starts.
    for kind in ["qp-info", "mem-info", "unsigned"] {
        let st = Command::new("ip")
            .args([
                "netns", "exec", &na, peer_bin, "forge", "--iface", &va, "--kind", kind,
            ])
            .args(["--server-index", "1", "--global-index", "4"])
            .status()
            .unwrap();
        assert!(st.success(), "forge {kind}");
    }

    let agent = Command::new("ip")
        .args([
            "netns",
            "exec",
            &na,
            agent_bin,
            "--backend",
            "soft",
            "--iface",
            &va,
        ])
        .args([
            "--server-index",
            "1",
            "--qps",
            "4",
            "--memory",
            "1MiB",
            "--enable-timer",
            "5-9",
        ])
        .args([
            "--config",
            config,
            "--ip",
            "192.168.40.2",
            "--verify-icrc",
            "true",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    bed.children.push(agent);

    let st = wait_exit(&mut bed.children[0], Duration::from_secs(30)).expect("peer timed out");
    let mut report = String::new();
    for l in out.lines() {
        report.push_str(&l.unwrap());
        report.push('\n');
    }
    for want in [
        "registered_qps=4",
        "mem_registered=true",
        "eth_registered=true",
        "rejected_registrations=3",
        "forged_refresh_ignored=true",
        "refresh_renewed=true",
        "write_acked=true",
        "read_matches=true",
        "read_segments=3",
        "gap_nak=true",
    ] {
        assert!(
            report.lines().any(|l| l == want),
            "missing {want:?} in:\n{report}"
        );
    }
    assert!(st.success(), "peer reported a failure:\n{report}");

    // SIGTERM: the agent stops cleanly and reports one refresh accepted, one refused.
    let agent = &mut bed.children[1];
    let st = Command::new("kill")
        .args(["-TERM", &agent.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let st = wait_exit(agent, Duration::from_secs(5)).expect("agent did not stop on SIGTERM");
    let mut err = String::new();
    std::io::Read::read_to_string(agent.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(st.success(), "agent exit {st:?}:\n{err}");
    assert!(err.contains("ribosome-agent: ready: backend soft"), "{err}");
    assert!(err.contains("refreshes 1 refresh_rejected 1"), "{err}");
    assert!(
        err.contains("refresh rejected: control frame MAC mismatch"),
        "{err}"
    );
}

#[test]
fn verbs_backend_without_a_device_fails_with_one_line() {
    if std::fs::read_dir("/sys/class/infiniband").is_ok_and(|mut d| d.next().is_some()) {
        eprintln!("SKIPPED: this machine has an RDMA device");
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_ribosome-agent"))
        .args([
            "--backend",
            "verbs",
            "--iface",
            "lo",
            "--server-index",
            "0",
            "--qps",
            "1",
        ])
        .args([
            "--memory",
            "4KiB",
            "--ip",
            "127.0.0.1",
            "--insecure-no-auth",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("ribosome-agent: error: no RDMA device: ibv_get_device_list failed: "),
        "{err}"
    );
}
