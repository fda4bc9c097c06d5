//! A cache-line prefetch hint: the commit's apply loop touches a different series (and its open chunk's tail) per
//! sample, and each is a cache miss; asking for the lines while the batch's series are looked up lets the misses
//! overlap instead of stalling one after another.

/// Hints the CPU to bring the cache line holding `p` into L1. A hint only: it never faults and changes no state the
/// program can observe, so any address is sound, dangling or not.
#[inline(always)]
#[allow(unsafe_code)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` takes any address; it neither faults nor reads into a register.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>());
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: `prfm` takes any address; it neither faults nor reads into a register.
    unsafe {
        core::arch::asm!("prfm pstl1keep, [{0}]", in(reg) p, options(nostack, preserves_flags, readonly));
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let _ = p;
}
