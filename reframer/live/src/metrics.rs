//! `--metrics-listen ADDR:PORT`: the Prometheus text exposition format (version 0.0.4) on
//! `GET /metrics`, served by one plain thread over a std `TcpListener` (no async runtime).
//!
//! Workers already publish summed gauges for the stats line every 20 ms (relaxed atomics);
//! while metrics are on they also publish a [`WorkerDetail`] (their two ports' counters and
//! their schedulers' merged stats, hold-time histogram included) every 250 ms behind a mutex
//! that only the scraper ever waits on. A scrape encodes those, labelled by worker and port.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `reframer_port_{rx,tx}_packets_total`, `reframer_port_{rx,tx}_bytes_total` | counter | worker, port, interface |
//! | `reframer_port_drops_total` | counter | worker, port, interface, reason (`rx_ring_full`, `rx_oversize`, `tx_error`) |
//! | `reframer_port_rx_csum_partial_total` | counter | worker, port, interface |
//! | `reframer_scheduler_{in,out}_packets_total`, `reframer_scheduler_bursts_total` | counter | worker |
//! | `reframer_scheduler_bypassed_packets_total`, `reframer_scheduler_dropped_packets_total`, `reframer_scheduler_flushes_total` | counter | worker, reason |
//! | `reframer_scheduler_locality_runs_total` | counter | worker, side (`in`, `out`) |
//! | `reframer_scheduler_slf` | gauge | worker, side: packets per same-flow run since start |
//! | `reframer_buffered_packets`, `reframer_buffered_flows` | gauge | worker |
//! | `reframer_hold_time_seconds` | histogram | worker |
//! | `reframer_workers`, `reframer_uptime_seconds` | gauge | |

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    sync::{
        atomic::{AtomicBool, Ordering::Relaxed},
        Arc,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use prometheus::{
    proto::{Bucket, Counter, Gauge, Histogram, LabelPair, Metric, MetricFamily, MetricType},
    Encoder, TextEncoder,
};
use reframer_core::{stats::Reason, BypassReason, DropReason, FlushReason, Stats};
use reframer_io::PortCounters;

use crate::{error::RunError, shared::WorkerGauges};

/// How often a worker refreshes its [`WorkerDetail`] while metrics are on.
pub(crate) const DETAIL_EVERY_NS: u64 = 250_000_000;

/// Upper bounds of the hold-time histogram buckets, seconds (1 µs .. 1 s).
const HOLD_BUCKETS_S: [f64; 19] = [
    1e-6, 2e-6, 4e-6, 8e-6, 16e-6, 32e-6, 64e-6, 128e-6, 256e-6, 512e-6, 1e-3, 2e-3, 4e-3, 8e-3,
    16e-3, 32e-3, 64e-3, 0.25, 1.0,
];

/// What one worker publishes for `/metrics` besides its [`WorkerGauges`] atomics.
#[derive(Debug, Clone, Default)]
pub struct WorkerDetail {
    /// Counters of port A and port B as seen by this worker.
    pub ports: [PortCounters; 2],
    /// This worker's schedulers (both directions) merged.
    pub stats: Stats,
}

/// Everything a scrape reads.
#[derive(Debug, Clone)]
pub(crate) struct MetricsSource {
    pub(crate) gauges: Vec<Arc<WorkerGauges>>,
    /// Port A and port B as given (`afpacket:eth1`); port A alone when one-armed.
    pub(crate) ports: Vec<String>,
    pub(crate) started: Instant,
}

/// One family under construction.
struct Family(MetricFamily);

impl Family {
    fn new(name: &str, help: &str, ty: MetricType) -> Self {
        let mut mf = MetricFamily::default();
        mf.set_name(name.to_owned());
        mf.set_help(help.to_owned());
        mf.set_field_type(ty);
        Self(mf)
    }

    fn metric(labels: &[(&str, &str)]) -> Metric {
        let mut m = Metric::default();
        m.set_label(
            labels
                .iter()
                .map(|(k, v)| {
                    let mut l = LabelPair::default();
                    l.set_name((*k).to_owned());
                    l.set_value((*v).to_owned());
                    l
                })
                .collect(),
        );
        m
    }

    /// Adds a sample (counter or gauge, by the family's type).
    fn add(&mut self, labels: &[(&str, &str)], v: f64) {
        let mut m = Self::metric(labels);
        if self.0.get_field_type() == MetricType::COUNTER {
            let mut c = Counter::default();
            c.set_value(v);
            m.set_counter(c);
        } else {
            let mut g = Gauge::default();
            g.set_value(v);
            m.set_gauge(g);
        }
        self.0.mut_metric().push(m);
    }

    fn add_hold_histogram(&mut self, labels: &[(&str, &str)], s: &Stats) {
        let h = &s.hold_ns();
        let count = h.len();
        let mut buckets = Vec::with_capacity(HOLD_BUCKETS_S.len());
        for &le in &HOLD_BUCKETS_S {
            let mut b = Bucket::default();
            b.set_upper_bound(le);
            let le_ns = (le * 1e9).round() as u64;
            b.set_cumulative_count(if count == 0 {
                0
            } else {
                h.count_between(0, le_ns)
            });
            buckets.push(b);
        }
        let mut hist = Histogram::default();
        hist.set_bucket(buckets);
        hist.set_sample_count(count);
        // hdrhistogram keeps 3 significant digits; the sum is as exact as the buckets.
        hist.set_sample_sum(if count == 0 {
            0.0
        } else {
            h.mean() * count as f64 / 1e9
        });
        let mut m = Self::metric(labels);
        m.set_histogram(hist);
        self.0.mut_metric().push(m);
    }
}

impl MetricsSource {
    /// The exposition text of one scrape.
    pub(crate) fn render(&self) -> String {
        use MetricType::{COUNTER, GAUGE, HISTOGRAM};
        let details: Vec<WorkerDetail> = self
            .gauges
            .iter()
            .map(|g| {
                g.detail
                    .lock()
                    .ok()
                    .and_then(|d| d.as_deref().cloned())
                    .unwrap_or_default()
            })
            .collect();
        let mut fams: Vec<Family> = Vec::new();
        let mut fam = |name: &str, help: &str, ty: MetricType| {
            fams.push(Family::new(name, help, ty));
            fams.len() - 1
        };
        let workers = fam(
            "reframer_workers",
            "Worker threads forwarding between the two ports.",
            GAUGE,
        );
        let uptime = fam(
            "reframer_uptime_seconds",
            "Seconds since the live mode started.",
            GAUGE,
        );
        type PortField = fn(&PortCounters) -> u64;
        let port_counters: [(&str, &str, PortField); 5] = [
            (
                "reframer_port_rx_packets_total",
                "Frames received on the port and handed to the worker.",
                |p| p.rx_packets,
            ),
            (
                "reframer_port_rx_bytes_total",
                "Bytes of the frames received on the port.",
                |p| p.rx_bytes,
            ),
            (
                "reframer_port_tx_packets_total",
                "Frames transmitted on the port.",
                |p| p.tx_packets,
            ),
            (
                "reframer_port_tx_bytes_total",
                "Bytes of the frames transmitted on the port.",
                |p| p.tx_bytes,
            ),
            (
                "reframer_port_rx_csum_partial_total",
                "Frames received with a checksum left to TX offload by their sender.",
                |p| p.rx_csum_partial,
            ),
        ];
        let port_fams: Vec<usize> = port_counters
            .iter()
            .map(|(n, h, _)| fam(n, h, COUNTER))
            .collect();
        let port_drops = fam(
            "reframer_port_drops_total",
            "Frames lost at the port, by reason: rx_ring_full (dropped by the kernel or NIC \
             before we saw them), rx_oversize (larger than the frame buffer), tx_error.",
            COUNTER,
        );
        let sched_in = fam(
            "reframer_scheduler_in_packets_total",
            "Frames pushed into the schedulers.",
            COUNTER,
        );
        let sched_out = fam(
            "reframer_scheduler_out_packets_total",
            "Frames the schedulers handed to TX (bypassed and released).",
            COUNTER,
        );
        let bypassed = fam(
            "reframer_scheduler_bypassed_packets_total",
            "Frames passed through unbuffered, by reason.",
            COUNTER,
        );
        let dropped = fam(
            "reframer_scheduler_dropped_packets_total",
            "Frames the schedulers lost, by reason.",
            COUNTER,
        );
        let flushes = fam(
            "reframer_scheduler_flushes_total",
            "Per-flow bursts released, by reason.",
            COUNTER,
        );
        let bursts = fam(
            "reframer_scheduler_bursts_total",
            "Per-flow bursts released (all reasons).",
            COUNTER,
        );
        let runs = fam(
            "reframer_scheduler_locality_runs_total",
            "Runs of consecutive same-flow packets at the scheduler input (side=in) and \
             output (side=out); packets divided by runs is the SLF.",
            COUNTER,
        );
        let slf = fam(
            "reframer_scheduler_slf",
            "Spatial locality factor since start: packets per same-flow run, at the scheduler \
             input (side=in) and output (side=out).",
            GAUGE,
        );
        let buf_p = fam(
            "reframer_buffered_packets",
            "Packets held by the schedulers now.",
            GAUGE,
        );
        let buf_f = fam(
            "reframer_buffered_flows",
            "Flows with an open window now.",
            GAUGE,
        );
        let hold = fam(
            "reframer_hold_time_seconds",
            "Time each buffered packet was held by the scheduler (bypassed packets are not \
             counted).",
            HISTOGRAM,
        );

        fams[workers].add(&[], self.gauges.len() as f64);
        fams[uptime].add(&[], self.started.elapsed().as_secs_f64());
        for (w, (g, d)) in self.gauges.iter().zip(&details).enumerate() {
            let w = w.to_string();
            let wl = [("worker", w.as_str())];
            for (side, (p, iface)) in d.ports.iter().zip(&self.ports).enumerate() {
                let port = if side == 0 { "a" } else { "b" };
                let l = [
                    ("worker", w.as_str()),
                    ("port", port),
                    ("interface", iface.as_str()),
                ];
                for (i, (_, _, f)) in port_counters.iter().enumerate() {
                    fams[port_fams[i]].add(&l, f(p) as f64);
                }
                for (reason, v) in [
                    ("rx_ring_full", p.rx_dropped),
                    ("rx_oversize", p.rx_oversize),
                    ("tx_error", p.tx_dropped),
                ] {
                    let l = [l[0], l[1], l[2], ("reason", reason)];
                    fams[port_drops].add(&l, v as f64);
                }
            }
            let s = &d.stats;
            fams[sched_in].add(&wl, s.packets_in as f64);
            fams[sched_out].add(&wl, s.packets_out as f64);
            fams[bursts].add(&wl, s.bursts as f64);
            for (r, v) in by_reason::<BypassReason>(|r| s.bypassed.get(r)) {
                fams[bypassed].add(&[wl[0], ("reason", r)], v);
            }
            for (r, v) in by_reason::<DropReason>(|r| s.dropped.get(r)) {
                fams[dropped].add(&[wl[0], ("reason", r)], v);
            }
            for (r, v) in by_reason::<FlushReason>(|r| s.flushes.get(r)) {
                fams[flushes].add(&[wl[0], ("reason", r)], v);
            }
            for (side, l) in [("in", &s.locality_in), ("out", &s.locality_out)] {
                fams[runs].add(&[wl[0], ("side", side)], l.runs() as f64);
                fams[slf].add(&[wl[0], ("side", side)], l.slf());
            }
            fams[buf_p].add(&wl, g.buffered_packets.load(Relaxed) as f64);
            fams[buf_f].add(&wl, g.buffered_flows.load(Relaxed) as f64);
            fams[hold].add_hold_histogram(&wl, s);
        }
        let fams: Vec<MetricFamily> = fams
            .into_iter()
            .map(|f| f.0)
            .filter(|f| !f.get_metric().is_empty())
            .collect();
        let mut out = Vec::new();
        // Only fails on an empty family or name, both excluded above.
        let _ = TextEncoder::new().encode(&fams, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

fn by_reason<R: Reason>(get: impl Fn(R) -> u64) -> impl Iterator<Item = (&'static str, f64)> {
    R::ALL.iter().map(move |&r| (r.name(), get(r) as f64))
}

/// The `/metrics` server thread; stops when dropped.
#[derive(Debug)]
pub(crate) struct MetricsServer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Binds `addr` (the error names `--metrics-listen`) and serves until dropped.
    pub(crate) fn start(addr: SocketAddr, src: MetricsSource) -> Result<Self, RunError> {
        let listen = |err| RunError::MetricsListen { addr, err };
        let l = TcpListener::bind(addr).map_err(listen)?;
        l.set_nonblocking(true).map_err(listen)?;
        let local = l.local_addr().unwrap_or(addr);
        eprintln!("reframer: serving Prometheus metrics on http://{local}/metrics");
        for g in &src.gauges {
            g.detail_on.store(true, Relaxed);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("reframer-metrics".into())
            .spawn(move || {
                while !stop2.load(Relaxed) {
                    match l.accept() {
                        // A client that misbehaves only loses its own answer.
                        Ok((s, _)) => {
                            let _ = serve(s, &src);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            })
            .map_err(|err| RunError::Spawn {
                what: "the metrics thread",
                err,
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Answers one HTTP/1.x request and closes the connection.
fn serve(mut s: TcpStream, src: &MetricsSource) -> std::io::Result<()> {
    s.set_nonblocking(false)?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    s.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut req = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && !req.windows(2).any(|w| w == b"\n\n") {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        req.extend_from_slice(&buf[..n]);
        if req.len() > 16 * 1024 {
            break;
        }
    }
    let line = String::from_utf8_lossy(&req);
    let mut words = line.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let (status, ctype, body) = match (method, path) {
        ("GET" | "HEAD", "/metrics") => ("200 OK", prometheus::TEXT_FORMAT, src.render()),
        ("GET" | "HEAD", "/") => (
            "200 OK",
            "text/plain; charset=utf-8",
            "reframer: metrics at /metrics\n".to_owned(),
        ),
        ("GET" | "HEAD", _) => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "not found; try /metrics\n".to_owned(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "only GET\n".to_owned(),
        ),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    if method != "HEAD" {
        s.write_all(body.as_bytes())?;
    }
    s.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> MetricsSource {
        let g: Arc<WorkerGauges> = Arc::default();
        g.buffered_packets.store(7, Relaxed);
        let mut stats = Stats::default();
        let mut s =
            reframer_core::Scheduler::<Vec<u8>>::new(reframer_core::Config::default()).unwrap();
        // Two UDP packets of one flow, held then released at the deadline.
        let mut f = vec![0u8; 60];
        f[12] = 0x08;
        f[14] = 0x45;
        f[16..18].copy_from_slice(&46u16.to_be_bytes());
        f[22] = 64;
        f[23] = 17;
        f[26..30].copy_from_slice(&[10, 0, 0, 1]);
        f[30..34].copy_from_slice(&[10, 0, 0, 2]);
        f[38..40].copy_from_slice(&26u16.to_be_bytes());
        for t in [0, 1_000, 2_000] {
            s.push(f.clone(), t);
        }
        let deadline = s.next_deadline().unwrap();
        s.poll(deadline);
        stats.merge(s.stats());
        let ports = [
            PortCounters {
                rx_packets: 3,
                rx_bytes: 180,
                rx_dropped: 2,
                ..Default::default()
            },
            PortCounters::default(),
        ];
        *g.detail.lock().unwrap() = Some(Box::new(WorkerDetail { ports, stats }));
        MetricsSource {
            gauges: vec![g],
            ports: vec!["afpacket:x0".into(), "afpacket:x1".into()],
            started: Instant::now(),
        }
    }

    fn sample(text: &str, prefix: &str) -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix).map(|v| v.trim().parse().unwrap()))
            .unwrap_or_else(|| panic!("no `{prefix}` in\n{text}"))
    }

    #[test]
    fn renders_counters_gauges_and_histogram_with_help_and_type() {
        let t = source().render();
        assert_eq!(
            sample(
                &t,
                "reframer_port_rx_packets_total{worker=\"0\",port=\"a\",interface=\"afpacket:x0\"}"
            ),
            3.0
        );
        assert_eq!(
            sample(
                &t,
                "reframer_port_drops_total{worker=\"0\",port=\"a\",interface=\"afpacket:x0\",reason=\"rx_ring_full\"}"
            ),
            2.0
        );
        assert_eq!(sample(&t, "reframer_buffered_packets{worker=\"0\"}"), 7.0);
        assert_eq!(
            sample(&t, "reframer_scheduler_in_packets_total{worker=\"0\"}"),
            3.0
        );
        // First packet bypassed, the other two held and released at their deadline.
        assert_eq!(
            sample(
                &t,
                "reframer_scheduler_bypassed_packets_total{worker=\"0\",reason=\"first_packet\"}"
            ),
            1.0
        );
        assert_eq!(
            sample(
                &t,
                "reframer_scheduler_flushes_total{worker=\"0\",reason=\"deadline\"}"
            ),
            1.0
        );
        assert_eq!(
            sample(&t, "reframer_hold_time_seconds_count{worker=\"0\"}"),
            2.0
        );
        assert_eq!(
            sample(
                &t,
                "reframer_hold_time_seconds_bucket{worker=\"0\",le=\"+Inf\"}"
            ),
            2.0
        );
        // Held ~100 µs (the default window): not in the 64 µs bucket, in the 128 µs one.
        assert_eq!(
            sample(
                &t,
                "reframer_hold_time_seconds_bucket{worker=\"0\",le=\"0.000064\"}"
            ),
            0.0
        );
        assert_eq!(
            sample(
                &t,
                "reframer_hold_time_seconds_bucket{worker=\"0\",le=\"0.000128\"}"
            ),
            2.0
        );
        for l in t.lines().filter(|l| !l.starts_with('#')) {
            let name = l.split(['{', ' ']).next().unwrap();
            let base = name
                .trim_end_matches("_bucket")
                .trim_end_matches("_sum")
                .trim_end_matches("_count");
            assert!(
                t.contains(&format!("# TYPE {name} ")) || t.contains(&format!("# TYPE {base} ")),
                "{name} has no TYPE line"
            );
            assert!(
                t.contains(&format!("# HELP {base} ")) || t.contains(&format!("# HELP {name} "))
            );
        }
    }

    #[test]
    fn grafana_dashboard_uses_only_served_names() {
        let dash = include_str!("../../../configs/grafana-reframer.json");
        let t = source().render();
        let served: Vec<&str> = t
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split(['{', ' ']).next())
            .collect();
        let mut used = 0;
        for (i, _) in dash.match_indices("reframer_") {
            let name: String = dash[i..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if name.starts_with("reframer_") && name.len() > "reframer_".len() {
                used += 1;
                assert!(
                    served.contains(&name.as_str()),
                    "dashboard uses {name}, not served"
                );
            }
        }
        assert!(used >= 15, "{used} names in the dashboard");
    }

    #[test]
    fn serves_metrics_and_404_over_http() {
        let srv_addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let l = TcpListener::bind(srv_addr).unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        let server = MetricsServer::start(addr, source()).unwrap();
        let get = |path: &str| {
            let mut c = TcpStream::connect(addr).unwrap();
            write!(c, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            let mut s = String::new();
            c.read_to_string(&mut s).unwrap();
            s
        };
        let r = get("/metrics");
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
        assert!(r.contains("Content-Type: text/plain; version=0.0.4"), "{r}");
        assert!(
            r.contains("# TYPE reframer_hold_time_seconds histogram"),
            "{r}"
        );
        assert!(get("/nope").starts_with("HTTP/1.1 404"));
        // The port is taken now: a second server reports the flag and the address.
        let e = MetricsServer::start(addr, source()).unwrap_err();
        assert!(
            format!("{e:#}").starts_with(&format!("--metrics-listen {addr}: ")),
            "{e:#}"
        );
        drop(server);
    }
}
