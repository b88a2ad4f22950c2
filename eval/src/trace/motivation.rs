//! The paper's motivation trace (experiments/motivation/generator.py, chain.testie): `clients`
//! UDP flows of `packets` packets each, merged round-robin taking `interleave` packets from each
//! client in turn, so the trace's SLF is exactly `interleave`.

use super::frame::{Tuple, PROTO_UDP};
use super::hosts::{client_addr, server_pool};
use super::{Pkt, Trace};
use crate::rng::Rng;

/// The motivation trace; `frame_len` is the wire size (the paper: 1000 B), packets 1 ns apart
/// (timing is irrelevant: E2 runs the chain at full speed).
pub fn generate(clients: u32, packets: u32, interleave: u32, frame_len: u16, seed: u64) -> Trace {
    let servers = server_pool();
    let mut r = Rng::new(seed, 0x0707);
    let flows: Vec<Tuple> = (0..clients)
        .map(|i| Tuple {
            src: client_addr(&mut r),
            dst: servers[(r.next_u64() % servers.len() as u64) as usize],
            sport: 1024 + (i % 64_000) as u16,
            dport: 5001,
            proto: PROTO_UDP,
        })
        .collect();
    let i = interleave.max(1);
    let mut pkts = Vec::with_capacity(clients as usize * packets as usize);
    let mut sent = 0;
    while sent < packets {
        let take = i.min(packets - sent);
        for c in 0..clients {
            for _ in 0..take {
                let t_ns = pkts.len() as u64;
                pkts.push(Pkt {
                    t_ns,
                    flow: c,
                    wire_len: frame_len,
                    tcp_flags: 0,
                });
            }
        }
        sent += take;
    }
    let duration_ns = pkts.len() as u64;
    Trace {
        pkts,
        flows,
        duration_ns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slf_equals_interleave() {
        for i in [1, 2, 4, 8, 16, 32] {
            let t = generate(100, 64, i, 1000, 3);
            assert_eq!(t.pkts.len(), 6400);
            assert!(
                (t.slf() - f64::from(i)).abs() < 1e-9,
                "I={i} slf={}",
                t.slf()
            );
            assert_eq!(t.distinct_flows(), 100);
        }
    }
}
