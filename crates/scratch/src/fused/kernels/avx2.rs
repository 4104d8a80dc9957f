//! The `f32` kernels by hand for AVX2 with FMA: the x86 CPUs without AVX-512 (most Intel
//! laptops and desktops, AMD before Zen 4), which run two 8-lane FMAs a cycle per core.
//!
//! The same kernels as `avx512.rs`, fitted to 16 vector registers: a 6 × 16 tile of results
//! in 12 of them, so that per step of the inner loop two vector loads of the right operand
//! and six broadcasts of the left one feed 12 FMAs, with the last registers free for the
//! loads and the broadcast. Tiles that reach past the last column use masked loads and
//! stores (masked-off lanes do not fault); full tiles, all of them at the network's padded
//! batch widths, use plain ones. Rows past the end repeat the last row. Pointers are offset
//! with `wrapping_add`, as a masked-off vector may start past the end.

use std::arch::x86_64::*;

use mnist::Activation;

use super::{
    check_accumulate, check_product, check_transpose, check_weight_step, Epilogue, Kernels, Lhs,
    Mat, MatMut, Update,
};

/// Lanes of a vector.
const W: usize = 8;
/// Rows of a result tile.
const MR: usize = 6;
/// Vectors across a result tile.
const NV: usize = 2;
/// Columns of a result tile.
const NR: usize = W * NV;

/// The AVX2 kernels; only [`detect`] makes one, after checking that the CPU has AVX2 and FMA.
#[derive(Debug)]
pub(crate) struct Avx2(());

static AVX2: Avx2 = Avx2(());

/// The AVX2 kernels, if this CPU can run them.
pub(crate) fn detect() -> Option<&'static Avx2> {
    (is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")).then_some(&AVX2)
}

impl Kernels<f32> for Avx2 {
    fn product(
        &self,
        lhs: Lhs<'_, f32>,
        rhs: Mat<'_, f32>,
        out: MatMut<'_, f32>,
        epilogue: Epilogue<'_, f32>,
    ) {
        check_product(&lhs, &rhs, &out, &epilogue);
        // SAFETY: `Avx2` exists only where AVX2 and FMA do, and the shapes were checked
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

/// The lanes a vector keeps, as `maskload`/`maskstore` want them: all ones in the first
/// `lanes` (at most 8), zeros after.
#[derive(Debug, Clone, Copy)]
struct Lanes {
    mask: __m256i,
    all: bool,
}

/// `-1` eight times then `0` eight times: the eight words from `8 − n` on are `n` ones.
static MASK_SOURCE: [i32; 2 * W] = [-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0];

impl Lanes {
    /// The first `min(lanes, 8)` lanes.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn first(lanes: usize) -> Lanes {
        let lanes = lanes.min(W);
        // SAFETY: `W − lanes ≤ W`, so eight words from there lie inside `MASK_SOURCE`.
        let mask = unsafe { _mm256_loadu_si256(MASK_SOURCE[W - lanes..].as_ptr().cast()) };
        Lanes {
            mask,
            all: lanes == W,
        }
    }

    /// Reads the kept lanes from `p`, zeros in the others.
    ///
    /// # Safety
    /// The kept lanes of `p` must be readable.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn load(self, p: *const f32) -> __m256 {
        if self.all {
            _mm256_loadu_ps(p)
        } else {
            _mm256_maskload_ps(p, self.mask)
        }
    }

    /// Writes the kept lanes of `x` to `p`.
    ///
    /// # Safety
    /// The kept lanes of `p` must be writable.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn store(self, p: *mut f32, x: __m256) {
        if self.all {
            _mm256_storeu_ps(p, x)
        } else {
            _mm256_maskstore_ps(p, self.mask, x)
        }
    }
}

/// The lanes of each vector of a tile whose first column is `remaining` from the end.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn tile_lanes(remaining: usize) -> [Lanes; NV] {
    std::array::from_fn(|v| Lanes::first(remaining.saturating_sub(W * v)))
}

