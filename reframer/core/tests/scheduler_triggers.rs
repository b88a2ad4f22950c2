//! One test per release trigger and per bypass rule.

mod common;

use std::net::{IpAddr, Ipv6Addr};

use common::*;
use reframer_core::frames::FrameSpec;
use reframer_core::wire::tcp_flags;
use reframer_core::{BypassReason, Config, FlushReason, Priority};

fn cfg() -> Config {
    Config {
        delay_ns: 64 * US,
        ..Config::default()
    }
}

#[test]
fn deadline_releases_a_window_exactly_at_open_plus_delay() {
    let mut s = sched(cfg());
    s.push(udp(1, 0), 0);
    assert_eq!(drain(&mut s), vec![0], "first packet bypasses");
    s.push(udp(1, 1), 10 * US);
    s.push(udp(1, 2), 20 * US);
    assert_eq!(s.next_deadline(), Some(74 * US));
    s.poll(74 * US - 1);
    assert!(drain(&mut s).is_empty());
    s.poll(74 * US);
    assert_eq!(drain(&mut s), vec![1, 2]);
    let st = s.stats();
    assert_eq!(st.flushes.get(FlushReason::Deadline), 1);
    assert_eq!(st.hold_max_ns, 64 * US);
    let hold = st.hold_ns();
    assert_eq!(hold.min(), hold.lowest_equivalent(54 * US));
    assert_eq!(s.next_deadline(), None);
}

#[test]
fn a_deadline_past_the_clocks_end_is_due_at_the_end() {
    // open + delay saturates at u64::MAX, so the window is due at the last instant there is.
    let mut s = sched(cfg());
    let t = u64::MAX - 10;
    s.push(udp(1, 0), t);
    s.push(udp(1, 1), t);
    assert_eq!(drain(&mut s), vec![0]);
    assert_eq!(s.next_deadline(), Some(u64::MAX));
    s.poll(u64::MAX - 1);
    assert!(drain(&mut s).is_empty());
    s.poll(u64::MAX);
    assert_eq!(drain(&mut s), vec![1]);
    assert_eq!(s.stats().flushes.get(FlushReason::Deadline), 1);
}

#[test]
fn push_after_deadline_releases_without_poll() {
    let mut s = sched(cfg());
    s.push(udp(1, 0), 0);
    s.push(udp(1, 1), US);
    s.push(udp(2, 2), 100 * US);
    assert_eq!(drain(&mut s), vec![0, 1, 2]);
}

#[test]
fn max_burst_releases_when_exceeded() {
    let mut s = sched(Config {
        max_burst: 4,
        ..cfg()
    });
    s.push(udp(1, 0), 0);
    for i in 1..=4 {
        s.push(udp(1, i), u64::from(i));
    }
    assert_eq!(
        drain(&mut s),
        vec![0],
        "4 held: not more than max_burst yet"
    );
    s.push(udp(1, 5), 5);
    assert_eq!(drain(&mut s), vec![1, 2, 3, 4, 5]);
    assert_eq!(s.stats().flushes.get(FlushReason::MaxBurst), 1);
}

#[test]
fn capacity_forces_out_the_oldest_window() {
    let mut s = sched(Config {
        max_flows: Some(2),
        ..cfg()
    });
    for f in 0..3u16 {
        s.push(udp(f, u32::from(f) * 10), 0);
    }
    drain(&mut s);
    s.push(udp(0, 1), US);
    s.push(udp(1, 11), 2 * US);
    assert!(drain(&mut s).is_empty());
    s.push(udp(2, 21), 3 * US);
    assert_eq!(drain(&mut s), vec![1], "oldest window (flow 0) leaves");
    assert_eq!(s.buffered_flows(), 2);
    assert_eq!(s.stats().flushes.get(FlushReason::Capacity), 1);
}

#[test]
fn packet_memory_bound_forces_out_the_oldest_window() {
    let mut s = sched(Config {
        max_buffered_packets: 3,
        ..cfg()
    });
    s.push(udp(0, 100), 0);
    s.push(udp(1, 200), 0);
    drain(&mut s);
    s.push(udp(0, 1), US);
    s.push(udp(0, 2), US);
    s.push(udp(1, 3), 2 * US);
    assert!(drain(&mut s).is_empty());
    s.push(udp(1, 4), 3 * US);
    assert_eq!(drain(&mut s), vec![1, 2]);
    assert_eq!(s.buffered_packets(), 2);
    assert_eq!(s.stats().flushes.get(FlushReason::Memory), 1);
    assert_eq!(s.stats().dropped_total(), 0);
}

