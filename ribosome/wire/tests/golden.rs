//! Golden bytes for every frame type. The expected hex was produced by an independent Python
//! implementation of the layouts (struct, zlib.crc32, hmac/hashlib), whose ICRC in turn
//! matched scapy's `contrib.roce` (see `icrc_oracle.rs` for the check that runs in CI).

use ribosome_wire::control::{
    write_control, Auth, AuthKey, ControlMsg, ParsedControl, INFO_DST_MAC, INFO_SRC_MAC,
};
use ribosome_wire::{
    Aeth, Bth, MacAddr, NakCode, Opcode, PayloadTag, Reth, RoceFrame, RoceSpec, SplitTrailer,
};
use std::net::Ipv4Addr;

const WRITE_ONLY: &str = "0c42a10000100000000000010800450000441234400040115625c0a828fec0a82801000012b7003000000a40ffff0000010180fffffe00007f0000001000deadbeef000000080000000741424344860d1e13";
const READ_REQUEST: &str = "0c42a100001000000000000108004502003c123540004011562ac0a828fec0a82801000012b7002800000c40ffff0000010180ffffff00007f0000001000deadbeef000000082a1cb691";
const ACK: &str = "0000000000010c42a1000010080045000030000040004011686dc0a82801c0a828fec00112b7001c00001140ffff00000005000000101f000005fde949ae";
const NAK_SEQ: &str = "0000000000010c42a1000010080045000030000040004011686dc0a82801c0a828fec00112b7001c00001140ffff0000000500000010600000053759159d";
const READ_RESPONSE_ONLY: &str = "0000000000010c42a10000100800450000380001400040116864c0a82801c0a828fec00112b7002400001040ffff00000005000000101f000006000000074142434420706e68";
const READ_RESPONSE_MIDDLE_PAD2: &str = "0000000000010c42a1000010080045000031000240004011686ac0a82801c0a828fec00112b7001d00000e60ffff000000050000001178797a00005aea8244";
const QP_INFO: &str = "000000000002000000000001123400000a004100000123";
const MEM_INFO: &str = "000000000002000000000001123401000100007f0000000000deadbeef";
const ETH_INFO: &str = "000000000002000000000001123402000100000c42a1000010c0a82801";
const QP_INFO_AUTH: &str = "000000000002000000000001123400000a004100000123a1000100000000000003e88a2a6f937e60fb2159ceac301599746a";
const REFRESH: &str = "0c42a100001000000000000143210041";
const REFRESH_AUTH: &str =
    "0c42a100001000000000000143210041a10001000000000000004d442369540f6063837d6a5e6ea9820af1";
const TRAILER_ORIGINAL: &str = "5599117700007f0000001000000c0041000100000007";
const TRAILER_VERSIONED: &str = "559911780100000700007f000000100000100041000100030a0b0c0d";
const TAG_ORIGINAL: &str = "00020007";
const TAG_VERSIONED: &str = "810300070a0b0c0d";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

const SW: MacAddr = MacAddr([0, 0, 0, 0, 0, 1]);
const SRV: MacAddr = MacAddr([0x0c, 0x42, 0xa1, 0, 0, 0x10]);
const SW_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 40, 254);
const SRV_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 40, 1);

fn to_server(ident: u16, tos: u8, bth: Bth, reth: Option<Reth>) -> RoceSpec {
    RoceSpec {
        src_mac: SW,
        dst_mac: SRV,
        src_ip: SW_IP,
        dst_ip: SRV_IP,
        ip_ident: ident,
        tos,
        ttl: 64,
        udp_src_port: 0,
        bth,
        reth,
        aeth: None,
    }
}

fn to_switch(ident: u16, bth: Bth, aeth: Option<Aeth>) -> RoceSpec {
    RoceSpec {
        src_mac: SRV,
        dst_mac: SW,
        src_ip: SRV_IP,
        dst_ip: SW_IP,
        ip_ident: ident,
        tos: 0,
        ttl: 64,
        udp_src_port: 0xc001,
        bth,
        reth: None,
        aeth,
    }
}

const RETH: Reth = Reth {
    va: 0x7f00_0000_1000,
    rkey: 0xdead_beef,
    dma_len: 8,
};

fn check_roce(spec: RoceSpec, payload: &[u8], golden: &str) {
    let bytes = spec.to_bytes(payload, true).unwrap();
    assert_eq!(hex(&bytes), golden, "{:?}", spec.bth.opcode);
    let f = RoceFrame::parse(&bytes).unwrap();
    assert!(f.icrc_valid());
    assert_eq!(f.bth, spec.bth);
    assert_eq!(f.reth, spec.reth);
    assert_eq!(f.aeth, spec.aeth);
    assert_eq!(f.payload, payload);
    assert_eq!(
        (f.ip.src, f.ip.dst, f.ip.ident),
        (spec.src_ip, spec.dst_ip, spec.ip_ident)
    );
    let mut bad = bytes.clone();
    *bad.last_mut().unwrap() ^= 1;
    assert!(!RoceFrame::parse(&bad).unwrap().icrc_valid());
}

#[test]
fn write_only_as_the_switch_sends_it() {
    let bth = Bth::new(Opcode::WRITE_ONLY, 0x101, 0xff_fffe, true);
    check_roce(
        to_server(0x1234, 0, bth, Some(RETH)),
        b"\x00\x00\x00\x07ABCD",
        WRITE_ONLY,
    );
}

