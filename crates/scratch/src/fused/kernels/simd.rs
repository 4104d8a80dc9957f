//! The `f32` kernels written once over a vector type (`vector.rs`), which `avx2.rs` implements
//! with 8-lane AVX2/FMA registers and `avx512.rs` with 16-lane AVX-512 ones; each instruction
//! set compiles these functions inside its own `#[target_feature]` entry points (see
//! [`vectorised_kernels`]), where everything here is inlined.
//!
//! The product and the weight gradient keep a tile of `MR × NV` vectors of results in
//! registers: per step of the inner loop they load `NV` vectors of the right operand,
//! broadcast `MR` scalars of the left one and issue `MR·NV` FMAs, so they are bound by the
//! FMA units rather than by loads. `NV` is chosen per instruction set to fit its register
//! file. Tiles that reach past the last column use masked loads and stores (masked-off lanes
//! do not fault); full ones, all of them at the network's padded batch widths, plain ones.
//! Rows past the end repeat the last row. Pointers are offset with `wrapping_add`, as a
//! masked-off vector may start past the end.

use contract::Activation;

use super::vector::{activate, derivative_from_output, Lanes, Vector};
use super::{Epilogue, Lhs, Mat, MatMut, Update};

/// Rows of a result tile.
pub(super) const MR: usize = 6;

/// Rows of the left operand (`W`, or the deltas in the weight step) that the tiled kernels
/// take through every column tile before moving on: 48 rows of 784 weights are 150 KB, which
/// stay in a core's L2 cache meanwhile, rather than being read again from L3 for each column
/// tile, as all the rows were when the batch (the columns) is wide.
const ROW_BLOCK: usize = 8 * MR;

/// The tiles of a `rows × cols` result, `width` columns each, in row blocks of [`ROW_BLOCK`]:
/// each block's rows, and a tile's first column, block after block.
fn row_blocks(
    rows: usize,
    cols: usize,
    width: usize,
) -> impl Iterator<Item = (std::ops::Range<usize>, usize)> {
    (0..rows).step_by(ROW_BLOCK).flat_map(move |first| {
        let block = first..(first + ROW_BLOCK).min(rows);
        (0..cols).step_by(width).map(move |c0| (block.clone(), c0))
    })
}

/// The lanes of each of the `NV` vectors of a tile whose first column is `remaining` from
/// the end.
#[inline(always)]
unsafe fn tile_lanes<V: Vector, const NV: usize>(remaining: usize) -> [Lanes<V>; NV] {
    std::array::from_fn(|v| Lanes::first(remaining.saturating_sub(V::LANES * v)))
}