#[test]
fn flush_and_shutdown_release_everything_in_window_order() {
    let mut s = sched(Config {
        priority: Priority::First,
        ..cfg()
    });
    for f in 0..3u16 {
        s.push(udp(f, 99), 0);
    }
    drain(&mut s);
    s.push(udp(2, 1), US);
    s.push(udp(0, 2), 2 * US);
    s.flush(3 * US);
    // Priority::First: youngest flow first; all three flows were created at 0, so ties keep
    // window order.
    assert_eq!(drain(&mut s), vec![1, 2]);
    s.push(udp(1, 3), 4 * US);
    s.shutdown(5 * US);
    assert_eq!(drain(&mut s), vec![3]);
    assert_eq!(s.stats().flushes.get(FlushReason::Explicit), 2);
    assert_eq!(s.stats().flushes.get(FlushReason::Shutdown), 1);
}

#[test]
fn without_first_packet_bypass_the_first_packet_is_held() {
    let mut s = sched(Config {
        first_packet_bypass: false,
        ..cfg()
    });
    s.push(udp(1, 0), 0);
    assert!(drain(&mut s).is_empty());
    s.poll(64 * US);
    assert_eq!(drain(&mut s), vec![0]);
}

#[test]
fn priority_sent_puts_the_busier_flow_first() {
    let mut s = sched(cfg());
    s.push(udp(1, 0), 0);
    s.push(udp(2, 0), 0);
    s.push(udp(1, 1), US); // flow 1 window opens first
    s.push(udp(2, 2), US);
    s.push(udp(2, 3), US);
    s.flush(2 * US);
    assert_eq!(drain(&mut s)[2..], [2, 3, 1]);
}

#[test]
fn priority_delay_puts_the_least_waited_first() {
    let mut s = sched(Config {
        priority: Priority::Delay,
        ..cfg()
    });
    s.push(udp(1, 0), 0);
    s.push(udp(2, 0), 0);
    s.push(udp(1, 1), US);
    s.push(udp(2, 2), 2 * US);
    s.flush(3 * US);
    assert_eq!(drain(&mut s)[2..], [2, 1]);
}

fn tcp(flow: u16, id: u32, flags: u8) -> Vec<u8> {
    tag(
        FrameSpec::tcp(ip(1), ip(2), 2000 + flow, 80, id, 0, flags, b"x").build(),
        id,
    )
}

#[test]
fn bypassed_syn_never_overtakes_its_queued_flow() {
    let mut s = sched(Config {
        bypass_syn: true,
        ..cfg()
    });
    s.push(tcp(1, 0, 0), 0);
    s.push(tcp(1, 1, 0), US);
    s.push(tcp(2, 7, 0), US);
    s.push(tcp(2, 8, 0), US);
    s.push(tcp(1, 2, tcp_flags::SYN), 2 * US);
    assert_eq!(drain(&mut s), vec![0, 7, 1, 2]);
    assert_eq!(s.stats().bypassed.get(BypassReason::Syn), 1);
    assert_eq!(s.stats().flushes.get(FlushReason::BypassOrder), 1);
}

#[test]
fn first_fragment_releases_its_flow_first() {
    let mut s = sched(cfg());
    s.push(udp(1, 0), 0);
    s.push(udp(1, 1), US);
    let mut frag = udp(1, 2);
    frag[20] = 0x20; // MF
    s.push(frag, 2 * US);
    assert_eq!(drain(&mut s), vec![0, 1, 2]);
    assert_eq!(s.stats().bypassed.get(BypassReason::Fragment), 1);
}

/// A damaged frame whose 5-tuple is still readable (cut short of its IP length, bad TCP data
/// offset, bad UDP length) passes through, but only after its flow's queue: order within a
/// flow holds for every packet whose 5-tuple can be read.
#[test]
fn damaged_frames_with_a_readable_tuple_never_overtake_their_flow() {
    let cut = |f: Vec<u8>| f[..f.len() - 3].to_vec();
    let mut bad_udp_len = udp(1, 3);
    bad_udp_len[38..40].copy_from_slice(&4u16.to_be_bytes());
    let mut bad_tcp_doff = tcp(1, 3, 0);
    bad_tcp_doff[46] = 0x40;
    let cases = [
        (
            "truncated udp",
            udp(1, 1),
            udp(1, 2),
            cut(udp(1, 3)),
            BypassReason::Truncated,
        ),
        (
            "udp length",
            udp(1, 1),
            udp(1, 2),
            bad_udp_len,
            BypassReason::Malformed,
        ),
        (
            "tcp data offset",
            tcp(1, 1, 0),
            tcp(1, 2, 0),
            bad_tcp_doff,
            BypassReason::Malformed,
        ),
    ];
    for (what, a, b, bad, why) in cases {
        let mut s = sched(cfg());
        s.push(udp(9, 0), 0);
        s.push(a, US);
        s.push(b, 2 * US);
        s.push(bad, 3 * US);
        s.push(udp(9, 4), 4 * US);
        s.flush(5 * US);
        // Flow 1's first packet bypasses (first-packet rule), its second is held until the
        // damaged third arrives.
        assert_eq!(drain(&mut s), vec![0, 1, 2, 3, 4], "{what}");
        assert_eq!(s.stats().bypassed.get(why), 1, "{what}");
        assert_eq!(s.stats().flushes.get(FlushReason::BypassOrder), 1, "{what}");
    }
}

