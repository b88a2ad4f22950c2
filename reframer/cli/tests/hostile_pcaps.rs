//! Property test of the offline pipeline (the built binary on temp files) over hostile pcaps:
//! random frames, truncations and snap lengths, VLAN stacks up to and beyond 4 tags, IPv6
//! extension chains, IPv4 options and fragments, time going backwards, micro- and nanosecond
//! files in both byte orders, and random scheduler settings. For every case:
//!
//! - the run succeeds (no panic, no abort);
//! - packets in = packets out + counted drops (summary counters), and the output file holds
//!   `packets_out` records;
//! - the output is a permutation of the input (multiset of frame bytes and wire lengths),
//!   less exactly the counted drops;
//! - per-flow order holds for every packet whose 5-tuple is readable, as decided by
//!   [`reference_key`], a small extractor written here independently of the parser.
//!
//! `PROPTEST_CASES` sets the number of cases (default 96, a few seconds in release);
//! `REFRAMER_KEEP_FAILED_CASE=1` keeps the files of failing cases in the temp directory.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use proptest::prelude::*;
use reframer_io::pcap::PcapReader;

// ---------------------------------------------------------------------------------------------
// The reference extractor.

/// A directional 5-tuple: (addresses, protocol, ports), addresses as raw bytes.
type RefKey = (Vec<u8>, u8, [u8; 4]);

fn be16(f: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*f.get(off)?, *f.get(off + 1)?]))
}

/// The 5-tuple of `f` when it is readable: Ethernet with at most 4 802.1Q/802.1ad tags, an IPv4
/// or IPv6 header, TCP or UDP, not a non-first fragment, the IPv6 extension chain walked over at
/// most 8 headers, and the 4 port bytes within the captured bytes.
fn reference_key(f: &[u8]) -> Option<RefKey> {
    let mut et = be16(f, 12)?;
    let mut off = 14;
    let mut tags = 0;
    while et == 0x8100 || et == 0x88A8 {
        tags += 1;
        if tags > 4 {
            return None;
        }
        et = be16(f, off + 2)?;
        off += 4;
    }
    let (addrs, proto, l4) = match et {
        0x0800 => {
            let h = f.get(off..off + 20)?;
            if h[0] >> 4 != 4 || h[0] & 0xF < 5 {
                return None;
            }
            if be16(h, 6)? & 0x1FFF != 0 {
                return None; // a non-first fragment: no ports
            }
            (h[12..20].to_vec(), h[9], off + usize::from(h[0] & 0xF) * 4)
        }
        0x86DD => {
            let h = f.get(off..off + 40)?;
            if h[0] >> 4 != 6 {
                return None;
            }
            let mut nh = h[6];
            let mut p = off + 40;
            let mut walked = 0;
            while matches!(nh, 0 | 43 | 44 | 51 | 60) {
                walked += 1;
                if walked > 8 {
                    return None;
                }
                let (next, len) = (*f.get(p)?, usize::from(*f.get(p + 1)?));
                match nh {
                    44 => {
                        if be16(f, p + 2)? >> 3 != 0 {
                            return None;
                        }
                        p += 8;
                    }
                    51 => p += (len + 2) * 4,
                    _ => p += (len + 1) * 8,
                }
                nh = next;
            }
            (h[8..40].to_vec(), nh, p)
        }
        _ => return None,
    };
    if proto != 6 && proto != 17 {
        return None;
    }
    let ports = f.get(l4..l4 + 4)?;
    Some((addrs, proto, ports.try_into().unwrap()))
}

// ---------------------------------------------------------------------------------------------
// Hostile frames.

