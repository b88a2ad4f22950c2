//! Counters, reasons and locality metrics.
//!
//! | name | unit | meaning |
//! |---|---|---|
//! | `packets_in` | packets | frames pushed into the scheduler |
//! | `packets_out` | packets | frames handed to TX (bypassed + released) |
//! | `bypassed{reason}` | packets | passed through unbuffered, by [`BypassReason`] |
//! | `dropped{reason}` | packets | lost, by [`DropReason`] (only when a memory bound forces it) |
//! | `flushes{reason}` | bursts | per-flow bursts released, by [`FlushReason`] |
//! | `bursts` | bursts | all released per-flow bursts |
//! | `rounds` | rounds | release rounds (a set of bursts released at one instant) |
//! | `acks_coalesced` | packets | pure ACKs removed by TCP ACK coalescing (returned for recycling) |
//! | `hold_ns` | ns | histogram of time each buffered packet was held (bypassed: not recorded) |
//! | `locality_in/out` | packets/run | SLF: mean run length of consecutive same-flow packets |
//! | `flows_created`, `flows_aged` | flows | flow-table entries made and aged out |

use hdrhistogram::Histogram;

/// A closed set of reasons that index a counter array.
pub trait Reason: Copy + 'static {
    /// Every variant, in index order.
    const ALL: &'static [Self];
    /// Position in [`Self::ALL`].
    fn index(self) -> usize;
    /// snake_case name used in JSON, CSV and logs.
    fn name(self) -> &'static str;
}

macro_rules! reasons {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $v),+ }
        impl Reason for $name {
            const ALL: &'static [Self] = &[$(Self::$v),+];
            fn index(self) -> usize { self as usize }
            fn name(self) -> &'static str { match self { $(Self::$v => $s),+ } }
        }
    };
}

reasons! {
    /// Why a packet was passed through without buffering.
    BypassReason {
        /// Not IPv4/IPv6 (ARP, LLDP, ...).
        NonIp = "non_ip",
        /// IP but neither TCP nor UDP (ICMP, ESP, ...).
        OtherProtocol = "other_protocol",
        /// An IPv4 or IPv6 fragment (any fragment).
        Fragment = "fragment",
        /// Shorter than its headers say.
        Truncated = "truncated",
        /// Inconsistent header fields (bad version, IHL, lengths, too many VLAN tags).
        Malformed = "malformed",
        /// IPv6 extension chain longer than the walk bound.
        ExtensionChain = "ipv6_extension_chain",
        /// First packet of a flow (SFMaker MODEL SECOND + PASSTHROUGH).
        FirstPacket = "first_packet",
        /// TCP SYN with `bypass_syn`.
        Syn = "syn",
        /// The flow table is full of live flows; the packet could not get an entry.
        TableFull = "flow_table_full",
    }
}

reasons! {
    /// Why a packet was lost.
    DropReason {
        /// The caller left more than `2 x max_buffered_packets + 4096` released packets undrained
        /// (the TX queue's bound).
        TxQueueFull = "tx_queue_full",
    }
}

reasons! {
    /// Why a flow's burst was released.
    FlushReason {
        /// Its window (`delay`) elapsed.
        Deadline = "deadline",
        /// It held more than `max_burst` packets.
        MaxBurst = "max_burst",
        /// More than `max_flows` flows were buffered; the oldest window went out.
        Capacity = "capacity",
        /// The packet buffer (`max_buffered_packets`) was full; the oldest window went out.
        Memory = "memory",
        /// A bypassed packet of this flow arrived; its queue went first to keep order.
        BypassOrder = "bypass_order",
        /// `flush()` was called.
        Explicit = "explicit",
        /// `shutdown()` was called.
        Shutdown = "shutdown",
    }
}

/// Counters indexed by a [`Reason`].
#[derive(Debug, Clone)]
pub struct ByReason<R: Reason> {
    counts: Vec<u64>,
    _r: std::marker::PhantomData<R>,
}

impl<R: Reason> Default for ByReason<R> {
    fn default() -> Self {
        Self {
            counts: vec![0; R::ALL.len()],
            _r: std::marker::PhantomData,
        }
    }
}

impl<R: Reason> ByReason<R> {
    #[inline]
    pub(crate) fn add(&mut self, r: R, n: u64) {
        self.counts[r.index()] += n;
    }

    /// The count for one reason.
    pub fn get(&self, r: R) -> u64 {
        self.counts[r.index()]
    }

    /// Sum over all reasons.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// `(name, count)` for every reason, including zeros.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        R::ALL.iter().map(|r| (r.name(), self.counts[r.index()]))
    }

    fn merge(&mut self, o: &Self) {
        for (a, b) in self.counts.iter_mut().zip(&o.counts) {
            *a += b;
        }
    }
}

/// Spatial locality factor: mean length of runs of consecutive same-flow packets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Locality {
    packets: u64,
    runs: u64,
    last: Option<u64>,
}

