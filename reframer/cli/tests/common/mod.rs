//! A throwaway three-namespace testbed: `client -- mid -- server`, joined by veth pairs, with
//! Reframer bridging mid's two ports. Names carry the pid and a per-test tag so parallel test
//! processes never collide; everything is deleted on drop, also when a test fails.
#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

pub(crate) const CLIENT_IP: &str = "10.77.0.1";
pub(crate) const SERVER_IP: &str = "10.77.0.2";

/// True when we may create namespaces (root). Otherwise a developer's run skips and says so,
/// but under CI (`CI=true`) a test that cannot set up its environment fails.
pub(crate) fn can_run() -> bool {
    let ok = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
        && std::fs::read_to_string("/proc/self/status")
            .map(|s| {
                s.lines()
                    .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
            })
            .unwrap_or(false);
    if !ok {
        let why = "needs root and iproute2 (network namespaces)";
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but this test cannot run: it {why}"
        );
        eprintln!("SKIPPED: {why} (a developer's unprivileged run; CI fails instead)");
    }
    ok
}

fn sh(args: &[&str]) -> Output {
    let o = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", args[0]));
    assert!(
        o.status.success(),
        "{:?} failed: {}",
        args,
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// The namespaces, veths and any processes started in them.
pub(crate) struct Testbed {
    pub(crate) client: String,
    pub(crate) mid: String,
    pub(crate) server: String,
    /// mid's port towards the client and towards the server.
    pub(crate) m0: String,
    pub(crate) m1: String,
    pub(crate) c0: String,
    pub(crate) s0: String,
    pub(crate) dir: PathBuf,
    children: Vec<Child>,
    /// The last reframer started here ran on xdp ports.
    xdp_ports: std::cell::Cell<bool>,
    /// ... on DPDK's net_af_packet PMD.
    pmd_ports: std::cell::Cell<bool>,
}

impl Testbed {
    /// Builds the testbed; `tag` is one short word unique per test.
    pub(crate) fn new(tag: &str) -> Self {
        let id = format!("{}{}", tag, std::process::id() % 1_000_000);
        assert!(id.len() <= 12, "tag too long");
        let dir = std::env::temp_dir().join(format!("reframer-live-{id}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let tb = Self {
            client: format!("rfl-{id}-c"),
            mid: format!("rfl-{id}-m"),
            server: format!("rfl-{id}-s"),
            m0: format!("{id}m0"),
            m1: format!("{id}m1"),
            c0: format!("{id}c0"),
            s0: format!("{id}s0"),
            dir,
            children: Vec::new(),
            xdp_ports: std::cell::Cell::new(false),
            pmd_ports: std::cell::Cell::new(false),
        };
        for n in [&tb.client, &tb.mid, &tb.server] {
            sh(&["ip", "netns", "add", n]);
            sh(&["ip", "-n", n, "link", "set", "lo", "up"]);
            // No IPv6 (router/neighbour solicitations, MLD): the hosts send only the tests'
            // traffic, so frame counts at both ends can be compared exactly.
            sh(&[
                "ip",
                "netns",
                "exec",
                n,
                "sysctl",
                "-q",
                "-w",
                "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1",
            ]);
        }
        sh(&[
            "ip", "link", "add", &tb.c0, "netns", &tb.client, "type", "veth", "peer", "name",
            &tb.m0, "netns", &tb.mid,
        ]);
        sh(&[
            "ip", "link", "add", &tb.s0, "netns", &tb.server, "type", "veth", "peer", "name",
            &tb.m1, "netns", &tb.mid,
        ]);
        sh(&[
            "ip",
            "-n",
            &tb.client,
            "addr",
            "add",
            &format!("{CLIENT_IP}/24"),
            "dev",
            &tb.c0,
        ]);
        sh(&[
            "ip",
            "-n",
            &tb.server,
            "addr",
            "add",
            &format!("{SERVER_IP}/24"),
            "dev",
            &tb.s0,
        ]);
        for (ns, dev) in [
            (&tb.client, &tb.c0),
            (&tb.server, &tb.s0),
            (&tb.mid, &tb.m0),
            (&tb.mid, &tb.m1),
        ] {
            sh(&["ip", "-n", ns, "link", "set", dev, "up"]);
        }
        // Static neighbours: no ARP either, so nothing but the tests' traffic crosses mid.
        let mac = |ns: &str, dev: &str| {
            let o = sh(&[
                "ip",
                "netns",
                "exec",
                ns,
                "cat",
                &format!("/sys/class/net/{dev}/address"),
            ]);
            String::from_utf8_lossy(&o.stdout).trim().to_owned()
        };
        let (cmac, smac) = (mac(&tb.client, &tb.c0), mac(&tb.server, &tb.s0));
        for (ns, dev, ip, lladdr) in [
            (&tb.client, &tb.c0, SERVER_IP, &smac),
            (&tb.server, &tb.s0, CLIENT_IP, &cmac),
        ] {
            sh(&[
                "ip",
                "-n",
                ns,
                "neigh",
                "replace",
                ip,
                "lladdr",
                lladdr,
                "dev",
                dev,
                "nud",
                "permanent",
            ]);
        }
        // Frames re-injected from user space must carry full checksums.
        sh(&[
            "ip", "netns", "exec", &tb.client, "ethtool", "-K", &tb.c0, "tx", "off",
        ]);
        sh(&[
            "ip", "netns", "exec", &tb.server, "ethtool", "-K", &tb.s0, "tx", "off",
        ]);
        tb
    }

    /// Kernel counters of the four veth ends (client, mid's two ports, server).
    pub(crate) fn links(&self) -> Links {
        let get = |ns: &str, dev: &str| {
            let o = sh(&["ip", "-n", ns, "-s", "-j", "link", "show", "dev", dev]);
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("ip -j JSON");
            let s = &v[0]["stats64"];
            let n = |dir: &str, k: &str| {
                s[dir][k]
                    .as_u64()
                    .unwrap_or_else(|| panic!("{dir}.{k} in {v}"))
            };
            LinkStats {
                rx_packets: n("rx", "packets"),
                tx_packets: n("tx", "packets"),
                rx_dropped: n("rx", "dropped"),
                tx_dropped: n("tx", "dropped"),
            }
        };
        Links {
            xdp: self.xdp_ports.get(),
            pmd_hides_ring_drops: self.pmd_ports.get(),
            client: get(&self.client, &self.c0),
            m0: get(&self.mid, &self.m0),
            m1: get(&self.mid, &self.m1),
            server: get(&self.server, &self.s0),
        }
    }

    /// A command to run inside namespace `ns`.
    pub(crate) fn cmd(&self, ns: &str, prog: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns, prog]);
        c
    }

    /// Starts a background process that is killed when the testbed goes.
    pub(crate) fn spawn(&mut self, mut c: Command) -> u32 {
        let ch = c
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let pid = ch.id();
        self.children.push(ch);
        pid
    }

    /// Starts a background process and waits (10 s max) until its stderr shows `needle`.
    pub(crate) fn spawn_ready(&mut self, mut c: Command, needle: &str) -> u32 {
        let mut ch = c
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let err = ch.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let needle = needle.to_owned();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                if l.contains(&needle) {
                    let _ = tx.send(());
                }
            }
        });
        let pid = ch.id();
        self.children.push(ch);
        rx.recv_timeout(Duration::from_secs(10))
            .expect("background process not ready in 10 s");
        pid
    }

    /// Writes `toml` as this testbed's `live.toml` and returns its path, for `-c`.
    pub(crate) fn config(&self, toml: &str) -> String {
        let file = self.dir.join("live.toml");
        std::fs::write(&file, toml).unwrap();
        file.to_str().unwrap().to_owned()
    }

    /// Starts `reframer --port ...` in mid between m0 and m1 and waits for `EVENT REFRAMER_READY`.
    pub(crate) fn start_reframer(&self, extra: &[&str]) -> Reframer {
        let ports = [
            format!("afpacket:{}", self.m0),
            format!("afpacket:{}", self.m1),
        ];
        self.start_reframer_on(&ports, extra)
    }

    /// Starts `reframer --port ...` in mid on the given ports.
    pub(crate) fn start_reframer_on(&self, ports: &[String; 2], extra: &[&str]) -> Reframer {
        self.xdp_ports.set(ports[0].starts_with("xdp:"));
        self.pmd_ports
            .set(ports[0].starts_with("dpdk:net_af_packet"));
        let json = self.dir.join("summary.json");
        let mut c = self.cmd(&self.mid, env!("CARGO_BIN_EXE_reframer"));
        c.args(["--port", &ports[0], "--port", &ports[1]])
            .arg("--summary-json")
            .arg(&json)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Reframer::start(c, json)
    }

    /// Runs `prog args` in `ns` with a time limit; panics with its output on failure.
    pub(crate) fn run(&self, ns: &str, limit_s: u32, prog: &str, args: &[&str]) -> Output {
        let mut c = Command::new("timeout");
        c.args([&limit_s.to_string(), "ip", "netns", "exec", ns, prog])
            .args(args);
        let o = c.output().expect("run");
        assert!(
            o.status.success(),
            "{prog} {args:?} in {ns} failed ({}): {}{}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        o
    }
}