/// How one frame is built.
#[derive(Debug, Clone)]
struct Recipe {
    /// Index into a small pool of 5-tuples, so flows repeat.
    flow: u8,
    /// Tag protocol ids of the VLAN stack (0x9100 included: not counted by the reference).
    vlans: Vec<u16>,
    /// 0-5: IPv4, 6-8: IPv6, 9: ARP, 10: random bytes.
    l3: u8,
    /// IPv4 option words (0..=10).
    v4_opts: u8,
    /// 0-5 unfragmented, 6: first fragment, 7: non-first fragment.
    frag: u8,
    /// IPv6 extension headers (0, 43, 44, 51, 60); 44 with a non-zero offset when > 0x80.
    v6_ext: Vec<u8>,
    /// 0-3: TCP, 4-7: UDP, 8: ICMP (protocol 1).
    l4: u8,
    tcp_flags: u8,
    payload: u8,
    /// A wrong IP length field.
    bad_len: bool,
    /// Bytes captured (a snap length or a truncation), as a fraction of 255 of the frame.
    cut: Option<u8>,
    /// Time step, µs; negative steps go back in time.
    dt: i16,
    random: Vec<u8>,
}

fn recipe() -> impl Strategy<Value = Recipe> {
    let vlan = prop::sample::select(vec![0x8100u16, 0x88A8, 0x9100]);
    let ext = prop::sample::select(vec![0u8, 43, 44, 51, 60, 0x80 | 44]);
    (
        (
            0u8..6,
            prop::collection::vec(vlan, 0..=6),
            0u8..=10,
            0u8..=10,
            0u8..8,
        ),
        (
            prop::collection::vec(ext, 0..=10),
            0u8..=8,
            any::<u8>(),
            0u8..48,
        ),
        (
            prop::bool::weighted(0.05),
            prop::option::weighted(0.15, any::<u8>()),
            -200i16..400,
            prop::collection::vec(any::<u8>(), 0..80),
        ),
    )
        .prop_map(
            |(
                (flow, vlans, l3, v4_opts, frag),
                (v6_ext, l4, tcp_flags, payload),
                (bad_len, cut, dt, random),
            )| Recipe {
                flow,
                vlans,
                l3,
                v4_opts,
                frag,
                v6_ext,
                l4,
                tcp_flags,
                payload,
                bad_len,
                cut,
                dt,
                random,
            },
        )
}