/// `Σ_p a_r[p · a_stride] · b[p · b_stride + (lanes)]` for the `MR` rows `a` of one tile and
/// `NV` vectors of `b`: the inner loop of both [`product`] and [`weight_step`]. `FULL` tiles
/// read whole vectors; the others read only the lanes of `lanes`.
///
/// # Safety
/// For `p < depth`, `a_r[p · a_stride]` and the kept lanes of each vector of `b` at
/// `p · b_stride` must be readable.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn tile<const FULL: bool>(
    a: [*const f32; MR],
    a_stride: usize,
    b: *const f32,
    b_stride: usize,
    depth: usize,
    lanes: [Lanes; NV],
) -> [[__m256; NV]; MR] {
    let mut acc = [[_mm256_setzero_ps(); NV]; MR];
    let mut b = b;
    for p in 0..depth {
        let bv: [__m256; NV] = std::array::from_fn(|v| {
            let at = b.wrapping_add(W * v);
            if FULL {
                _mm256_loadu_ps(at)
            } else {
                _mm256_maskload_ps(at, lanes[v].mask)
            }
        });
        let offset = p * a_stride;
        for r in 0..MR {
            let s = _mm256_broadcast_ss(&*a[r].wrapping_add(offset));
            for v in 0..NV {
                acc[r][v] = _mm256_fmadd_ps(s, bv[v], acc[r][v]);
            }
        }
        b = b.wrapping_add(b_stride);
    }
    acc
}

/// [`tile`], with whole vectors when every lane of the tile is kept.
///
/// # Safety
/// As [`tile`].
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn any_tile(
    a: [*const f32; MR],
    a_stride: usize,
    b: *const f32,
    b_stride: usize,
    depth: usize,
    lanes: [Lanes; NV],
) -> [[__m256; NV]; MR] {
    if lanes.iter().all(|l| l.all) {
        tile::<true>(a, a_stride, b, b_stride, depth, lanes)
    } else {
        tile::<false>(a, a_stride, b, b_stride, depth, lanes)
    }
}

#[target_feature(enable = "avx2,fma")]
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
        let lanes = tile_lanes(cols - c0);
        for r0 in (0..rows).step_by(MR) {
            // Rows past the end repeat the last one; their results are not stored.
            let a: [*const f32; MR] = std::array::from_fn(|r| {
                lhs.data
                    .as_ptr()
                    .wrapping_add((r0 + r).min(rows - 1) * lhs.row_stride)
            });
            let b = rhs.data().as_ptr().wrapping_add(c0);
            let acc = any_tile(a, lhs.depth_stride, b, rhs.ld(), depth, lanes);
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
                            lanes[v].store(dst.wrapping_add(W * v), acc[v]);
                        }
                    }
                    Epilogue::Bias { bias, activation } => {
                        let bias = _mm256_set1_ps(bias[row]);
                        for v in 0..NV {
                            let z = _mm256_add_ps(acc[v], bias);
                            let a = match activation {
                                Some(f) => activate(f, z),
                                None => z,
                            };
                            lanes[v].store(dst.wrapping_add(W * v), a);
                        }
                    }
                    Epilogue::Derivative { activation, output } => {
                        let src = output.data().as_ptr().wrapping_add(row * output.ld() + c0);
                        for v in 0..NV {
                            let a = lanes[v].load(src.wrapping_add(W * v));
                            let d = derivative_from_output(activation, a, acc[v]);
                            lanes[v].store(dst.wrapping_add(W * v), d);
                        }
                    }
                }
            }
        }
    }
}

