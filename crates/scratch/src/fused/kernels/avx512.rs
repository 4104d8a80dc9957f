//! The `f32` kernels by hand for AVX-512F, which this crate's target machine (an AMD EPYC,
//! Zen 5) runs at two 16-lane FMAs a cycle per core.
//!
//! Both kernels keep a 6 × 64 tile of results in 24 of the 32 vector registers: per step of
//! the inner loop they load four vectors of the right operand, broadcast six scalars of the
//! left one and issue 24 FMAs, so they are bound by the FMA units rather than by loads. Edges
//! are handled with lane masks (masked loads do not fault) and by repeating the last row.
//! Pointers are offset with `wrapping_add`, as a masked-off vector may start past the end.

use std::arch::x86_64::*;

use mnist::Activation;

use super::{
    check_accumulate, check_product, check_transpose, check_weight_step, Epilogue, Kernels, Lhs,
    Mat, MatMut, Update,
};

/// Rows of a result tile.
const MR: usize = 6;
/// Vectors across a result tile (16 lanes each).
const NV: usize = 4;
/// Columns of a result tile.
const NR: usize = 16 * NV;

/// The AVX-512 kernels; only [`detect`] makes one, after checking that the CPU has AVX-512F.
#[derive(Debug)]
pub(crate) struct Avx512(());

static AVX512: Avx512 = Avx512(());

/// The AVX-512 kernels, if this CPU can run them.
pub(crate) fn detect() -> Option<&'static Avx512> {
    is_x86_feature_detected!("avx512f").then_some(&AVX512)
}

impl Kernels<f32> for Avx512 {
    fn product(
        &self,
        lhs: Lhs<'_, f32>,
        rhs: Mat<'_, f32>,
        out: MatMut<'_, f32>,
        epilogue: Epilogue<'_, f32>,
    ) {
        check_product(&lhs, &rhs, &out, &epilogue);
        // SAFETY: `Avx512` exists only where AVX-512F does, and the shapes were checked
        // against the slices, which is all `product` relies on.
        unsafe { product(lhs, rhs, out, epilogue) }
    }

    fn weight_step(
        &self,
        weights: MatMut<'_, f32>,
        delta: Mat<'_, f32>,
        input: Mat<'_, f32>,
        decay: f32,
        update: Update<'_, f32>,
        sum_squares: bool,
    ) -> f64 {
        check_weight_step(&weights, &delta, &input, &update);
        // SAFETY: as in `product`.
        unsafe { weight_step(weights, delta, input, decay, update, sum_squares) }
    }

    fn transpose(&self, src: Mat<'_, f32>, dst: MatMut<'_, f32>) {
        check_transpose(&src, &dst);
        // SAFETY: as in `product`.
        unsafe { transpose(src, dst) }
    }