/// The frame of `r` (the `n`th of its case), whole, and the bytes captured of it.
fn build(r: &Recipe, n: usize) -> (Vec<u8>, usize) {
    if r.l3 == 10 {
        return (r.random.clone(), r.random.len());
    }
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
    for (i, tpid) in r.vlans.iter().enumerate() {
        f.extend_from_slice(&tpid.to_be_bytes());
        f.extend_from_slice(&(100 + i as u16).to_be_bytes());
    }
    let v6 = (6..=8).contains(&r.l3);
    let ethertype: u16 = match r.l3 {
        0..=5 => 0x0800,
        6..=8 => 0x86DD,
        _ => 0x0806,
    };
    f.extend_from_slice(&ethertype.to_be_bytes());
    let proto = match r.l4 {
        0..=3 => 6u8,
        4..=7 => 17,
        _ => 1,
    };
    let (sport, dport) = (1000 + u16::from(r.flow), 80 + u16::from(r.flow % 2));
    let mut l4 = Vec::new();
    l4.extend_from_slice(&sport.to_be_bytes());
    l4.extend_from_slice(&dport.to_be_bytes());
    let payload: Vec<u8> = (0..r.payload)
        .map(|i| (n as u8).wrapping_add(i))
        .chain((n as u32).to_be_bytes())
        .collect();
    if proto == 6 {
        l4.extend_from_slice(&(n as u32).to_be_bytes()); // seq
        l4.extend_from_slice(&[0, 0, 0, 1, 0x50, r.tcp_flags, 0xFF, 0xFF, 0, 0, 0, 0]);
    } else {
        l4.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        l4.extend_from_slice(&[0, 0]);
    }
    l4.extend_from_slice(&payload);
    let l3_start = f.len();
    if v6 {
        let mut chain = Vec::new();
        let kinds: Vec<u8> = r.v6_ext.iter().map(|k| k & 0x7F).collect();
        for (i, raw) in r.v6_ext.iter().enumerate() {
            let next = kinds.get(i + 1).copied().unwrap_or(proto);
            match raw & 0x7F {
                44 => {
                    let off: u16 = if raw & 0x80 != 0 { 185 << 3 } else { 1 }; // 1: M flag only
                    chain.push(next);
                    chain.push(0);
                    chain.extend_from_slice(&off.to_be_bytes());
                    chain.extend_from_slice(&(n as u32).to_be_bytes());
                }
                51 => {
                    chain.extend_from_slice(&[next, 2, 0, 0]); // (2 + 2) * 4 = 16 bytes
                    chain.extend_from_slice(&[0xA5; 12]);
                }
                _ => {
                    chain.extend_from_slice(&[next, 1]); // (1 + 1) * 8 = 16 bytes
                    chain.extend_from_slice(&[1, 12]);
                    chain.extend_from_slice(&[0; 12]);
                }
            }
        }
        let first = kinds.first().copied().unwrap_or(proto);
        let plen = if r.bad_len {
            (r.random.len() * 7) as u16
        } else {
            (chain.len() + l4.len()) as u16
        };
        f.extend_from_slice(&[0x60, 0, 0, 0]);
        f.extend_from_slice(&plen.to_be_bytes());
        f.push(first);
        f.push(64);
        f.extend_from_slice(&[0x20, 0x01, 0x0D, 0xB8]);
        f.extend_from_slice(&[0; 11]);
        f.push(r.flow);
        f.extend_from_slice(&[0x20, 0x01, 0x0D, 0xB8]);
        f.extend_from_slice(&[0; 11]);
        f.push(0xFE);
        f.extend_from_slice(&chain);
    } else if ethertype == 0x0800 {
        let ihl = 5 + r.v4_opts;
        let tot = if r.bad_len {
            (r.random.len() * 3) as u16
        } else {
            (usize::from(ihl) * 4 + l4.len()) as u16
        };
        let frag: u16 = match r.frag {
            6 => 0x2000,       // MF, offset 0: a first fragment
            7 => 0x2000 | 185, // a later fragment
            _ => 0x4000,       // DF
        };
        f.push(0x40 | ihl);
        f.push(0);
        f.extend_from_slice(&tot.to_be_bytes());
        f.extend_from_slice(&(n as u16).to_be_bytes());
        f.extend_from_slice(&frag.to_be_bytes());
        f.extend_from_slice(&[64, proto, 0, 0, 10, 0, 0, r.flow, 10, 0, 1, 1]);
        for _ in 0..r.v4_opts {
            f.extend_from_slice(&[1, 1, 1, 1]); // NOPs
        }
    } else {
        f.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    }
    debug_assert!(f.len() >= l3_start);
    f.extend_from_slice(&l4);
    let len = f.len();
    let cap = r.cut.map_or(len, |c| len * usize::from(c) / 255);
    (f, cap)
}

// ---------------------------------------------------------------------------------------------
// Pcap files written by hand (both resolutions, both byte orders).

fn write_pcap(path: &Path, recs: &[(u64, &[u8], usize)], nanos: bool, big_endian: bool) {
    let u32b = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let u16b = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut b = Vec::new();
    b.extend_from_slice(&u32b(if nanos { 0xA1B2_3C4D } else { 0xA1B2_C3D4 }));
    b.extend_from_slice(&u16b(2));
    b.extend_from_slice(&u16b(4));
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&u32b(65_535));
    b.extend_from_slice(&u32b(1));
    for (ts, data, orig) in recs {
        let frac = ts % 1_000_000_000;
        b.extend_from_slice(&u32b((ts / 1_000_000_000) as u32));
        b.extend_from_slice(&u32b(if nanos { frac } else { frac / 1_000 } as u32));
        b.extend_from_slice(&u32b(data.len() as u32));
        b.extend_from_slice(&u32b(*orig as u32));
        b.extend_from_slice(data);
    }
    std::fs::write(path, b).unwrap();
}