#[target_feature(enable = "avx2,fma")]
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
    let decay = _mm256_set1_ps(decay);
    let mut total = 0.0;
    for c0 in (0..cols).step_by(NR) {
        let lanes = tile_lanes(cols - c0);
        for r0 in (0..rows).step_by(MR) {
            let d: [*const f32; MR] = std::array::from_fn(|r| {
                delta
                    .data()
                    .as_ptr()
                    .wrapping_add((r0 + r).min(rows - 1) * delta.ld())
            });
            let x = input.data().as_ptr().wrapping_add(c0);
            let acc = any_tile(d, 1, x, input.ld(), batch, lanes);
            let mut squares = _mm256_setzero_ps();
            #[allow(clippy::needless_range_loop)]
            for r in 0..MR {
                let row = r0 + r;
                if row >= rows {
                    break;
                }
                let acc = acc[r];
                for v in 0..NV {
                    let (lanes, col) = (lanes[v], c0 + W * v);
                    let wp = w_ptr.wrapping_add(row * w_ld + col);
                    let mut w = lanes.load(wp);
                    let g = _mm256_fmadd_ps(decay, w, acc[v]);
                    match &mut update {
                        Update::Store { out } => {
                            let ld = out.ld();
                            lanes
                                .store(out.data_mut().as_mut_ptr().wrapping_add(row * ld + col), g);
                        }
                        Update::Sgd { lr } => {
                            w = _mm256_fnmadd_ps(_mm256_set1_ps(*lr), g, w);
                            lanes.store(wp, w);
                        }
                        Update::Adam { step, m, v: second } => {
                            let mp = m.data_mut().as_mut_ptr().wrapping_add(row * m.ld() + col);
                            let vp = second
                                .data_mut()
                                .as_mut_ptr()
                                .wrapping_add(row * second.ld() + col);
                            let mut mv = lanes.load(mp);
                            let mut vv = lanes.load(vp);
                            // The same operations, in the same order, as `AdamStep::apply`.
                            mv = _mm256_add_ps(
                                mv,
                                _mm256_mul_ps(
                                    _mm256_sub_ps(g, mv),
                                    _mm256_set1_ps(step.one_minus_beta1),
                                ),
                            );
                            vv = _mm256_add_ps(
                                _mm256_mul_ps(vv, _mm256_set1_ps(step.beta2)),
                                _mm256_mul_ps(
                                    _mm256_mul_ps(g, g),
                                    _mm256_set1_ps(step.one_minus_beta2),
                                ),
                            );
                            let denom = _mm256_add_ps(
                                _mm256_div_ps(
                                    _mm256_sqrt_ps(vv),
                                    _mm256_set1_ps(step.bias_correction2_sqrt),
                                ),
                                _mm256_set1_ps(step.eps),
                            );
                            let change = _mm256_mul_ps(
                                _mm256_set1_ps(step.step_size),
                                _mm256_div_ps(mv, denom),
                            );
                            w = _mm256_sub_ps(w, change);
                            lanes.store(mp, mv);
                            lanes.store(vp, vv);
                            lanes.store(wp, w);
                        }
                    }
                    if sum_squares {
                        squares = _mm256_fmadd_ps(w, w, squares);
                    }
                }
            }
            total += f64::from(sum_lanes(squares));
        }
    }
    if sum_squares {
        total
    } else {
        0.0
    }
}

/// The sum of the eight lanes.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn sum_lanes(x: __m256) -> f32 {
    let half = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps::<1>(x));
    let pairs = _mm_add_ps(half, _mm_movehl_ps(half, half));
    _mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehdup_ps(pairs)))
}

