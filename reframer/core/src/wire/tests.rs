use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use crate::frames::FrameSpec;

fn v4(a: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, a))
}

fn v6(a: u16) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, a))
}

fn flow(p: Parsed) -> FlowInfo {
    match p {
        Parsed::Flow(i) => i,
        other => panic!("expected a flow, got {other:?}"),
    }
}

fn reason(p: Parsed) -> BypassReason {
    match p {
        Parsed::Bypass { reason, .. } => reason,
        other => panic!("expected a bypass, got {other:?}"),
    }
}

#[test]
fn ipv4_udp_and_tcp() {
    let f = FrameSpec::udp(v4(1), v4(2), 1000, 53, 10).build();
    let i = flow(parse(&f));
    assert_eq!(
        i.key,
        FlowKey::v4([10, 0, 0, 1], [10, 0, 0, 2], 1000, 53, 17)
    );
    assert_eq!((i.l3_off, i.l4_off, i.payload_len), (14, 34, 10));
    let f = FrameSpec::tcp(v4(1), v4(2), 5, 80, 1, 2, tcp_flags::ACK, b"").build();
    let i = flow(parse(&f));
    assert!(i.is_pure_ack() && !i.is_syn());
    let f = FrameSpec::tcp(v4(1), v4(2), 5, 80, 1, 2, tcp_flags::SYN, b"").build();
    assert!(flow(parse(&f)).is_syn());
}

#[test]
fn vlan_and_qinq() {
    let mut s = FrameSpec::udp(v4(1), v4(2), 1, 2, 4);
    s.vlans = vec![10];
    assert_eq!(flow(parse(&s.build())).l3_off, 18);
    s.vlans = vec![10, 20];
    let mut f = s.build();
    f[12..14].copy_from_slice(&0x88A8u16.to_be_bytes()); // 802.1ad outer tag
    assert_eq!(flow(parse(&f)).l3_off, 22);
    s.vlans = vec![1, 2, 3, 4, 5];
    assert_eq!(reason(parse(&s.build())), BypassReason::Malformed);
}

