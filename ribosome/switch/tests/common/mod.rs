//! Frames shared by the switch tests.
#![allow(dead_code, unreachable_pub)]

use ribosome_wire::control::{write_control, Auth, AuthKey, ControlMsg};
use ribosome_wire::ib::{Aeth, Bth};
use ribosome_wire::{MacAddr, RoceSpec};
use std::net::Ipv4Addr;

/// An authenticated control frame of server 0 (MAC 02:00:00:00:00:09).
pub fn ctrl(key: &AuthKey, seq: u64, msg: ControlMsg) -> Vec<u8> {
    let mut f = Vec::new();
    let auth = Auth {
        server_index: 0,
        seq,
    };
    write_control(
        MacAddr([0, 0, 0, 0, 0, 2]),
        MacAddr([2, 0, 0, 0, 0, 9]),
        &msg,
        Some((key, auth)),
        &mut f,
    );
    f
}

/// A UDP frame 10.0.0.1:`sport` -> 10.0.0.2:53 with `payload_len` counting bytes.
pub fn udp(payload_len: usize, sport: u16) -> Vec<u8> {
    let payload: Vec<u8> = (0..payload_len).map(|i| i as u8).collect();
    reframer_core::frames::FrameSpec {
        payload,
        ..reframer_core::frames::FrameSpec::udp(
            [10, 0, 0, 1].into(),
            [10, 0, 0, 2].into(),
            sport,
            53,
            0,
        )
    }
    .build()
}

/// A RoCE frame from server 0 (192.168.40.1) to the switch's address.
pub fn server_reply(bth: Bth, aeth: Aeth) -> RoceSpec {
    RoceSpec {
        src_mac: MacAddr([2, 0, 0, 0, 0, 9]),
        dst_mac: MacAddr([0, 0, 0, 0, 0, 1]),
        src_ip: Ipv4Addr::new(192, 168, 40, 1),
        dst_ip: Ipv4Addr::new(192, 168, 40, 254),
        ip_ident: 0,
        tos: 0,
        ttl: 64,
        udp_src_port: 0xc000,
        bth,
        reth: None,
        aeth: Some(aeth),
    }
}
