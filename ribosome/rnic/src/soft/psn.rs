//! 24-bit packet sequence number arithmetic.

/// PSNs are 24 bits wide.
pub const PSN_MASK: u32 = 0x00ff_ffff;
const HALF: u32 = 1 << 23;

/// `psn + n` modulo 2^24.
pub fn psn_add(psn: u32, n: u32) -> u32 {
    psn.wrapping_add(n) & PSN_MASK
}

/// Where a received PSN lies relative to the expected one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PsnOrder {
    /// The expected PSN.
    Expected,
    /// Ahead of the expected PSN (packets were lost): a sequence error.
    Ahead,
    /// Behind it (within half the space): a duplicate of something already executed.
    Duplicate,
}

/// Classifies `psn` against `expected` using the half-space rule of IBA 9.7.5.1.
pub fn psn_cmp(psn: u32, expected: u32) -> PsnOrder {
    match psn.wrapping_sub(expected) & PSN_MASK {
        0 => PsnOrder::Expected,
        d if d < HALF => PsnOrder::Ahead,
        _ => PsnOrder::Duplicate,
    }
}