impl Drop for Testbed {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for n in [&self.client, &self.mid, &self.server] {
            let _ = Command::new("ip").args(["netns", "del", n]).output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One interface's kernel counters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LinkStats {
    pub(crate) rx_packets: u64,
    pub(crate) tx_packets: u64,
    pub(crate) rx_dropped: u64,
    pub(crate) tx_dropped: u64,
}

/// The testbed's veth counters, see [`Testbed::links`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Links {
    /// mid's ports are AF_XDP sockets (an XDP program on the veths).
    pub(crate) xdp: bool,
    /// mid's ports are DPDK net_af_packet devices: DPDK 22.11's PMD does not report its own
    /// kernel ring's drops, so the frames a veth delivered that the PMD never handed us are
    /// counted from the veth side.
    pub(crate) pmd_hides_ring_drops: bool,
    pub(crate) client: LinkStats,
    pub(crate) m0: LinkStats,
    pub(crate) m1: LinkStats,
    pub(crate) server: LinkStats,
}

impl Links {
    /// The counts since `before` (a second run on the same testbed).
    pub(crate) fn since(&self, before: &Self) -> Self {
        let d = |a: LinkStats, b: LinkStats| LinkStats {
            rx_packets: a.rx_packets - b.rx_packets,
            tx_packets: a.tx_packets - b.tx_packets,
            rx_dropped: a.rx_dropped - b.rx_dropped,
            tx_dropped: a.tx_dropped - b.tx_dropped,
        };
        Self {
            xdp: self.xdp,
            pmd_hides_ring_drops: self.pmd_hides_ring_drops,
            client: d(self.client, before.client),
            m0: d(self.m0, before.m0),
            m1: d(self.m1, before.m1),
            server: d(self.server, before.server),
        }
    }

