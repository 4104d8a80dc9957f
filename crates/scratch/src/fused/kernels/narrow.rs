//! The forward product for batches narrower than a vector (small batches, batch 1 above all),
//! where the tiled kernels of `simd.rs`, which vectorise along the batch, would spend most
//! lanes on padding: [`dot_product`], `W·Xᵀ`, vectorised along the depth instead (the rows of
//! `W` and the batch-major images or activations are both contiguous there), dot products of a
//! few rows and columns at once, each summed across its lanes at the end. It gathers each
//! column's results for a vector of consecutive rows, applies the same vectorised epilogue as
//! the tiled product, and scatters them into their column of `out` ([`column_epilogue`], which
//! the narrow weight step's backward product of `narrow_step.rs` shares). With the batch that
//! narrow, the weights are read once each and the product runs at the speed they stream from
//! the caches.

use super::vector::{activate, derivative_from_output, Lanes, Vector};
use super::{Epilogue, Mat, MatMut};

/// Rows of `lhs` whose dot products [`dot_product`] forms at once.
const DOT_ROWS: usize = 4;
/// Columns a tile covers at most: with [`DOT_ROWS`], 12 accumulators, which leaves the
/// operands room in 16 AVX2 registers.
const COLS: usize = 3;
/// Most lanes of any vector type (AVX-512's 16): the size of the column buffers.
const MAX_LANES: usize = 16;

/// `out[r, c] = epilogue(Σ_p lhs[r, p] · rhs[c, p])`: [`super::Kernels::dot_product`],
/// shapes checked.
#[inline(always)]
pub(super) unsafe fn dot_product<V: Vector>(
    lhs: Mat<'_, f32>,
    rhs: Mat<'_, f32>,
    mut out: MatMut<'_, f32>,
    epilogue: Epilogue<'_, f32>,
) {
    const { assert!(V::LANES <= MAX_LANES) };
    let (rows, depth, cols) = (lhs.rows(), lhs.cols(), rhs.rows());
    if rows == 0 || cols == 0 {
        return;
    }
    let (out_ld, out_ptr) = (out.ld(), out.data_mut().as_mut_ptr());
    // As few tiles as `COLS` allows, as even as they can be (4 images: 2 + 2, not 3 + 1, whose
    // 4 accumulators of one column would wait on the multiply-adds' latency).
    let tiles = cols.div_ceil(COLS);
    let starts = (0..tiles).scan(0, |c0, t| {
        let start = *c0;
        *c0 += (cols - start).div_ceil(tiles - t);
        Some(start..*c0)
    });
    for r0 in (0..rows).step_by(V::LANES) {
        let block = (rows - r0).min(V::LANES);
        for columns in starts.clone() {
            let c0 = columns.start;
            // Column j of this tile's results, for the block's rows, lane by lane.
            let mut sums = [[0.0f32; MAX_LANES]; COLS];
            for r1 in (0..block).step_by(DOT_ROWS) {
                let a: [*const f32; DOT_ROWS] = std::array::from_fn(|i| {
                    lhs.data()
                        .as_ptr()
                        .wrapping_add((r0 + r1 + i).min(rows - 1) * lhs.ld())
                });
                let b = |j: usize| rhs.data().as_ptr().wrapping_add((c0 + j) * rhs.ld());
                let kept = (block - r1).min(DOT_ROWS);
                match columns.len() {
                    1 => dot_tile::<V, 1>(a, [b(0)], depth, kept, &mut sums, r1),
                    2 => dot_tile::<V, 2>(a, [b(0), b(1)], depth, kept, &mut sums, r1),
                    _ => dot_tile::<V, 3>(a, [b(0), b(1), b(2)], depth, kept, &mut sums, r1),
                }
            }
            for (j, column) in sums.iter().enumerate().take(columns.len()) {
                let x = V::load(column.as_ptr());
                let dst = out_ptr.wrapping_add(c0 + j);
                column_epilogue(x, r0, block, c0 + j, dst, out_ld, epilogue);
            }
        }
    }
}

/// The dot products of the rows `a` with the columns `b` over `depth`, into lanes
/// `r1..r1 + kept` of `sums[j]`.
#[inline(always)]
unsafe fn dot_tile<V: Vector, const C: usize>(
    a: [*const f32; DOT_ROWS],
    b: [*const f32; C],
    depth: usize,
    kept: usize,
    sums: &mut [[f32; MAX_LANES]; COLS],
    r1: usize,
) {
    let mut acc = [[V::zero(); C]; DOT_ROWS];
    let whole = depth - depth % V::LANES;
    for p in (0..whole).step_by(V::LANES) {
        let bv: [V; C] = std::array::from_fn(|j| V::load(b[j].wrapping_add(p)));
        for i in 0..DOT_ROWS {
            let av = V::load(a[i].wrapping_add(p));
            for j in 0..C {
                acc[i][j] = acc[i][j].mul_add(av, bv[j]);
            }
        }
    }
    if whole < depth {
        let tail = Lanes::<V>::first(depth - whole);
        let bv: [V; C] = std::array::from_fn(|j| tail.load(b[j].wrapping_add(whole)));
        for i in 0..DOT_ROWS {
            let av = tail.load(a[i].wrapping_add(whole));
            for j in 0..C {
                acc[i][j] = acc[i][j].mul_add(av, bv[j]);
            }
        }
    }
    #[allow(clippy::needless_range_loop)]
    for i in 0..kept {
        for j in 0..C {
            sums[j][r1 + i] = acc[i][j].sum();
        }
    }
}

/// The epilogue of column `c`'s results `x` for the `block` rows from `r0`, stored to
/// `dst[(r0 + i) · ld]` (`dst` points at the column's first row).
#[inline(always)]
pub(super) unsafe fn column_epilogue<V: Vector>(
    x: V,
    r0: usize,
    block: usize,
    c: usize,
    dst: *mut f32,
    ld: usize,
    epilogue: Epilogue<'_, f32>,
) {
    let lanes = Lanes::<V>::first(block);
    let y = match epilogue {
        Epilogue::Store => x,
        Epilogue::Bias { bias, activation } => {
            let z = x.add(lanes.load(bias[r0..r0 + block].as_ptr()));
            match activation {
                Some(f) => activate(f, z),
                None => z,
            }
        }
        Epilogue::Derivative { activation, output } => {
            let mut column = [0.0f32; MAX_LANES];
            for (i, a) in column.iter_mut().enumerate().take(block) {
                *a = output.data()[(r0 + i) * output.ld() + c];
            }
            derivative_from_output(activation, V::load(column.as_ptr()), x)
        }
    };
    let mut column = [0.0f32; MAX_LANES];
    y.store(column.as_mut_ptr());
    for (i, &value) in column.iter().enumerate().take(block) {
        *dst.wrapping_add((r0 + i) * ld) = value;
    }
}