#[test]
fn ipv6_with_extension_headers() {
    let f = FrameSpec::udp(v6(1), v6(2), 7, 9, 3).build();
    let i = flow(parse(&f));
    assert_eq!(i.l4_off, 54);
    assert_eq!(i.key.src(), v6(1));
    // Insert a hop-by-hop (8 B) and a destination-options (16 B) header.
    let mut g = f[..54].to_vec();
    g[14 + 6] = 0; // next = hop-by-hop
    g.extend_from_slice(&[60, 0, 0, 0, 0, 0, 0, 0]); // HBH -> dest opts
    g.extend_from_slice(&[17, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // -> UDP
    g.extend_from_slice(&f[54..]);
    let plen = (g.len() - 54) as u16;
    g[18..20].copy_from_slice(&plen.to_be_bytes());
    assert_eq!(flow(parse(&g)).l4_off, 54 + 24);
}

#[test]
fn ipv6_extension_chain_is_bounded() {
    let f = FrameSpec::udp(v6(1), v6(2), 7, 9, 3).build();
    let mut g = f[..54].to_vec();
    g[20] = 60;
    for _ in 0..20 {
        g.extend_from_slice(&[60, 0, 0, 0, 0, 0, 0, 0]);
    }
    g.extend_from_slice(&f[54..]);
    let plen = (g.len() - 54) as u16;
    g[18..20].copy_from_slice(&plen.to_be_bytes());
    assert_eq!(reason(parse(&g)), BypassReason::ExtensionChain);
}

#[test]
fn fragments_bypass_with_key_when_first() {
    let mut f = FrameSpec::udp(v4(1), v4(2), 11, 22, 30).build();
    f[20] = 0x20; // MF, offset 0
    match parse(&f) {
        Parsed::Bypass { reason, key } => {
            assert_eq!(reason, BypassReason::Fragment);
            assert_eq!(key.unwrap().dport(), 22);
        }
        other => panic!("{other:?}"),
    }
    f[20] = 0x00;
    f[21] = 0x10; // offset 16*8, last fragment
    assert_eq!(
        parse(&f),
        Parsed::Bypass {
            reason: BypassReason::Fragment,
            key: None
        }
    );
    // IPv6 fragment header, later fragment.
    let g6 = FrameSpec::udp(v6(1), v6(2), 7, 9, 3).build();
    let mut g = g6[..54].to_vec();
    g[20] = 44;
    g.extend_from_slice(&[17, 0, 0x00, 0x08, 0, 0, 0, 1]);
    g.extend_from_slice(&g6[54..]);
    let plen = (g.len() - 54) as u16;
    g[18..20].copy_from_slice(&plen.to_be_bytes());
    assert_eq!(reason(parse(&g)), BypassReason::Fragment);
}

#[test]
fn non_ip_other_protocols_and_damage() {
    let mut arp = vec![0u8; 42];
    arp[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
    assert_eq!(reason(parse(&arp)), BypassReason::NonIp);
    let mut icmp = FrameSpec::udp(v4(1), v4(2), 1, 2, 8).build();
    icmp[23] = 1;
    assert_eq!(reason(parse(&icmp)), BypassReason::OtherProtocol);
    let f = FrameSpec::tcp(v4(1), v4(2), 5, 80, 1, 2, 0, b"hello").build();
    for cut in 0..f.len() {
        let p = parse(&f[..cut]);
        assert!(matches!(p, Parsed::Bypass { .. }), "cut at {cut}: {p:?}");
    }
    let mut bad = f.clone();
    bad[14] = 0x44; // IHL 4
    assert_eq!(reason(parse(&bad)), BypassReason::Malformed);
    let mut bad = f.clone();
    bad[46] = 0x40; // TCP data offset 4
    assert_eq!(reason(parse(&bad)), BypassReason::Malformed);
    assert_eq!(reason(parse(&[])), BypassReason::Truncated);
}

/// Whenever the ports are among the bytes present, a passed-through frame names its flow.
#[test]
fn damaged_frames_keep_their_key_when_the_ports_are_present() {
    let key = |p: Parsed| match p {
        Parsed::Bypass { key, .. } => key,
        Parsed::Flow(i) => Some(i.key),
    };
    let f = FrameSpec::tcp(v4(1), v4(2), 5, 80, 1, 2, 0, b"hello").build();
    let want = FlowKey::v4([10, 0, 0, 1], [10, 0, 0, 2], 5, 80, 6);
    for cut in 0..f.len() {
        let got = key(parse(&f[..cut]));
        assert_eq!(got, (cut >= 38).then_some(want), "cut at {cut}");
    }
    let g = FrameSpec::udp(v6(1), v6(2), 7, 9, 30).build();
    for cut in 0..g.len() {
        let got = key(parse(&g[..cut]));
        assert_eq!(got.is_some(), cut >= 58, "v6 cut at {cut}: {got:?}");
    }
    let mut bad = f.clone();
    bad[46] = 0x40; // TCP data offset 4
    assert_eq!(key(parse(&bad)), Some(want));
    let mut bad = f.clone();
    bad[14] = 0x44; // IHL 4: where L4 starts is unknown
    assert_eq!(key(parse(&bad)), None);
}

#[test]
fn ethernet_padding_is_not_payload() {
    let mut f = FrameSpec::tcp(v4(1), v4(2), 5, 80, 1, 2, tcp_flags::ACK, b"").build();
    f.resize(60, 0);
    assert!(flow(parse(&f)).is_pure_ack());
}

#[test]
fn hash_is_stable_and_distinguishes_tuples() {
    let a = FlowKey::v4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2, 6);
    let b = FlowKey::v4([1, 2, 3, 4], [5, 6, 7, 8], 2, 1, 6);
    assert_eq!(a.hash64(), a.hash64());
    assert_ne!(a.hash64(), b.hash64());
}

#[test]
fn snapped_frames_classify_on_their_headers() {
    let f = FrameSpec::tcp(v4(1), v4(2), 5, 80, 1, 2, tcp_flags::ACK, &[7; 1000]).build();
    let cut = &f[..54];
    assert_eq!(reason(parse(cut)), BypassReason::Truncated);
    let i = flow(parse_snapped(cut));
    assert_eq!(i.payload_len, 1000);
    assert_eq!(i.key.dport(), 80);
    assert_eq!(reason(parse_snapped(&f[..50])), BypassReason::Truncated);
    let g = FrameSpec::udp(v6(1), v6(2), 7, 9, 500).build();
    assert_eq!(flow(parse_snapped(&g[..62])).payload_len, 500);
}

/// The frames the fuzz corpus replay (`tests/fuzz_corpus.rs`, where every flow's key is read
/// again) does not hold: VLAN-tagged, IPv4 options, snapped, IPv6 extension headers.
#[test]
fn reread_key_gives_the_parsed_key() {
    let mut s = FrameSpec::udp(v4(5), v4(6), 1, 2, 4);
    s.vlans = vec![10];
    let mut frames = vec![s.build()];
    // IPv4 with 8 bytes of options (IHL 7).
    let f = FrameSpec::udp(v4(7), v4(8), 11, 12, 6).build();
    let mut g = f[..34].to_vec();
    g.extend_from_slice(&[1; 8]);
    g.extend_from_slice(&f[34..]);
    g[14] = 0x47;
    let total = (g.len() - 14) as u16;
    g[16..18].copy_from_slice(&total.to_be_bytes());
    frames.push(g);
    for f in &frames {
        assert_eq!(reread_key(f), Some(flow(parse(f)).key), "{f:02x?}");
    }
    let f = FrameSpec::tcp(v4(1), v4(2), 5, 80, 1, 2, tcp_flags::ACK, &[7; 100]).build();
    assert_eq!(
        reread_key(&f[..54]),
        Some(flow(parse_snapped(&f[..54])).key)
    );
    // IPv6 with a hop-by-hop header: the key is behind the chain, so the caller parses.
    let f = FrameSpec::tcp(v6(3), v6(4), 5, 6, 1, 2, tcp_flags::ACK, b"").build();
    let mut g = f[..54].to_vec();
    g[14 + 6] = 0;
    g.extend_from_slice(&[6, 0, 0, 0, 0, 0, 0, 0]);
    g.extend_from_slice(&f[54..]);
    let plen = (g.len() - 54) as u16;
    g[18..20].copy_from_slice(&plen.to_be_bytes());
    assert!(matches!(parse(&g), Parsed::Flow(_)));
    assert_eq!(reread_key(&g), None);
}

proptest::proptest! {
    /// Random flow frames (IPv4/IPv6, TCP/UDP, 0-2 VLAN tags) with a few bytes overwritten:
    /// never a panic, and wherever the parser still finds a flow, the same key (`None` only
    /// for IPv6, whose extension headers it leaves to the parser).
    #[test]
    fn reread_key_agrees_with_parse(
        v6_addr in proptest::bool::ANY,
        tcp in proptest::bool::ANY,
        vlans in 0usize..=2,
        ports in (proptest::num::u16::ANY, proptest::num::u16::ANY),
        payload in 0usize..40,
        damage in proptest::collection::vec((0usize..120, proptest::num::u8::ANY), 0..4),
    ) {
        let (a, b) = if v6_addr { (v6(1), v6(2)) } else { (v4(1), v4(2)) };
        let mut spec = if tcp {
            FrameSpec::tcp(a, b, ports.0, ports.1, 1, 2, tcp_flags::ACK, &[9; 40][..payload])
        } else {
            FrameSpec::udp(a, b, ports.0, ports.1, payload)
        };
        spec.vlans = vec![5; vlans];
        let mut frame = spec.build();
        for (at, byte) in damage {
            if let Some(x) = frame.get_mut(at) {
                *x = byte;
            }
        }
        let got = reread_key(&frame);
        for parsed in [parse(&frame), parse_snapped(&frame)] {
            if let Parsed::Flow(i) = parsed {
                proptest::prop_assert!(got == Some(i.key) || (got.is_none() && i.key.src().is_ipv6()));
            }
        }
    }
}

/// Wherever the one-pass IPv4 parser answers, it gives the general parser's answer, snapped
/// or not: on the committed fuzz corpus, on plain TCP and UDP frames, on every truncation of
/// each, and on each of them with any one header byte (Ethernet type to the TCP flags) set
/// to a few telling values. It must also answer for the plain frames themselves.
#[test]
fn plain_ipv4_agrees_with_the_general_parser() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/parse");
    let mut frames: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .expect("committed corpus exists")
        .map(|e| std::fs::read(e.expect("corpus entry").path()).expect("readable"))
        .collect();
    let mut plain = vec![
        FrameSpec::udp(v4(1), v4(2), 1000, 53, 0).build(),
        FrameSpec::udp(v4(1), v4(2), 1000, 53, 30).build(),
        FrameSpec::tcp(v4(3), v4(4), 5, 80, 1, 2, tcp_flags::ACK, b"").build(),
        FrameSpec::tcp(v4(3), v4(4), 5, 80, 1, 2, tcp_flags::SYN, b"payload").build(),
    ];
    // TCP with 12 bytes of options (data offset 8).
    let mut opts = FrameSpec::tcp(v4(5), v4(6), 7, 8, 1, 2, tcp_flags::ACK, b"").build();
    opts[46] = 0x80;
    opts[16..18].copy_from_slice(&52u16.to_be_bytes());
    opts.extend_from_slice(&[1; 12]);
    plain.push(opts);
    for f in &plain {
        assert_eq!(
            plain_ipv4(f),
            Some(parse_general(f, false)),
            "plain frame answered"
        );
    }
    frames.extend(plain);
    let mut checked = 0;
    let mut check = |f: &[u8]| {
        if let Some(p) = plain_ipv4(f) {
            assert_eq!(p, parse_general(f, false), "{f:02x?}");
            assert_eq!(p, parse_general(f, true), "{f:02x?}");
            checked += 1;
        }
    };
    for f in &frames {
        for cut in 0..=f.len() {
            check(&f[..cut]);
        }
        for at in 12..f.len().min(48) {
            for v in [
                0,
                1,
                0x0F,
                0x10,
                0x20,
                0x40,
                0x45,
                0x46,
                0x50,
                0x80,
                0xFF,
                f[at] ^ 1,
            ] {
                let mut g = f.clone();
                g[at] = v;
                check(&g);
                // The same with the frame one byte short or long.
                check(&g[..g.len() - 1]);
                g.push(0);
                check(&g);
            }
        }
    }
    assert!(checked > 1_000, "the fast path answered {checked} times");
}
