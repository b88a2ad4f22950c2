//! Synthetic traces, deterministic from a seed: the calibrated multi-segment `campus` trace and the
//! `motivation` round-robin trace, plus a nanosecond pcap writer.

pub mod campus;
pub mod frame;
pub mod hosts;
pub mod motivation;
pub mod pcap;

pub use frame::{Frame, Packet, Tuple};
use reframer_core::Locality;

/// Packets per second of one campus segment used for sizing (the calibrated generator
/// averages somewhat below this).
pub const CAMPUS_PKTS_PER_SEGMENT_S: f64 = 300_000.0;

/// Bytes a campus trace of `segments` segments over `duration_ns` needs, with a factor-2
/// margin on the packet rate: packets, their share of flows and the event heap, and the
/// per-segment state. Callers refuse sizes above their limit before generating.
pub fn campus_bytes(segments: u32, duration_ns: u64) -> u128 {
    let per_pkt = (size_of::<Pkt>() + 16) as u128;
    campus_packets(segments, duration_ns) * per_pkt + u128::from(segments) * 64
}

/// Packets of a campus trace, with the same factor-2 margin as [`campus_bytes`].
pub fn campus_packets(segments: u32, duration_ns: u64) -> u128 {
    (2.0 * CAMPUS_PKTS_PER_SEGMENT_S * duration_ns as f64 * 1e-9 * f64::from(segments)) as u128
}

/// Bytes a motivation trace needs: `clients * packets` packets and one flow per client.
pub fn motivation_bytes(clients: u32, packets: u32) -> u128 {
    u128::from(clients) * u128::from(packets) * size_of::<Pkt>() as u128
        + u128::from(clients) * size_of::<Tuple>() as u128
}

/// Bytes of `packets` built frames (what the chain experiments hold besides the trace).
pub fn frames_bytes(packets: u128) -> u128 {
    packets * size_of::<Frame>() as u128
}

/// One packet of a trace, compact (16 bytes) so multi-million-packet traces stay small; the
/// header bytes are built on demand from the flow's tuple.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pkt {
    pub t_ns: u64,
    pub flow: u32,
    pub wire_len: u16,
    pub tcp_flags: u8,
}

/// A timestamped packet sequence over a table of flows.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    pub pkts: Vec<Pkt>,
    pub flows: Vec<Tuple>,
    pub duration_ns: u64,
}

impl Trace {
    /// The frame of packet `i`, with its trace index as the frame id.
    pub fn frame(&self, i: usize) -> Frame {
        let p = &self.pkts[i];
        Frame::build(
            &self.flows[p.flow as usize],
            p.tcp_flags,
            p.wire_len,
            i as u32,
        )
    }

    /// Spatial locality factor of the trace order (mean run length of same-flow packets).
    pub fn slf(&self) -> f64 {
        slf(self.pkts.iter().map(|p| p.flow))
    }

    /// Flows with at least one packet in the trace.
    pub fn distinct_flows(&self) -> usize {
        let mut seen = vec![false; self.flows.len()];
        self.pkts
            .iter()
            .filter(|p| !std::mem::replace(&mut seen[p.flow as usize], true))
            .count()
    }

    pub fn bytes(&self) -> u64 {
        self.pkts.iter().map(|p| u64::from(p.wire_len)).sum()
    }

    /// Offered load in Gbit/s over the trace duration (frame bytes, no preamble or gap).
    pub fn gbps(&self) -> f64 {
        self.bytes() as f64 * 8.0 / self.duration_ns.max(1) as f64
    }

    pub fn mean_frame(&self) -> f64 {
        self.bytes() as f64 / self.pkts.len().max(1) as f64
    }
}

/// Mean run length of consecutive packets of one flow: the paper's SLF (1 = no two neighbours
/// share a flow, and 1 for no packets), counted by the scheduler's own [`Locality`] meter.
pub fn slf(flows: impl IntoIterator<Item = u32>) -> f64 {
    flows.into_iter().map(u64::from).collect::<Locality>().slf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slf_counts_runs() {
        assert_eq!(slf([1, 1, 2, 2, 1, 1]), 2.0);
        assert_eq!(slf([1, 2, 3, 4]), 1.0);
        assert_eq!(slf(Vec::<u32>::new()), 1.0);
    }
}
