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
