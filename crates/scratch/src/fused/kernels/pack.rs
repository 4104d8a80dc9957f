//! The right operand of the tiled kernels, packed for wide batches: copied once per call into
//! column panels one tile wide, each panel's rows contiguous, so that the inner loop of a tile
//! reads one unbroken stream rather than one cache line from each of `depth` rows far apart.
//! The kernels then go through a panel in depth chunks that stay in L1 while a row block's
//! tiles use them (`tile::depth_chunks`), and the product through its columns in blocks whose
//! chunk stays in L2 while every row block uses it (`tile::column_blocks`).
//!
//! Without packing, a tile's column strip of the operand is `depth` cache lines one row stride
//! apart. The weight step's operand is a layer's input batch-major, whose row stride is the
//! layer's padded width: 512 and 256 floats, 2 KB and 1 KB for the default network, so the
//! strip of a batch of 1024 falls in 2 or 4 of L1's 64 sets and 64 or 128 of L2's 1024, and is
//! read from L3 again by each of a row block's tiles. Simulated (callgrind, 32 KB L1 and
//! 512 KB L2, one step at batch 1024), packing takes the weight step's L1 misses from 8.1M to
//! 4.3M and its L2 misses from 2.3M to 1.1M, and the product's from 10.4M to 5.8M and 1.7M to
//! 1.3M. The packing is one pass over the operand, against `rows` multiply-adds per element,
//! so it pays wherever the operand is too deep to stay in cache unpacked; at batch 64 the
//! strips stay in L2 (64 rows of 64 bytes) and packing would only add the copy.

use std::cell::RefCell;

use super::tile::{tile_lanes, ROW_BLOCK};
use super::vector::{Lanes, Vector};
use super::Mat;
use crate::fused::buffer::Buffer;

/// The depth (rows of the right operand: the batch in the weight step) and the width (its
/// columns: the batch in the products) from which the kernels pack it. Below it the strips
/// stay in L2 unpacked; see the module docs.
const PACK_FROM: usize = 128;

/// Whether a tiled kernel packs its right operand: when it is wide (product) or deep (weight
/// step) enough, `extent` at least [`PACK_FROM`], and the result has at least a row block of
/// rows ([`ROW_BLOCK`]) to go through each panel. With fewer (the output layer's 10, 5 a
/// thread on two), each strip is read a few times only, and the copy would cost about as
/// much as it saves.
pub(super) fn packs(extent: usize, rows: usize) -> bool {
    extent >= PACK_FROM && rows >= ROW_BLOCK
}

/// Which of a thread's kept buffers: the panels of [`Rhs`], or the [`Partials`] (one at a
/// time: no kernel uses two).
const PANELS: usize = 0;
const PARTIALS: usize = 1;

thread_local! {
    /// Each thread's buffers, kept between calls so that a call does not allocate; grown to
    /// the largest operand seen.
    static KEPT: RefCell<[Option<Buffer<f32>>; 2]> = const { RefCell::new([None, None]) };
}

/// This thread's kept buffer `slot`, of at least `len` elements, holding whatever its last
/// user left (a fresh one is zero).
fn take(slot: usize, len: usize) -> Buffer<f32> {
    KEPT.with(|kept| kept.borrow_mut()[slot].take())
        .filter(|b| b.len() >= len)
        .unwrap_or_else(|| Buffer::zeros(len))
}

/// Hands `buffer` back to this thread for the next call.
fn keep(slot: usize, buffer: Buffer<f32>) {
    KEPT.with(|kept| kept.borrow_mut()[slot] = Some(buffer));
}

/// A tiled kernel's right operand, `depth × cols`, as its tiles read it: where the tile of
/// `width` columns from column `c0` starts, the stride between its rows, and which lanes its
/// loads keep.
pub(super) struct Rhs<'a> {
    src: Mat<'a, f32>,
    width: usize,
    /// The panels, one after another, `depth × width` each, zeros past the last column;
    /// `None`: the tiles read `src` itself.
    panels: Option<Buffer<f32>>,
}

