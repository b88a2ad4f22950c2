//! Test traffic and its oracle: packets carry a unique id in their first payload bytes, so
//! each output frame can be compared byte for byte with what the pipeline must produce from
//! its original.

use crate::contract::swap_macs;
use crate::rewrite::Nat;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use reframer_core::frames::FrameSpec;
use ribosome_switch::consts::{DST_MAC_QP_BYTE, DST_MAC_SERVER_BYTE, SPLIT_FLAG, WHOLE_FLAG};
use ribosome_switch::packet::{self, set_lengths, Parsed};
use std::net::{IpAddr, Ipv4Addr};

/// One generated packet.
#[derive(Debug, Clone)]
pub struct GenPacket {
    /// The frame.
    pub frame: Vec<u8>,
    /// Its flow number.
    pub flow: usize,
}

/// Shape of generated traffic.
#[derive(Debug, Clone)]
pub struct TrafficSpec {
    /// RNG seed.
    pub seed: u64,
    /// Flows; even-numbered flows are TCP, odd ones UDP.
    pub flows: usize,
    /// Packets in all.
    pub packets: usize,
    /// Frame sizes of split-sized flows are uniform in this range (bytes, FCS excluded).
    pub sizes: (usize, usize),
    /// Every `small_every`-th flow sends only 60..=`small_max` B frames (0: none).
    pub small_every: usize,
    /// Largest frame of small flows.
    pub small_max: usize,
}

impl TrafficSpec {
    /// Bytes [`generate`] allocates at most for `packets` packets of at most `max_frame`
    /// bytes over `flows` flows (frame, payload scratch and bookkeeping per packet, state
    /// per flow), so callers can refuse sizes before allocating.
    pub fn memory_bound(packets: usize, flows: usize, max_frame: usize) -> u128 {
        let per_packet = 2 * max_frame as u128 + 128;
        packets as u128 * per_packet + flows as u128 * 32
    }

    /// Fixed-size traffic for benchmarks.
    pub fn fixed(size: usize, packets: usize, flows: usize) -> Self {
        Self {
            seed: 1,
            flows,
            packets,
            sizes: (size, size),
            small_every: 0,
            small_max: 60,
        }
    }
}

/// Header bytes before the payload for a flow's protocol.
fn hdr_len(tcp: bool) -> usize {
    14 + 20 + if tcp { 20 } else { 8 }
}

/// Generates the packets; flows are interleaved at random.
pub fn generate(spec: &TrafficSpec) -> Vec<GenPacket> {
    let mut rng = SmallRng::seed_from_u64(spec.seed);
    let mut seq = vec![1u32; spec.flows.max(1)];
    let ends: Vec<(Ipv4Addr, u16)> = (0..spec.flows.max(1))
        .map(|_| {
            (
                Ipv4Addr::new(10, 1, rng.gen(), rng.gen()),
                rng.gen_range(1024..65535),
            )
        })
        .collect();
    (0..spec.packets)
        .map(|id| {
            let flow = rng.gen_range(0..spec.flows.max(1));
            let tcp = flow % 2 == 0;
            let small = spec.small_every > 0 && flow % spec.small_every == spec.small_every - 1;
            let (lo, hi) = if small {
                (60, spec.small_max.max(60))
            } else {
                spec.sizes
            };
            let size = rng.gen_range(lo..=hi.max(lo));
            let plen = size.saturating_sub(hdr_len(tcp)).max(4);
            let mut payload = vec![0u8; plen];
            rng.fill(&mut payload[..]);
            payload[..4].copy_from_slice(&(id as u32).to_be_bytes());
            let (src, sport) = ends[flow];
            let src = IpAddr::V4(src);
            let dst = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 100));
            let frame = if tcp {
                let s = seq[flow];
                seq[flow] = s.wrapping_add(plen as u32);
                FrameSpec::tcp(src, dst, sport, 80, s, 1, 0x18, &payload).build()
            } else {
                FrameSpec::udp(src, dst, sport, 53, 0).build_with(&payload)
            };
            GenPacket { frame, flow }
        })
        .collect()
}

trait BuildWith {
    fn build_with(self, payload: &[u8]) -> Vec<u8>;
}

impl BuildWith for FrameSpec {
    fn build_with(mut self, payload: &[u8]) -> Vec<u8> {
        self.payload = payload.to_vec();
        self.build()
    }
}

/// The packet id carried by an output frame.
pub fn packet_id(frame: &[u8]) -> Option<u32> {
    let Parsed::L4(p) = packet::parse(frame) else {
        return None;
    };
    let b = frame.get(p.payload_off()..p.payload_off() + 4)?;
    Some(u32::from_be_bytes(b.try_into().ok()?))
}

/// What the pipeline must output for `original`: the switch's MAC marks (split: flag and
/// the server/QP hint bytes, which the output's source MAC tells; whole: the cleared byte),
/// then the NF (NAT with incremental checksums, MAC swap), lengths as in the original and
/// the IPv4 checksum recomputed.
pub fn expected(original: &[u8], output: &[u8], nat: Option<&Nat>) -> Vec<u8> {
    let mut e = original.to_vec();
    if output.get(5) == Some(&SPLIT_FLAG) && e.len() >= 12 && output.len() >= 12 {
        e[11] = SPLIT_FLAG;
        e[DST_MAC_SERVER_BYTE] = output[6 + DST_MAC_SERVER_BYTE];
        e[DST_MAC_QP_BYTE] = output[6 + DST_MAC_QP_BYTE];
    } else if e.len() >= 12 {
        e[11] = WHOLE_FLAG;
    }
    if let Some(n) = nat {
        n.apply(&mut e);
    }
    swap_macs(&mut e);
    if output.get(5) == Some(&SPLIT_FLAG) {
        if let Parsed::L4(p) = packet::parse(&e) {
            let plen = p.ip_end() - p.payload_off();
            set_lengths(&mut e, plen, p.l4_hdr_len);
        }
    }
    e
}

/// The verdict on a run's output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Output frames equal to their expected bytes.
    pub exact: u64,
    /// Of those, frames that came through the split path.
    pub split: u64,
    /// Output frames that differ from what their original must become (or carry no id).
    pub corrupted: u64,
    /// Ids delivered more than once.
    pub duplicates: u64,
    /// Packets delivered before an earlier packet of the same flow.
    pub reordered: u64,
    /// Packets never delivered.
    pub missing: u64,
}

/// Checks every output frame against its original.
pub fn verify(packets: &[GenPacket], outputs: &[Vec<u8>], nat: Option<&Nat>) -> Verdict {
    let mut v = Verdict::default();
    let mut seen = vec![false; packets.len()];
    let mut last_in_flow: Vec<Option<u32>> =
        vec![None; packets.iter().map(|p| p.flow + 1).max().unwrap_or(0)];
    for o in outputs {
        let Some(id) = packet_id(o).filter(|&i| (i as usize) < packets.len()) else {
            v.corrupted += 1;
            continue;
        };
        let p = &packets[id as usize];
        if expected(&p.frame, o, nat) != *o {
            v.corrupted += 1;
            continue;
        }
        if std::mem::replace(&mut seen[id as usize], true) {
            v.duplicates += 1;
            continue;
        }
        v.exact += 1;
        if o.get(5) == Some(&SPLIT_FLAG) {
            v.split += 1;
        }
        let last = &mut last_in_flow[p.flow];
        if last.is_some_and(|l| l > id) {
            v.reordered += 1;
        }
        *last = Some(last.map_or(id, |l| l.max(id)));
    }
    v.missing = seen.iter().filter(|s| !**s).count() as u64;
    v
}
