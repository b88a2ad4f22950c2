//! Registered memory regions with rkey, access and bounds checks.

/// Remote access rights of a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// Remote READ allowed.
    pub remote_read: bool,
    /// Remote WRITE allowed.
    pub remote_write: bool,
}

/// A registered region: its bytes, its virtual base address and its rkey.
#[derive(Debug)]
pub struct MemoryRegion {
    pub(crate) data: Vec<u8>,
    pub(crate) va: u64,
    pub(crate) rkey: u32,
    pub(crate) access: Access,
}

impl MemoryRegion {
    /// Base virtual address.
    pub fn va(&self) -> u64 {
        self.va
    }

    /// Remote key.
    pub fn rkey(&self) -> u32 {
        self.rkey
    }

    /// The region's bytes (for local inspection).
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Byte offset of `[va, va+len)` inside the region, if it lies wholly inside. A zero
    /// length is always in bounds (IBA: no memory is touched).
    pub(crate) fn offset_of(&self, va: u64, len: u64) -> Option<usize> {
        if len == 0 {
            return Some(0);
        }
        let off = va.checked_sub(self.va)?;
        let end = off.checked_add(len)?;
        (end <= self.data.len() as u64).then_some(off as usize)
    }
}
