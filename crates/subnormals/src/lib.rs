//! Subnormal floats (magnitude below `f32::MIN_POSITIVE`, 1.2e-38) on the calling thread:
//! flush them to zero, or keep them as IEEE 754 (and PyTorch by default) does.
//!
//! Why it matters: Adam's first moment decays by β1 = 0.9 at every step in which a weight's
//! gradient is zero (weights fed by MNIST's always-black border pixels), so it sinks through
//! the subnormal range on its way to zero. On Intel cores every operation on a subnormal
//! takes a microcode assist, and an Adam epoch then costs 2.5–3× the first one. Flushing
//! changes results only below 1.2e-38, far under any value that moves a weight.
//!
//! On x86_64 the mode is two bits of the thread's MXCSR register: FTZ (bit 15, results that
//! would be subnormal become 0) and DAZ (bit 6, subnormal inputs are read as 0). A thread
//! starts with the floating-point control state of the thread that creates it, so setting it
//! first thing in `main` covers every thread the process starts afterwards (thread pools,
//! OpenMP workers). Threads started before keep their own. Other architectures compile; there
//! [`set`] can only keep subnormals and [`current`] answers `None`.

use serde::Serialize;

/// How the calling thread's float arithmetic treats subnormal numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Subnormal results become 0 and subnormal inputs are read as 0 (FTZ and DAZ).
    FlushToZero,
    /// IEEE 754 gradual underflow: subnormals are computed and kept.
    Keep,
}

/// Why a mode cannot be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("flushing subnormal floats to zero is not implemented on {arch} (only on x86_64)")]
    Unavailable { arch: &'static str },
}

#[cfg(target_arch = "x86_64")]
mod mxcsr {
    /// Flush to zero: a result that would be subnormal is written as 0.
    const FTZ: u32 = 1 << 15;
    /// Denormals are zero: a subnormal operand is read as 0.
    const DAZ: u32 = 1 << 6;
    const BOTH: u32 = FTZ | DAZ;

    fn read() -> u32 {
        let mut value = 0_u32;
        // SAFETY: stmxcsr stores the 32-bit MXCSR to the given, valid and writable address
        // (SSE is part of the x86_64 baseline).
        unsafe {
            std::arch::asm!("stmxcsr [{}]", in(reg) &mut value, options(nostack, preserves_flags));
        }
        value
    }

    fn write(value: u32) {
        // SAFETY: ldmxcsr loads MXCSR from the given, valid address; `value` differs from the
        // current MXCSR only in the FTZ and DAZ bits, which every x86_64 CPU supports (DAZ
        // since the Pentium 4) and which change no exception or rounding behaviour.
        unsafe {
            std::arch::asm!("ldmxcsr [{}]", in(reg) &value, options(nostack, preserves_flags));
        }
    }

    pub(crate) fn flushing() -> bool {
        read() & BOTH == BOTH
    }

    pub(crate) fn set_flushing(flush: bool) {
        let kept = read() & !BOTH;
        write(if flush { kept | BOTH } else { kept });
    }
}

/// Sets how the calling thread, and every thread it starts from now on, treats subnormals.
pub fn set(mode: Mode) -> Result<(), Error> {
    #[cfg(target_arch = "x86_64")]
    {
        mxcsr::set_flushing(mode == Mode::FlushToZero);
        Ok(())
    }
    #[cfg(not(target_arch = "x86_64"))]
    match mode {
        Mode::Keep => Ok(()),
        Mode::FlushToZero => Err(Error::Unavailable {
            arch: std::env::consts::ARCH,
        }),
    }
}

/// The calling thread's mode, or `None` where this crate cannot read it (not x86_64).
pub fn current() -> Option<Mode> {
    #[cfg(target_arch = "x86_64")]
    {
        Some(if mxcsr::flushing() {
            Mode::FlushToZero
        } else {
            Mode::Keep
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    None
}

/// How many of `values` are subnormal.
pub fn count(values: &[f32]) -> usize {
    values.iter().filter(|x| x.is_subnormal()).count()
}
