//! The `f32` kernels for AVX-512F, which this crate's target machine (an AMD EPYC, Zen 5)
//! runs at two 16-lane FMAs a cycle per core. The kernels are the generic ones of `simd.rs`
//! on 16-lane vectors; this file holds the vector operations and the 16×16 transpose.
//!
//! The result tile is 6 × 64 (four vectors across): 24 of the 32 registers hold it.

use std::arch::x86_64::*;

use super::simd::vectorised_kernels;
use super::vector::Vector;

vectorised_kernels!(
    Avx512,
    __m512,
    nv: 4,
    lanes: 16,
    features: "avx512f",
    detect: is_x86_feature_detected!("avx512f"),
    transpose: transpose16
);

impl Vector for __m512 {
    const LANES: usize = 16;
    /// One bit per lane kept.
    type Mask = __mmask16;

    #[inline(always)]
    unsafe fn first(lanes: usize) -> __mmask16 {
        ((1u32 << lanes.min(16)) - 1) as __mmask16
    }

    #[inline(always)]
    unsafe fn zero() -> Self {
        _mm512_setzero_ps()
    }

    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        _mm512_set1_ps(x)
    }

    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        _mm512_loadu_ps(p)
    }

    #[inline(always)]
    unsafe fn load_masked(p: *const f32, mask: __mmask16) -> Self {
        _mm512_maskz_loadu_ps(mask, p)
    }

    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        _mm512_storeu_ps(p, self)
    }

    #[inline(always)]
    unsafe fn store_masked(self, p: *mut f32, mask: __mmask16) {
        _mm512_mask_storeu_ps(p, mask, self)
    }

    #[inline(always)]
    unsafe fn mul_add(self, a: Self, b: Self) -> Self {
        _mm512_fmadd_ps(a, b, self)
    }

    #[inline(always)]
    unsafe fn mul_sub_from(self, a: Self, b: Self) -> Self {
        _mm512_fnmadd_ps(a, b, self)
    }

    #[inline(always)]
    unsafe fn add(self, b: Self) -> Self {
        _mm512_add_ps(self, b)
    }

    #[inline(always)]
    unsafe fn sub(self, b: Self) -> Self {
        _mm512_sub_ps(self, b)
    }

    #[inline(always)]
    unsafe fn mul(self, b: Self) -> Self {
        _mm512_mul_ps(self, b)
    }

    #[inline(always)]
    unsafe fn div(self, b: Self) -> Self {
        _mm512_div_ps(self, b)
    }

    #[inline(always)]
    unsafe fn sqrt(self) -> Self {
        _mm512_sqrt_ps(self)
    }

    #[inline(always)]
    unsafe fn min(self, b: Self) -> Self {
        _mm512_min_ps(self, b)
    }

    #[inline(always)]
    unsafe fn max(self, b: Self) -> Self {
        _mm512_max_ps(self, b)
    }

    #[inline(always)]
    unsafe fn round(self) -> Self {
        _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(self)
    }

    #[inline(always)]
    unsafe fn scale(self, n: Self) -> Self {
        _mm512_scalef_ps(self, n)
    }

    #[inline(always)]
    unsafe fn where_positive(self, a: Self) -> Self {
        _mm512_maskz_mov_ps(
            _mm512_cmp_ps_mask::<_CMP_GT_OQ>(a, _mm512_setzero_ps()),
            self,
        )
    }

    #[inline(always)]
    unsafe fn sum(self) -> f32 {
        _mm512_reduce_add_ps(self)
    }
}

/// Transposes a 16×16 block held as 16 rows: afterwards `rows[j]` holds column `j`.
#[inline]
#[target_feature(enable = "avx512f")]
fn transpose16(rows: &mut [__m512; 16]) {
    let r = *rows;
    // Interleave pairs of rows (32-bit elements), then pairs of pairs (64-bit), then swap
    // 128-bit quarters between the results twice.
    let t: [__m512; 16] = std::array::from_fn(|i| {
        let (a, b) = (r[i / 2 * 2], r[i / 2 * 2 + 1]);
        if i % 2 == 0 {
            _mm512_unpacklo_ps(a, b)
        } else {
            _mm512_unpackhi_ps(a, b)
        }
    });
    let u: [__m512; 16] = std::array::from_fn(|i| {
        // i = 4q + k: column 4l + k of rows 4q..4q+4, in each 128-bit quarter l.
        let (q, k) = (i / 4, i % 4);
        let a = _mm512_castps_pd(t[4 * q + k / 2]);
        let b = _mm512_castps_pd(t[4 * q + 2 + k / 2]);
        _mm512_castpd_ps(if k % 2 == 0 {
            _mm512_unpacklo_pd(a, b)
        } else {
            _mm512_unpackhi_pd(a, b)
        })
    });
    let w: [__m512; 16] = std::array::from_fn(|i| {
        // i = 8h + 4s + k: quarters 0 and 2 (s = 0) or 1 and 3 (s = 1) of u[8h + k], u[8h + 4 + k].
        let (h, s, k) = (i / 8, (i / 4) % 2, i % 4);
        let (a, b) = (u[8 * h + k], u[8 * h + 4 + k]);
        if s == 0 {
            _mm512_shuffle_f32x4::<0x88>(a, b)
        } else {
            _mm512_shuffle_f32x4::<0xdd>(a, b)
        }
    });
    *rows = std::array::from_fn(|i| {
        // i = 8s + j: quarters as above, of w[j] and w[8 + j].
        let (s, j) = (i / 8, i % 8);
        if s == 0 {
            _mm512_shuffle_f32x4::<0x88>(w[j], w[8 + j])
        } else {
            _mm512_shuffle_f32x4::<0xdd>(w[j], w[8 + j])
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fused::kernels::conformance::{self, kernel_set_tests, Function};
    use crate::fused::kernels::vector::{activate, exp, expm1};

    kernel_set_tests!(
        detect(),
        test_avx512,
        "needs AVX-512F (absent here or in SCRATCH_TEST_DISABLE)"
    );

    #[test]
    #[cfg_attr(
        not(test_avx512),
        ignore = "needs AVX-512F (absent here or in SCRATCH_TEST_DISABLE)"
    )]
    fn vectorised_exp_and_activations_match_the_scalar_ones() {
        conformance::present(detect());
        // SAFETY: AVX-512F was detected above.
        conformance::vector_functions_match_the_scalar_ones(16, &|f, x| unsafe { apply(f, x) });
    }

    /// `f` on the 16 elements of `x`.
    #[target_feature(enable = "avx512f")]
    unsafe fn apply(f: Function, x: &[f32]) -> Vec<f32> {
        let x = _mm512_loadu_ps(x[..16].as_ptr());
        let y = match f {
            Function::Exp => exp(x),
            Function::Expm1 => expm1(x),
            Function::Activate(activation) => activate(activation, x),
        };
        let mut out = vec![0.0; 16];
        _mm512_storeu_ps(out.as_mut_ptr(), y);
        out
    }
}