    fn accumulate(
        &self,
        dst: MatMut<'_, f32>,
        src: Mat<'_, f32>,
        overwrite: bool,
        derivative: Option<(Activation, Mat<'_, f32>)>,
    ) {
        check_accumulate(&dst, &src, &derivative);
        // SAFETY: as in `product`.
        unsafe { accumulate(dst, src, overwrite, derivative) }
    }
}

/// Lane masks for the four vectors of a tile whose first column is `remaining` from the end.
fn lane_masks(remaining: usize) -> [__mmask16; NV] {
    std::array::from_fn(|v| {
        let lanes = remaining.saturating_sub(16 * v).min(16);
        ((1u32 << lanes) - 1) as __mmask16
    })
}

#[target_feature(enable = "avx512f")]
unsafe fn product(
    lhs: Lhs<'_, f32>,
    rhs: Mat<'_, f32>,
    mut out: MatMut<'_, f32>,
    epilogue: Epilogue<'_, f32>,
) {
    let (rows, depth, cols) = (lhs.rows, lhs.depth, rhs.cols());
    if rows == 0 || cols == 0 {
        return;
    }
    let (out_ld, out_ptr) = (out.ld(), out.data_mut().as_mut_ptr());
    for c0 in (0..cols).step_by(NR) {
        let masks = lane_masks(cols - c0);
        for r0 in (0..rows).step_by(MR) {
            // Rows past the end repeat the last one; their results are not stored.
            let a: [*const f32; MR] = std::array::from_fn(|r| {
                lhs.data
                    .as_ptr()
                    .wrapping_add((r0 + r).min(rows - 1) * lhs.row_stride)
            });
            let mut b = rhs.data().as_ptr().wrapping_add(c0);
            let mut acc = [[_mm512_setzero_ps(); NV]; MR];
            for p in 0..depth {
                let bv: [__m512; NV] = std::array::from_fn(|v| {
                    _mm512_maskz_loadu_ps(masks[v], b.wrapping_add(16 * v))
                });
                let offset = p * lhs.depth_stride;
                for r in 0..MR {
                    let s = _mm512_set1_ps(*a[r].wrapping_add(offset));
                    for v in 0..NV {
                        acc[r][v] = _mm512_fmadd_ps(s, bv[v], acc[r][v]);
                    }
                }
                b = b.wrapping_add(rhs.ld());
            }
            // Constant indices into `acc` (no iterator over it), so that it stays in registers.
            #[allow(clippy::needless_range_loop)]
            for r in 0..MR {
                let row = r0 + r;
                if row >= rows {
                    break;
                }
                let acc = acc[r];
                let dst = out_ptr.wrapping_add(row * out_ld + c0);
                match epilogue {
                    Epilogue::Store => {
                        for v in 0..NV {
                            _mm512_mask_storeu_ps(dst.wrapping_add(16 * v), masks[v], acc[v]);
                        }
                    }
                    Epilogue::Bias { bias, activation } => {
                        let bias = _mm512_set1_ps(bias[row]);
                        for v in 0..NV {
                            let z = _mm512_add_ps(acc[v], bias);
                            let a = match activation {
                                Some(f) => activate(f, z),
                                None => z,
                            };
                            _mm512_mask_storeu_ps(dst.wrapping_add(16 * v), masks[v], a);
                        }
                    }
                    Epilogue::Derivative { activation, output } => {
                        let src = output.data().as_ptr().wrapping_add(row * output.ld() + c0);
                        for v in 0..NV {
                            let a = _mm512_maskz_loadu_ps(masks[v], src.wrapping_add(16 * v));
                            let d = derivative_from_output(activation, a, acc[v]);
                            _mm512_mask_storeu_ps(dst.wrapping_add(16 * v), masks[v], d);
                        }
                    }
                }
            }
        }
    }
}

#[target_feature(enable = "avx512f")]
unsafe fn weight_step(
    mut weights: MatMut<'_, f32>,
    delta: Mat<'_, f32>,
    input: Mat<'_, f32>,
    decay: f32,
    mut update: Update<'_, f32>,
    sum_squares: bool,
) -> f64 {
    let (rows, cols, batch) = (weights.rows(), weights.cols(), input.rows());
    if rows == 0 || cols == 0 {
        return 0.0;
    }
    let (w_ld, w_ptr) = (weights.ld(), weights.data_mut().as_mut_ptr());
    let decay = _mm512_set1_ps(decay);
    let mut total = 0.0;
    for c0 in (0..cols).step_by(NR) {
        let masks = lane_masks(cols - c0);
        for r0 in (0..rows).step_by(MR) {
            let d: [*const f32; MR] = std::array::from_fn(|r| {
                delta
                    .data()
                    .as_ptr()
                    .wrapping_add((r0 + r).min(rows - 1) * delta.ld())
            });
            let mut x = input.data().as_ptr().wrapping_add(c0);
            let mut acc = [[_mm512_setzero_ps(); NV]; MR];
            for i in 0..batch {
                let xv: [__m512; NV] = std::array::from_fn(|v| {
                    _mm512_maskz_loadu_ps(masks[v], x.wrapping_add(16 * v))
                });
                for r in 0..MR {
                    let s = _mm512_set1_ps(*d[r].wrapping_add(i));
                    for v in 0..NV {
                        acc[r][v] = _mm512_fmadd_ps(s, xv[v], acc[r][v]);
                    }
                }
                x = x.wrapping_add(input.ld());
            }
            let mut squares = _mm512_setzero_ps();
            #[allow(clippy::needless_range_loop)]
            for r in 0..MR {
                let row = r0 + r;
                if row >= rows {
                    break;
                }
                let acc = acc[r];
                for v in 0..NV {
                    let (mask, col) = (masks[v], c0 + 16 * v);
                    let wp = w_ptr.wrapping_add(row * w_ld + col);
                    let mut w = _mm512_maskz_loadu_ps(mask, wp);
                    let g = _mm512_fmadd_ps(decay, w, acc[v]);
                    match &mut update {
                        Update::Store { out } => {
                            let ld = out.ld();
                            _mm512_mask_storeu_ps(
                                out.data_mut().as_mut_ptr().wrapping_add(row * ld + col),
                                mask,
                                g,
                            );
                        }
                        Update::Sgd { lr } => {
                            w = _mm512_fnmadd_ps(_mm512_set1_ps(*lr), g, w);
                            _mm512_mask_storeu_ps(wp, mask, w);
                        }
                        Update::Adam { step, m, v: second } => {
                            let mp = m.data_mut().as_mut_ptr().wrapping_add(row * m.ld() + col);
                            let vp = second
                                .data_mut()
                                .as_mut_ptr()
                                .wrapping_add(row * second.ld() + col);
                            let mut mv = _mm512_maskz_loadu_ps(mask, mp);
                            let mut vv = _mm512_maskz_loadu_ps(mask, vp);
                            // The same operations, in the same order, as `AdamStep::apply`.
                            mv = _mm512_add_ps(
                                mv,
                                _mm512_mul_ps(
                                    _mm512_sub_ps(g, mv),
                                    _mm512_set1_ps(step.one_minus_beta1),
                                ),
                            );
                            vv = _mm512_add_ps(
                                _mm512_mul_ps(vv, _mm512_set1_ps(step.beta2)),
                                _mm512_mul_ps(
                                    _mm512_mul_ps(g, g),
                                    _mm512_set1_ps(step.one_minus_beta2),
                                ),
                            );
                            let denom = _mm512_add_ps(
                                _mm512_div_ps(
                                    _mm512_sqrt_ps(vv),
                                    _mm512_set1_ps(step.bias_correction2_sqrt),
                                ),
                                _mm512_set1_ps(step.eps),
                            );
                            let change = _mm512_mul_ps(
                                _mm512_set1_ps(step.step_size),
                                _mm512_div_ps(mv, denom),
                            );
                            w = _mm512_sub_ps(w, change);
                            _mm512_mask_storeu_ps(mp, mask, mv);
                            _mm512_mask_storeu_ps(vp, mask, vv);
                            _mm512_mask_storeu_ps(wp, mask, w);
                        }
                    }
                    if sum_squares {
                        squares = _mm512_fmadd_ps(w, w, squares);
                    }
                }
            }
            total += f64::from(_mm512_reduce_add_ps(squares));
        }
    }
    if sum_squares {
        total
    } else {
        0.0
    }
}

#[target_feature(enable = "avx512f")]
unsafe fn accumulate(
    mut dst: MatMut<'_, f32>,
    src: Mat<'_, f32>,
    overwrite: bool,
    derivative: Option<(Activation, Mat<'_, f32>)>,
) {
    let (rows, cols, dst_ld) = (src.rows(), src.cols(), dst.ld());
    let dst_ptr = dst.data_mut().as_mut_ptr();
    for r in 0..rows {
        for c in (0..cols).step_by(16) {
            let mask = lane_masks(cols - c)[0];
            let d = dst_ptr.wrapping_add(r * dst_ld + c);
            let mut x =
                _mm512_maskz_loadu_ps(mask, src.data().as_ptr().wrapping_add(r * src.ld() + c));
            if !overwrite {
                x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask, d));
            }
            if let Some((activation, output)) = derivative {
                let a = _mm512_maskz_loadu_ps(
                    mask,
                    output.data().as_ptr().wrapping_add(r * output.ld() + c),
                );
                x = derivative_from_output(activation, a, x);
            }
            _mm512_mask_storeu_ps(d, mask, x);
        }
    }
}