#[test]
fn idle_flows_age_out_and_return_as_new() {
    let mut s = sched(Config {
        flow_timeout_ns: 5_000_000,
        flow_table_capacity: 64,
        ..cfg()
    });
    for f in 0..10u16 {
        s.push(udp(f, u32::from(f)), 0);
    }
    assert_eq!(s.tracked_flows(), 10);
    for k in 1..20u64 {
        s.poll(k * 1_000_000);
    }
    assert_eq!(s.tracked_flows(), 0);
    assert_eq!(s.stats().flows_aged, 10);
    s.push(udp(3, 42), 20_000_000);
    assert_eq!(s.stats().bypassed.get(BypassReason::FirstPacket), 11);
}

/// IPv6 flows (keys kept beside the flow table) are tracked, ordered by `Priority::First`,
/// aged and re-created exactly as IPv4 ones, side by side.
#[test]
fn ipv6_flows_live_age_and_return_like_ipv4_ones() {
    const MS: u64 = 1 << 20; // one coarse time unit
    let mut s = sched(Config {
        priority: Priority::First,
        flow_timeout_ns: 20 * MS,
        flow_table_capacity: 16,
        ..cfg()
    });
    // Even flows IPv4, odd flows IPv6, with the same ports.
    let pkt = |f: u16, id: u32| {
        let v6 = |a: u8| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(a)));
        let (src, dst) = if f % 2 == 1 {
            (v6(1), v6(2))
        } else {
            (ip(1), ip(2))
        };
        tag(FrameSpec::udp(src, dst, 1000 + f / 2, 80, 16).build(), id)
    };
    for f in 0..4u16 {
        s.push(pkt(f, 100 + u32::from(f)), u64::from(f) * 2 * MS);
    }
    assert_eq!(s.tracked_flows(), 4);
    assert_eq!(drain(&mut s), vec![100, 101, 102, 103]);
    for f in 0..4u16 {
        s.push(pkt(f, u32::from(f)), 10 * MS + u64::from(f) * US);
    }
    s.flush(10 * MS + 10 * US);
    // Youngest flow first: first seen at 6, 4, 2, 0 ms.
    assert_eq!(drain(&mut s), vec![3, 2, 1, 0]);
    for k in 11..80u64 {
        s.poll(k * MS);
    }
    assert_eq!(s.tracked_flows(), 0);
    assert_eq!(s.stats().flows_aged, 4);
    for f in [1u16, 3, 5] {
        s.push(pkt(f, 200 + u32::from(f)), 80 * MS);
        s.push(pkt(f, 300 + u32::from(f)), 80 * MS);
    }
    assert_eq!(s.tracked_flows(), 3);
    assert_eq!(s.stats().bypassed.get(BypassReason::FirstPacket), 7);
    s.shutdown(80 * MS + US);
    assert_eq!(drain(&mut s), vec![201, 203, 205, 301, 303, 305]);
}

#[test]
fn ageing_never_loses_buffered_packets() {
    // Buffered flows stay; idle neighbours are removed around them (backward shift moves
    // live slots, and the window ring must follow them).
    let mut s = sched(Config {
        flow_timeout_ns: 3_000_000,
        flow_table_capacity: 16,
        delay_ns: 3_000_000,
        ..cfg()
    });
    for f in 0..12u16 {
        s.push(udp(f, 1000 + u32::from(f)), 0);
    }
    drain(&mut s);
    for f in 0..12u16 {
        if f % 3 == 0 {
            s.push(udp(f, u32::from(f)), 2_500_000);
        }
    }
    for k in 0..50u64 {
        s.poll(4_900_000 + k);
    }
    assert_eq!(s.tracked_flows(), 4);
    s.shutdown(5_000_000);
    assert_eq!(drain(&mut s), vec![0, 3, 6, 9]);
}

