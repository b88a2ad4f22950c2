//! Replays the committed fuzz corpus (`fuzz/corpus/parse`) and every truncation of each
//! entry through the parser and the scheduler on stable Rust, so CI checks the cases the
//! fuzzer found without needing nightly. `REFRAMER_WRITE_SEEDS=1` regenerates the seeds.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use reframer_core::frames::FrameSpec;
use reframer_core::wire::{parse, parse_snapped, reread_key, tcp_flags, Parsed};
use reframer_core::{Config, Scheduler};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/parse")
}

fn seeds() -> Vec<Vec<u8>> {
    let v4 = |a| IpAddr::V4(Ipv4Addr::new(10, 0, 0, a));
    let v6 = |a| IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, a));
    let mut out = vec![
        FrameSpec::udp(v4(1), v4(2), 1, 2, 10).build(),
        FrameSpec::tcp(v4(1), v4(2), 1, 2, 5, 6, tcp_flags::ACK, b"").build(),
        FrameSpec::udp(v6(1), v6(2), 1, 2, 10).build(),
        FrameSpec::tcp(v6(1), v6(2), 1, 2, 5, 6, tcp_flags::SYN, b"xy").build(),
    ];
    let mut q = FrameSpec::udp(v4(1), v4(2), 1, 2, 3);
    q.vlans = vec![5, 6];
    out.push(q.build());
    let mut frag = FrameSpec::udp(v4(1), v4(2), 1, 2, 30).build();
    frag[20] = 0x20;
    out.push(frag);
    let base = FrameSpec::udp(v6(1), v6(2), 7, 9, 3).build();
    let mut ext = base[..54].to_vec();
    ext[20] = 0;
    ext.extend_from_slice(&[44, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0, 0, 0, 0, 0, 9]);
    ext.extend_from_slice(&base[54..]);
    out.push(ext);
    out
}

#[test]
fn corpus_replays_without_panics() {
    if std::env::var_os("REFRAMER_WRITE_SEEDS").is_some() {
        std::fs::create_dir_all(corpus_dir()).unwrap();
        for (i, s) in seeds().iter().enumerate() {
            std::fs::write(corpus_dir().join(format!("seed-{i:02}")), s).unwrap();
        }
    }
    let mut entries: Vec<Vec<u8>> = std::fs::read_dir(corpus_dir())
        .expect("committed corpus exists")
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert!(entries.len() >= 7, "corpus has the seeds");
    entries.extend(seeds());
    let mut s: Scheduler<Vec<u8>> = Scheduler::new(Config {
        tcp_ack_coalescing: true,
        ..Config::default()
    })
    .unwrap();
    let mut n = 0u64;
    for e in &entries {
        for cut in 0..=e.len() {
            let frame = &e[..cut];
            if let Parsed::Flow(i) = parse(frame) {
                assert!(usize::from(i.l4_off) + usize::from(i.payload_len) <= frame.len());
            }
            // Wherever the parser finds a flow, reading its key again gives the same key
            // (or leaves IPv6 extension headers to the parser).
            for parsed in [parse(frame), parse_snapped(frame)] {
                if let Parsed::Flow(i) = parsed {
                    let again = reread_key(frame);
                    assert!(again == Some(i.key) || (again.is_none() && i.key.src().is_ipv6()));
                }
            }
            s.push(frame.to_vec(), n * 1_000);
            n += 1;
        }
    }
    s.shutdown(n * 1_000);
    let st = s.stats();
    assert_eq!(st.packets_in, n);
    assert_eq!(st.packets_out + st.acks_coalesced, n);
}