    /// Drops the kernel counted on any of the four veth ends.
    pub(crate) fn dropped(&self) -> u64 {
        [self.client, self.m0, self.m1, self.server]
            .iter()
            .map(|l| l.rx_dropped + l.tx_dropped)
            .sum()
    }
}

/// A running reframer (live mode).
pub(crate) struct Reframer {
    child: Child,
    stdout: mpsc::Receiver<String>,
    stderr: std::thread::JoinHandle<String>,
    json: PathBuf,
}

impl Reframer {
    fn start(mut c: Command, json: PathBuf) -> Self {
        let mut child = c.spawn().expect("starting reframer");
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                s.push_str(&l);
                s.push('\n');
            }
            s
        });
        let mut r = Self {
            child,
            stdout: rx,
            stderr,
            json,
        };
        let t0 = Instant::now();
        loop {
            match r.stdout.recv_timeout(Duration::from_millis(100)) {
                Ok(l) if l == "EVENT REFRAMER_READY" => break,
                Ok(_) => {}
                Err(_) => {
                    if let Ok(Some(st)) = r.child.try_wait() {
                        let e = std::mem::replace(&mut r.stderr, std::thread::spawn(String::new));
                        panic!("reframer exited early ({st}): {}", e.join().unwrap());
                    }
                    assert!(
                        t0.elapsed() < Duration::from_secs(10),
                        "reframer not ready in 10 s"
                    );
                }
            }
        }
        r
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU time used so far (user + system), from /proc.
    pub(crate) fn cpu_time(&self) -> Duration {
        let s = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
        let rest = &s[s.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        // Fields 14 and 15 (utime, stime), counted from `state` = field 3.
        let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
        Duration::from_millis(ticks * 10) // USER_HZ = 100 on Linux
    }

    /// Sends `sig`, waits (10 s max), and returns (exit code, stdout lines, stderr, summary).
    pub(crate) fn stop(mut self, sig: &str) -> Finished {
        sh(&["kill", &format!("-{sig}"), &self.pid().to_string()]);
        let t0 = Instant::now();
        let status = loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                break st;
            }
            if t0.elapsed() > Duration::from_secs(10) {
                let _ = self.child.kill();
                panic!("reframer did not exit within 10 s of SIG{sig}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stderr = self.stderr.join().unwrap();
        let stdout: Vec<String> = self.stdout.try_iter().collect();
        let summary = std::fs::read_to_string(&self.json)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok());
        Finished {
            code: status.code(),
            stdout,
            stderr,
            summary,
        }
    }
}

/// What a stopped reframer left.
pub(crate) struct Finished {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: Vec<String>,
    pub(crate) stderr: String,
    pub(crate) summary: Option<serde_json::Value>,
}

impl Finished {
    /// The summary, or a panic showing stderr.
    pub(crate) fn summary(&self) -> &serde_json::Value {
        assert_eq!(
            self.code,
            Some(0),
            "reframer exit status; stderr:\n{}",
            self.stderr
        );
        self.summary
            .as_ref()
            .unwrap_or_else(|| panic!("no summary JSON; stderr:\n{}", self.stderr))
    }

    /// The value of an NPF line `RESULT-<name>`.
    pub(crate) fn npf(&self, name: &str) -> f64 {
        let key = format!("RESULT-{name} ");
        self.stdout
            .iter()
            .find_map(|l| l.strip_prefix(&key))
            .unwrap_or_else(|| panic!("no {key} line in {:?}", self.stdout))
            .parse()
            .unwrap()
    }
}

/// u64 at a JSON path like "live.port_b.tx_packets".
pub(crate) fn get(v: &serde_json::Value, path: &str) -> u64 {
    path.split('.')
        .fold(v, |v, k| &v[k])
        .as_u64()
        .unwrap_or_else(|| panic!("{path} missing in {v}"))
}

/// Writes `n` bytes of pseudo-random data to `path`.
pub(crate) fn random_file(path: &Path, n: usize) {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let data: Vec<u8> = (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(path, data).unwrap();
}
