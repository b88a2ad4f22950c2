//! The switch model alone, frame by frame: split decision, WRITE and header-copy layout, log
//! and PSN wrap, registration and its authentication, NAK/restore/countdown, blacklist,
//! overload hysteresis and liveness.

use ribosome_switch::consts::SPLIT_FLAG;
use ribosome_switch::lpm::BlacklistAction;
use ribosome_switch::{Out, Overload, Switch, SwitchConfig};
use ribosome_wire::control::{AuthKey, ControlMsg, ParsedControl};
use ribosome_wire::ib::{Aeth, Bth, NakCode, Opcode};
use ribosome_wire::{MacAddr, PayloadTag, RoceFrame, SplitTrailer};
use std::net::Ipv4Addr;

mod common;
use common::{ctrl, server_reply, udp};

const CLIENT: u16 = 0;
const NF: u16 = 1;
const S0: u16 = 2;
const KEY: [u8; 32] = [3; 32];

fn cfg() -> SwitchConfig {
    let mut c = SwitchConfig::new(NF, vec![CLIENT]);
    c.servers = 1;
    c.qps_per_server = 2;
    c.key = Some(AuthKey::new(KEY));
    c.payload_log = 4096;
    c.overload = None;
    c
}

fn register(sw: &mut Switch, key: &AuthKey, timer: u16, seq0: u64) {
    let mut out = Out::new();
    for q in 0..2u16 {
        let m = ControlMsg::QpInfo {
            enable_timer: timer,
            global_index: q,
            qpn: 100 + u32::from(q),
        };
        sw.process(S0, &ctrl(key, seq0 + u64::from(q), m), 0, &mut out);
    }
    let mem = ControlMsg::MemInfo {
        server_index: 0,
        va: 0x10_0000,
        rkey: 0x55,
    };
    sw.process(S0, &ctrl(key, seq0 + 5, mem), 0, &mut out);
    let eth = ControlMsg::EthInfo {
        server_index: 0,
        mac: MacAddr([2, 0, 0, 0, 0, 9]),
        ip: Ipv4Addr::new(192, 168, 40, 1),
    };
    sw.process(S0, &ctrl(key, seq0 + 6, eth), 0, &mut out);
    assert!(out.is_empty());
}

fn ready() -> Switch {
    let mut sw = Switch::new(cfg()).unwrap();
    register(&mut sw, &AuthKey::new(KEY), 1, 10);
    sw
}

#[test]
fn small_and_non_tcp_udp_packets_go_whole_with_the_mark_cleared() {
    let mut sw = ready();
    let mut out = Out::new();
    let small = udp(36, 1); // IPv4 total length 64: not above the threshold
    sw.process(CLIENT, &small, 0, &mut out);
    let mut arp = small.clone();
    arp[12..14].copy_from_slice(&[0x08, 0x06]);
    sw.process(CLIENT, &arp, 0, &mut out);
    let mut icmp = udp(100, 1);
    icmp[23] = 1;
    sw.process(CLIENT, &icmp, 0, &mut out);
    assert_eq!(out.len(), 3);
    for (port, f) in &out {
        assert_eq!(*port, NF);
        assert_eq!(f[11], 0);
    }
    assert_eq!(&out[0].1[12..], &small[12..]);
    let w = sw.whole_reasons();
    assert_eq!((w.small, w.not_ipv4, w.not_tcp_udp), (1, 1, 1));
}

#[test]
fn a_large_packet_becomes_a_write_and_a_header_copy() {
    let mut sw = ready();
    let mut out = Out::new();
    let pkt = udp(37, 7); // total length 65: split; 37 B payload needs 3 pad bytes
    sw.process(CLIENT, &pkt, 0, &mut out);
    assert_eq!(out.len(), 2, "{:?}", sw.whole_reasons());
    let (wport, write) = &out[0];
    assert_eq!(*wport, S0);
    let w = RoceFrame::parse(write).unwrap();
    assert!(w.icrc_valid());
    assert_eq!(w.bth.opcode, Opcode::WRITE_ONLY);
    assert!(w.bth.ack_req);
    let reth = w.reth.unwrap();
    assert_eq!(
        (reth.va, reth.rkey, reth.dma_len),
        (0x10_0000, 0x55, 8 + 3 + 37)
    );
    let (tag, payload) = PayloadTag::parse(w.payload).unwrap();
    assert_eq!(tag.pad_count, 3);
    assert_eq!(payload, &pkt[42..]);
    assert_eq!(w.eth.dst, MacAddr([2, 0, 0, 0, 0, 9]));
    assert_eq!(w.ip.dst, Ipv4Addr::new(192, 168, 40, 1));

    let (hport, hdr) = &out[1];
    assert_eq!(*hport, NF);
    assert_eq!(hdr.len(), 42 + SplitTrailer::VERSIONED_LEN);
    assert_eq!(hdr[11], SPLIT_FLAG);
    let qp = u16::from(hdr[4]);
    assert_eq!(hdr[5], 0, "server index in the destination MAC");
    assert_eq!(u16::from_be_bytes([hdr[16], hdr[17]]), 20 + 8 + 28);
    assert_eq!(ribosome_wire::ipv4::checksum(&hdr[14..34]), 0);
    let (t, _) = SplitTrailer::parse(&hdr[42..]).unwrap();
    assert_eq!(t.qp_index, qp);
    assert_eq!(t.generation, tag.generation);
    assert_eq!(t.header_slot, tag.header_slot);
    assert_eq!((t.remote_va, t.length), (0x10_0000, 48));
    assert_eq!(w.bth.dest_qp, 100 + u32::from(qp));
    assert_eq!(sw.qp_psn(qp.into()), Some(1));
}