impl<'a> Rhs<'a> {
    /// `src` read by tiles of `NV` vectors: packed into panels when `pack`. The copy goes a
    /// vector at a time, masked past the last column so that the panel gets zeros there (a
    /// slice copy of each row's 64 bytes was a call to `memmove`, 7% of a step at batch
    /// 1024). No closure here: the vector operations stay in the caller's instruction set.
    ///
    /// # Safety
    /// As [`Vector`].
    #[inline(always)]
    pub(super) unsafe fn new<V: Vector, const NV: usize>(src: Mat<'a, f32>, pack: bool) -> Self {
        let width = V::LANES * NV;
        if !pack || src.rows() == 0 {
            return Rhs {
                src,
                width,
                panels: None,
            };
        }
        let (depth, cols, ld) = (src.rows(), src.cols(), src.ld());
        let len = cols.div_ceil(width) * width * depth;
        let mut panels = take(PANELS, len);
        let (from, to) = (src.data().as_ptr(), panels.as_mut_slice().as_mut_ptr());
        for (j, c0) in (0..cols).step_by(width).enumerate() {
            let lanes = tile_lanes::<V, NV>(cols - c0);
            let panel = to.add(j * width * depth);
            for p in 0..depth {
                let (row_from, row_to) = (from.wrapping_add(p * ld + c0), panel.add(p * width));
                for (k, lanes) in lanes.iter().enumerate() {
                    let v = k * V::LANES;
                    V::load_masked(row_from.wrapping_add(v), lanes.mask).store(row_to.add(v));
                }
            }
        }
        Rhs {
            src,
            width,
            panels: Some(panels),
        }
    }

    /// Where the tile from row `p0` and column `c0` starts, the stride between its rows, and
    /// the lanes its loads keep, when its own lanes (those it stores) are `lanes`: a packed
    /// tile loads whole vectors, as its panel holds zeros past the last column.
    ///
    /// # Safety
    /// As [`Vector`].
    #[inline(always)]
    pub(super) unsafe fn tile<V: Vector, const NV: usize>(
        &self,
        p0: usize,
        c0: usize,
        lanes: [Lanes<V>; NV],
    ) -> (*const f32, usize, [Lanes<V>; NV]) {
        match &self.panels {
            Some(panels) => {
                let start = (c0 / self.width * self.src.rows() + p0) * self.width;
                let all = std::array::from_fn(|_| Lanes::first(V::LANES));
                (panels.as_slice()[start..].as_ptr(), self.width, all)
            }
            None => (
                self.src
                    .data()
                    .as_ptr()
                    .wrapping_add(p0 * self.src.ld() + c0),
                self.src.ld(),
                lanes,
            ),
        }
    }
}

impl Drop for Rhs<'_> {
    /// Hands the panels back to the thread for its next call.
    fn drop(&mut self) {
        if let Some(panels) = self.panels.take() {
            keep(PANELS, panels);
        }
    }
}

/// Sums so far, `rows × ld`, that a kernel keeps where its output cannot hold them: a tiled
/// kernel's sums of a block of tiles between one depth chunk and the next, or the narrow
/// weight step's backward product, batch-major, over the rows gone through.
pub(super) struct Partials {
    buffer: Option<Buffer<f32>>,
    ld: usize,
}

impl Partials {
    /// `ld` is a whole number of tiles wide, so that every vector of every tile fits.
    pub(super) fn new(rows: usize, ld: usize) -> Self {
        Partials {
            buffer: Some(take(PARTIALS, rows * ld)),
            ld,
        }
    }

    pub(super) fn ld(&self) -> usize {
        self.ld
    }

    pub(super) fn as_mut_ptr(&mut self) -> *mut f32 {
        self.buffer
            .as_mut()
            .expect("the buffer is handed back only on drop")
            .as_mut_slice()
            .as_mut_ptr()
    }
}

impl Drop for Partials {
    fn drop(&mut self) {
        if let Some(buffer) = self.buffer.take() {
            keep(PARTIALS, buffer);
        }
    }
}
