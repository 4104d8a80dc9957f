//! Which hand-vectorised kernels this CPU runs.

use super::Kernels;

/// The AVX-512 kernels, if this CPU runs them.
pub(crate) fn avx512() -> Option<&'static dyn Kernels<f32>> {
    #[cfg(target_arch = "x86_64")]
    if let Some(kernels) = super::avx512::detect() {
        return Some(kernels);
    }
    None
}

/// The AVX2 and FMA kernels, if this CPU runs them.
pub(crate) fn avx2() -> Option<&'static dyn Kernels<f32>> {
    #[cfg(target_arch = "x86_64")]
    if let Some(kernels) = super::avx2::detect() {
        return Some(kernels);
    }
    None
}
