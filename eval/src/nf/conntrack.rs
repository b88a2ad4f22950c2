//! A stateful firewall's connection tracker, the "heavier, realistic NF" of E3's second chain:
//! one 64-byte entry per connection in an open-addressing table (sized for the trace's flows,
//! so well beyond the caches at 30 segments), TCP state and sequence tracking per packet in
//! the manner of Linux's nf_conntrack TCP tracker (simplified: loose pickup of connections
//! already in progress, one direction), packet and invalid counters.
//!
//! The table is indexed by Reframer's flow hash (the low 32 bits of [`FlowKey::hash64`], as
//! [`reframer_core::BurstInfo::hash`] carries it), so an NF behind
//! Reframer's burst API gets the key and hash with each burst (no parse, no hash) and can
//! prefetch the entry of the next burst from [`reframer_core::BurstHint::hash`] while it works
//! on the current one ([`Conntrack::prefetch`]).

use reframer_core::wire::FlowKey;

use crate::trace::Tuple;

/// Reframer's flow key for the NFs' IPv4 key (the same bytes Reframer's parser reads).
pub fn flow_key(k: &Tuple) -> FlowKey {
    FlowKey::v4(
        k.src.to_be_bytes(),
        k.dst.to_be_bytes(),
        k.sport,
        k.dport,
        k.proto,
    )
}

/// TCP flag bits.
const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;

/// Connection states (a subset of nf_conntrack's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    /// A UDP flow, or a TCP flow seen only mid-stream so far.
    Open = 1,
    SynSent = 2,
    Established = 3,
    FinWait = 4,
    Closed = 5,
}

/// One connection: exactly one cache line.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Entry {
    key: FlowKey,
    tag: u32,
    packets: u32,
    /// Highest sequence number sent + 1 (nf_conntrack's `td_end`).
    td_end: u32,
    /// Highest acknowledged window edge seen (`td_maxend`).
    td_maxend: u32,
    last_seen: u32,
    state: u8,
    used: bool,
    _pad: [u8; 2],
}

const _: () = assert!(size_of::<Entry>() == 64);

fn empty() -> Entry {
    Entry {
        key: FlowKey::default(),
        tag: 0,
        packets: 0,
        td_end: 0,
        td_maxend: 0,
        last_seen: 0,
        state: 0,
        used: false,
        _pad: [0; 2],
    }
}

/// Largest distance (bytes) a segment may start beyond the tracked window edge before it
/// counts as invalid.
const MAX_WINDOW: u32 = 1 << 30;

/// What the tracker did, in total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CtStats {
    pub created: u64,
    pub packets: u64,
    /// Segments outside the tracked window, or arriving on a closed connection (counted and
    /// passed, as nf_conntrack's `be_liberal`).
    pub invalid: u64,
    /// Packets of new connections refused because the table was full.
    pub table_full: u64,
}

/// The connection table.
#[derive(Debug)]
pub struct Conntrack {
    entries: Vec<Entry>,
    mask: usize,
    len: usize,
    capacity: usize,
    pub stats: CtStats,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} state {}", self.key, self.state)
    }
}

/// The TCP fields the tracker reads from a segment, `None` for UDP.
#[derive(Debug, Clone, Copy)]
pub struct Segment {
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
    pub flags: u8,
    pub payload: u16,
}

impl Segment {
    /// Reads the TCP header at `l4` of an IPv4 frame whose IP header starts at `l3`; `None`
    /// when the frame is not TCP or too short.
    pub fn read(f: &[u8], l3: usize, l4: usize) -> Option<Self> {
        let tcp = f.get(l4..l4 + 20)?;
        if f.get(l3 + 9) != Some(&6) {
            return None;
        }
        let be32 = |o: usize| u32::from_be_bytes([tcp[o], tcp[o + 1], tcp[o + 2], tcp[o + 3]]);
        let ip_total = u16::from_be_bytes([f[l3 + 2], f[l3 + 3]]);
        let hdrs = (l4 - l3) as u16 + u16::from(tcp[12] >> 4) * 4;
        Some(Self {
            seq: be32(4),
            ack: be32(8),
            window: u16::from_be_bytes([tcp[14], tcp[15]]),
            flags: tcp[13],
            payload: ip_total.saturating_sub(hdrs),
        })
    }
}

