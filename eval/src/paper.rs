//! The papers' published figures (Reframer: reference §2.5-2.6, from the authors' result CSVs;
//! Ribosome: its reference §4, read off the figures), used as
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

/// Ribosome (NSDI '23) figures, read off the authors' committed PDFs (ribosome reference §4,
/// approximate, ±5%). Fig 5 at ~1 KB packets: Ribosome linear to ~34.5 Mpps / ~280 Gb/s at
/// 35 Mpps offered; the NF server alone plateaus at ~11.5 Mpps / ~93 Gb/s.
pub const E5_RIBOSOME_1KB_GBPS: f64 = 280.0;
pub const E5_RIBOSOME_1KB_MPPS: f64 = 34.5;
pub const E5_OFFERED_MAX_MPPS: f64 = 35.0;
pub const E5_NF_ALONE_1KB_GBPS: f64 = 93.0;
pub const E5_NF_ALONE_1KB_MPPS: f64 = 11.5;
/// Fig 7: Ribosome output (Gb/s) by packet length (B).
pub const E5_SIZE_RIBOSOME: [(u32, f64); 9] = [
    (64, 48.0),
    (128, 70.0),
    (192, 112.0),
    (256, 155.0),
    (320, 196.0),
    (384, 287.0),
    (448, 300.0),
    (512, 300.0),
    (1024, 300.0),
];
/// Fig 7: the NF server alone, only its end points are legible (~48 at 64 B, ~100 at 1024 B).
pub const E5_SIZE_NF_ALONE: [(u32, f64); 2] = [(64, 48.0), (1024, 100.0)];
/// Fig 8: output (Gb/s) by NF cores, load balancer / rate limiter NFs.
pub const E5_CORES_LB: [(u32, f64); 4] = [(1, 35.0), (4, 140.0), (8, 250.0), (16, 287.0)];
/// Fig 8: the "Advanced scheduler" (Reframer + EtherTag) NF.
pub const E5_CORES_SCHEDULER: [(u32, f64); 2] = [(8, 230.0), (16, 240.0)];
/// Fig 6: median latency (µs) by offered Gb/s.
pub const E5_LAT_RIBOSOME: [(u32, f64); 2] = [(10, 24.0), (90, 30.0)];
pub const E5_LAT_NF_ALONE: [(u32, f64); 4] = [(10, 25.0), (70, 46.0), (80, 65.0), (90, 106.0)];