#[test]
fn log_wraps_with_padding_and_psn_wraps_at_24_bits() {
    let mut sw = ready();
    for q in 0..2 {
        sw.set_qp_psn(q, 0xff_ffff);
    }
    let mut vas = Vec::new();
    let mut psns = Vec::new();
    for i in 0..10 {
        let mut out = Out::new();
        sw.process(CLIENT, &udp(1001, 9), i, &mut out); // 8 + 3 + 1001 = 1012 per entry
        let w = RoceFrame::parse(&out[0].1).unwrap();
        vas.push(w.reth.unwrap().va - 0x10_0000);
        psns.push(w.bth.psn);
    }
    // 4096-byte log: 4 entries of 1012 fit (4048), the 5th wraps to 0.
    assert_eq!(&vas[..6], &[0, 1012, 2024, 3036, 0, 1012]);
    assert_eq!(sw.counters().log_wraps, 2);
    assert_eq!(&psns[..3], &[0xff_ffff, 0, 1]);
}

#[test]
fn registration_must_be_authenticated() {
    let mut sw = Switch::new(cfg()).unwrap();
    register(&mut sw, &AuthKey::new([4; 32]), 1, 10);
    assert_eq!(sw.counters().registrations, 0);
    assert_eq!(sw.counters().registrations_rejected, 4);
    let mut out = Out::new();
    sw.process(CLIENT, &udp(500, 1), 0, &mut out);
    assert_eq!(out[0].0, NF);
    assert_eq!(sw.whole_reasons().server_unknown, 1);
    // A valid frame arriving on a client port is refused too.
    let mem = ControlMsg::MemInfo {
        server_index: 0,
        va: 1,
        rkey: 1,
    };
    sw.process(CLIENT, &ctrl(&AuthKey::new(KEY), 99, mem), 0, &mut out);
    assert_eq!(sw.counters().control_wrong_port, 1);
    // Replays are refused.
    register(&mut sw, &AuthKey::new(KEY), 1, 10);
    assert_eq!(sw.counters().registrations, 4);
    register(&mut sw, &AuthKey::new(KEY), 1, 10);
    assert_eq!(sw.counters().registrations, 4);
}

fn nak(qp: u32) -> Vec<u8> {
    server_reply(
        Bth::new(Opcode::ACK, qp, 0, false),
        Aeth::nak(NakCode::PsnSequenceError, 0),
    )
    .to_bytes(&[], true)
    .unwrap()
}

#[test]
fn nak_disables_restore_refreshes_and_the_countdown_reenables() {
    let mut sw = ready();
    let mut out = Out::new();
    let pkt = udp(500, 5);
    sw.process(CLIENT, &pkt, 0, &mut out);
    let qp = usize::from(out[1].1[4]);
    out.clear();
    sw.process(S0, &nak(qp as u32), 1, &mut out);
    assert_eq!(sw.qp_enabled(qp), Some(0));
    sw.process(CLIENT, &pkt, 2, &mut out);
    assert_eq!(out.pop().unwrap().0, NF, "whole while disabled");
    assert!(
        out.is_empty(),
        "no refresh before the control plane marks the QP"
    );
    sw.tick(3, &mut out); // first control period marks disabled QPs for restore
    sw.process(CLIENT, &pkt, 4, &mut out);
    let refresh = out
        .iter()
        .find(|(p, _)| *p == S0)
        .expect("refresh to the server");
    let parsed = ParsedControl::parse(&refresh.1).unwrap();
    assert_eq!(
        parsed.msg,
        ControlMsg::QpRefresh {
            global_index: qp as u16
        }
    );
    assert!(parsed.auth.is_some());
    // The agent resets the QP and re-announces it with enable_timer 3: two packets whole.
    let m = ControlMsg::QpInfo {
        enable_timer: 3,
        global_index: qp as u16,
        qpn: 100 + qp as u32,
    };
    sw.process(S0, &ctrl(&AuthKey::new(KEY), 50, m), 5, &mut out);
    out.clear();
    for _ in 0..2 {
        sw.process(CLIENT, &pkt, 6, &mut out);
    }
    assert!(out.iter().all(|(p, _)| *p == NF) && out.len() == 2);
    assert_eq!(sw.whole_reasons().qp_countdown, 2);
    out.clear();
    sw.process(CLIENT, &pkt, 7, &mut out);
    assert_eq!(out.len(), 2, "split again");
    assert_eq!(
        RoceFrame::parse(&out[0].1).unwrap().bth.psn,
        0,
        "seq_n reset"
    );
}