/// `Σ_p a_r[p · a_stride] · b[p · b_stride + (lanes)]` for the `MR` rows `a` of one tile and
/// `NV` vectors of `b`: the inner loop of both [`product`] and [`weight_step`]. `FULL` tiles
/// read whole vectors; the others only the lanes of `lanes`.
///
/// # Safety
/// As [`Vector`]; for `p < depth`, `a_r[p · a_stride]` and the kept lanes of each vector of
/// `b` at `p · b_stride` must be readable.
#[inline(always)]
unsafe fn tile<V: Vector, const NV: usize, const FULL: bool>(
    a: [*const f32; MR],
    a_stride: usize,
    mut b: *const f32,
    b_stride: usize,
    depth: usize,
    lanes: [Lanes<V>; NV],
) -> [[V; NV]; MR] {
    let mut acc = [[V::zero(); NV]; MR];
    for p in 0..depth {
        let bv: [V; NV] = std::array::from_fn(|v| {
            let at = b.wrapping_add(V::LANES * v);
            if FULL {
                V::load(at)
            } else {
                V::load_masked(at, lanes[v].mask)
            }
        });
        let offset = p * a_stride;
        for r in 0..MR {
            let s = V::splat(*a[r].wrapping_add(offset));
            for v in 0..NV {
                acc[r][v] = acc[r][v].mul_add(s, bv[v]);
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
#[inline(always)]
unsafe fn any_tile<V: Vector, const NV: usize>(
    a: [*const f32; MR],
    a_stride: usize,
    b: *const f32,
    b_stride: usize,
    depth: usize,
    lanes: [Lanes<V>; NV],
) -> [[V; NV]; MR] {
    if lanes.iter().all(|l| l.all) {
        tile::<V, NV, true>(a, a_stride, b, b_stride, depth, lanes)
    } else {
        tile::<V, NV, false>(a, a_stride, b, b_stride, depth, lanes)
    }
}

/// [`super::Kernels::product`], shapes checked.
#[inline(always)]
pub(super) unsafe fn product<V: Vector, const NV: usize>(
    lhs: Lhs<'_, f32>,
    rhs: Mat<'_, f32>,
    mut out: MatMut<'_, f32>,
    epilogue: Epilogue<'_, f32>,
) {
    let (rows, depth, cols) = (lhs.rows, lhs.depth, rhs.cols());
    if rows == 0 || cols == 0 {
        return;
    }
    if lhs.row_stride == 1 && cols <= V::LANES {
        return super::narrow::axpy_product::<V>(lhs, rhs, out, epilogue);
    }
    let (out_ld, out_ptr) = (out.ld(), out.data_mut().as_mut_ptr());
    for (block, c0) in row_blocks(rows, cols, V::LANES * NV) {
        let lanes = tile_lanes::<V, NV>(cols - c0);
        for r0 in block.step_by(MR) {
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
                            lanes[v].store(dst.wrapping_add(V::LANES * v), acc[v]);
                        }
                    }
                    Epilogue::Bias { bias, activation } => {
                        let bias = V::splat(bias[row]);
                        for v in 0..NV {
                            let z = acc[v].add(bias);
                            let a = match activation {
                                Some(f) => activate(f, z),
                                None => z,
                            };
                            lanes[v].store(dst.wrapping_add(V::LANES * v), a);
                        }
                    }
                    Epilogue::Derivative { activation, output } => {
                        let src = output.data().as_ptr().wrapping_add(row * output.ld() + c0);
                        for v in 0..NV {
                            let a = lanes[v].load(src.wrapping_add(V::LANES * v));
                            let d = derivative_from_output(activation, a, acc[v]);
                            lanes[v].store(dst.wrapping_add(V::LANES * v), d);
                        }
                    }
                }
            }
        }
    }
}

/// [`super::Kernels::weight_step`], shapes checked. Each kind of update gets its own copy of
/// the tile loop (a closure, inlined), so that no branch on it is left among the vector
/// operations and the tile's accumulators stay in registers: with a batch of a few images
/// this epilogue, not the sum over the batch, is most of the work.
#[inline(always)]
pub(super) unsafe fn weight_step<V: Vector, const NV: usize>(
    weights: MatMut<'_, f32>,
    delta: Mat<'_, f32>,
    input: Mat<'_, f32>,
    decay: f32,
    update: Update<'_, f32>,
    sum_squares: bool,
) -> f64 {
    match update {
        Update::Store { mut out } => {
            let (ld, out) = (out.ld(), out.data_mut().as_mut_ptr());
            weight_tiles::<V, NV>(weights, delta, input, decay, sum_squares, |at, _, w, g| {
                at.lanes.store(out.wrapping_add(at.row * ld + at.col), g);
                w
            })
        }
        Update::Sgd { lr } => {
            let lr = V::splat(lr);
            weight_tiles::<V, NV>(weights, delta, input, decay, sum_squares, |at, wp, w, g| {
                let w = w.mul_sub_from(lr, g);
                at.lanes.store(wp, w);
                w
            })
        }
        Update::Adam {
            step,
            mut m,
            v: mut second,
        } => {
            let (m_ld, m_ptr) = (m.ld(), m.data_mut().as_mut_ptr());
            let (v_ld, v_ptr) = (second.ld(), second.data_mut().as_mut_ptr());
            weight_tiles::<V, NV>(weights, delta, input, decay, sum_squares, |at, wp, w, g| {
                let mp = m_ptr.wrapping_add(at.row * m_ld + at.col);
                let vp = v_ptr.wrapping_add(at.row * v_ld + at.col);
                let mut mv = at.lanes.load(mp);
                let mut vv = at.lanes.load(vp);
                // The same operations, in the same order, as `AdamStep::apply`.
                mv = mv.add(g.sub(mv).mul(V::splat(step.one_minus_beta1)));
                vv = vv
                    .mul(V::splat(step.beta2))
                    .add(g.mul(g).mul(V::splat(step.one_minus_beta2)));
                let denom = vv
                    .sqrt()
                    .div(V::splat(step.bias_correction2_sqrt))
                    .add(V::splat(step.eps));
                let w = w.sub(V::splat(step.step_size).mul(mv.div(denom)));
                at.lanes.store(mp, mv);
                at.lanes.store(vp, vv);
                at.lanes.store(wp, w);
                w
            })
        }
    }
}

