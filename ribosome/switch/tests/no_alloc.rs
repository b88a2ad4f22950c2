//! The live switch does not allocate per packet: once warm, a client packet split into a WRITE
//! and a header copy, the header's return from the NF, the READ it turns into, the READ
//! response rebuilt into the packet, and a small packet sent whole both ways, all with the
//! output buffers handed back through `Out::recycle` as the daemon does, allocate nothing.
//!
//! Counts allocations with a global allocator that forwards to the system one; this binary
//! holds this one test, so nothing else allocates meanwhile.

use ribosome_switch::{Out, PortId, Switch, SwitchConfig};
use ribosome_wire::control::{AuthKey, ControlMsg};
use ribosome_wire::ib::{Aeth, Bth, Opcode};
use ribosome_wire::{MacAddr, RoceFrame};
use std::net::Ipv4Addr;
use std::sync::atomic::Ordering;

mod common;
use common::{ctrl, server_reply, udp};

/// The test's only `unsafe`: a counting global allocator.
mod sys {
    #![allow(unsafe_code)]
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicU64, Ordering};

    struct Counting;

    pub(crate) static ALLOCS: AtomicU64 = AtomicU64::new(0);

    // SAFETY: every call forwards to `System` with the caller's arguments unchanged, so it upholds
    // the `GlobalAlloc` contract exactly as `System` does; the counter is only an atomic add.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            // SAFETY: forwarded unchanged (see the impl).
            unsafe { System.alloc(l) }
        }

        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            // SAFETY: `p` came from `System` through `alloc`/`realloc` with layout `l`.
            unsafe { System.dealloc(p, l) }
        }

        unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            // SAFETY: forwarded unchanged (see the impl).
            unsafe { System.realloc(p, l, new) }
        }
    }

    #[global_allocator]
    static COUNTING: Counting = Counting;
}
use sys::ALLOCS;

const CLIENT: PortId = 0;
const NF: PortId = 1;
const S0: PortId = 2;
const SERVER_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 9]);

fn register(sw: &mut Switch, key: &AuthKey) {
    let mut out = Out::new();
    let msgs = [
        ControlMsg::QpInfo {
            enable_timer: 1,
            global_index: 0,
            qpn: 100,
        },
        ControlMsg::MemInfo {
            server_index: 0,
            va: 0x10_0000,
            rkey: 0x55,
        },
        ControlMsg::EthInfo {
            server_index: 0,
            mac: SERVER_MAC,
            ip: Ipv4Addr::new(192, 168, 40, 1),
        },
    ];
    for (seq, m) in msgs.into_iter().enumerate() {
        sw.process(S0, &ctrl(key, 10 + seq as u64, m), 0, &mut out);
    }
    assert!(out.is_empty());
}

/// State the test keeps between packets (all buffers reused).
struct Bench {
    sw: Switch,
    out: Out,
    sending: Vec<(PortId, Vec<u8>)>,
    /// The last WRITE's payload (tag, pad, data): what the server would hold.
    parked: Vec<u8>,
    /// The last header copy, MACs swapped as the NF contract does.
    header: Vec<u8>,
    reply: Vec<u8>,
    to_client: Vec<u8>,
}

impl Bench {
    /// Sends what the switch emitted ("on the wire": copied out), recycling the buffers.
    fn emit(&mut self) {
        self.out.take_into(&mut self.sending);
        for (port, f) in self.sending.drain(..) {
            match port {
                S0 => {
                    if let Ok(r) = RoceFrame::parse(&f) {
                        if r.bth.opcode == Opcode::WRITE_ONLY {
                            self.parked.clear();
                            self.parked.extend_from_slice(r.payload);
                        } else if r.bth.opcode == Opcode::READ_REQUEST {
                            let spec = server_reply(
                                Bth::new(Opcode::READ_RESPONSE_ONLY, 0, r.bth.psn, false),
                                Aeth::ack(0),
                            );
                            self.reply.clear();
                            spec.write_to(&self.parked, true, &mut self.reply).unwrap();
                        }
                    }
                }
                NF => {
                    self.header.clear();
                    self.header.extend_from_slice(&f[6..12]);
                    self.header.extend_from_slice(&f[0..6]);
                    self.header.extend_from_slice(&f[12..]);
                }
                _ => {
                    self.to_client.clear();
                    self.to_client.extend_from_slice(&f);
                }
            }
            self.out.recycle(f);
        }
    }

    /// Hands the held header (NF) or READ response (server) to the switch and sends what
    /// it emits.
    fn feed(&mut self, port: PortId, now: u64) {
        let held = if port == NF {
            &self.header
        } else {
            &self.reply
        };
        self.sw.process(port, held, now, &mut self.out);
        self.sw.tick(now, &mut self.out);
        self.emit();
    }

    /// One split packet end to end and one small packet both ways; checks what reached the
    /// client.
    fn round(&mut self, big: &[u8], small: &[u8], now: u64) {
        self.sw.process(CLIENT, big, now, &mut self.out);
        self.emit();
        self.feed(NF, now);
        self.feed(S0, now);
        // Byte for byte behind the MACs (the NF contract swapped those).
        assert!(self.to_client[12..] == big[12..], "rebuilt packet");
        self.sw.process(CLIENT, small, now, &mut self.out);
        self.emit();
        self.feed(NF, now);
        assert!(self.to_client[12..] == small[12..], "whole packet");
    }
}

#[test]
fn a_warm_switch_allocates_nothing_per_packet() {
    let key = AuthKey::new([3; 32]);
    let mut c = SwitchConfig::new(NF, vec![CLIENT]);
    c.servers = 1;
    c.qps_per_server = 1;
    c.key = Some(key.clone());
    c.payload_log = 1 << 20;
    c.overload = None;
    let mut sw = Switch::new(c).unwrap();
    register(&mut sw, &key);
    let big = udp(1000, 7);
    let small = udp(20, 7);
    let mut b = Bench {
        sw,
        out: Out::new(),
        sending: Vec::with_capacity(16),
        parked: Vec::with_capacity(2048),
        header: Vec::with_capacity(2048),
        reply: Vec::with_capacity(2048),
        to_client: Vec::with_capacity(2048),
    };
    for i in 0..100 {
        b.round(&big, &small, i * 1000);
    }
    let before = ALLOCS.load(Ordering::Relaxed);
    for i in 100..1100 {
        b.round(&big, &small, i * 1000);
    }
    let allocs = ALLOCS.load(Ordering::Relaxed) - before;
    assert_eq!(b.sw.counters().reassembled, 1100);
    assert_eq!(b.sw.losses().total(), 0);
    assert_eq!(allocs, 0, "allocations in 1000 warm rounds");
}
