//! Property tests: builders and parsers are inverse, parsers never panic on arbitrary or
//! mutated input, and the versioned tag/trailer detect what the original layout cannot.

use proptest::prelude::*;
use ribosome_wire::control::{write_control, Auth, AuthKey, ControlMsg, ParsedControl, Verifier};
use ribosome_wire::split::check_fetch;
use ribosome_wire::{
    Bth, FetchMismatch, MacAddr, Opcode, PayloadTag, Reth, RoceFrame, RoceSpec, SplitTrailer,
};
use std::net::Ipv4Addr;

fn spec(op: u8, qp: u32, psn: u32, pad: u8, va: u64, ident: u16) -> RoceSpec {
    let opcode = Opcode(op);
    let mut bth = Bth::new(opcode, qp, psn, true);
    bth.pad_count = pad & 3;
    RoceSpec {
        src_mac: MacAddr([2, 0, 0, 0, 0, 1]),
        dst_mac: MacAddr([2, 0, 0, 0, 0, 2]),
        src_ip: Ipv4Addr::new(10, 0, 0, 1),
        dst_ip: Ipv4Addr::new(10, 0, 0, 2),
        ip_ident: ident,
        tos: 0,
        ttl: 64,
        udp_src_port: 0xc000,
        bth,
        reth: opcode.has_reth().then_some(Reth {
            va,
            rkey: 9,
            dma_len: 4,
        }),
        aeth: opcode.has_aeth().then_some(ribosome_wire::Aeth::ack(psn)),
    }
}