impl Locality {
    /// Records a packet of the flow identified by `flow_hash`.
    #[inline]
    pub fn observe(&mut self, flow_hash: u64) {
        self.packets += 1;
        if self.last != Some(flow_hash) {
            self.runs += 1;
            self.last = Some(flow_hash);
        }
    }

    /// Records `n` consecutive packets of one flow (a released burst): one step, not `n`.
    #[inline]
    pub fn observe_run(&mut self, flow_hash: u64, n: u64) {
        self.packets += n;
        if self.last != Some(flow_hash) {
            self.runs += 1;
            self.last = Some(flow_hash);
        }
    }

    /// Records a packet that belongs to no flow (always starts a run of its own).
    #[inline]
    pub fn observe_unkeyed(&mut self) {
        self.packets += 1;
        self.runs += 1;
        self.last = None;
    }

    /// Packets per run (1.0 when nothing was seen).
    pub fn slf(&self) -> f64 {
        if self.runs == 0 {
            1.0
        } else {
            self.packets as f64 / self.runs as f64
        }
    }

    /// Runs seen.
    pub fn runs(&self) -> u64 {
        self.runs
    }

    /// Packets seen.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Adds another meter's totals (runs do not join across meters).
    pub fn merge(&mut self, o: &Self) {
        self.packets += o.packets;
        self.runs += o.runs;
    }
}

/// All counters of one scheduler. Plain integers: one scheduler per core, aggregated by
/// [`Stats::merge`] off the hot path.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Frames pushed.
    pub packets_in: u64,
    /// Frames handed to TX.
    pub packets_out: u64,
    /// Pass-through packets by reason.
    pub bypassed: ByReason<BypassReason>,
    /// Lost packets by reason.
    pub dropped: ByReason<DropReason>,
    /// Released bursts by reason.
    pub flushes: ByReason<FlushReason>,
    /// Released per-flow bursts.
    pub bursts: u64,
    /// Release rounds.
    pub rounds: u64,
    /// Pure ACKs removed by coalescing.
    pub acks_coalesced: u64,
    /// TCP bursts whose segments were sorted by sequence number.
    pub bursts_reordered: u64,
    /// Flow entries created.
    pub flows_created: u64,
    /// Flow entries aged out.
    pub flows_aged: u64,
    /// Hold time of buffered packets, ns (3 significant digits).
    pub hold_ns: Histogram<u64>,
    /// Exact longest hold, ns.
    pub hold_max_ns: u64,
    /// SLF of the input order.
    pub locality_in: Locality,
    /// SLF of the output order.
    pub locality_out: Locality,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            packets_in: 0,
            packets_out: 0,
            bypassed: ByReason::default(),
            dropped: ByReason::default(),
            flushes: ByReason::default(),
            bursts: 0,
            rounds: 0,
            acks_coalesced: 0,
            bursts_reordered: 0,
            flows_created: 0,
            flows_aged: 0,
            // 1 ns .. 1 hour at 3 significant digits (~100 KiB, allocated once).
            hold_ns: Histogram::new_with_bounds(1, 3_600_000_000_000, 3)
                .expect("static histogram bounds are valid"),
            hold_max_ns: 0,
            locality_in: Locality::default(),
            locality_out: Locality::default(),
        }
    }
}

impl Stats {
    /// Packets passed through unbuffered.
    pub fn bypassed_total(&self) -> u64 {
        self.bypassed.total()
    }

    /// Packets lost.
    pub fn dropped_total(&self) -> u64 {
        self.dropped.total()
    }

    /// Hold-time percentile in ns (0 when nothing was held), never above the exact maximum.
    pub fn hold_percentile_ns(&self, q: f64) -> u64 {
        if self.hold_ns.is_empty() {
            0
        } else {
            self.hold_ns.value_at_quantile(q).min(self.hold_max_ns)
        }
    }

    /// Records `n` packets held `ns` each (the reference [`HoldBuffer`] is tested against).
    #[cfg(test)]
    pub(crate) fn record_hold_n(&mut self, ns: u64, n: u64) {
        self.hold_ns.saturating_record_n(ns, n);
        self.hold_max_ns = self.hold_max_ns.max(ns);
    }

    /// Adds another scheduler's counters (for per-core aggregation).
    pub fn merge(&mut self, o: &Self) {
        self.packets_in += o.packets_in;
        self.packets_out += o.packets_out;
        self.bypassed.merge(&o.bypassed);
        self.dropped.merge(&o.dropped);
        self.flushes.merge(&o.flushes);
        self.bursts += o.bursts;
        self.rounds += o.rounds;
        self.acks_coalesced += o.acks_coalesced;
        self.bursts_reordered += o.bursts_reordered;
        self.flows_created += o.flows_created;
        self.flows_aged += o.flows_aged;
        // Same bounds on both sides, so this cannot fail.
        let _ = self.hold_ns.add(&o.hold_ns);
        self.hold_max_ns = self.hold_max_ns.max(o.hold_max_ns);
        self.locality_in.merge(&o.locality_in);
        self.locality_out.merge(&o.locality_out);
    }
}