#[target_feature(enable = "avx2,fma")]
unsafe fn accumulate(
    mut dst: MatMut<'_, f32>,
    src: Mat<'_, f32>,
    overwrite: bool,
    derivative: Option<(Activation, Mat<'_, f32>)>,
) {
    let (rows, cols, dst_ld) = (src.rows(), src.cols(), dst.ld());
    let dst_ptr = dst.data_mut().as_mut_ptr();
    for r in 0..rows {
        for c in (0..cols).step_by(W) {
            let lanes = Lanes::first(cols - c);
            let d = dst_ptr.wrapping_add(r * dst_ld + c);
            let mut x = lanes.load(src.data().as_ptr().wrapping_add(r * src.ld() + c));
            if !overwrite {
                x = _mm256_add_ps(x, lanes.load(d));
            }
            if let Some((activation, output)) = derivative {
                let a = lanes.load(output.data().as_ptr().wrapping_add(r * output.ld() + c));
                x = derivative_from_output(activation, a, x);
            }
            lanes.store(d, x);
        }
    }
}

#[target_feature(enable = "avx2,fma")]
unsafe fn transpose(src: Mat<'_, f32>, mut dst: MatMut<'_, f32>) {
    let (rows, cols) = (src.rows(), src.cols());
    let (dst_ld, dst_ptr) = (dst.ld(), dst.data_mut().as_mut_ptr());
    for c0 in (0..cols).step_by(W) {
        let width = (cols - c0).min(W);
        let load_lanes = Lanes::first(width);
        for r0 in (0..rows).step_by(W) {
            let height = (rows - r0).min(W);
            let mut block: [__m256; W] = std::array::from_fn(|i| {
                let row = (r0 + i).min(rows - 1);
                load_lanes.load(src.data().as_ptr().wrapping_add(row * src.ld() + c0))
            });
            transpose8(&mut block);
            let store_lanes = Lanes::first(height);
            for (c, column) in block.iter().enumerate().take(width) {
                store_lanes.store(dst_ptr.wrapping_add((c0 + c) * dst_ld + r0), *column);
            }
        }
        for c in c0..c0 + width {
            dst.row_mut(c)[rows..].fill(0.0);
        }
    }
}

/// Transposes an 8×8 block held as 8 rows: afterwards `rows[j]` holds column `j`.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn transpose8(rows: &mut [__m256; W]) {
    let r = *rows;
    // Interleave pairs of rows (32-bit elements), then pairs of pairs (64-bit), which leaves
    // column j in the low 128 bits and column j + 4 in the high ones; then swap halves.
    let t: [__m256; W] = std::array::from_fn(|i| {
        let (a, b) = (r[i / 2 * 2], r[i / 2 * 2 + 1]);
        if i % 2 == 0 {
            _mm256_unpacklo_ps(a, b)
        } else {
            _mm256_unpackhi_ps(a, b)
        }
    });
    // i = 4q + k: columns k and 4 + k of rows 4q..4q+4 (k = 0..4 from t[4q + k/2], t[4q + 2 + k/2]).
    let u: [__m256; W] = std::array::from_fn(|i| {
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

/// `f(z)` on 8 lanes.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn activate(activation: Activation, z: __m256) -> __m256 {
    let one = _mm256_set1_ps(1.0);
    match activation {
        // 1 / (1 + e^(−z)); e^(−z) saturates to +∞ for z < −88 and the result to 0.
        Activation::Sigmoid => _mm256_div_ps(
            one,
            _mm256_add_ps(one, exp(_mm256_sub_ps(_mm256_setzero_ps(), z))),
        ),
        // tanh z = e / (e + 2) with e = expm1(2z), accurate near 0 where 1 − 2/(e^2z + 1)
        // would cancel; |z| ≥ 9 already rounds to ±1.
        Activation::Tanh => {
            let z = _mm256_min_ps(_mm256_max_ps(z, _mm256_set1_ps(-9.0)), _mm256_set1_ps(9.0));
            let e = expm1(_mm256_add_ps(z, z));
            _mm256_div_ps(e, _mm256_add_ps(e, _mm256_set1_ps(2.0)))
        }
        Activation::Relu => _mm256_max_ps(z, _mm256_setzero_ps()),
    }
}

/// `delta · f′(z)` on 8 lanes, from the output `a = f(z)` (see `reference::derivative_from_output`).
#[inline]
#[target_feature(enable = "avx2,fma")]
fn derivative_from_output(activation: Activation, a: __m256, delta: __m256) -> __m256 {
    let one = _mm256_set1_ps(1.0);
    match activation {
        Activation::Sigmoid => _mm256_mul_ps(delta, _mm256_mul_ps(a, _mm256_sub_ps(one, a))),
        Activation::Tanh => _mm256_mul_ps(delta, _mm256_fnmadd_ps(a, a, one)),
        Activation::Relu => {
            _mm256_and_ps(_mm256_cmp_ps::<_CMP_GT_OQ>(a, _mm256_setzero_ps()), delta)
        }
    }
}

/// `e^x − 1` on 8 lanes, and `n` with `x = n·ln 2 + r`, |r| ≤ ln2/2: the shared part of
/// [`exp`] and [`expm1`]. Inputs are clamped to ±100, beyond which the results saturate.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn reduced_expm1(x: __m256) -> (__m256, __m256) {
    let x = _mm256_min_ps(
        _mm256_max_ps(x, _mm256_set1_ps(-100.0)),
        _mm256_set1_ps(100.0),
    );
    let n = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(_mm256_mul_ps(
        x,
        _mm256_set1_ps(std::f32::consts::LOG2_E),
    ));
    // Cody–Waite: ln 2 split so that n·LN2_HI is exact.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_HI), x);
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_LO), r);
    // e^r − 1 = r(1 + r/2 + r²/6 + … + r⁶/5040): Taylor to r⁷, whose remainder is below
    // 2e-8 of the result for |r| ≤ ln2/2.
    let mut p = _mm256_set1_ps(1.0 / 5040.0);
    for c in [1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0] {
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
    }
    (_mm256_mul_ps(p, r), n)
}

