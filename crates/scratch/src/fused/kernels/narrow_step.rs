//! The weight step of a batch narrower than a vector (the narrow products are in `narrow.rs`),
//! with the backward product to the layer below folded into the same pass over the weights.
//!
//! With a batch that narrow the step is a few multiply-adds per weight, so its time is that of
//! streaming the weights in and out of the caches. The tiles of `weight_step.rs` would go
//! through them a block of 48 rows at a time, and the backward product would stream them once
//! more before that. Here [`ROWS`] rows go through their columns together, a vector at a time:
//! each vector of weights is read once, added into `Wᵀ·ΔZᵀ` (kept batch-major, one row per
//! image, in a buffer of the thread's), updated and written back.
//!
//! The groups of rows go from the last to the first, against the forward pass's order, so that
//! the rows the forward pass read last (of the layer above, when it gets here), and so still in
//! L2, are the first read here, and the rows this step leaves in L2 are the first that the next
//! forward pass reads. (Going the same way as the forward pass, each read evicts the rows it
//! is about to need.) At batch 1 on a Zen 3, that took a step from 0.160 to 0.144 ms.
//!
//! The gradient sums over the batch in the tiles' order, so the step itself is theirs, bit for
//! bit.

use std::ptr::null_mut;

use super::narrow::column_epilogue;
use super::pack::Partials;
use super::step_parts::{At, Step};
use super::tile::tile_lanes;
use super::vector::{Lanes, Vector};
use super::{Backward, MatMut};

/// Rows of weights that go through their columns together: four streams, and 11 of the 16
/// AVX2 registers (a vector of weights and one of the gradient per row, the sum, the input and
/// a broadcast delta).
const ROWS: usize = 4;

/// Vectors of columns a group of rows goes through at a time with the backward product: its
/// weights stay in registers all along, beside the gradient's accumulators.
const BACKWARD_VECTORS: usize = 1;
/// The same without the backward product, which needs the weights only at the end: with
/// [`ROWS`], 8 gradient accumulators, 2 inputs and a broadcast delta in registers.
const NO_BACKWARD_VECTORS: usize = 2;

/// Vectors of columns whose `Σ w²` is summed in `f32` before it goes into the `f64` total: 64
/// squares per lane with [`ROWS`] rows, the same order as a tile's.
const SQUARES_RUN: usize = 16;

/// The step of [`super::weight_step::weight_step`] for a batch of at most a vector, whose
/// backward product (if any) has just the batch's columns; `apply` as there.
#[inline(always)]
pub(super) unsafe fn narrow_step<V: Vector>(
    mut weights: MatMut<'_, f32>,
    step: Step<'_>,
    mut apply: impl FnMut(At<V>, *mut f32, V, V) -> V,
) -> f64 {
    let (rows, cols, batch) = (weights.rows(), weights.cols(), step.input.rows());
    if cols == 0 {
        return 0.0;
    }
    let width = cols.next_multiple_of(V::LANES);
    let mut below = step.backward.as_ref().map(|_| Partials::new(batch, width));
    let sums = below.as_mut().map_or(null_mut(), Partials::as_mut_ptr);
    if rows == 0 && !sums.is_null() {
        // No rows: the product is all zeros.
        std::slice::from_raw_parts_mut(sums, batch * width).fill(0.0);
    }
    let rows_at = Rows {
        weights: weights.data_mut().as_mut_ptr(),
        weights_ld: weights.ld(),
        cols,
        sums,
        width,
    };
    let backward = step.backward.is_some();
    // `group` of `$rows` rows, with or without the product.
    macro_rules! group {
        ($rows:expr, $group:expr) => {
            if backward {
                group::<V, $rows, BACKWARD_VECTORS, true>($group, &mut apply)
            } else {
                group::<V, $rows, NO_BACKWARD_VECTORS, false>($group, &mut apply)
            }
        };
    }
    let mut total = 0.0;
    for r0 in (0..rows).step_by(ROWS).rev() {
        let group = Group {
            at: &rows_at,
            step: &step,
            r0,
            first: r0 + ROWS >= rows,
        };
        total += match rows - r0 {
            1 => group!(1, &group),
            2 => group!(2, &group),
            3 => group!(3, &group),
            _ => group!(ROWS, &group),
        };
    }
    if let Some(Backward { mut out, epilogue }) = step.backward {
        // Column `i` of the product is row `i` of the sums, a vector of its rows at a time.
        let (out_ld, out_ptr) = (out.ld(), out.data_mut().as_mut_ptr());
        for i in 0..batch {
            for c0 in (0..cols).step_by(V::LANES) {
                let x = V::load(sums.wrapping_add(i * width + c0));
                let (block, dst) = ((cols - c0).min(V::LANES), out_ptr.wrapping_add(i));
                column_epilogue(x, c0, block, i, dst, out_ld, epilogue);
            }
        }
    }
    total
}

