//! The register tile the product and the weight step share: a tile of `MR × NV` vectors of
//! results kept in registers while the inner loop runs over the depth, and the order in which
//! the tiles of a result are visited.

use super::vector::{Lanes, Vector};

/// Rows of a result tile.
pub(super) const MR: usize = 6;

/// Rows of the left operand (`W`, or the deltas in the weight step) that the tiled kernels
/// take through every column tile before moving on: 48 rows of 784 weights are 150 KB, which
/// stay in a core's L2 cache meanwhile, rather than being read again from L3 for each column
/// tile, as all the rows were when the batch (the columns) is wide.
pub(super) const ROW_BLOCK: usize = 8 * MR;

/// Elements of one depth chunk of a packed panel (`super::pack`): 16 KB, half of a 32 KB L1
/// cache, so that a chunk stays in L1 while the row block's tiles go through it.
const CHUNK_ELEMENTS: usize = 4096;

/// Elements of one depth chunk of the panels of a column block: 256 KB, half of a 512 KB L2
/// cache, so that the block stays in L2 while every row block of the product goes through it
/// (rather than all the panels streaming from L3 for each row block).
const COLUMN_BLOCK_ELEMENTS: usize = 65536;

/// Rows of a depth chunk of panels `width` columns wide.
fn chunk_depth(width: usize) -> usize {
    (CHUNK_ELEMENTS / width).max(1)
}

/// The depth chunks the tiled kernels go through the depth in: [`CHUNK_ELEMENTS`] in a panel
/// `width` columns wide when the right operand is packed, else all the depth at once. At
/// least one chunk, empty for an empty depth, so that the results are still stored.
pub(super) fn depth_chunks(
    depth: usize,
    width: usize,
    packed: bool,
) -> impl Iterator<Item = std::ops::Range<usize>> {
    let chunk = if packed {
        chunk_depth(width)
    } else {
        depth.max(1)
    };
    (0..depth.max(1))
        .step_by(chunk)
        .map(move |k| k.min(depth)..(k + chunk).min(depth))
}

/// The column blocks a product goes through its `cols` columns in: [`COLUMN_BLOCK_ELEMENTS`]
/// per depth chunk when the right operand is packed (256 columns for AVX2's 16-wide panels),
/// else all of them at once.
pub(super) fn column_blocks(
    cols: usize,
    width: usize,
    packed: bool,
) -> impl Iterator<Item = std::ops::Range<usize>> {
    let block = if packed {
        (COLUMN_BLOCK_ELEMENTS / chunk_depth(width)).next_multiple_of(width)
    } else {
        cols.max(1)
    };
    (0..cols)
        .step_by(block)
        .map(move |c| c..(c + block).min(cols))
}

/// The lanes of each of the `NV` vectors of a tile whose first column is `remaining` from
/// the end.
#[inline(always)]
pub(super) unsafe fn tile_lanes<V: Vector, const NV: usize>(remaining: usize) -> [Lanes<V>; NV] {
    std::array::from_fn(|v| Lanes::first(remaining.saturating_sub(V::LANES * v)))
}

/// `acc + Σ_p a_r[p · a_stride] · b[p · b_stride + (lanes)]` for the `MR` rows `a` of one
/// tile and `NV` vectors of `b`: the inner loop of both [`super::product::product`] and
/// [`super::weight_step::weight_step`], which start `acc` at zero, or, for the second depth
/// chunk on, at the sums of the chunks before. `FULL` tiles read whole vectors; the others
/// only the lanes of `lanes`.
///
/// # Safety
/// As [`Vector`]; for `p < depth`, `a_r[p · a_stride]` and the kept lanes of each vector of
/// `b` at `p · b_stride` must be readable.
#[inline(always)]
unsafe fn tile<V: Vector, const NV: usize, const FULL: bool>(
    mut acc: [[V; NV]; MR],
    a: [*const f32; MR],
    a_stride: usize,
    mut b: *const f32,
    b_stride: usize,
    depth: usize,
    lanes: [Lanes<V>; NV],
) -> [[V; NV]; MR] {
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
pub(super) unsafe fn any_tile<V: Vector, const NV: usize>(
    acc: [[V; NV]; MR],
    a: [*const f32; MR],
    a_stride: usize,
    b: *const f32,
    b_stride: usize,
    depth: usize,
    lanes: [Lanes<V>; NV],
) -> [[V; NV]; MR] {
    if lanes.iter().all(|l| l.all) {
        tile::<V, NV, true>(acc, a, a_stride, b, b_stride, depth, lanes)
    } else {
        tile::<V, NV, false>(acc, a, a_stride, b, b_stride, depth, lanes)
    }
}
