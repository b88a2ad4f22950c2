//! Bounds-checked big-endian readers: every access goes through `get`, so no parser can panic.

use crate::{Result, WireError};

/// `N` bytes at `off`, or a `Truncated` error naming `what`.
pub(crate) fn arr<const N: usize>(b: &[u8], off: usize, what: &'static str) -> Result<[u8; N]> {
    off.checked_add(N)
        .and_then(|end| b.get(off..end))
        .and_then(|s| <[u8; N]>::try_from(s).ok())
        .ok_or(WireError::Truncated {
            what,
            need: off.saturating_add(N),
            have: b.len(),
        })
}

pub(crate) fn u8_at(b: &[u8], off: usize, what: &'static str) -> Result<u8> {
    arr::<1>(b, off, what).map(|a| a[0])
}

pub(crate) fn u16_at(b: &[u8], off: usize, what: &'static str) -> Result<u16> {
    arr(b, off, what).map(u16::from_be_bytes)
}

pub(crate) fn u24_at(b: &[u8], off: usize, what: &'static str) -> Result<u32> {
    arr::<3>(b, off, what).map(|a| u32::from_be_bytes([0, a[0], a[1], a[2]]))
}

pub(crate) fn u32_at(b: &[u8], off: usize, what: &'static str) -> Result<u32> {
    arr(b, off, what).map(u32::from_be_bytes)
}

pub(crate) fn u64_at(b: &[u8], off: usize, what: &'static str) -> Result<u64> {
    arr(b, off, what).map(u64::from_be_bytes)
}

/// Low 24 bits of `v`, big-endian.
pub(crate) fn u24_bytes(v: u32) -> [u8; 3] {
    let b = v.to_be_bytes();
    [b[1], b[2], b[3]]
}

/// Splits `b` at `n`, or `Truncated`.
pub(crate) fn split<'a>(b: &'a [u8], n: usize, what: &'static str) -> Result<(&'a [u8], &'a [u8])> {
    if b.len() < n {
        return Err(WireError::Truncated {
            what,
            need: n,
            have: b.len(),
        });
    }
    Ok(b.split_at(n))
}
