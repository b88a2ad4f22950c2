//! Large tables cost memory only as they are used: a 2 GiB flow table for a handful of packets
//! must not make the process resident in gigabytes (it used to write every slot up front).
//! Alone in its own test binary, so no other test's allocations move the RSS reading.

use std::net::{IpAddr, Ipv4Addr};

use reframer_core::frames::FrameSpec;
use reframer_core::{Config, Scheduler};

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

#[test]
fn big_tables_are_not_resident_until_used() {
    let cfg = Config {
        flow_table_capacity: 20_000_000,
        max_buffered_packets: 16_000_000,
        ..Config::default()
    };
    let bytes = Scheduler::<Vec<u8>>::memory_bytes(&cfg);
    assert!(bytes > 2 << 30, "the setting asks for {bytes} bytes");
    let before = rss_bytes();
    let mut s: Scheduler<Vec<u8>> = Scheduler::new(cfg).unwrap();
    let mut out = Vec::new();
    for i in 0..10u16 {
        let src = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let dst = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        s.push(
            FrameSpec::udp(src, dst, 1000 + i % 3, 53, 10).build(),
            u64::from(i) * 1000,
        );
        while s.pop_tx_batch(&mut out) > 0 {
            out.clear();
        }
    }
    let grown = rss_bytes().saturating_sub(before);
    assert!(
        grown < 256 << 20,
        "a {bytes}-byte scheduler made the process {grown} bytes bigger for 10 packets"
    );
}

#[test]
fn memory_bytes_follows_the_settings() {
    let small = Config::default();
    let big_table = Config {
        flow_table_capacity: small.flow_table_capacity * 4,
        ..small.clone()
    };
    let big_buffer = Config {
        max_buffered_packets: small.max_buffered_packets * 4,
        ..small.clone()
    };
    let m = Scheduler::<Vec<u8>>::memory_bytes;
    // Four times the flows is (at least) four times the 32-byte slots and the IPv6 key store.
    assert!(m(&big_table) - m(&small) >= 3 * 64 * u64::from(small.flow_table_capacity));
    assert!(m(&big_buffer) > m(&small) + 3 * 40 * u64::from(small.max_buffered_packets));
}
