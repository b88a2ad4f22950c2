//! Shared helpers for the scheduler tests: frames tagged with an id in the source MAC.
#![allow(dead_code, unreachable_pub)]

use std::net::{IpAddr, Ipv4Addr};

use reframer_core::frames::FrameSpec;
use reframer_core::{Config, Scheduler};

pub const US: u64 = 1_000;

pub fn ip(a: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, a))
}

/// Writes `id` into the source MAC (untouched by the scheduler) so outputs can be traced.
pub fn tag(mut f: Vec<u8>, id: u32) -> Vec<u8> {
    f[6..10].copy_from_slice(&id.to_be_bytes());
    f
}

pub fn id_of(f: &[u8]) -> u32 {
    u32::from_be_bytes([f[6], f[7], f[8], f[9]])
}

/// A UDP packet of flow `flow` (distinct source port per flow) carrying `id`.
pub fn udp(flow: u16, id: u32) -> Vec<u8> {
    tag(
        FrameSpec::udp(ip(1), ip(2), 1000 + flow, 80, 16).build(),
        id,
    )
}

pub fn sched(cfg: Config) -> Scheduler<Vec<u8>> {
    Scheduler::new(cfg).expect("valid config")
}

/// Drains everything released so far, returning the ids in output order.
pub fn drain(s: &mut Scheduler<Vec<u8>>) -> Vec<u32> {
    let mut out = Vec::new();
    let mut batch = Vec::new();
    while s.pop_tx_batch(&mut batch) > 0 {
        out.extend(batch.drain(..).map(|f| id_of(&f)));
    }
    out
}
