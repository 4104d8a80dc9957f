//! The `f32` kernels for AVX2 with FMA: the x86 CPUs without AVX-512 (most Intel laptops and
//! desktops, AMD before Zen 4), which run two 8-lane FMAs a cycle per core. The kernels are
//! the generic ones of `simd.rs` on 8-lane vectors; this file holds the vector operations
//! and the 8×8 transpose.
//!
//! The result tile is 6 × 16 (two vectors across): its 12 accumulators, the two vectors
//! loaded and the broadcast scalar fill 15 of the 16 registers.

use std::arch::x86_64::*;

use super::simd::vectorised_kernels;
use super::vector::Vector;

vectorised_kernels!(
    Avx2,
    __m256,
    nv: 2,
    lanes: 8,
    features: "avx2,fma",
    detect: is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
    transpose: transpose8
);

/// `-1` eight times then `0` eight times: the eight words from `8 − n` on are `n` ones.
static MASK_SOURCE: [i32; 16] = [-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0];

impl Vector for __m256 {
    const LANES: usize = 8;
    /// All ones in the lanes kept, as `maskload`/`maskstore` want them.
    type Mask = __m256i;

    #[inline(always)]
    unsafe fn first(lanes: usize) -> __m256i {
        let lanes = lanes.min(8);
        _mm256_loadu_si256(MASK_SOURCE[8 - lanes..].as_ptr().cast())
    }

    #[inline(always)]
    unsafe fn zero() -> Self {
        _mm256_setzero_ps()
    }

    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        _mm256_set1_ps(x)
    }

    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        _mm256_loadu_ps(p)
    }

    #[inline(always)]
    unsafe fn load_masked(p: *const f32, mask: __m256i) -> Self {
        _mm256_maskload_ps(p, mask)
    }

    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        _mm256_storeu_ps(p, self)
    }

    #[inline(always)]
    unsafe fn store_masked(self, p: *mut f32, mask: __m256i) {
        _mm256_maskstore_ps(p, mask, self)
    }

    #[inline(always)]
    unsafe fn mul_add(self, a: Self, b: Self) -> Self {
        _mm256_fmadd_ps(a, b, self)
    }

    #[inline(always)]
    unsafe fn mul_sub_from(self, a: Self, b: Self) -> Self {
        _mm256_fnmadd_ps(a, b, self)
    }

    #[inline(always)]
    unsafe fn add(self, b: Self) -> Self {
        _mm256_add_ps(self, b)
    }

    #[inline(always)]
    unsafe fn sub(self, b: Self) -> Self {
        _mm256_sub_ps(self, b)
    }

    #[inline(always)]
    unsafe fn mul(self, b: Self) -> Self {
        _mm256_mul_ps(self, b)
    }

    #[inline(always)]
    unsafe fn div(self, b: Self) -> Self {
        _mm256_div_ps(self, b)
    }

    #[inline(always)]
    unsafe fn sqrt(self) -> Self {
        _mm256_sqrt_ps(self)
    }

    #[inline(always)]
    unsafe fn min(self, b: Self) -> Self {
        _mm256_min_ps(self, b)
    }

    #[inline(always)]
    unsafe fn max(self, b: Self) -> Self {
        _mm256_max_ps(self, b)
    }

    #[inline(always)]
    unsafe fn round(self) -> Self {
        _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(self)
    }

    /// AVX2 has no `scalef`: `2ⁿ` is built from its exponent bits in two factors,
    /// `2^⌊n/2⌋` and `2^(n − ⌊n/2⌋)`, so that each is a normal float.
    #[inline(always)]
    unsafe fn scale(self, n: Self) -> Self {
        let n = _mm256_cvtps_epi32(n);
        let half = _mm256_srai_epi32::<1>(n);
        let power = |k: __m256i| {
            _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(
                k,
                _mm256_set1_epi32(127),
            )))
        };
        _mm256_mul_ps(
            _mm256_mul_ps(self, power(half)),
            power(_mm256_sub_epi32(n, half)),
        )
    }

    #[inline(always)]
    unsafe fn where_positive(self, a: Self) -> Self {
        _mm256_and_ps(_mm256_cmp_ps::<_CMP_GT_OQ>(a, _mm256_setzero_ps()), self)
    }

    #[inline(always)]
    unsafe fn sum(self) -> f32 {
        let half = _mm_add_ps(
            _mm256_castps256_ps128(self),
            _mm256_extractf128_ps::<1>(self),
        );
        let pairs = _mm_add_ps(half, _mm_movehl_ps(half, half));
        _mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehdup_ps(pairs)))
    }
}

/// Transposes an 8×8 block held as 8 rows: afterwards `rows[j]` holds column `j`.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn transpose8(rows: &mut [__m256; 8]) {
    let r = *rows;
    // Interleave pairs of rows (32-bit elements), then pairs of pairs (64-bit), which leaves
    // column j in the low 128 bits and column j + 4 in the high ones; then swap halves.
    let t: [__m256; 8] = std::array::from_fn(|i| {
        let (a, b) = (r[i / 2 * 2], r[i / 2 * 2 + 1]);
        if i % 2 == 0 {
            _mm256_unpacklo_ps(a, b)
        } else {
            _mm256_unpackhi_ps(a, b)
        }
    });
    // i = 4q + k: columns k and 4 + k of rows 4q..4q+4 (k = 0..4 from t[4q + k/2], t[4q + 2 + k/2]).
    let u: [__m256; 8] = std::array::from_fn(|i| {
        let (q, k) = (i / 4, i % 4);
        let (a, b) = (t[4 * q + k / 2], t[4 * q + 2 + k / 2]);
        if k % 2 == 0 {
            _mm256_shuffle_ps::<0x44>(a, b)
        } else {
            _mm256_shuffle_ps::<0xee>(a, b)
        }
    });
    *rows = std::array::from_fn(|j| {
        let (a, b) = (u[j % 4], u[4 + j % 4]);
        if j < 4 {
            _mm256_permute2f128_ps::<0x20>(a, b)
        } else {
            _mm256_permute2f128_ps::<0x31>(a, b)
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
        test_avx2,
        "needs AVX2 and FMA (absent here or in SCRATCH_TEST_DISABLE)"
    );

    #[test]
    #[cfg_attr(
        not(test_avx2),
        ignore = "needs AVX2 and FMA (absent here or in SCRATCH_TEST_DISABLE)"
    )]
    fn vectorised_exp_and_activations_match_the_scalar_ones() {
        conformance::present(detect());
        // SAFETY: AVX2 and FMA were detected above.
        conformance::vector_functions_match_the_scalar_ones(8, &|f, x| unsafe { apply(f, x) });
    }

    /// `f` on the 8 elements of `x`.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn apply(f: Function, x: &[f32]) -> Vec<f32> {
        let x = _mm256_loadu_ps(x[..8].as_ptr());
        let y = match f {
            Function::Exp => exp(x),
            Function::Expm1 => expm1(x),
            Function::Activate(activation) => activate(activation, x),
        };
        let mut out = vec![0.0; 8];
        _mm256_storeu_ps(out.as_mut_ptr(), y);
        out
    }
}