/// Where one vector of a weight tile sits: its row, its first column, the lanes it keeps.
#[derive(Clone, Copy)]
struct At<V: Vector> {
    row: usize,
    col: usize,
    lanes: Lanes<V>,
}

/// The weight gradient `g = Σ_i delta[r, i] · input[i, c] + decay · w[r, c]` tile by tile,
/// each vector of it handed to `apply(at, wp, w, g)` (`wp` where the weights `w` are), which
/// updates (or stores) what it must and returns the weights afterwards; returns their `Σ w²`
/// when `sum_squares`, else 0.
#[inline(always)]
unsafe fn weight_tiles<V: Vector, const NV: usize>(
    mut weights: MatMut<'_, f32>,
    delta: Mat<'_, f32>,
    input: Mat<'_, f32>,
    decay: f32,
    sum_squares: bool,
    mut apply: impl FnMut(At<V>, *mut f32, V, V) -> V,
) -> f64 {
    let (rows, cols, batch) = (weights.rows(), weights.cols(), input.rows());
    if rows == 0 || cols == 0 {
        return 0.0;
    }
    let (w_ld, w_ptr) = (weights.ld(), weights.data_mut().as_mut_ptr());
    let decay = V::splat(decay);
    let mut total = 0.0;
    // Each row tile's rows of deltas, worked out once per row block rather than per tile.
    let mut deltas = [[std::ptr::null::<f32>(); MR]; ROW_BLOCK / MR];
    let mut deltas_of = usize::MAX;
    for (block, c0) in row_blocks(rows, cols, V::LANES * NV) {
        let lanes = tile_lanes::<V, NV>(cols - c0);
        if deltas_of != block.start {
            deltas_of = block.start;
            for (tile, r0) in deltas.iter_mut().zip(block.clone().step_by(MR)) {
                *tile = std::array::from_fn(|r| {
                    delta
                        .data()
                        .as_ptr()
                        .wrapping_add((r0 + r).min(rows - 1) * delta.ld())
                });
            }
        }
        for (&d, r0) in deltas.iter().zip(block.step_by(MR)) {
            let x = input.data().as_ptr().wrapping_add(c0);
            let acc = any_tile(d, 1, x, input.ld(), batch, lanes);
            let mut squares = V::zero();
            // Constant indices into `acc` (no iterator over it), so that it stays in registers.
            #[allow(clippy::needless_range_loop)]
            for r in 0..MR {
                let row = r0 + r;
                if row >= rows {
                    break;
                }
                for v in 0..NV {
                    let at = At {
                        row,
                        col: c0 + V::LANES * v,
                        lanes: lanes[v],
                    };
                    let wp = w_ptr.wrapping_add(row * w_ld + at.col);
                    let w = at.lanes.load(wp);
                    let w = apply(at, wp, w, acc[r][v].mul_add(decay, w));
                    if sum_squares {
                        squares = squares.mul_add(w, w);
                    }
                }
            }
            if sum_squares {
                total += f64::from(squares.sum());
            }
        }
    }
    total
}