#[target_feature(enable = "avx512f")]
unsafe fn transpose(src: Mat<'_, f32>, mut dst: MatMut<'_, f32>) {
    let (rows, cols) = (src.rows(), src.cols());
    let (dst_ld, dst_ptr) = (dst.ld(), dst.data_mut().as_mut_ptr());
    for c0 in (0..cols).step_by(16) {
        let width = (cols - c0).min(16);
        let load_mask = lane_masks(width)[0];
        for r0 in (0..rows).step_by(16) {
            let height = (rows - r0).min(16);
            let mut block: [__m512; 16] = std::array::from_fn(|i| {
                let row = (r0 + i).min(rows - 1);
                _mm512_maskz_loadu_ps(
                    load_mask,
                    src.data().as_ptr().wrapping_add(row * src.ld() + c0),
                )
            });
            transpose16(&mut block);
            let store_mask = lane_masks(height)[0];
            for (c, column) in block.iter().enumerate().take(width) {
                _mm512_mask_storeu_ps(
                    dst_ptr.wrapping_add((c0 + c) * dst_ld + r0),
                    store_mask,
                    *column,
                );
            }
        }
        for c in c0..c0 + width {
            dst.row_mut(c)[rows..].fill(0.0);
        }
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

/// `f(z)` on 16 lanes.
#[inline]
#[target_feature(enable = "avx512f")]
fn activate(activation: Activation, z: __m512) -> __m512 {
    let one = _mm512_set1_ps(1.0);
    match activation {
        // 1 / (1 + e^(−z)); e^(−z) saturates to +∞ for z < −88 and the result to 0.
        Activation::Sigmoid => _mm512_div_ps(
            one,
            _mm512_add_ps(one, exp(_mm512_sub_ps(_mm512_setzero_ps(), z))),
        ),
        // tanh z = e / (e + 2) with e = expm1(2z), accurate near 0 where 1 − 2/(e^2z + 1)
        // would cancel; |z| ≥ 9 already rounds to ±1.
        Activation::Tanh => {
            let z = _mm512_min_ps(_mm512_max_ps(z, _mm512_set1_ps(-9.0)), _mm512_set1_ps(9.0));
            let e = expm1(_mm512_add_ps(z, z));
            _mm512_div_ps(e, _mm512_add_ps(e, _mm512_set1_ps(2.0)))
        }
        Activation::Relu => _mm512_max_ps(z, _mm512_setzero_ps()),
    }
}

/// `delta · f′(z)` on 16 lanes, from the output `a = f(z)` (see `reference::derivative_from_output`).
#[inline]
#[target_feature(enable = "avx512f")]
fn derivative_from_output(activation: Activation, a: __m512, delta: __m512) -> __m512 {
    let one = _mm512_set1_ps(1.0);
    match activation {
        Activation::Sigmoid => _mm512_mul_ps(delta, _mm512_mul_ps(a, _mm512_sub_ps(one, a))),
        Activation::Tanh => _mm512_mul_ps(delta, _mm512_fnmadd_ps(a, a, one)),
        Activation::Relu => _mm512_maskz_mov_ps(
            _mm512_cmp_ps_mask::<_CMP_GT_OQ>(a, _mm512_setzero_ps()),
            delta,
        ),
    }
}

/// `e^x − 1` on 16 lanes, and `2^n` with `x = n·ln 2 + r`, |r| ≤ ln2/2: the shared part of
/// [`exp`] and [`expm1`]. Inputs are clamped to ±100, beyond which the results saturate.
#[inline]
#[target_feature(enable = "avx512f")]
fn reduced_expm1(x: __m512) -> (__m512, __m512) {
    let x = _mm512_min_ps(
        _mm512_max_ps(x, _mm512_set1_ps(-100.0)),
        _mm512_set1_ps(100.0),
    );
    let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
        _mm512_mul_ps(x, _mm512_set1_ps(std::f32::consts::LOG2_E)),
    );
    // Cody–Waite: ln 2 split so that n·LN2_HI is exact.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_HI), x);
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_LO), r);
    // e^r − 1 = r(1 + r/2 + r²/6 + … + r⁶/5040): Taylor to r⁷, whose remainder is below
    // 2e-8 of the result for |r| ≤ ln2/2.
    let mut p = _mm512_set1_ps(1.0 / 5040.0);
    for c in [1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0] {
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
    }
    (_mm512_mul_ps(p, r), n)
}

/// `e^x` on 16 lanes, within about 2 ulp.
#[inline]
#[target_feature(enable = "avx512f")]
fn exp(x: __m512) -> __m512 {
    let (em1, n) = reduced_expm1(x);
    _mm512_scalef_ps(_mm512_add_ps(em1, _mm512_set1_ps(1.0)), n)
}

/// `e^x − 1` on 16 lanes, with small relative error near 0 too.
#[inline]
#[target_feature(enable = "avx512f")]
fn expm1(x: __m512) -> __m512 {
    let (em1, n) = reduced_expm1(x);
    // e^x − 1 = 2ⁿ(e^r − 1) + (2ⁿ − 1); exact when n = 0.
    let one = _mm512_set1_ps(1.0);
    let scale = _mm512_scalef_ps(one, n);
    _mm512_add_ps(_mm512_mul_ps(scale, em1), _mm512_sub_ps(scale, one))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fused::kernels::conformance::{self, kernel_set_tests, Function};

    kernel_set_tests!(detect(), "no AVX-512F");

    #[test]
    fn vectorised_exp_and_activations_match_the_scalar_ones() {
        if detect().is_none() {
            return conformance::skipped("no AVX-512F");
        }
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
