//! The only place in this crate that needs `unsafe`: CPU hints with no memory effects, zero-page
//! tables and the TX queue's ring ([`Fifo`]).
#![allow(unsafe_code)]

mod fifo;
pub(crate) use fifo::Fifo;

/// Asks the CPU to start loading the cache line at `p` (a hint: it never dereferences `p`
/// and cannot fault). Public so that an NF behind the burst API can prefetch its own state
/// for the next burst ([`crate::Scheduler::peek_bursts`]) without `unsafe` of its own.
#[inline(always)]
pub fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` is a hint: it performs no architectural memory access and cannot
    // fault, whatever the address. SSE is part of the x86_64 baseline, so the target feature
    // the intrinsic requires is always present.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Asks the kernel to back `[ptr, ptr + len)` with transparent huge pages (the flow table is
/// tens of MB; 4 KiB pages make every lookup a TLB miss under a hypervisor). Best effort:
/// systems with THP off simply ignore it.
pub(crate) fn advise_huge_pages<T>(ptr: *const T, len_bytes: usize) {
    const HUGE: usize = 2 << 20;
    let start = (ptr as usize).next_multiple_of(HUGE);
    let end = (ptr as usize + len_bytes) & !(HUGE - 1);
    if end > start {
        // SAFETY: madvise only changes the kernel's paging policy for a range inside an
        // allocation we own (rounded inwards to 2 MiB boundaries); it does not read or write
        // the memory, and MADV_HUGEPAGE cannot change its contents.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

/// Types whose all-zero bit pattern is a valid value, so a table of them can come from
/// [`ZeroedTable`] (zero pages the OS hands out on first touch) instead of being written.
///
/// # Safety
///
/// Every field of the type must accept all-zero bytes (integers, `bool`, arrays of them).
pub(crate) unsafe trait ZeroValid: Copy {}

// SAFETY: `FlowSlot` is `repr(C)` of integers only: all-zero is `rest = 0`, an empty slot.
unsafe impl ZeroValid for crate::flow_table::FlowSlot {}
// SAFETY: every bit pattern is a valid `u32` (the flow table's first-seen times).
unsafe impl ZeroValid for u32 {}
// SAFETY: `Window` holds only integers; all-zero is a window nobody reads (the ring only reads positions inside its live range, all written
// by `push`).
unsafe impl ZeroValid for crate::window_ring::Window {}

/// A fixed-size table of `T` in its own anonymous mapping: the OS hands out zero pages on
/// first touch, so a large table costs no time and no memory until it is used. (The global
/// allocator cannot do this for 64-byte-aligned slots: it zeroes them by writing.)
pub(crate) struct ZeroedTable<T: ZeroValid> {
    ptr: std::ptr::NonNull<T>,
    len: usize,
}

// SAFETY: the table owns its mapping exclusively, like a `Box<[T]>`; sending or sharing it is
// sending or sharing plain `T` values.
unsafe impl<T: ZeroValid + Send> Send for ZeroedTable<T> {}
// SAFETY: as above; `&ZeroedTable` only gives `&[T]`.
unsafe impl<T: ZeroValid + Sync> Sync for ZeroedTable<T> {}

impl<T: ZeroValid> ZeroedTable<T> {
    /// `len` all-zero entries. Aborts like `Vec` does if the mapping fails (callers check
    /// the size against the memory they allow first).
    pub(crate) fn new(len: usize) -> Self {
        assert!(len > 0 && size_of::<T>() > 0, "tables are never empty");
        assert!(len.is_power_of_two(), "hash tables and rings index by mask");
        assert!(align_of::<T>() <= 4096, "pages are 4 KiB aligned");
        let layout = std::alloc::Layout::array::<T>(len).expect("table size fits in isize");
        // SAFETY: an anonymous private mapping with no address hint touches no existing
        // memory; the result is checked before use.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                layout.size(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        match std::ptr::NonNull::new(p.cast::<T>()) {
            Some(ptr) if p != libc::MAP_FAILED => Self { ptr, len },
            _ => std::alloc::handle_alloc_error(layout),
        }
    }
}

impl<T: ZeroValid> ZeroedTable<T> {
    /// Entry `i` modulo the length (a power of two): how the flow table and the window ring
    /// index, without the bounds check a slice index pays on every access.
    #[inline(always)]
    pub(crate) fn at(&self, i: usize) -> &T {
        // SAFETY: `len` is a power of two (asserted in `new`), so `i & (len - 1) < len`, and
        // `ptr` maps `len` initialised `T`s owned by `self` (see `deref`).
        unsafe { &*self.ptr.as_ptr().add(i & (self.len - 1)) }
    }

    /// As [`Self::at`], mutable.
    #[inline(always)]
    pub(crate) fn at_mut(&mut self, i: usize) -> &mut T {
        // SAFETY: as in `at`; `&mut self` makes this the only reference.
        unsafe { &mut *self.ptr.as_ptr().add(i & (self.len - 1)) }
    }
}

impl<T: ZeroValid> std::ops::Deref for ZeroedTable<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        // SAFETY: `ptr` maps `len` initialised `T`s (zero bytes are a valid `T` by the
        // `ZeroValid` contract, later ones were written as `T`), page-aligned, owned by `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl<T: ZeroValid> std::ops::DerefMut for ZeroedTable<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as in `deref`, and `&mut self` makes this the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl<T: ZeroValid> Drop for ZeroedTable<T> {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`; no reference outlives `self`.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len * size_of::<T>());
        }
    }
}
