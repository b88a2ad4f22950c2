//! The only place in this crate that needs `unsafe`: CPU hints with no memory effects.
#![allow(unsafe_code)]

/// Asks the CPU to start loading the cache line at `p`. Never dereferences `p`.
#[inline(always)]
pub(crate) fn prefetch<T>(p: *const T) {
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
