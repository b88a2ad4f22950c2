//! Scheduler throughput on in-memory packets, next to a pass-through baseline (parse + flow
//! key only) measured in the same run. Uniform random interleaving over N flows (the worst
//! case for the flow table), T = 64 µs, virtual clock at 10 Mpps, batches of 32.
//!
//! Packets are `Vec<u8>` (24-byte handles) and, next to them, 8-byte handles (one pointer,
//! what a DPDK mbuf pointer is), so what the scheduler's own queues cost in moving handles
//! shows; and 8-byte handles taken as bursts through `pop_bursts`.
//!
//! `cargo bench -p reframer-core --bench scheduler [-- --quick] [--flows N] [--traffic uniform|elephants]`

/// A stopwatch over this thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`, nanosecond resolution).
/// On a shared or oversubscribed machine this excludes the time other processes held the
/// core, which wall time does not.
struct Cpu(cpu_time::ThreadTime);
impl Cpu {
    fn start() -> Self {
        Self(cpu_time::ThreadTime::now())
    }
    fn ns(&self) -> f64 {
        self.0.elapsed().as_nanos() as f64
    }
}

use reframer_core::frames::FrameSpec;
use reframer_core::stats::median;
use reframer_core::wire::{self, Parsed};
use reframer_core::{Config, Scheduler};

const BATCH: usize = 32;
const NS_PER_PKT: u64 = 100; // 10 Mpps virtual

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Rewrites the 5-tuple of a template UDP frame in place: flow `f` -> (src ip, sport).
#[inline]
fn stamp(buf: &mut [u8], f: u32) {
    buf[26..30].copy_from_slice(&(0x0A00_0000 | (f >> 12)).to_be_bytes());
    buf[34..36].copy_from_slice(&(1024 + (f & 0xFFF) as u16).to_be_bytes());
}

fn template() -> Vec<u8> {
    let ip = |a| std::net::IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, a));
    FrameSpec::udp(ip(1), ip(2), 1, 80, 18).build()
}

/// Frame bytes behind one pointer.
struct Buf {
    len: usize,
    data: [u8; 64],
}

/// An 8-byte packet handle.
struct Handle(Box<Buf>);

impl AsRef<[u8]> for Handle {
    fn as_ref(&self) -> &[u8] {
        &self.0.data[..self.0.len]
    }
}

impl AsMut<[u8]> for Handle {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.0.data[..self.0.len]
    }
}

/// A packet type the bench can make from the template frame.
trait BenchPacket: AsRef<[u8]> + AsMut<[u8]> + Sized {
    fn make() -> Self;
}

impl BenchPacket for Vec<u8> {
    fn make() -> Self {
        template()
    }
}

impl BenchPacket for Handle {
    fn make() -> Self {
        let t = template();
        let mut data = [0; 64];
        data[..t.len()].copy_from_slice(&t);
        Self(Box::new(Buf { len: t.len(), data }))
    }
}

const _: () = assert!(size_of::<Handle>() == 8);

fn baseline<P: BenchPacket>(seq: &[u32], pool: &mut Vec<P>) -> f64 {
    let t = Cpu::start();
    let mut acc = 0u64;
    for chunk in seq.chunks(BATCH) {
        let mut bufs: [Option<P>; BATCH] = Default::default();
        for (b, &f) in bufs.iter_mut().zip(chunk) {
            let mut v = pool.pop().expect("pool");
            stamp(v.as_mut(), f);
            if let Parsed::Flow(i) = wire::parse(v.as_ref()) {
                acc = acc.wrapping_add(i.key.hash64());
            }
            *b = Some(v);
        }
        pool.extend(bufs.into_iter().flatten());
    }
    std::hint::black_box(acc);
    t.ns() / seq.len() as f64
}

