//! The agent's control logic in-process (no root needed): what it announces, and which
//! refresh frames it acts on.

use ribosome_agent::agent::{Agent, AgentConfig};
use ribosome_rnic::soft::{SoftConfig, SoftRnic};
use ribosome_wire::control::{
    write_control, Auth, AuthKey, ControlMsg, ParsedControl, Verifier, INFO_DST_MAC,
};
use ribosome_wire::MacAddr;
use std::net::Ipv4Addr;

const MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 7]);
const SWITCH: MacAddr = MacAddr([0, 0, 0, 0, 0, 1]);

fn key() -> AuthKey {
    AuthKey::new([9; 32])
}

fn agent() -> Agent {
    let cfg = AgentConfig {
        server_index: 2,
        qps: 3,
        memory: 1 << 16,
        enable_timer: (10, 20),
        mac: MAC,
        ip: Ipv4Addr::new(192, 168, 40, 3),
        info_dst_mac: INFO_DST_MAC,
        key: Some(key()),
    };
    let rnic = SoftRnic::new(SoftConfig::new(MAC, Ipv4Addr::new(192, 168, 40, 3)));
    Agent::setup(cfg, Box::new(rnic)).unwrap()
}

fn refresh(k: &AuthKey, server_index: u16, seq: u64, global_index: u16) -> Vec<u8> {
    let mut f = Vec::new();
    let msg = ControlMsg::QpRefresh { global_index };
    write_control(
        MAC,
        SWITCH,
        &msg,
        Some((k, Auth { server_index, seq })),
        &mut f,
    );
    f
}

fn feed(a: &mut Agent, frame: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    a.on_frame(frame, &mut |f| out.push(f.to_vec()));
    out
}

#[test]
fn announces_qps_at_their_global_indices_then_mem_and_eth_all_authenticated() {
    let mut a = agent();
    let frames = a.announcements();
    assert_eq!(frames.len(), 5);
    let mut v = Verifier::new(Some(key()));
    let msgs: Vec<ControlMsg> = frames
        .iter()
        .map(|f| v.check(&ParsedControl::parse(f).unwrap()).unwrap())
        .collect();
    for (i, m) in msgs[..3].iter().enumerate() {
        let ControlMsg::QpInfo {
            enable_timer,
            global_index,
            qpn,
        } = *m
        else {
            panic!("{m:?}")
        };
        assert_eq!(global_index, 6 + i as u16, "global = local + qps * server");
        assert_eq!(qpn, a.qps()[i].1);
        assert!((10..=20).contains(&enable_timer));
    }
    let mem = a.memory();
    assert_eq!(
        msgs[3],
        ControlMsg::MemInfo {
            server_index: 2,
            va: mem.va,
            rkey: mem.rkey
        }
    );
    assert_eq!(
        msgs[4],
        ControlMsg::EthInfo {
            server_index: 2,
            mac: MAC,
            ip: Ipv4Addr::new(192, 168, 40, 3)
        }
    );
}

#[test]
fn acts_only_on_fresh_authentic_refreshes_for_its_own_qps() {
    let mut a = agent();
    // Wrong key, another server's index, a QP that is not ours: refused, nothing sent.
    assert!(feed(&mut a, &refresh(&AuthKey::new([1; 32]), 2, 5, 7)).is_empty());
    assert!(feed(&mut a, &refresh(&key(), 1, 6, 7)).is_empty());
    assert!(feed(&mut a, &refresh(&key(), 2, 7, 99)).is_empty());
    // Genuine: the QP is reset and re-announced.
    let out = feed(&mut a, &refresh(&key(), 2, 8, 7));
    assert_eq!(out.len(), 1);
    let m = Verifier::new(Some(key()))
        .check(&ParsedControl::parse(&out[0]).unwrap())
        .unwrap();
    assert!(matches!(
        m,
        ControlMsg::QpInfo {
            global_index: 7,
            ..
        }
    ));
    // Replayed: refused.
    assert!(feed(&mut a, &refresh(&key(), 2, 8, 7)).is_empty());
    assert_eq!(a.stats().refreshes, 1);
    assert_eq!(a.stats().refresh_rejected, 4);
}