#[test]
fn full_table_bypasses_new_flows() {
    let mut s = sched(Config {
        flow_table_capacity: 2,
        ..cfg()
    });
    for f in 0..3u16 {
        s.push(udp(f, u32::from(f)), 0);
    }
    assert_eq!(s.stats().bypassed.get(BypassReason::TableFull), 1);
    assert_eq!(drain(&mut s), vec![0, 1, 2]);
}

#[test]
fn output_comes_in_batches_of_max_tx_burst() {
    let mut s = sched(Config {
        max_tx_burst: 4,
        ..cfg()
    });
    s.push(udp(1, 0), 0);
    for i in 1..=10 {
        s.push(udp(1, i), US);
    }
    s.flush(2 * US);
    let mut b = Vec::new();
    let sizes: Vec<usize> = std::iter::from_fn(|| {
        b.clear();
        Some(s.pop_tx_batch(&mut b)).filter(|&n| n > 0)
    })
    .collect();
    assert_eq!(sizes, vec![4, 4, 3]);
}

#[test]
fn non_ip_passes_through_and_locality_is_measured() {
    let mut s = sched(cfg());
    let mut arp = vec![0u8; 60];
    arp[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
    s.push(arp, 0);
    assert_eq!(s.stats().bypassed.get(BypassReason::NonIp), 1);
    // a b a b a b -> a a b b after one window
    for (i, f) in [1u16, 2, 1, 2, 1, 2].into_iter().enumerate() {
        s.push(udp(f, i as u32), i as u64);
    }
    s.flush(100);
    drain(&mut s);
    let st = s.stats();
    assert_eq!(st.locality_in.runs(), 7);
    // out: arp | a1 | b1 | a a | b b  -> 5 runs of 7 packets
    assert_eq!(st.locality_out.runs(), 5);
    assert_eq!(st.packets_in, 7);
    assert_eq!(st.packets_out, 7);
}

#[test]
fn bad_settings_are_refused_with_their_name() {
    let e = reframer_core::Scheduler::<Vec<u8>>::new(Config {
        max_burst: 0,
        ..cfg()
    })
    .unwrap_err();
    assert!(e.to_string().contains("max_burst"), "{e}");
    let e = reframer_core::Scheduler::<Vec<u8>>::new(Config {
        max_flows: Some(0),
        ..cfg()
    })
    .unwrap_err();
    assert!(e.to_string().contains("max_flows"), "{e}");
}

/// `pop_burst` and `burst_key` (after `pop_bursts`) name each burst's flow by reading its
/// first packet's key again (VLAN-tagged IPv4, IPv6, TCP), with ACK coalescing and without:
/// the key the parser gives.
#[test]
fn pop_burst_names_the_flow_of_every_kind_of_frame() {
    let v6 = |a| IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, a));
    let v4 = |a| IpAddr::V4(std::net::Ipv4Addr::new(10, 1, 0, a));
    let mut tagged = FrameSpec::udp(v4(1), v4(2), 40, 50, 8);
    tagged.vlans = vec![7, 8];
    let frames = [
        tagged.build(),
        FrameSpec::udp(v6(1), v6(2), 60, 70, 8).build(),
        FrameSpec::tcp(v4(3), v4(4), 80, 90, 1, 1, tcp_flags::ACK, b"ab").build(),
    ];
    let key_of = |f: &[u8]| {
        let reframer_core::wire::Parsed::Flow(want) = reframer_core::wire::parse(f) else {
            panic!("a flow frame");
        };
        want.key
    };
    for (coalescing, batch) in [(false, false), (true, false), (false, true), (true, true)] {
        let mut s = sched(Config {
            first_packet_bypass: false,
            tcp_ack_coalescing: coalescing,
            ..cfg()
        });
        for (i, f) in frames.iter().enumerate() {
            s.push(f.clone(), i as u64);
            s.push(f.clone(), i as u64 + 10);
        }
        s.poll(100 * US);
        let mut out = Vec::new();
        if batch {
            let mut hints = Vec::new();
            assert_eq!(s.pop_bursts(&mut out, &mut hints), frames.len());
            for (i, (f, h)) in frames.iter().zip(&hints).enumerate() {
                assert_eq!(s.burst_key(h, &out[2 * i]), Some(key_of(f)));
                assert_eq!(h.len, 2);
            }
            assert_eq!(s.pop_bursts(&mut out, &mut hints), 0);
        } else {
            for f in &frames {
                let info = s.pop_burst(&mut out).expect("one burst per flow");
                assert_eq!(info.key, Some(key_of(f)));
                assert_eq!(info.len, 2);
            }
            assert!(s.pop_burst(&mut out).is_none());
        }
    }
}
