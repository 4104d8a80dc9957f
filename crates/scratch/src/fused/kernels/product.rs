//! `out = epilogue(lhs · rhs)` ([`super::Kernels::product`]) over the register tile of
//! `tile.rs`, with the bias and activation, or the activation's derivative, applied while the
//! results are still in registers.

use super::pack::{packs, Rhs};
use super::tile::{any_tile, column_blocks, depth_chunks, tile_lanes, MR, ROW_BLOCK};
use super::vector::{activate, derivative_from_output, Vector};
use super::{Epilogue, Lhs, Mat, MatMut};

/// [`super::Kernels::product`], shapes checked.
#[inline(always)]
pub(super) unsafe fn product<V: Vector, const NV: usize>(
    lhs: Lhs<'_, f32>,
    rhs: Mat<'_, f32>,
    out: MatMut<'_, f32>,
    epilogue: Epilogue<'_, f32>,
) {
    let (rows, cols) = (lhs.rows, rhs.cols());
    if rows == 0 || cols == 0 {
        return;
    }
    if packs(cols, rows) {
        in_chunks::<V, NV, true>(lhs, rhs, out, epilogue)
    } else {
        in_chunks::<V, NV, false>(lhs, rhs, out, epilogue)
    }
}

/// [`product`] over tiles, the right operand packed and gone through in column blocks and
/// depth chunks when `PACKED`, else read as it is, all the depth at once. (Two copies, so
/// that the unpacked one carries no test for the chunks.)
#[inline(always)]
unsafe fn in_chunks<V: Vector, const NV: usize, const PACKED: bool>(
    lhs: Lhs<'_, f32>,
    rhs: Mat<'_, f32>,
    mut out: MatMut<'_, f32>,
    epilogue: Epilogue<'_, f32>,
) {
    let (rows, depth, cols) = (lhs.rows, lhs.depth, rhs.cols());
    let (out_ld, out_ptr) = (out.ld(), out.data_mut().as_mut_ptr());
    let width = V::LANES * NV;
    let packed = PACKED;
    let rhs = Rhs::new::<V, NV>(rhs, packed);
    for columns in column_blocks(cols, width, packed) {
        for chunk in depth_chunks(depth, width, packed) {
            // Before the last chunk the sums so far go to `out`, and come back for the next.
            let last = !PACKED || chunk.end == depth;
            for first in (0..rows).step_by(ROW_BLOCK) {
                let block = first..(first + ROW_BLOCK).min(rows);
                for c0 in columns.clone().step_by(width) {
                    let lanes = tile_lanes::<V, NV>(cols - c0);
                    let (b, b_stride, load_lanes) = rhs.tile(chunk.start, c0, lanes);
                    for r0 in block.clone().step_by(MR) {
                        // Rows past the end repeat the last one; their results are not stored.
                        let a: [*const f32; MR] = std::array::from_fn(|r| {
                            lhs.data.as_ptr().wrapping_add(
                                (r0 + r).min(rows - 1) * lhs.row_stride
                                    + chunk.start * lhs.depth_stride,
                            )
                        });
                        let so_far: [[V; NV]; MR] = std::array::from_fn(|r| {
                            std::array::from_fn(|v| {
                                let dst =
                                    out_ptr.wrapping_add((r0 + r) * out_ld + c0 + V::LANES * v);
                                if !PACKED || chunk.start == 0 || r0 + r >= rows {
                                    V::zero()
                                } else {
                                    lanes[v].load(dst)
                                }
                            })
                        });
                        let acc = any_tile(
                            so_far,
                            a,
                            lhs.depth_stride,
                            b,
                            b_stride,
                            chunk.len(),
                            load_lanes,
                        );
                        // Constant indices into `acc` (no iterator over it), so that it stays in
                        // registers.
                        #[allow(clippy::needless_range_loop)]
                        for r in 0..MR {
                            let row = r0 + r;
                            if row >= rows {
                                break;
                            }
                            let acc = acc[r];
                            let dst = out_ptr.wrapping_add(row * out_ld + c0);
                            let epilogue = if last { epilogue } else { Epilogue::Store };
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
                                    let src =
                                        output.data().as_ptr().wrapping_add(row * output.ld() + c0);
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
        }
    }
}