fn read_pcap(path: &Path) -> Vec<(Vec<u8>, u32)> {
    let mut r = PcapReader::open(path).unwrap();
    let mut out = Vec::new();
    let mut b = Vec::new();
    while r.next_into(&mut b).unwrap().is_some() {
        out.push((b.clone(), r.last_orig_len()));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The run and its checks.

#[derive(Debug, Clone)]
struct Settings {
    delay_us: u32,
    max_burst: u32,
    max_buffered_packets: u32,
    flow_table_capacity: u32,
    max_flows: u32,
    first_packet_bypass: bool,
    bypass_syn: bool,
    priority: &'static str,
    nanos: bool,
    big_endian: bool,
}

fn settings() -> impl Strategy<Value = Settings> {
    (
        prop::sample::select(vec![0u32, 1, 20, 100, 5_000]),
        prop::sample::select(vec![1u32, 2, 5, 1024]),
        prop::sample::select(vec![1u32, 2, 4, 65_536]),
        prop::sample::select(vec![1u32, 2, 3, 262_144]),
        prop::sample::select(vec![0u32, 1, 2]),
        any::<bool>(),
        any::<bool>(),
        prop::sample::select(vec!["sent", "delay", "first"]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(d, mb, mbp, ftc, mf, fpb, syn, prio, nanos, be)| Settings {
                delay_us: d,
                max_burst: mb,
                max_buffered_packets: mbp,
                flow_table_capacity: ftc,
                max_flows: mf,
                first_packet_bypass: fpb,
                bypass_syn: syn,
                priority: prio,
                nanos,
                big_endian: be,
            },
        )
}

fn case_dir() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "reframer-hostile-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs one case; `Err` describes the first property that fails.
fn check(recipes: &[Recipe], s: &Settings) -> Result<(), String> {
    let mut t: i64 = 1_000_000_000_000;
    let mut frames = Vec::new();
    for (n, r) in recipes.iter().enumerate() {
        t = (t + i64::from(r.dt) * 1_000 + 137).max(0);
        let (f, cap) = build(r, n);
        frames.push((t as u64, f, cap));
    }
    let recs: Vec<(u64, &[u8], usize)> = frames
        .iter()
        .map(|(t, f, c)| (*t, &f[..*c], f.len()))
        .collect();
    let d = case_dir();
    let (inp, out, js) = (d.join("in.pcap"), d.join("out.pcap"), d.join("s.json"));
    write_pcap(&inp, &recs, s.nanos, s.big_endian);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_reframer"));
    cmd.args([
        "-q",
        "--input",
        inp.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ])
    .args(["--summary-json", js.to_str().unwrap()])
    .args(["--delay-us", &s.delay_us.to_string()])
    .args(["--max-burst", &s.max_burst.to_string()])
    .args([
        "--max-buffered-packets",
        &s.max_buffered_packets.to_string(),
    ])
    .args(["--flow-table-capacity", &s.flow_table_capacity.to_string()])
    .args(["--max-flows", &s.max_flows.to_string()])
    .args(["--priority", s.priority]);
    if !s.first_packet_bypass {
        cmd.arg("--no-first-packet-bypass");
    }
    if s.bypass_syn {
        cmd.arg("--bypass-syn");
    }
    let o = cmd.output().unwrap();
    let result = (|| {
        let stderr = String::from_utf8_lossy(&o.stderr);
        if !o.status.success() || stderr.contains("panicked") {
            return Err(format!("run failed: {:?}: {stderr}", o.status));
        }
        let j: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&js).unwrap()).unwrap();
        let (pin, pout, dropped) = (
            j["packets_in"].as_u64().unwrap(),
            j["packets_out"].as_u64().unwrap(),
            j["dropped"].as_u64().unwrap(),
        );
        if pin != recs.len() as u64 || pin != pout + dropped {
            return Err(format!(
                "{} records: in {pin}, out {pout}, dropped {dropped}",
                recs.len()
            ));
        }
        let output = read_pcap(&out);
        if output.len() as u64 != pout {
            return Err(format!(
                "{} records written, packets_out {pout}",
                output.len()
            ));
        }
        // Match every output record to the earliest unmatched identical input record.
        let mut by_bytes: HashMap<(&[u8], u32), VecDeque<usize>> = HashMap::new();
        for (i, (_, data, orig)) in recs.iter().enumerate() {
            by_bytes
                .entry((data, *orig as u32))
                .or_default()
                .push_back(i);
        }
        let mut order = Vec::with_capacity(output.len());
        for (data, orig) in &output {
            match by_bytes
                .get_mut(&(data.as_slice(), *orig))
                .and_then(VecDeque::pop_front)
            {
                Some(i) => order.push(i),
                None => return Err(format!("output record not in the input: {data:02x?}")),
            }
        }
        // Per-flow order of the readable packets.
        let mut last: HashMap<RefKey, usize> = HashMap::new();
        for &i in &order {
            if let Some(k) = reference_key(recs[i].1) {
                if let Some(p) = last.insert(k, i) {
                    if p > i {
                        return Err(format!(
                            "input {i} left after input {p} of the same flow; output order {order:?}"
                        ));
                    }
                }
            }
        }
        Ok(())
    })();
    if result.is_err() && std::env::var_os("REFRAMER_KEEP_FAILED_CASE").is_some() {
        eprintln!("failed case kept in {}", d.display());
    } else {
        std::fs::remove_dir_all(&d).unwrap();
    }
    result
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(96)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn hostile_pcaps_keep_every_packet_and_every_readable_flow_in_order(
        recipes in prop::collection::vec(recipe(), 1..60),
        s in settings(),
    ) {
        if let Err(e) = check(&recipes, &s) {
            return Err(TestCaseError::fail(e));
        }
    }
}

/// The reference extractor itself, on frames whose answer is known.
#[test]
fn reference_extractor_reads_what_it_should() {
    let base = Recipe {
        flow: 1,
        vlans: vec![],
        l3: 0,
        v4_opts: 0,
        frag: 0,
        v6_ext: vec![],
        l4: 0,
        tcp_flags: 0x18,
        payload: 4,
        bad_len: false,
        cut: None,
        dt: 1,
        random: vec![],
    };
    let key = |r: &Recipe| reference_key(&build(r, 0).0);
    let v6 = Recipe {
        l3: 6,
        ..base.clone()
    };
    let r = |f: fn(&mut Recipe), from: &Recipe| {
        let mut x = from.clone();
        f(&mut x);
        x
    };
    let cases: [(Recipe, bool); 10] = [
        (base.clone(), true),
        (r(|x| x.vlans = vec![0x8100; 4], &base), true),
        (r(|x| x.vlans = vec![0x8100; 5], &base), false),
        (r(|x| x.frag = 6, &base), true),
        (r(|x| x.frag = 7, &base), false),
        (r(|x| x.l4 = 8, &base), false),
        (r(|x| x.l3 = 9, &base), false),
        (
            r(|x| x.v6_ext = vec![0, 43, 44, 51, 60, 60, 60, 60], &v6),
            true,
        ),
        (r(|x| x.v6_ext = vec![60; 9], &v6), false),
        (r(|x| x.v6_ext = vec![0x80 | 44], &v6), false),
    ];
    for (i, (recipe, readable)) in cases.iter().enumerate() {
        assert_eq!(key(recipe).is_some(), *readable, "case {i}");
    }
    // The ports are the last thing needed: cut right after them, or one byte short.
    let (f, _) = build(&base, 0);
    let l4 = 14 + 20;
    assert!(reference_key(&f[..l4 + 4]).is_some());
    assert!(reference_key(&f[..l4 + 3]).is_none());
    assert_ne!(
        key(&Recipe {
            flow: 2,
            ..base.clone()
        }),
        key(&base)
    );
}

/// The minimal case of a truncated frame of a flow whose earlier packets are queued: it must
/// leave after them (input order 0..5), not overtake them (the 4,1,2,3,5 bug).
#[test]
fn a_truncated_frame_does_not_overtake_its_flow() {
    let base = Recipe {
        flow: 1,
        vlans: vec![],
        l3: 0,
        v4_opts: 0,
        frag: 0,
        v6_ext: vec![],
        l4: 4,
        tcp_flags: 0,
        payload: 20,
        bad_len: false,
        cut: None,
        dt: 1,
        random: vec![],
    };
    let mut recipes = vec![base.clone(); 5];
    recipes[3].cut = Some(200); // the UDP header is whole, part of the payload is not
    let s = Settings {
        delay_us: 100,
        max_burst: 1024,
        max_buffered_packets: 65_536,
        flow_table_capacity: 262_144,
        max_flows: 0,
        first_packet_bypass: false,
        bypass_syn: false,
        priority: "sent",
        nanos: true,
        big_endian: false,
    };
    check(&recipes, &s).unwrap();
}
