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
//! | `hold_ns()` | ns | histogram of time each buffered packet was held (bypassed: not recorded) |
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
#[derive(Debug, Clone, Default)]
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
    /// Hold time of buffered packets, ns: per-bucket counts of [`Self::hold_ns`]'s histogram.
    hold: HoldCounts,
    /// Exact longest hold, ns.
    pub hold_max_ns: u64,
    /// SLF of the input order.
    pub locality_in: Locality,
    /// SLF of the output order.
    pub locality_out: Locality,
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

    /// Hold time of buffered packets, ns: an HDR histogram of 1 ns .. 1 hour at 3 significant
    /// digits, built from the per-bucket counts on each call (a pass over ~34k counters:
    /// for reports and scrapes, not per packet).
    pub fn hold_ns(&self) -> Histogram<u64> {
        let mut h = empty_hold_histogram();
        for (i, &n) in self.hold.counts.iter().enumerate() {
            if n > 0 {
                h.saturating_record_n(hold_bucket_low(i), n);
            }
        }
        h
    }

    /// Packets whose hold time was recorded (buffered, then released).
    pub fn held_packets(&self) -> u64 {
        self.hold.counts.iter().sum()
    }

    /// Hold-time percentile in ns (0 when nothing was held), never above the exact maximum.
    pub fn hold_percentile_ns(&self, q: f64) -> u64 {
        let h = self.hold_ns();
        if h.is_empty() {
            0
        } else {
            h.value_at_quantile(q).min(self.hold_max_ns)
        }
    }

    /// Records one packet held `ns`: an increment of its histogram bucket's counter, so the
    /// packet path pays no histogram record and nothing needs flushing before a read.
    #[inline]
    pub(crate) fn record_hold(&mut self, ns: u64) {
        let h = &mut self.hold;
        if ns != h.last_ns {
            // Packets released together mostly share their enqueue time (one RX batch), so
            // most records skip this.
            self.hold_max_ns = self.hold_max_ns.max(ns);
            h.last_ns = ns;
            h.last_i = hold_index(ns);
        }
        if let Some(c) = h.counts.get_mut(h.last_i) {
            *c += 1;
        }
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
        for (a, b) in self.hold.counts.iter_mut().zip(o.hold.counts.iter()) {
            *a += b;
        }
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

/// Largest hold the histogram tracks (1 hour); longer ones count as this, as
/// `saturating_record_n` clamps them.
const HOLD_HIGHEST_NS: u64 = 3_600_000_000_000;
/// Sub-buckets of half a bucket: 3 significant digits need 2,048 per bucket, 1,024 new per
/// doubling after the first.
const HALF_BUCKET: usize = 1024;
/// Counters a 1 ns .. 1 hour, 3-digit histogram has: 32 doublings of 2,048 sub-buckets,
/// each after the first adding 1,024 (hdrhistogram's own `counts` length).
const HOLD_COUNTS: usize = 33 * HALF_BUCKET;

fn empty_hold_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HOLD_HIGHEST_NS, 3).expect("static histogram bounds are valid")
}

/// Index of `ns`'s bucket among [`HOLD_COUNTS`], as hdrhistogram lays out its counts: the
/// doubling (`shift`) and the top 11 bits of the value.
#[inline]
fn hold_index(ns: u64) -> usize {
    let ns = ns.min(HOLD_HIGHEST_NS);
    let shift = 53 - (ns | 2047).leading_zeros();
    ((shift as usize) << 10) + (ns >> shift) as usize
}

/// The lowest value of bucket `i` ([`hold_index`]'s inverse on bucket starts).
fn hold_bucket_low(i: usize) -> u64 {
    let shift = (i / HALF_BUCKET).saturating_sub(1);
    let sub = i - (shift << 10);
    (sub as u64) << shift
}

/// Exact per-bucket hold counts. Plain counters instead of the histogram itself: a record is
/// an index computation and an increment (the histogram's record is ~40 instructions, and a
/// buffer in front of it had to be flushed on every call so reads stayed exact).
#[derive(Clone)]
struct HoldCounts {
    /// Zeroed pages until used: only the few buckets near `delay` are ever touched.
    counts: Box<[u64]>,
    /// The last hold recorded and its counter.
    last_ns: u64,
    last_i: usize,
}

impl Default for HoldCounts {
    fn default() -> Self {
        Self {
            counts: vec![0; HOLD_COUNTS].into_boxed_slice(),
            last_ns: 0,
            last_i: 0,
        }
    }
}

impl std::fmt::Debug for HoldCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let held: u64 = self.counts.iter().sum();
        f.debug_struct("HoldCounts").field("held", &held).finish()
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

    /// Every value's counter is the histogram's own bucket: its lowest value is the
    /// histogram's lowest equivalent, and values in one bucket share one counter.
    #[test]
    fn hold_buckets_are_the_histograms_own() {
        let h = empty_hold_histogram();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut values: Vec<u64> = (0..4096)
            .chain([HOLD_HIGHEST_NS - 1, HOLD_HIGHEST_NS])
            .collect();
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(x >> (x % 40 + 22));
        }
        for v in values {
            let i = hold_index(v);
            assert!(i < HOLD_COUNTS, "value {v}");
            if v > HOLD_HIGHEST_NS {
                assert_eq!(
                    i,
                    hold_index(HOLD_HIGHEST_NS),
                    "clamped as the histogram clamps"
                );
                continue;
            }
            assert_eq!(hold_bucket_low(i), h.lowest_equivalent(v), "value {v}");
            assert_eq!(hold_index(h.lowest_equivalent(v)), i, "value {v}");
        }
        assert_eq!(hold_index(u64::MAX), hold_index(HOLD_HIGHEST_NS));
    }

    /// Counting per bucket gives the histogram recording each value gives (quantiles, every
    /// recorded bucket), and the exact maximum; merging adds the counts.
    #[test]
    fn hold_counts_give_the_same_histogram_and_exact_max() {
        let mut direct = empty_hold_histogram();
        let (mut a, mut b) = (Stats::default(), Stats::default());
        let mut x: u64 = 12345;
        let mut max = 0;
        for i in 0..200_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let ns = if x % 4 == 0 {
                x % 10_000_000
            } else {
                64_000 + x % 300
            };
            direct.saturating_record(ns);
            max = max.max(ns);
            if i % 3 == 0 { &mut a } else { &mut b }.record_hold(ns);
        }
        a.merge(&b);
        let built = a.hold_ns();
        assert_eq!(a.hold_max_ns, max);
        assert_eq!(a.held_packets(), 200_000);
        assert_eq!(direct.len(), built.len());
        for q in [0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(
                direct.value_at_quantile(q),
                built.value_at_quantile(q),
                "q {q}"
            );
        }
        let buckets = |h: &Histogram<u64>| {
            h.iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect::<Vec<_>>()
        };
        assert_eq!(buckets(&direct), buckets(&built));
    }
}