proptest! {
    #[test]
    fn roce_round_trip(op in 0u8..=0x11, qp in any::<u32>(), psn in any::<u32>(), pad in 0u8..4,
                       va in any::<u64>(), ident in any::<u16>(),
                       payload in proptest::collection::vec(any::<u8>(), 0..1500)) {
        let s = spec(op, qp, psn, pad, va, ident);
        let bytes = s.to_bytes(&payload, true).unwrap();
        let f = RoceFrame::parse(&bytes).unwrap();
        prop_assert!(f.icrc_valid());
        prop_assert_eq!(f.bth, s.bth);
        prop_assert_eq!(f.reth, s.reth);
        prop_assert_eq!(f.payload, &payload[..]);
        prop_assert_eq!(f.bth.psn, psn & 0xff_ffff);
        // Ethernet padding after the IP packet is ignored.
        let mut padded = bytes.clone();
        padded.extend_from_slice(&[0; 17]);
        prop_assert_eq!(RoceFrame::parse(&padded).unwrap().payload, &payload[..]);
    }

    #[test]
    fn parsers_survive_mutation(op in 0u8..=0x11, payload in proptest::collection::vec(any::<u8>(), 0..64),
                                flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
                                cut in any::<usize>()) {
        let mut bytes = spec(op, 1, 2, 0, 3, 4).to_bytes(&payload, true).unwrap();
        for (i, x) in flips {
            let n = bytes.len();
            bytes[i % n] ^= x;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        prop_assert!(ribosome_wire::selfcheck::check_all_parsers(&bytes).is_ok());
    }

    #[test]
    fn parsers_survive_garbage(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        prop_assert!(ribosome_wire::selfcheck::check_all_parsers(&data).is_ok());
    }

    #[test]
    fn tampered_control_frames_are_rejected(byte in 0usize..64, bit in 0u8..8, seq in 1u64..u64::MAX) {
        let key = AuthKey::new([3; 32]);
        let msg = ControlMsg::MemInfo { server_index: 2, va: 0x7f00_0000_0000, rkey: 77 };
        let mut f = Vec::new();
        write_control(MacAddr([0; 6]), MacAddr([1; 6]), &msg, Some((&key, Auth { server_index: 2, seq })), &mut f);
        let i = byte % f.len();
        f[i] ^= 1 << bit;
        let mut v = Verifier::new(Some(key));
        // Either the frame no longer parses, or the verifier refuses it.
        if let Ok(p) = ParsedControl::parse(&f) {
            prop_assert!(v.check(&p).is_err(), "flipped byte {} bit {} accepted", i, bit);
        }
    }
}

#[test]
fn verifier_rejects_wrong_key_replay_missing_and_mismatch() {
    let key = AuthKey::new([3; 32]);
    let forged_key = AuthKey::new([4; 32]);
    let msg = ControlMsg::QpInfo {
        enable_timer: 1,
        global_index: 3,
        qpn: 0x99,
    };
    let frame = |k: &AuthKey, seq| {
        let mut f = Vec::new();
        write_control(
            MacAddr([0; 6]),
            MacAddr([1; 6]),
            &msg,
            Some((
                k,
                Auth {
                    server_index: 0,
                    seq,
                },
            )),
            &mut f,
        );
        f
    };
    let mut v = Verifier::new(Some(key.clone()));
    let ok = frame(&key, 10);
    assert_eq!(v.check(&ParsedControl::parse(&ok).unwrap()), Ok(msg));
    assert!(matches!(
        v.check(&ParsedControl::parse(&ok).unwrap()),
        Err(ribosome_wire::control::AuthError::Replay { .. })
    ));
    let forged = frame(&forged_key, 11);
    assert_eq!(
        v.check(&ParsedControl::parse(&forged).unwrap()),
        Err(ribosome_wire::control::AuthError::BadMac)
    );
    let mut legacy = Vec::new();
    write_control(MacAddr([0; 6]), MacAddr([1; 6]), &msg, None, &mut legacy);
    assert_eq!(
        v.check(&ParsedControl::parse(&legacy).unwrap()),
        Err(ribosome_wire::control::AuthError::Missing)
    );
    // Compatibility mode (no key) accepts the legacy frame.
    assert_eq!(
        Verifier::new(None).check(&ParsedControl::parse(&legacy).unwrap()),
        Ok(msg)
    );
    // MEM info whose body claims another server than the trailer.
    let mem = ControlMsg::MemInfo {
        server_index: 5,
        va: 1,
        rkey: 2,
    };
    let mut f = Vec::new();
    write_control(
        MacAddr([0; 6]),
        MacAddr([1; 6]),
        &mem,
        Some((
            &key,
            Auth {
                server_index: 0,
                seq: 99,
            },
        )),
        &mut f,
    );
    assert!(matches!(
        v.check(&ParsedControl::parse(&f).unwrap()),
        Err(ribosome_wire::control::AuthError::ServerMismatch { .. })
    ));
}

#[test]
fn versioned_layout_detects_overwrite_and_slot_reuse_original_cannot() {
    let trailer = |generation| SplitTrailer {
        remote_va: 64,
        length: 100,
        qp_index: 1,
        server_index: 0,
        pad_count: 0,
        header_slot: 9,
        generation,
    };
    let tag = |slot, generation| PayloadTag {
        pad_count: 0,
        header_slot: slot,
        generation,
    };
    // Ring overwrite: the payload at that address now belongs to a later split with the same
    // slot number (2000 packets later). The original layout cannot tell.
    assert_eq!(check_fetch(&trailer(None), &tag(9, None)), Ok(()));
    assert_eq!(
        check_fetch(&trailer(Some(100)), &tag(9, Some(2100))),
        Err(FetchMismatch::Generation {
            tag: 2100,
            trailer: 100
        })
    );
    assert_eq!(check_fetch(&trailer(Some(100)), &tag(9, Some(100))), Ok(()));
    assert!(matches!(
        check_fetch(&trailer(Some(1)), &tag(8, Some(1))),
        Err(FetchMismatch::Slot { .. })
    ));
    assert_eq!(
        check_fetch(&trailer(Some(1)), &tag(9, None)),
        Err(FetchMismatch::Layout)
    );
}
