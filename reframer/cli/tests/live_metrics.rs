//! `--metrics-listen`: scrapes a running `reframer --port ...` in its netns testbed, validates each
//! scrape with `promtool check metrics` (Debian package `prometheus`), and checks that the
//! counters move with real TCP traffic. Root only; under CI=true a missing prerequisite fails.

mod common;

use std::{
    io::Write,
    process::{Command, Stdio},
    thread::sleep,
    time::Duration,
};

use common::{Testbed, SERVER_IP};

const LISTEN: &str = "127.0.0.1:9900";

/// False (after printing why) when this run cannot set up; panics instead under CI=true.
fn prerequisites() -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let promtool = Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let why = if !common::can_run() {
        "needs root and iproute2 (network namespaces)"
    } else if !promtool {
        "needs promtool (apt-get install prometheus)"
    } else {
        return true;
    };
    assert!(!ci, "CI=true but the metrics test cannot run: {why}");
    eprintln!("SKIPPED: {why}");
    false
}

/// One GET /metrics from inside mid's namespace (bash's /dev/tcp: no client to install).
fn scrape(tb: &Testbed) -> String {
    let (host, port) = LISTEN.split_once(':').unwrap();
    let script = format!(
        "exec 3<>/dev/tcp/{host}/{port} && printf 'GET /metrics HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' >&3 && cat <&3"
    );
    let o = tb.run(&tb.mid, 10, "bash", &["-c", &script]);
    let resp = String::from_utf8(o.stdout).expect("UTF-8 exposition");
    let (head, body) = resp.split_once("\r\n\r\n").expect("HTTP response");
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    body.to_owned()
}

/// `promtool check metrics` must accept the exposition without a single lint problem.
fn promtool_ok(body: &str) {
    let mut p = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool");
    p.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
    let o = p.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "promtool check metrics: {}{}\n{body}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Sum of the samples of `name` whose labels contain every one of `labels`.
fn value(body: &str, name: &str, labels: &[&str]) -> f64 {
    let mut found = false;
    let v = body
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.split(['{', ' ']).next() == Some(name))
        .filter(|l| labels.iter().all(|x| l.contains(x)))
        .map(|l| {
            found = true;
            l.rsplit(' ').next().unwrap().parse::<f64>().unwrap()
        })
        .sum();
    assert!(found, "no {name} {labels:?} sample in\n{body}");
    v
}

#[test]
fn metrics_scrape_is_valid_and_counters_move_with_traffic() {
    if !prerequisites() {
        return;
    }
    let mut tb = Testbed::new("met");
    let r = tb.start_reframer(&[
        "--delay-us",
        "64",
        "--metrics-listen",
        LISTEN,
        "--quiet-stats",
    ]);
    let before = scrape(&tb);
    promtool_ok(&before);
    for (name, ty) in [
        ("reframer_port_rx_packets_total", "counter"),
        ("reframer_port_drops_total", "counter"),
        ("reframer_scheduler_flushes_total", "counter"),
        ("reframer_buffered_packets", "gauge"),
        ("reframer_hold_time_seconds", "histogram"),
    ] {
        assert!(
            before.contains(&format!("# TYPE {name} {ty}\n")),
            "{name} {ty}:\n{before}"
        );
        assert!(before.contains(&format!("# HELP {name} ")), "{name}");
    }

    // One second of bounded TCP between the client and server namespaces.
    let mut s = tb.cmd(&tb.server, "iperf3");
    s.args(["-s", "-1", "-B", SERVER_IP, "-p", "5201"]);
    tb.spawn(s);
    sleep(Duration::from_millis(300));
    tb.run(
        &tb.client,
        30,
        "iperf3",
        &["-c", SERVER_IP, "-p", "5201", "-t", "1", "-b", "200M"],
    );
    // Workers refresh what /metrics reads every 250 ms.
    sleep(Duration::from_millis(600));
    let after = scrape(&tb);
    promtool_ok(&after);

    let moved = |name: &str, labels: &[&str]| {
        let (a, b) = (value(&before, name, labels), value(&after, name, labels));
        assert!(b > a, "{name} {labels:?} did not move: {a} -> {b}");
        b - a
    };
    let rx_a = moved("reframer_port_rx_packets_total", &["port=\"a\""]);
    let tx_b = moved("reframer_port_tx_packets_total", &["port=\"b\""]);
    moved("reframer_port_rx_bytes_total", &["port=\"b\""]);
    moved("reframer_port_tx_bytes_total", &["port=\"a\""]);
    moved("reframer_scheduler_in_packets_total", &[]);
    moved("reframer_scheduler_out_packets_total", &[]);
    moved("reframer_scheduler_flushes_total", &[]);
    moved("reframer_scheduler_locality_runs_total", &["side=\"out\""]);
    moved("reframer_hold_time_seconds_count", &[]);
    moved("reframer_hold_time_seconds_sum", &[]);
    // Every frame that came in on port A left on port B (up to the last refresh).
    assert!(
        (rx_a - tx_b).abs() <= 64.0,
        "port a rx {rx_a} vs port b tx {tx_b}"
    );
    assert!(after.contains("interface=\"afpacket:"), "{after}");
    assert_eq!(value(&after, "reframer_workers", &[]), 1.0);

    let fin = r.stop("INT");
    let sum = fin.summary();
    // The last scrape cannot have seen more than the run's final totals.
    assert!(common::get(sum, "live.port_a.rx_packets") as f64 >= rx_a);
}
