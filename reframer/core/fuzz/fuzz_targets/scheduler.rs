//! Arbitrary frames and clock steps through the scheduler (with ACK coalescing on): no
//! panic, and every frame comes out exactly once (or as a coalesced ACK) after shutdown.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reframer_core::{Config, Scheduler};

fuzz_target!(|data: &[u8]| {
    let cfg = Config {
        delay_ns: 10_000,
        max_burst: 3,
        max_flows: Some(4),
        max_buffered_packets: 16,
        flow_table_capacity: 8,
        flow_timeout_ns: 20_000,
        tcp_ack_coalescing: true,
        tcp_reorder: true,
        ..Config::default()
    };
    let mut s: Scheduler<Vec<u8>> = Scheduler::new(cfg).unwrap();
    let (mut now, mut pushed, mut out) = (0u64, 0u64, 0u64);
    let mut batch = Vec::new();
    // Records: [len, dt, bytes...]
    let mut rest = data;
    while let [len, dt, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        now += u64::from(*dt) * 500;
        s.push(tail[..n].to_vec(), now);
        pushed += 1;
        rest = &tail[n..];
        while s.pop_tx_batch(&mut batch) > 0 {
            out += batch.len() as u64;
            batch.clear();
        }
    }
    s.shutdown(now);
    while s.pop_tx_batch(&mut batch) > 0 {
        out += batch.len() as u64;
        batch.clear();
    }
    while s.pop_discarded().is_some() {
        out += 1;
    }
    assert_eq!(pushed, out);
});
