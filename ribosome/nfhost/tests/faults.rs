//! Fault injection through the in-process pipeline. In every case: zero corrupted packets
//! delivered, every packet either delivered byte-exact or counted once in the switch's
//! `Losses`, flow order kept, and the pipeline keeps splitting afterwards.

#![cfg(feature = "sim")]

use ribosome_nfhost::sim::{Sim, SimConfig};
use ribosome_nfhost::traffic::{generate, verify, GenPacket, TrafficSpec, Verdict};

fn traffic(seed: u64, packets: usize) -> Vec<GenPacket> {
    generate(&TrafficSpec {
        seed,
        flows: 32,
        packets,
        sizes: (80, 1500),
        small_every: 0,
        small_max: 60,
    })
}

/// Output verdict, after asserting the invariants every fault case shares.
fn check(sim: &Sim, pkts: &[GenPacket]) -> Verdict {
    let v = verify(pkts, sim.output(), None);
    let losses = sim.switch.losses();
    assert_eq!(v.corrupted, 0, "{v:?} {losses:?}");
    assert_eq!(v.duplicates, 0, "{v:?}");
    assert_eq!(
        v.reordered, 0,
        "flow order kept even across fallbacks: {v:?}"
    );
    assert_eq!(
        v.missing,
        losses.total(),
        "every missing packet is counted once: {v:?} {losses:?}"
    );
    assert_eq!(losses.bad_header, 0);
    assert_eq!(sim.nf.stats().dropped, 0);
    assert_eq!(sim.switch.headers_waiting(), 0, "no header stuck in a slot");
    assert_eq!(sim.switch.reads_in_flight(), 0, "no READ stuck");
    v
}

/// Packets among `ids` that came back through the split path.
fn split_among(sim: &Sim, ids: std::ops::Range<u32>) -> usize {
    sim.output()
        .iter()
        .filter(|o| o[5] == 1)
        .filter_map(|o| ribosome_nfhost::traffic::packet_id(o))
        .filter(|i| ids.contains(i))
        .count()
}

#[test]
fn dropped_write_naks_disables_the_qp_falls_back_whole_then_restores() {
    let mut cfg = SimConfig::small();
    cfg.gap_ns = 200;
    let mut sim = Sim::new(cfg).unwrap();
    sim.drop_write(300);
    let pkts = traffic(21, 4000);
    sim.inject(pkts.iter().map(|p| p.frame.clone()));
    sim.drain(50_000_000);
    let v = check(&sim, &pkts);
    let sw = sim.switch.counters();
    assert_eq!(sim.stats().injected_drops, 1);
    assert!(sw.naks >= 1, "{sw:?}");
    assert!(v.missing >= 1, "the dropped WRITE's packet is lost");
    assert!(
        sim.switch.whole_reasons().qp_disabled > 0,
        "flows fell back"
    );
    assert!(sw.refreshes >= 1, "restore sent");
    assert!(split_among(&sim, 3500..4000) > 400, "splitting again");
    for q in 0..16 {
        assert_eq!(sim.switch.qp_enabled(q), Some(1), "QP {q} restored");
    }
}

#[test]
fn payload_log_wrapping_before_reads_is_detected_never_delivered() {
    let mut cfg = SimConfig::small();
    cfg.switch.payload_log = 16 << 10;
    let mut sim = Sim::new(cfg).unwrap();
    let pkts = traffic(22, 3000);
    sim.inject(pkts.iter().map(|p| p.frame.clone()));
    sim.drain(50_000_000);
    let v = check(&sim, &pkts);
    let l = sim.switch.losses();
    assert!(l.payload_overwritten > 100, "{l:?}");
    assert!(sim.switch.counters().log_wraps > 10);
    assert!(
        v.split > 0,
        "payloads read before the wrap still come back: {v:?}"
    );
}

#[test]
fn header_slot_reuse_while_the_scheduler_holds_is_detected() {
    let mut cfg = SimConfig::small();
    cfg.switch.header_slots = 16;
    let mut sim = Sim::new(cfg).unwrap();
    let pkts = traffic(23, 3000);
    sim.inject(pkts.iter().map(|p| p.frame.clone()));
    sim.drain(50_000_000);
    let v = check(&sim, &pkts);
    let l = sim.switch.losses();
    assert!(l.slot_reused > 100, "{l:?}");
    assert!(sim.switch.counters().stale_responses > 0);
    assert!(v.split > 0, "{v:?}");
}

#[test]
fn killed_payload_server_is_taken_out_and_comes_back() {
    let mut sim = Sim::new(SimConfig::small()).unwrap();
    let pkts = traffic(24, 6000);
    let frames: Vec<Vec<u8>> = pkts.iter().map(|p| p.frame.clone()).collect();
    sim.inject(frames[..2000].iter().cloned());
    sim.kill_server(1);
    sim.inject(frames[2000..4000].iter().cloned());
    assert!(sim.switch.server_dead(1), "liveness took server 1 out");
    assert_eq!(sim.switch.active_members(), 8);
    sim.start_server(1).unwrap();
    sim.inject(frames[4000..].iter().cloned());
    sim.drain(50_000_000);
    let v = check(&sim, &pkts);
    let sw = sim.switch.counters();
    assert_eq!(sw.servers_dead, 1);
    assert!(sw.servers_revived >= 1);
    assert!(!sim.switch.server_dead(1));
    assert!(
        v.missing > 0 && v.missing < 1000,
        "{v:?} {:?}",
        sim.switch.losses()
    );
    let on_server1_after = sim
        .output()
        .iter()
        .filter(|o| o[5] == 1 && o[11] == 1)
        .filter_map(|o| ribosome_nfhost::traffic::packet_id(o))
        .filter(|&i| i >= 4500)
        .count();
    assert!(on_server1_after > 100, "server 1 carries payloads again");
}
