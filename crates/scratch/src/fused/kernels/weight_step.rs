//! One update of a layer's weights by its gradient `ΔZᵀ·A` ([`super::Kernels::weight_step`]):
//! the gradient is summed over the batch in the register tile of `tile.rs` and handed to the
//! optimiser there, so it never goes to memory and the weights are read and written once.
//! A batch narrower than a vector goes to `narrow_step.rs` instead, which also folds the
//! backward product into its pass over the weights; a wider one gets that product from
//! `product.rs` first.

use super::narrow_step::narrow_step;
use super::pack::{packs, Partials, Rhs};
use super::product::product;
use super::step_parts::{At, Step};
use super::tile::{any_tile, depth_chunks, tile_lanes, MR, ROW_BLOCK};
use super::vector::Vector;
use super::{Backward, Lhs, Mat, MatMut, Update};

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
    backward: Option<Backward<'_, f32>>,
) -> f64 {
    let from = Step {
        delta,
        input,
        decay,
        sum_squares,
        backward,
    };
    match update {
        Update::Store { mut out } => {
            let (ld, out) = (out.ld(), out.data_mut().as_mut_ptr());
            any_step::<V, NV>(weights, from, |at, _, w, g| {
                at.lanes.store(out.wrapping_add(at.row * ld + at.col), g);
                w
            })
        }
        Update::Sgd { lr } => {
            let lr = V::splat(lr);
            any_step::<V, NV>(weights, from, |at, wp, w, g| {
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
            any_step::<V, NV>(weights, from, |at, wp, w, g| {
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

/// The step for any batch: in one pass over the weights with `narrow_step` when the batch is
/// narrower than a vector and so is the backward product (as a pass asks it for such a
/// batch), else the backward product first and then the tiles.
#[inline(always)]
unsafe fn any_step<V: Vector, const NV: usize>(
    weights: MatMut<'_, f32>,
    step: Step<'_>,
    apply: impl FnMut(At<V>, *mut f32, V, V) -> V,
) -> f64 {
    let batch = step.input.rows();
    let narrow = batch <= V::LANES
        && step
            .backward
            .as_ref()
            .is_none_or(|backward| backward.out.cols == batch);
    if narrow {
        return narrow_step(weights, step, apply);
    }
    let Step {
        delta,
        input,
        decay,
        sum_squares,
        backward,
    } = step;
    if let Some(Backward { out, epilogue }) = backward {
        let (rows, cols) = (weights.rows, weights.cols);
        // Wᵀ without a copy: element (c, r) of Wᵀ is W[r, c].
        let transposed = Lhs::new(&*weights.data, cols, rows, 1, weights.ld);
        let delta = Mat::new(delta.data, rows, out.cols, delta.ld);
        product::<V, NV>(transposed, delta, out, epilogue);
    }
    weight_tiles::<V, NV>(weights, delta, input, decay, sum_squares, apply)
}

/// The weight gradient `g = Σ_i delta[r, i] · input[i, c] + decay · w[r, c]` tile by tile,
/// each vector of it handed to `apply(at, wp, w, g)` (`wp` where the weights `w` are), which
/// updates (or stores) what it must and returns the weights afterwards; returns their `Σ w²`
/// when `sum_squares`, else 0.
#[inline(always)]
unsafe fn weight_tiles<V: Vector, const NV: usize>(
    weights: MatMut<'_, f32>,
    delta: Mat<'_, f32>,
    input: Mat<'_, f32>,
    decay: f32,
    sum_squares: bool,
    apply: impl FnMut(At<V>, *mut f32, V, V) -> V,
) -> f64 {
    if packs(input.rows(), weights.rows()) {
        tiles_in_chunks::<V, NV, true>(weights, delta, input, decay, sum_squares, apply)
    } else {
        tiles_in_chunks::<V, NV, false>(weights, delta, input, decay, sum_squares, apply)
    }
}

/// [`weight_tiles`], the input packed and the batch gone through in depth chunks when
/// `PACKED`, else read as it is, all the batch at once. (Two copies, so that a small batch's
/// tiles, a few multiply-adds each, carry no test for the chunks: with them its weight step
/// took 10% more instructions.)
#[inline(always)]
unsafe fn tiles_in_chunks<V: Vector, const NV: usize, const PACKED: bool>(
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
    let mut deltas = [[std::ptr::null::<f32>(); MR]; ROW_BLOCK / MR];
    let width = V::LANES * NV;
    let packed = PACKED;
    let input = Rhs::new::<V, NV>(input, packed);
    // Before the last depth chunk the sums so far of a row block's tiles wait here.
    let mut partials = packed.then(|| Partials::new(ROW_BLOCK, cols.next_multiple_of(width)));
    let (p_ld, p_ptr) = partials
        .as_mut()
        .map_or((0, std::ptr::null_mut()), |p| (p.ld(), p.as_mut_ptr()));
    for first in (0..rows).step_by(ROW_BLOCK) {
        let block = first..(first + ROW_BLOCK).min(rows);
        // Each row tile's rows of deltas, worked out once per row block rather than per tile.
        for (tile, r0) in deltas.iter_mut().zip(block.clone().step_by(MR)) {
            *tile = std::array::from_fn(|r| {
                delta
                    .data()
                    .as_ptr()
                    .wrapping_add((r0 + r).min(rows - 1) * delta.ld())
            });
        }
        for chunk in depth_chunks(batch, width, packed) {
            let last = !PACKED || chunk.end == batch;
            for c0 in (0..cols).step_by(width) {
                let lanes = tile_lanes::<V, NV>(cols - c0);
                let (x, x_stride, load_lanes) = input.tile(chunk.start, c0, lanes);
                for (d, r0) in deltas.iter().zip(block.clone().step_by(MR)) {
                    let d = d.map(|row| row.wrapping_add(chunk.start));
                    let partial = |r: usize, v: usize| {
                        p_ptr.wrapping_add((r0 + r - first) * p_ld + c0 + V::LANES * v)
                    };
                    let so_far: [[V; NV]; MR] = std::array::from_fn(|r| {
                        std::array::from_fn(|v| {
                            if PACKED && chunk.start > 0 {
                                V::load(partial(r, v))
                            } else {
                                V::zero()
                            }
                        })
                    });
                    let acc = any_tile(so_far, d, 1, x, x_stride, chunk.len(), load_lanes);
                    if !last {
                        for (r, acc) in acc.iter().enumerate() {
                            for (v, acc) in acc.iter().enumerate() {
                                acc.store(partial(r, v));
                            }
                        }
                        continue;
                    }
                    let mut squares = V::zero();
                    // Constant indices into `acc` (no iterator over it), so that it stays in
                    // registers.
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
        }
    }
    total
}
