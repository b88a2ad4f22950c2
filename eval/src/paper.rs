//! The paper's published figures (reference §2.5-2.6, from the authors' result CSVs), used as
//! dashed reference lines in the plots and in summary.json. Nothing here feeds a measurement.

/// Off-chain DUT input SLF at 30 segments, by T (µs); T = 0 is the baseline.
pub const E1_SLF_30: [(u64, f64); 4] = [(0, 1.22), (16, 1.89), (64, 2.74), (128, 3.26)];
/// The same at 4 segments.
pub const E1_SLF_4: [(u64, f64); 4] = [(0, 1.56), (16, 2.01), (64, 2.81), (128, 3.36)];
/// In-chain SLF after Reframer by T (µs).
pub const E1_SLF_IN_CHAIN: [(u64, f64); 8] = [
    (8, 1.78),
    (16, 2.16),
    (32, 2.64),
    (64, 3.18),
    (104, 3.52),
    (128, 3.62),
    (192, 3.78),
    (256, 3.89),
];

/// Motivation 4-NF chain throughput (Gbps) by SLF.
pub const E2_CHAIN_GBPS: [(u32, f64); 6] = [
    (1, 18.37),
    (2, 22.83),
    (4, 27.91),
    (8, 31.58),
    (16, 34.41),
    (32, 35.67),
];

/// In-chain throughput (Gbps): baseline ~31.9, Reframer by T (µs).
pub const E3_BASELINE_GBPS: f64 = 31.79;
pub const E3_REFRAMER_GBPS: [(u64, f64); 8] = [
    (8, 35.80),
    (16, 40.05),
    (32, 45.44),
    (64, 51.00),
    (104, 52.51),
    (128, 51.99),
    (192, 49.73),
    (256, 48.05),
];
/// In-chain median latency with Reframer (µs) by T, baseline ~105 µs (round trip, not hold time).
pub const E4_LAT50_IN_CHAIN: [(u64, f64); 6] = [
    (8, 88.6),
    (16, 91.2),
    (32, 102.8),
    (64, 124.6),
    (128, 173.4),
    (256, 278.2),
];

/// Issue 4 targets.
pub const TARGET_E1_TOLERANCE: f64 = 0.15;
pub const TARGET_E3_GAIN_AT_64: f64 = 0.60;