/// Where the weights and the sums of the backward product are.
struct Rows {
    weights: *mut f32,
    weights_ld: usize,
    cols: usize,
    /// `batch × width`: row `i` holds `Σ_r w[r, c] · delta[r, i]` over the rows so far.
    sums: *mut f32,
    width: usize,
}

/// A group of rows: from `r0`, and whether it is the `first` to go into the sums.
struct Group<'a> {
    at: &'a Rows,
    step: &'a Step<'a>,
    r0: usize,
    first: bool,
}

/// The step of the `R` rows of `group` (and, when `BACKWARD`, their part of the product), `NV`
/// vectors of columns at a time; returns their `Σ w²` afterwards when the step asks for it,
/// else 0.
#[inline(always)]
unsafe fn group<V: Vector, const R: usize, const NV: usize, const BACKWARD: bool>(
    group: &Group<'_>,
    apply: &mut impl FnMut(At<V>, *mut f32, V, V) -> V,
) -> f64 {
    let (cols, width) = (group.at.cols, NV * V::LANES);
    let whole = cols - cols % width;
    let run = SQUARES_RUN * V::LANES;
    let mut total = 0.0;
    for start in (0..cols).step_by(run) {
        let mut squares = V::zero();
        // Whole vectors first, with loads and stores that test no lanes, then the tail.
        for c0 in (start..whole.min(start + run)).step_by(width) {
            let all = [Lanes::first(V::LANES); NV];
            squares = vectors::<V, R, NV, BACKWARD>(group, c0, all, squares, apply);
        }
        if whole < cols && start + run >= cols {
            let tail = tile_lanes::<V, NV>(cols - whole);
            squares = vectors::<V, R, NV, BACKWARD>(group, whole, tail, squares, apply);
        }
        if group.step.sum_squares {
            total += f64::from(squares.sum());
        }
    }
    total
}

/// [`group`] on `NV` vectors of columns from `c0`, of `lanes`; returns `squares` plus the
/// squares of their weights afterwards when the step asks for them.
#[inline(always)]
unsafe fn vectors<V: Vector, const R: usize, const NV: usize, const BACKWARD: bool>(
    group: &Group<'_>,
    c0: usize,
    lanes: [Lanes<V>; NV],
    mut squares: V,
    apply: &mut impl FnMut(At<V>, *mut f32, V, V) -> V,
) -> V {
    let &Group {
        at,
        step,
        r0,
        first,
    } = group;
    let (input, delta) = (step.input, step.delta);
    let wp = |r: usize, v: usize| {
        at.weights
            .wrapping_add((r0 + r) * at.weights_ld + c0 + v * V::LANES)
    };
    let load_weights = || -> [[V; NV]; R] {
        std::array::from_fn(|r| std::array::from_fn(|v| lanes[v].load(wp(r, v))))
    };
    // The product needs the weights all along; the gradient alone only at the end, which
    // leaves their registers to more columns.
    let before = if BACKWARD {
        load_weights()
    } else {
        [[V::zero(); NV]; R]
    };
    let mut g = [[V::zero(); NV]; R];
    let x = input.data().as_ptr().wrapping_add(c0);
    let d = delta.data().as_ptr().wrapping_add(r0 * delta.ld());
    for i in 0..input.rows() {
        let x: [V; NV] =
            std::array::from_fn(|v| lanes[v].load(x.wrapping_add(i * input.ld() + v * V::LANES)));
        let sum = at.sums.wrapping_add(i * at.width + c0);
        let mut b = if BACKWARD && !first {
            V::load(sum)
        } else {
            V::zero()
        };
        // Constant indices into `w` and `g` (no iterator over them), so that they stay in
        // registers.
        #[allow(clippy::needless_range_loop)]
        for r in 0..R {
            let s = V::splat(*d.wrapping_add(r * delta.ld() + i));
            if BACKWARD {
                b = b.mul_add(before[r][0], s);
            }
            for v in 0..NV {
                g[r][v] = g[r][v].mul_add(s, x[v]);
            }
        }
        if BACKWARD {
            b.store(sum);
        }
    }
    let w = if BACKWARD { before } else { load_weights() };
    let decay = V::splat(step.decay);
    #[allow(clippy::needless_range_loop)]
    for r in 0..R {
        for v in 0..NV {
            let at = At {
                row: r0 + r,
                col: c0 + v * V::LANES,
                lanes: lanes[v],
            };
            let w = apply(at, wp(r, v), w[r][v], g[r][v].mul_add(decay, w[r][v]));
            if step.sum_squares {
                squares = squares.mul_add(w, w);
            }
        }
    }
    squares
}
