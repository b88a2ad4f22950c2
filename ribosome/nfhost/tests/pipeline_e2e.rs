//! The whole split pipeline in-process: generator -> switch -> 2 soft payload servers and the
//! Reframer NF host -> reassembled output, checked byte for byte against the originals.

#![cfg(feature = "sim")]

use ribosome_nfhost::rewrite::Nat;
use ribosome_nfhost::sim::{Sim, SimConfig};
use ribosome_nfhost::traffic::{generate, verify, TrafficSpec};
use std::net::Ipv4Addr;

fn spec(seed: u64, packets: usize) -> TrafficSpec {
    TrafficSpec {
        seed,
        flows: 24,
        packets,
        // Flows mix whole (IPv4 length <= 64) and split packets: order must hold across paths.
        sizes: (60, 1500),
        small_every: 6,
        small_max: 78,
    }
}

#[test]
fn every_packet_comes_back_byte_exact_in_flow_order() {
    let mut cfg = SimConfig::small();
    cfg.nat = Some(Nat {
        to_ip: Ipv4Addr::new(172, 16, 0, 9),
        to_port: 8080,
    });
    let nat = cfg.nat;
    let mut sim = Sim::new(cfg).unwrap();
    let pkts = generate(&spec(11, 3000));
    sim.inject(pkts.iter().map(|p| p.frame.clone()));
    sim.drain(50_000_000);

    let v = verify(&pkts, sim.output(), nat.as_ref());
    let sw = sim.switch.counters();
    assert_eq!(v.corrupted, 0, "{v:?}");
    assert_eq!(v.duplicates, 0, "{v:?}");
    assert_eq!(v.missing, 0, "{v:?} losses {:?}", sim.switch.losses());
    assert_eq!(v.reordered, 0, "{v:?}");
    assert_eq!(v.exact, 3000);
    assert_eq!(sim.switch.losses().total(), 0);
    assert_eq!(
        sim.switch.headers_waiting() + sim.switch.reads_in_flight(),
        0
    );
    // Both paths and both servers were used, and the small flows went whole.
    assert!(v.split > 2000, "{v:?}");
    assert_eq!(sw.reassembled, v.split);
    assert!(sim.switch.whole_reasons().small > 100);
    assert_eq!(sw.writes, sw.split);
    assert_eq!(sw.reads, sw.split);
    let on = |k: u8| {
        sim.output()
            .iter()
            .filter(|o| o[5] == 1 && o[11] == k)
            .count()
    };
    assert!(
        on(0) > 300 && on(1) > 300,
        "server 0: {} server 1: {} wraps {}",
        on(0),
        on(1),
        sw.log_wraps
    );
    assert_eq!(sw.junk + sw.stale_responses + sw.registrations_rejected, 0);
    // The NF host saw only headers for split packets.
    assert!(sim.stats().nf_bytes_in < sim.stats().generated_bytes / 3);
}

#[test]
fn tcp_and_udp_every_size_from_60_to_1514() {
    let mut sim = Sim::new(SimConfig::small()).unwrap();
    let mut pkts = Vec::new();
    for size in 60..=1514usize {
        let s = TrafficSpec {
            seed: size as u64,
            flows: 2,
            packets: 2,
            sizes: (size, size),
            small_every: 0,
            small_max: 60,
        };
        for mut p in generate(&s) {
            // Give each packet a unique id across the whole run.
            let id = pkts.len() as u32;
            let off = if p.flow % 2 == 0 { 54 } else { 42 };
            p.frame[off..off + 4].copy_from_slice(&id.to_be_bytes());
            // Each generate() call draws its own addresses: a flow per (size, flow).
            p.flow += 2 * (size - 60);
            pkts.push(p);
        }
    }
    sim.inject(pkts.iter().map(|p| p.frame.clone()));
    sim.drain(50_000_000);
    let v = verify(&pkts, sim.output(), None);
    assert_eq!(
        (v.corrupted, v.missing, v.duplicates, v.reordered),
        (0, 0, 0, 0),
        "{v:?}"
    );
    assert_eq!(sim.switch.losses().total(), 0);
    assert!(v.split > 2500, "{v:?}");
}

mod random_runs {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]

        /// Random traffic shapes, scheduler windows and link latencies: still every packet
        /// back byte-exact, in flow order, nothing lost.
        #[test]
        fn any_shape_is_byte_exact(
            seed in any::<u64>(),
            flows in 1usize..40,
            lo in 60usize..1500,
            span in 0usize..1500,
            delay_us in 0u64..200,
            link_ns in 100u64..20_000,
            gap_ns in 10u64..2_000,
        ) {
            let mut cfg = SimConfig::small();
            cfg.scheduler.delay_ns = delay_us * 1000;
            cfg.server_link_ns = link_ns;
            cfg.gap_ns = gap_ns;
            cfg.switch.payload_log = 8 << 20;
            cfg.server_memory = 8 << 20;
            cfg.switch.header_slots = 8192;
            let mut sim = Sim::new(cfg).unwrap();
            let pkts = generate(&TrafficSpec {
                seed,
                flows,
                packets: 600,
                sizes: (lo, (lo + span).min(1514)),
                small_every: 5,
                small_max: 78,
            });
            sim.inject(pkts.iter().map(|p| p.frame.clone()));
            sim.drain(100_000_000);
            let v = verify(&pkts, sim.output(), None);
            prop_assert_eq!(v.exact, 600, "{:?} {:?}", v, sim.switch.losses());
            prop_assert_eq!(v.reordered, 0);
        }
    }
}