/// The median of timings (the mean of the middle two for an even count; `None` when empty):
/// the one every benchmark and the demo report.
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Entries of [`HoldBuffer`] (a power of two).
const HOLD_SLOTS: usize = 32;

/// Hold times on their way into [`Stats::hold_ns`], counted per histogram bucket so that a
/// packet costs a compare and an increment instead of a histogram record (holds cluster
/// around `delay`, so a handful of buckets take almost every packet). Recording the bucket's
/// lowest value leaves the histogram exactly as recording each value would; the maximum is
/// kept exact on the side. Flushed before any caller can read the stats.
#[derive(Debug, Clone)]
pub(crate) struct HoldBuffer {
    value: [u64; HOLD_SLOTS],
    count: [u64; HOLD_SLOTS],
    /// Bit i set: entry i holds a count.
    used: u32,
    max: u64,
    /// The last hold recorded and its entry: packets released together often share their
    /// enqueue time (one RX batch), so most records are a compare and an increment.
    /// `u64::MAX` (never a hold) when no entry is current.
    last_ns: u64,
    last_i: usize,
}

impl Default for HoldBuffer {
    fn default() -> Self {
        Self {
            value: [0; HOLD_SLOTS],
            count: [0; HOLD_SLOTS],
            used: 0,
            max: 0,
            last_ns: u64::MAX,
            last_i: 0,
        }
    }
}

/// The lowest value of `ns`'s bucket in a histogram of lowest 1 and 3 significant digits
/// (2,048 sub-buckets): `Histogram::lowest_equivalent`, without the histogram. Returns the
/// value and its sub-bucket number.
#[inline]
fn hold_bucket(ns: u64) -> (u64, u64) {
    let shift = 53 - (ns | 2047).leading_zeros();
    let sub = ns >> shift;
    (sub << shift, sub)
}

impl HoldBuffer {
    /// One packet held `ns`.
    #[inline]
    pub(crate) fn record(&mut self, ns: u64, stats: &mut Stats) {
        if ns == self.last_ns {
            self.count[self.last_i % HOLD_SLOTS] += 1;
            return;
        }
        self.max = self.max.max(ns);
        let (low, sub) = hold_bucket(ns);
        // Fibonacci hashing: callers' clocks tick in steps, and holds that are multiples of
        // one step must not share a few entries.
        let i = (sub.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 59) as usize;
        let bit = 1u32 << i;
        self.last_ns = ns;
        self.last_i = i;
        if self.used & bit != 0 {
            if self.value[i] == low {
                self.count[i] += 1;
                return;
            }
            stats
                .hold_ns
                .saturating_record_n(self.value[i], self.count[i]);
        }
        self.used |= bit;
        self.value[i] = low;
        self.count[i] = 1;
    }

    /// Moves everything into `stats`.
    #[inline]
    pub(crate) fn flush(&mut self, stats: &mut Stats) {
        let mut m = self.used;
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            stats
                .hold_ns
                .saturating_record_n(self.value[i], self.count[i]);
            m &= m - 1;
        }
        self.used = 0;
        self.last_ns = u64::MAX;
        stats.hold_max_ns = stats.hold_max_ns.max(self.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(Vec::new()), None);
    }

    #[test]
    fn hold_buckets_are_the_histograms_own() {
        let h = Stats::default().hold_ns;
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut values: Vec<u64> = (0..4096).chain([u64::MAX / 2, 3_600_000_000_000]).collect();
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(x >> (x % 40 + 20));
        }
        for v in values {
            assert_eq!(hold_bucket(v).0, h.lowest_equivalent(v), "value {v}");
        }
    }

    #[test]
    fn buffered_holds_give_the_same_histogram_and_exact_max() {
        let (mut direct, mut buffered) = (Stats::default(), Stats::default());
        let mut buf = HoldBuffer::default();
        let mut x: u64 = 12345;
        for i in 0..200_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Mostly near 64 us, some anywhere (collisions in the buffer).
            let ns = if x % 4 == 0 {
                x % 10_000_000
            } else {
                64_000 + x % 300
            };
            direct.record_hold_n(ns, 1);
            buf.record(ns, &mut buffered);
            if i % 977 == 0 {
                buf.flush(&mut buffered);
            }
        }
        buf.flush(&mut buffered);
        assert_eq!(direct.hold_max_ns, buffered.hold_max_ns);
        assert_eq!(direct.hold_ns.len(), buffered.hold_ns.len());
        for q in [0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(
                direct.hold_ns.value_at_quantile(q),
                buffered.hold_ns.value_at_quantile(q),
                "q {q}"
            );
        }
        assert!(direct
            .hold_ns
            .iter_recorded()
            .eq(buffered.hold_ns.iter_recorded()));
    }
}