#[test]
fn blacklist_drops_or_sends_whole() {
    let mut c = cfg();
    c.blacklist
        .insert_str("10.0.0.2/32", BlacklistAction::Send(7))
        .unwrap();
    c.blacklist
        .insert_str("10.0.0.0/24", BlacklistAction::Drop)
        .unwrap();
    let mut sw = Switch::new(c).unwrap();
    let mut out = Out::new();
    sw.process(CLIENT, &udp(500, 1), 0, &mut out);
    assert_eq!(out[0].0, 7);
    let mut other = udp(500, 1);
    other[33] = 3;
    sw.process(CLIENT, &other, 0, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(sw.counters().blacklist_drop, 1);
}

#[test]
fn overload_hysteresis_and_liveness_toggle_members() {
    let mut c = cfg();
    c.servers = 2;
    c.control_period_ns = 1_000_000;
    c.liveness_timeout_ns = 10_000_000;
    c.overload = Some(Overload {
        high_bps: 2_000_000,
        low_bps: 1_000_000,
    });
    let mut sw = Switch::new(c).unwrap();
    register(&mut sw, &AuthKey::new(KEY), 1, 10);
    let mut out = Out::new();
    sw.tick(0, &mut out);
    assert_eq!(sw.active_members(), 4);
    // Several hundred bytes in 1 ms > 2 Mb/s towards server 0.
    // (Only server 0 registered: flows hashed to server 1 go whole.)
    for i in 0..40u8 {
        let mut f = udp(500, 40);
        f[29] = i; // source address varies
        f[28] = i.wrapping_mul(37);
        sw.process(CLIENT, &f, 10, &mut out);
    }
    assert!(
        out.iter().filter(|(p, _)| *p == S0).count() >= 3,
        "{:?} {:?}",
        sw.whole_reasons(),
        sw.counters()
    );
    sw.tick(1_000_000, &mut out);
    assert_eq!(sw.counters().overload_off, 1);
    assert_eq!(
        sw.active_members(),
        2,
        "server 0 members off, server 1's kept"
    );
    sw.tick(2_000_000, &mut out);
    assert_eq!(sw.counters().overload_on, 1);
    assert_eq!(sw.active_members(), 4);
    // Nothing answered the WRITEs: after the liveness timeout server 0 is out.
    sw.tick(12_000_000, &mut out);
    assert!(sw.server_dead(0));
    assert_eq!(sw.active_members(), 2);
    assert_eq!(sw.counters().servers_dead, 1);
}

mod robustness {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Arbitrary bytes on any port, and valid frames with one byte changed, never panic
        /// and never produce a frame for a port that does not exist.
        #[test]
        fn junk_never_panics(
            port in 0u16..4,
            bytes in proptest::collection::vec(any::<u8>(), 0..200),
            flip in (0usize..120, any::<u8>()),
            tick in any::<u32>(),
        ) {
            let mut sw = ready();
            let mut out = Out::new();
            sw.process(port, &bytes, 1, &mut out);
            let mut f = udp(100, 3);
            sw.process(CLIENT, &f, 2, &mut out);
            let hdr = out.iter().rfind(|(p, h)| *p == NF && h.len() > 42).map(|(_, h)| h.clone());
            if let Some(mut h) = hdr {
                let (d, rest) = h.split_at_mut(6);
                d.swap_with_slice(&mut rest[..6]);
                let i = flip.0 % h.len();
                h[i] ^= flip.1;
                sw.process(NF, &h, 3, &mut out);
            }
            let i = flip.0 % f.len();
            f[i] ^= flip.1;
            sw.process(port, &f, 4, &mut out);
            sw.tick(u64::from(tick), &mut out);
            for (p, _) in &out {
                prop_assert!(*p <= S0);
            }
        }
    }
}
