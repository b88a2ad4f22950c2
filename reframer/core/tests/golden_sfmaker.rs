//! FastClick's `test/standard/SFMaker.clicktest`, ported: 11 TCP packets in, the exact
//! 9 packets out, with ACKs rewritten and redundant pure ACKs removed.

use std::net::{IpAddr, Ipv4Addr};

use reframer_core::frames::{l4_checksum_ok, FrameSpec};
use reframer_core::wire::tcp_flags::ACK;
use reframer_core::{Config, Scheduler};

fn pkt(dst: [u8; 4], dport: u16, seq: u32, ack: u32, payload: &[u8], flags: u8) -> Vec<u8> {
    let src = IpAddr::V4(Ipv4Addr::new(2, 0, 0, 2));
    FrameSpec::tcp(
        src,
        IpAddr::V4(dst.into()),
        21,
        dport,
        seq,
        ack,
        flags,
        payload,
    )
    .build()
}

#[test]
fn sfmaker_clicktest_golden_vector() {
    const A: ([u8; 4], u16) = ([1, 0, 0, 1], 1024);
    const B: ([u8; 4], u16) = ([2, 0, 0, 1], 1025);
    // (flow, seq, ack, payload, flags) exactly as the clicktest's IN1.
    let input = [
        (A, 0, 0, &b"A"[..], 0),
        (B, 0, 0, b"B", 0),
        (A, 1, 0, b"A", 0),
        (B, 1, 0, b"B", 0),
        (A, 2, 0, b"A", 0),
        (B, 2, 0, b"B", 0),
        (A, 3, 0, b"A", 0),
        (A, 3, 1, b"", ACK),
        (A, 3, 2, b"", ACK),
        (A, 4, 2, b"A", 0),
        (A, 4, 2, b"", ACK),
    ];
    // SFMaker(PROTO_COMPRESS true, DELAY 1000, DELAY_LAST 0) with REORDER's default (true).
    let cfg = Config {
        delay_ns: 1_000_000,
        tcp_ack_coalescing: true,
        tcp_reorder: true,
        ..Config::default()
    };
    let mut s: Scheduler<Vec<u8>> = Scheduler::new(cfg).unwrap();
    for (i, ((dst, dport), seq, ack, payload, flags)) in input.into_iter().enumerate() {
        s.push(pkt(dst, dport, seq, ack, payload, flags), i as u64 * 1_000);
    }
    s.flush(1_000_000); // DriverManager(wait 1ms, write sf.flush)
    let mut out = Vec::new();
    while s.pop_tx_batch(&mut out) > 0 {}

    // (dport, seq, ack, payload) exactly as the clicktest's OUT1.
    let expected = [
        (1024, 0, 0, &b"A"[..]),
        (1025, 0, 0, b"B"),
        (1024, 1, 2, b"A"),
        (1024, 2, 2, b"A"),
        (1024, 3, 2, b"A"),
        (1024, 4, 2, b"A"),
        (1024, 4, 2, b""),
        (1025, 1, 0, b"B"),
        (1025, 2, 0, b"B"),
    ];
    let got: Vec<(u16, u32, u32, &[u8])> = out
        .iter()
        .map(|f| {
            let l4 = 34;
            (
                u16::from_be_bytes([f[l4 + 2], f[l4 + 3]]),
                u32::from_be_bytes(f[l4 + 4..l4 + 8].try_into().unwrap()),
                u32::from_be_bytes(f[l4 + 8..l4 + 12].try_into().unwrap()),
                &f[l4 + 20..],
            )
        })
        .collect();
    assert_eq!(got, expected);
    assert!(
        out.iter().all(|f| l4_checksum_ok(f)),
        "rewritten checksums stay valid"
    );
    assert_eq!(s.stats().acks_coalesced, 2);
    let mut recycled = 0;
    while s.pop_discarded().is_some() {
        recycled += 1;
    }
    assert_eq!(recycled, 2, "removed ACKs come back for recycling");
}