impl Conntrack {
    /// A table for up to `capacity` connections (load <= 0.75).
    pub fn new(capacity: usize) -> Self {
        let slots = (capacity + capacity / 3).next_power_of_two().max(16);
        Self {
            entries: vec![empty(); slots],
            mask: slots - 1,
            len: 0,
            capacity,
            stats: CtStats::default(),
        }
    }

    /// Connections tracked.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no connection is tracked.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Starts loading the entry a flow of hash `hash` starts probing at.
    #[inline]
    pub fn prefetch(&self, hash: u32) {
        reframer_core::prefetch(&self.entries[hash as usize & self.mask]);
    }

    /// The state of `key`'s connection, if tracked.
    pub fn state(&self, key: &FlowKey) -> Option<State> {
        let i = self.find(key, key.hash64() as u32)?;
        Some(match self.entries[i].state {
            2 => State::SynSent,
            3 => State::Established,
            4 => State::FinWait,
            5 => State::Closed,
            _ => State::Open,
        })
    }

    fn find(&self, key: &FlowKey, tag: u32) -> Option<usize> {
        let mut i = tag as usize & self.mask;
        loop {
            let e = &self.entries[i];
            if !e.used {
                return None;
            }
            if e.tag == tag && e.key == *key {
                return Some(i);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The entry of `key` (`tag`: the low 32 bits of [`FlowKey::hash64`]), created if new; `None` when the
    /// table is full.
    #[inline]
    fn entry(&mut self, key: &FlowKey, tag: u32) -> Option<usize> {
        let mut i = tag as usize & self.mask;
        loop {
            let e = &self.entries[i];
            if !e.used {
                break;
            }
            if e.tag == tag && e.key == *key {
                return Some(i);
            }
            i = (i + 1) & self.mask;
        }
        if self.len >= self.capacity {
            return None;
        }
        self.len += 1;
        self.stats.created += 1;
        self.entries[i] = Entry {
            key: *key,
            tag,
            used: true,
            state: State::Open as u8,
            ..empty()
        };
        Some(i)
    }

    /// Tracks one packet; false when it must be dropped (table full).
    pub fn track(&mut self, key: &FlowKey, hash: u32, seg: Option<Segment>, now: u64) -> bool {
        self.track_run(key, hash, std::iter::once(seg), now) == 1
    }

    /// Tracks consecutive packets of one connection with one table lookup (a burst from
    /// Reframer). Returns how many may pass: all, or none when the table is full.
    pub fn track_run(
        &mut self,
        key: &FlowKey,
        hash: u32,
        segs: impl IntoIterator<Item = Option<Segment>>,
        now: u64,
    ) -> u64 {
        let Some(i) = self.entry(key, hash) else {
            let n = segs.into_iter().count() as u64;
            self.stats.table_full += n;
            return 0;
        };
        let mut e = self.entries[i];
        let mut n = 0u64;
        let mut invalid = 0u64;
        for seg in segs {
            n += 1;
            if let Some(s) = seg {
                invalid += u64::from(!step(&mut e, &s));
            }
        }
        e.packets = e.packets.wrapping_add(n as u32);
        e.last_seen = (now >> 20) as u32;
        self.entries[i] = e;
        self.stats.packets += n;
        self.stats.invalid += invalid;
        n
    }
}

/// One TCP segment through the state machine; false when it is invalid (outside the window
/// or after the connection closed).
#[inline]
fn step(e: &mut Entry, s: &Segment) -> bool {
    let end = s
        .seq
        .wrapping_add(u32::from(s.payload))
        .wrapping_add(u32::from(s.flags & (SYN | FIN) != 0));
    if s.flags & RST != 0 {
        e.state = State::Closed as u8;
        return true;
    }
    let valid = match e.state {
        x if x == State::Closed as u8 => false,
        x if x == State::Open as u8 && e.packets == 0 => {
            // First segment: a SYN opens, anything else is picked up mid-stream.
            e.state = if s.flags & SYN != 0 {
                State::SynSent as u8
            } else {
                State::Established as u8
            };
            e.td_end = end;
            true
        }
        _ => {
            // In window: not beyond the acknowledged edge (with slack), not far behind.
            let ahead = s.seq.wrapping_sub(e.td_maxend.max(e.td_end)) as i32;
            let behind = e.td_end.wrapping_sub(end) as i32;
            (ahead <= MAX_WINDOW as i32) && behind < MAX_WINDOW as i32
        }
    };
    if valid {
        if (end.wrapping_sub(e.td_end) as i32) > 0 {
            e.td_end = end;
        }
        let edge = s.ack.wrapping_add(u32::from(s.window));
        if (edge.wrapping_sub(e.td_maxend) as i32) > 0 {
            e.td_maxend = edge;
        }
        if s.flags & FIN != 0 {
            e.state = State::FinWait as u8;
        } else if e.state == State::SynSent as u8 && s.flags & SYN == 0 {
            e.state = State::Established as u8;
        }
    }
    valid
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u8) -> FlowKey {
        FlowKey::v4([10, 0, 0, i], [10, 0, 1, 1], 40_000, 443, 6)
    }

    fn seg(seq: u32, flags: u8, payload: u16) -> Option<Segment> {
        Some(Segment {
            seq,
            ack: 1,
            window: 65_535,
            flags,
            payload,
        })
    }

    #[test]
    fn a_connection_walks_its_states_and_counts_invalid_segments() {
        let mut ct = Conntrack::new(16);
        let k = key(1);
        let h = k.hash64() as u32;
        assert!(ct.track(&k, h, seg(100, SYN, 0), 1));
        assert_eq!(ct.state(&k), Some(State::SynSent));
        assert!(ct.track(&k, h, seg(101, 0x10, 1000), 2));
        assert_eq!(ct.state(&k), Some(State::Established));
        assert!(ct.track(&k, h, seg(1101, FIN | 0x10, 0), 3));
        assert_eq!(ct.state(&k), Some(State::FinWait));
        assert!(ct.track(&k, h, seg(0, RST, 0), 4));
        assert_eq!(ct.state(&k), Some(State::Closed));
        assert!(
            ct.track(&k, h, seg(2000, 0x10, 10), 5),
            "passed, but invalid"
        );
        assert_eq!(ct.stats.invalid, 1);
        assert_eq!((ct.stats.created, ct.stats.packets), (1, 5));
    }

    /// A run tracked with one lookup leaves the same state and counters as its packets
    /// tracked one by one.
    #[test]
    fn runs_equal_packets() {
        let (mut a, mut b) = (Conntrack::new(64), Conntrack::new(64));
        for i in 0..20u8 {
            let k = key(i);
            let h = k.hash64() as u32;
            let segs: Vec<_> = (0..u32::from(i % 5 + 1))
                .map(|j| {
                    seg(
                        1000 * j + u32::from(i),
                        if j == 0 { SYN } else { 0x10 },
                        1000,
                    )
                })
                .collect();
            for s in &segs {
                a.track(&k, h, *s, 7);
            }
            b.track_run(&k, h, segs.iter().copied(), 7);
            assert_eq!(a.state(&k), b.state(&k));
        }
        assert_eq!(a.stats, b.stats);
    }

    #[test]
    fn a_full_table_refuses_new_connections_and_counts_them() {
        let mut ct = Conntrack::new(2);
        for i in 0..2 {
            let k = key(i);
            assert!(ct.track(&k, k.hash64() as u32, None, 0));
        }
        let k = key(9);
        assert_eq!(
            ct.track_run(&k, k.hash64() as u32, [None, None, None], 0),
            0
        );
        assert_eq!(ct.stats.table_full, 3);
        let k = key(0);
        assert!(
            ct.track(&k, k.hash64() as u32, None, 0),
            "a known one still passes"
        );
        assert_eq!(ct.len(), 2);
    }
}