#[test]
fn read_request_with_tos() {
    let bth = Bth::new(Opcode::READ_REQUEST, 0x101, 0xff_ffff, true);
    check_roce(to_server(0x1235, 2, bth, Some(RETH)), b"", READ_REQUEST);
}

#[test]
fn ack_nak_and_read_responses() {
    let bth = Bth::new(Opcode::ACK, 5, 0x10, false);
    check_roce(to_switch(0, bth, Some(Aeth::ack(5))), b"", ACK);
    let nak = Aeth::nak(NakCode::PsnSequenceError, 5);
    check_roce(to_switch(0, bth, Some(nak)), b"", NAK_SEQ);
    let only = Bth::new(Opcode::READ_RESPONSE_ONLY, 5, 0x10, false);
    check_roce(
        to_switch(1, only, Some(Aeth::ack(6))),
        b"\x00\x00\x00\x07ABCD",
        READ_RESPONSE_ONLY,
    );
    let mut mid = Bth::new(Opcode::READ_RESPONSE_MIDDLE, 5, 0x11, false);
    mid.pad_count = 2;
    check_roce(to_switch(2, mid, None), b"xyz", READ_RESPONSE_MIDDLE_PAD2);
}

fn check_control(msg: ControlMsg, dst: MacAddr, auth: Option<Auth>, golden: &str) {
    let key = AuthKey::new(std::array::from_fn(|i| i as u8));
    let mut out = Vec::new();
    write_control(dst, INFO_SRC_MAC, &msg, auth.map(|a| (&key, a)), &mut out);
    assert_eq!(hex(&out), golden);
    let p = ParsedControl::parse(&out).unwrap();
    assert_eq!(p.msg, msg);
    assert_eq!(p.auth.map(|(a, _)| a), auth);
}

#[test]
fn registration_and_refresh_frames() {
    let qp = ControlMsg::QpInfo {
        enable_timer: 10,
        global_index: 65,
        qpn: 0x123,
    };
    check_control(qp, INFO_DST_MAC, None, QP_INFO);
    let mem = ControlMsg::MemInfo {
        server_index: 1,
        va: 0x7f00_0000_0000,
        rkey: 0xdead_beef,
    };
    check_control(mem, INFO_DST_MAC, None, MEM_INFO);
    let eth = ControlMsg::EthInfo {
        server_index: 1,
        mac: SRV,
        ip: SRV_IP,
    };
    check_control(eth, INFO_DST_MAC, None, ETH_INFO);
    let auth = Auth {
        server_index: 1,
        seq: 1000,
    };
    check_control(qp, INFO_DST_MAC, Some(auth), QP_INFO_AUTH);
    let refresh = ControlMsg::QpRefresh { global_index: 65 };
    check_control(refresh, SRV, None, REFRESH);
    let auth = Auth {
        server_index: 1,
        seq: 77,
    };
    check_control(refresh, SRV, Some(auth), REFRESH_AUTH);
}

#[test]
fn trailers_and_tags_both_layouts() {
    let mut t = SplitTrailer {
        remote_va: 0x7f00_0000_1000,
        length: 12,
        qp_index: 65,
        server_index: 1,
        pad_count: 0,
        header_slot: 7,
        generation: None,
    };
    let mut out = Vec::new();
    t.write_to(&mut out);
    assert_eq!(hex(&out), TRAILER_ORIGINAL);
    assert_eq!(SplitTrailer::parse(&out).unwrap(), (t, &[][..]));
    t.length = 16;
    t.pad_count = 3;
    t.generation = Some(0x0a0b_0c0d);
    out.clear();
    t.write_to(&mut out);
    assert_eq!(hex(&out), TRAILER_VERSIONED);
    assert_eq!(SplitTrailer::parse(&out).unwrap(), (t, &[][..]));

    let tag = PayloadTag {
        pad_count: 2,
        header_slot: 7,
        generation: None,
    };
    out.clear();
    tag.write_to(&mut out).unwrap();
    assert_eq!(hex(&out), TAG_ORIGINAL);
    out.extend_from_slice(b"\0\0payload");
    assert_eq!(PayloadTag::parse(&out).unwrap(), (tag, &b"payload"[..]));
    let tag = PayloadTag {
        pad_count: 3,
        header_slot: 7,
        generation: Some(0x0a0b_0c0d),
    };
    out.clear();
    tag.write_to(&mut out).unwrap();
    assert_eq!(hex(&out), TAG_VERSIONED);
    out.extend_from_slice(b"\0\0\0p");
    assert_eq!(PayloadTag::parse(&out).unwrap(), (tag, &b"p"[..]));
}

#[test]
fn golden_frames_parse_from_hex() {
    for g in [WRITE_ONLY, READ_REQUEST, ACK, NAK_SEQ, READ_RESPONSE_ONLY] {
        let f = unhex(g);
        assert!(RoceFrame::parse(&f).unwrap().icrc_valid());
    }
    let raw = unhex(NAK_SEQ);
    let nak = RoceFrame::parse(&raw).unwrap();
    assert_eq!(
        nak.aeth.unwrap().kind(),
        ribosome_wire::AethKind::Nak(NakCode::PsnSequenceError)
    );
}