/// [`super::Kernels::accumulate`], shapes checked.
#[inline(always)]
pub(super) unsafe fn accumulate<V: Vector>(
    mut dst: MatMut<'_, f32>,
    src: Mat<'_, f32>,
    overwrite: bool,
    derivative: Option<(Activation, Mat<'_, f32>)>,
) {
    let (rows, cols, dst_ld) = (src.rows(), src.cols(), dst.ld());
    let dst_ptr = dst.data_mut().as_mut_ptr();
    for r in 0..rows {
        for c in (0..cols).step_by(V::LANES) {
            let lanes = Lanes::<V>::first(cols - c);
            let d = dst_ptr.wrapping_add(r * dst_ld + c);
            let mut x = lanes.load(src.data().as_ptr().wrapping_add(r * src.ld() + c));
            if !overwrite {
                x = x.add(lanes.load(d));
            }
            if let Some((activation, output)) = derivative {
                let a = lanes.load(output.data().as_ptr().wrapping_add(r * output.ld() + c));
                x = derivative_from_output(activation, a, x);
            }
            lanes.store(d, x);
        }
    }
}

/// [`super::Kernels::transpose`] in blocks of `LANES × LANES`, each transposed in registers
/// by `block` (rows in, columns out), shapes checked.
#[inline(always)]
pub(super) unsafe fn transpose<V: Vector, const LANES: usize>(
    src: Mat<'_, f32>,
    mut dst: MatMut<'_, f32>,
    block: impl Fn(&mut [V; LANES]),
) {
    let (rows, cols) = (src.rows(), src.cols());
    let (dst_ld, dst_ptr) = (dst.ld(), dst.data_mut().as_mut_ptr());
    for c0 in (0..cols).step_by(LANES) {
        let width = (cols - c0).min(LANES);
        let load_lanes = Lanes::<V>::first(width);
        for r0 in (0..rows).step_by(LANES) {
            let height = (rows - r0).min(LANES);
            let mut vectors: [V; LANES] = std::array::from_fn(|i| {
                let row = (r0 + i).min(rows - 1);
                load_lanes.load(src.data().as_ptr().wrapping_add(row * src.ld() + c0))
            });
            block(&mut vectors);
            let store_lanes = Lanes::<V>::first(height);
            for (c, column) in vectors.iter().enumerate().take(width) {
                store_lanes.store(dst_ptr.wrapping_add((c0 + c) * dst_ld + r0), *column);
            }
        }
        for c in c0..c0 + width {
            dst.row_mut(c)[rows..].fill(0.0);
        }
    }
}

/// A kernel set for one instruction set: `$name`, a unit struct implementing
/// [`super::Kernels<f32>`] with the generic kernels of this file on vectors `$vector`, `$nv`
/// of them across a tile, compiled with `#[target_feature(enable = $features)]`; `detect()`
/// makes it where `$detect` holds, and `$transpose` transposes a block of `$lanes` vectors.
macro_rules! vectorised_kernels {
    (
        $name:ident, $vector:ty, nv: $nv:literal, lanes: $lanes:literal,
        features: $features:literal, detect: $detect:expr, transpose: $transpose:path
    ) => {
        #[derive(Debug)]
        pub(crate) struct $name(());

        /// These kernels, if this CPU can run them.
        pub(crate) fn detect() -> Option<&'static $name> {
            static KERNELS: $name = $name(());
            ($detect).then_some(&KERNELS)
        }

        impl super::Kernels<f32> for $name {
            fn product(
                &self,
                lhs: super::Lhs<'_, f32>,
                rhs: super::Mat<'_, f32>,
                out: super::MatMut<'_, f32>,
                epilogue: super::Epilogue<'_, f32>,
            ) {
                super::check_product(&lhs, &rhs, &out, &epilogue);
                #[target_feature(enable = $features)]
                unsafe fn run(
                    lhs: super::Lhs<'_, f32>,
                    rhs: super::Mat<'_, f32>,
                    out: super::MatMut<'_, f32>,
                    epilogue: super::Epilogue<'_, f32>,
                ) {
                    super::simd::product::<$vector, $nv>(lhs, rhs, out, epilogue)
                }
                // SAFETY: the kernels exist only where the CPU has the instruction set, and
                // the shapes were checked against the slices, which is all they rely on.
                unsafe { run(lhs, rhs, out, epilogue) }
            }

            fn dot_product(
                &self,
                lhs: super::Mat<'_, f32>,
                rhs: super::Mat<'_, f32>,
                out: super::MatMut<'_, f32>,
                epilogue: super::Epilogue<'_, f32>,
            ) {
                super::check_dot_product(&lhs, &rhs, &out, &epilogue);
                #[target_feature(enable = $features)]
                unsafe fn run(
                    lhs: super::Mat<'_, f32>,
                    rhs: super::Mat<'_, f32>,
                    out: super::MatMut<'_, f32>,
                    epilogue: super::Epilogue<'_, f32>,
                ) {
                    super::narrow::dot_product::<$vector>(lhs, rhs, out, epilogue)
                }
                // SAFETY: as in `product`.
                unsafe { run(lhs, rhs, out, epilogue) }
            }

            fn narrow_batch(&self) -> usize {
                <$vector as super::vector::Vector>::LANES
            }

            fn weight_step(
                &self,
                weights: super::MatMut<'_, f32>,
                delta: super::Mat<'_, f32>,
                input: super::Mat<'_, f32>,
                decay: f32,
                update: super::Update<'_, f32>,
                sum_squares: bool,
            ) -> f64 {
                super::check_weight_step(&weights, &delta, &input, &update);
                #[target_feature(enable = $features)]
                unsafe fn run(
                    weights: super::MatMut<'_, f32>,
                    delta: super::Mat<'_, f32>,
                    input: super::Mat<'_, f32>,
                    decay: f32,
                    update: super::Update<'_, f32>,
                    sum_squares: bool,
                ) -> f64 {
                    super::simd::weight_step::<$vector, $nv>(
                        weights,
                        delta,
                        input,
                        decay,
                        update,
                        sum_squares,
                    )
                }
                // SAFETY: as in `product`.
                unsafe { run(weights, delta, input, decay, update, sum_squares) }
            }

            fn transpose(&self, src: super::Mat<'_, f32>, dst: super::MatMut<'_, f32>) {
                super::check_transpose(&src, &dst);
                #[target_feature(enable = $features)]
                unsafe fn run(src: super::Mat<'_, f32>, dst: super::MatMut<'_, f32>) {
                    super::simd::transpose::<$vector, $lanes>(src, dst, |block| $transpose(block))
                }
                // SAFETY: as in `product`.
                unsafe { run(src, dst) }
            }

            fn accumulate(
                &self,
                dst: super::MatMut<'_, f32>,
                src: super::Mat<'_, f32>,
                overwrite: bool,
                derivative: Option<(contract::Activation, super::Mat<'_, f32>)>,
            ) {
                super::check_accumulate(&dst, &src, &derivative);
                #[target_feature(enable = $features)]
                unsafe fn run(
                    dst: super::MatMut<'_, f32>,
                    src: super::Mat<'_, f32>,
                    overwrite: bool,
                    derivative: Option<(contract::Activation, super::Mat<'_, f32>)>,
                ) {
                    super::simd::accumulate::<$vector>(dst, src, overwrite, derivative)
                }
                // SAFETY: as in `product`.
                unsafe { run(dst, src, overwrite, derivative) }
            }
        }
    };
}
pub(super) use vectorised_kernels;