/// The scheduler over `seq`; the output through `pop_tx_batch`, or with `bursts` through the
/// burst API (`pop_bursts`, each burst's hint read as an NF would).
fn scheduled<P: BenchPacket>(
    s: &mut Scheduler<P>,
    seq: &[u32],
    pool: &mut Vec<P>,
    now: &mut u64,
    bursts: bool,
) -> f64 {
    let mut out = Vec::with_capacity(BATCH);
    let mut batch = Vec::with_capacity(BATCH);
    let mut hints = Vec::with_capacity(BATCH);
    let mut acc = 0u64;
    let t = Cpu::start();
    for chunk in seq.chunks(BATCH) {
        for &f in chunk {
            let mut v = pool.pop().expect("pool");
            stamp(v.as_mut(), f);
            batch.push(v);
        }
        s.push_batch(batch.drain(..), *now);
        *now += NS_PER_PKT * chunk.len() as u64;
        s.poll(*now);
        if bursts {
            while s.pop_bursts(&mut out, &mut hints) > 0 {
                for h in hints.drain(..) {
                    acc = acc.wrapping_add(u64::from(h.hash) + u64::from(h.len));
                }
                pool.append(&mut out);
            }
        } else {
            while s.pop_tx_batch(&mut out) > 0 {
                pool.append(&mut out);
            }
        }
    }
    std::hint::black_box(acc);
    t.ns() / seq.len() as f64
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let (packets, reps) = if quick {
        (1_000_000, 3)
    } else {
        (4_000_000, 5)
    };
    // `--flows N` runs one size only (e.g. under cachegrind).
    let only: Option<u32> = args
        .iter()
        .position(|a| a == "--flows")
        .and_then(|i| args.get(i + 1)?.parse().ok());
    let sizes: Vec<u32> = only.map_or_else(|| vec![10_000, 100_000, 1_000_000], |n| vec![n]);
    println!("Reframer scheduler benchmark: T = 64 us, virtual 10 Mpps, batches of {BATCH}");
    println!(
        "{packets} packets per run, median of {reps} runs (baseline and scheduler alternate);"
    );
    println!("times are this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so other processes' turns on the core are excluded");
    println!("uniform: every packet from a random flow (worst case); elephants: 20 flows carry 70% of packets\n");
    println!("burst API: 8-B handles, the output taken as bursts with `pop_bursts` (one hint per burst)\n");
    println!("| traffic | flows | pass-through ns/pkt (Mpps) | scheduler, Vec<u8> ns/pkt (Mpps) | added ns | scheduler, 8-B handle ns/pkt (Mpps) | added ns | burst API ns/pkt (Mpps) | added ns | SLF in -> out |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    // `--traffic uniform|elephants` runs one traffic only.
    let traffic_only = args
        .iter()
        .position(|a| a == "--traffic")
        .and_then(|i| args.get(i + 1).cloned());
    let runs: Vec<(&str, u32)> = ["uniform", "elephants"]
        .iter()
        .filter(|&&t| traffic_only.as_deref().is_none_or(|o| o == t))
        .flat_map(|&t| sizes.iter().map(move |&f| (t, f)))
        .collect();
    for (traffic, flows) in runs {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ u64::from(flows));
        let seq: Vec<u32> = (0..packets)
            .map(|_| {
                let r = rng.next();
                if traffic == "elephants" && r % 10 < 7 {
                    ((r >> 8) % 20) as u32
                } else {
                    ((r >> 8) % u64::from(flows)) as u32
                }
            })
            .collect();
        let cfg = Config {
            delay_ns: 64_000,
            flow_table_capacity: flows + flows / 4,
            ..Config::default()
        };
        let mut vecs = Run::<Vec<u8>>::new(&cfg, flows);
        let mut handles = Run::<Handle>::new(&cfg, flows);
        let mut by_burst = Run::<Handle>::new(&cfg, flows);
        let (mut b, mut r, mut h, mut u) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..reps {
            b.push(baseline(&seq, &mut vecs.pool));
            r.push(vecs.run(&seq, false));
            h.push(handles.run(&seq, false));
            u.push(by_burst.run(&seq, true));
        }
        let med = |v| median(v).unwrap_or(f64::NAN);
        let (b, r, h, u) = (med(b), med(r), med(h), med(u));
        let st = vecs.s.stats();
        println!(
            "| {traffic} | {flows} | {b:.1} ({:.1}) | {r:.1} ({:.1}) | {:.1} | {h:.1} ({:.1}) | {:.1} | {u:.1} ({:.1}) | {:.1} | {:.3} -> {:.3} |",
            1e3 / b,
            1e3 / r,
            r - b,
            1e3 / h,
            h - b,
            1e3 / u,
            u - b,
            st.locality_in.slf(),
            st.locality_out.slf()
        );
        for other in [&handles, &by_burst] {
            assert_eq!(other.s.stats().dropped_total(), 0);
            assert_eq!(st.packets_out, other.s.stats().packets_out);
        }
        assert_eq!(st.dropped_total(), 0);
    }
}

/// One scheduler with its buffer pool and virtual clock.
struct Run<P> {
    s: Scheduler<P>,
    pool: Vec<P>,
    now: u64,
}

impl<P: BenchPacket> Run<P> {
    fn new(cfg: &Config, flows: u32) -> Self {
        let mut run = Self {
            s: Scheduler::new(cfg.clone()).expect("config"),
            pool: (0..cfg_pool()).map(|_| P::make()).collect(),
            now: 0,
        };
        // Warm-up: every flow gets its entry (first packets bypass), pages touched.
        let warm: Vec<u32> = (0..flows).collect();
        run.run(&warm, false);
        run
    }

    fn run(&mut self, seq: &[u32], bursts: bool) -> f64 {
        scheduled(&mut self.s, seq, &mut self.pool, &mut self.now, bursts)
    }
}

/// Buffers in circulation: enough for everything one window can hold plus batches.
fn cfg_pool() -> usize {
    70_000
}