/// `x · 2ⁿ` for whole `n` with |n| ≤ 150, overflowing to ±∞ and underflowing to 0 as one
/// exact scaling would (AVX-512's `scalef`). `2ⁿ` is built in two factors, `2^⌊n/2⌋` and
/// `2^(n − ⌊n/2⌋)`, so that each is a normal float.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn scale(x: __m256, n: __m256) -> __m256 {
    let n = _mm256_cvtps_epi32(n);
    let half = _mm256_srai_epi32::<1>(n);
    let power = |k: __m256i| {
        _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(
            k,
            _mm256_set1_epi32(127),
        )))
    };
    _mm256_mul_ps(
        _mm256_mul_ps(x, power(half)),
        power(_mm256_sub_epi32(n, half)),
    )
}

/// `e^x` on 8 lanes, within about 2 ulp.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn exp(x: __m256) -> __m256 {
    let (em1, n) = reduced_expm1(x);
    scale(_mm256_add_ps(em1, _mm256_set1_ps(1.0)), n)
}

/// `e^x − 1` on 8 lanes, with small relative error near 0 too.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn expm1(x: __m256) -> __m256 {
    let (em1, n) = reduced_expm1(x);
    // e^x − 1 = 2ⁿ(e^r − 1) + (2ⁿ − 1); exact when n = 0.
    let one = _mm256_set1_ps(1.0);
    let power = scale(one, n);
    _mm256_add_ps(_mm256_mul_ps(power, em1), _mm256_sub_ps(power, one))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fused::kernels::conformance::{self, kernel_set_tests, Function};

    kernel_set_tests!(detect(), "no AVX2 and FMA");

    #[test]
    fn vectorised_exp_and_activations_match_the_scalar_ones() {
        if detect().is_none() {
            return conformance::skipped("no AVX2 and FMA");
        }
        // SAFETY: AVX2 and FMA were detected above.
        conformance::vector_functions_match_the_scalar_ones(W, &|f, x| unsafe { apply(f, x) });
    }

    /// `f` on the 8 elements of `x`.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn apply(f: Function, x: &[f32]) -> Vec<f32> {
        let x = _mm256_loadu_ps(x[..W].as_ptr());
        let y = match f {
            Function::Exp => exp(x),
            Function::Expm1 => expm1(x),
            Function::Activate(activation) => activate(activation, x),
        };
        let mut out = vec![0.0; W];
        _mm256_storeu_ps(out.as_mut_ptr(), y);
        out
    }
}
