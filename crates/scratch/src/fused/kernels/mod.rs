//! The arithmetic of the fused engine's passes, as a few fused kernels over row-major `f32`
//! matrices, hand-vectorised for AVX-512 and for AVX2 with FMA: written once, in `simd.rs`,
//! over each instruction set's vectors. (A CPU with neither runs the textbook engine instead.)
//!
//! Two kernels do nearly all the work:
//! - [`Kernels::product`]: `out = epilogue(lhs · rhs)`, the batch running along the rows of
//!   `rhs` and `out`. The forward pass (`Aᵀ = f(W·Xᵀ + b)`) and the backward pass to the layer
//!   below (`ΔZᵀ = (Wᵀ·ΔZᵀ) ⊙ f′`) are both this, with the bias and activation, or the
//!   activation's derivative, applied while the result is still in registers. (With several
//!   threads each computes a part of `Wᵀ·ΔZᵀ`, and [`Kernels::accumulate`] adds the parts up
//!   and applies the derivative.)
//! - [`Kernels::weight_step`]: the weight gradient `G = ΔZᵀ·A` (the sum over the batch), plus
//!   the L2 term, handed straight to the optimiser (or written out) tile by tile, so the
//!   gradient never goes to memory and the weights are read and written once. It also makes
//!   the backward product to the layer below from the weights before their update
//!   ([`Backward`]): for a batch narrower than a vector in the same pass over the weights
//!   (`narrow_step.rs`), else by [`Kernels::product`] first.
//!
//! [`Kernels::transpose`] makes the batch-major copies the weight gradient reads.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(test)]
mod conformance;
mod detect;
#[cfg(target_arch = "x86_64")]
mod narrow;
#[cfg(target_arch = "x86_64")]
mod narrow_step;
#[cfg(target_arch = "x86_64")]
mod pack;
#[cfg(target_arch = "x86_64")]
mod product;
#[cfg(test)]
mod reference;
#[cfg(target_arch = "x86_64")]
mod simd;
#[cfg(target_arch = "x86_64")]
mod step_parts;
#[cfg(target_arch = "x86_64")]
mod tile;
#[cfg(target_arch = "x86_64")]
mod vector;
#[cfg(target_arch = "x86_64")]
mod weight_step;

use std::fmt::Debug;

use contract::Activation;

use crate::fused::adam::AdamStep;

pub(crate) use detect::{avx2, avx512};

/// One implementation of the kernels. Shapes are checked by each implementation; a mismatch
/// is a bug and panics.
pub(crate) trait Kernels<T>: Sync + Debug {
    /// `out[r, c] = epilogue(Σ_p lhs(r, p) · rhs[p, c])` for `r < lhs.rows`, `c < rhs.cols`.
    fn product(
        &self,
        lhs: Lhs<'_, T>,
        rhs: Mat<'_, T>,
        out: MatMut<'_, T>,
        epilogue: Epilogue<'_, T>,
    );

    /// `out[r, c] = epilogue(Σ_p lhs[r, p] · rhs[c, p])`: [`Kernels::product`] with the right
    /// operand given transposed, `(cols, depth)`, for batches of at most
    /// [`Kernels::narrow_batch`] images, which it vectorises along the depth instead of the
    /// batch.
    fn dot_product(
        &self,
        lhs: Mat<'_, T>,
        rhs: Mat<'_, T>,
        out: MatMut<'_, T>,
        epilogue: Epilogue<'_, T>,
    );

    /// The largest batch at which the forward product along the depth
    /// ([`Kernels::dot_product`]) and the weight step row by row, with the backward product in
    /// the same pass, beat the tiles along the batch, which fill a vector only with this many
    /// images: the width of a vector.
    fn narrow_batch(&self) -> usize;

    /// One update of `weights` `(rows, cols)` by the gradient
    /// `g = Σ_i delta[r, i] · input[i, c] + decay · w[r, c]` (`i` over `delta.cols`
    /// = `input.rows`, the batch), and with `backward` its product from the weights before
    /// the update. Returns `Σ w²` of the weights afterwards when `sum_squares`, else 0.
    #[allow(clippy::too_many_arguments)]
    fn weight_step(
        &self,
        weights: MatMut<'_, T>,
        delta: Mat<'_, T>,
        input: Mat<'_, T>,
        decay: T,
        update: Update<'_, T>,
        sum_squares: bool,
        backward: Option<Backward<'_, T>>,
    ) -> f64;

    /// `dst[c, r] = src[r, c]`, and zeros in the columns of `dst` from `src.rows()` on.
    fn transpose(&self, src: Mat<'_, T>, dst: MatMut<'_, T>);

    /// `dst = src` (if `overwrite`) or `dst += src`, then, with `derivative`, `dst ⊙= f′`
    /// computed from the activations `output` (same shape).
    fn accumulate(
        &self,
        dst: MatMut<'_, T>,
        src: Mat<'_, T>,
        overwrite: bool,
        derivative: Option<(Activation, Mat<'_, T>)>,
    );
}

/// A row-major matrix view: element `(r, c)` is `data[r * ld + c]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mat<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    ld: usize,
}

impl<'a, T> Mat<'a, T> {
    /// # Panics
    /// If `data` does not hold `rows` rows of `cols` elements `ld` apart.
    pub(crate) fn new(data: &'a [T], rows: usize, cols: usize, ld: usize) -> Self {
        assert!(cols <= ld, "{cols} columns in rows {ld} apart");
        assert!(
            rows == 0 || data.len() >= (rows - 1) * ld + cols,
            "{} elements cannot hold {rows} rows of {cols} with stride {ld}",
            data.len()
        );
        Mat {
            data,
            rows,
            cols,
            ld,
        }
    }

    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    pub(crate) fn cols(&self) -> usize {
        self.cols
    }

    pub(crate) fn ld(&self) -> usize {
        self.ld
    }

    pub(crate) fn data(&self) -> &'a [T] {
        self.data
    }

    #[cfg(test)]
    pub(crate) fn row(&self, r: usize) -> &'a [T] {
        &self.data[r * self.ld..r * self.ld + self.cols]
    }
}

/// A row-major matrix to write: element `(r, c)` is `data[r * ld + c]`.
#[derive(Debug)]
pub(crate) struct MatMut<'a, T> {
    data: &'a mut [T],
    rows: usize,
    cols: usize,
    ld: usize,
}

impl<'a, T> MatMut<'a, T> {
    /// # Panics
    /// As [`Mat::new`].
    pub(crate) fn new(data: &'a mut [T], rows: usize, cols: usize, ld: usize) -> Self {
        Mat::new(&*data, rows, cols, ld);
        MatMut {
            data,
            rows,
            cols,
            ld,
        }
    }

    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    pub(crate) fn cols(&self) -> usize {
        self.cols
    }

    pub(crate) fn ld(&self) -> usize {
        self.ld
    }

    pub(crate) fn data_mut(&mut self) -> &mut [T] {
        self.data
    }

    pub(crate) fn row_mut(&mut self, r: usize) -> &mut [T] {
        &mut self.data[r * self.ld..r * self.ld + self.cols]
    }
}

/// The left operand of a product, read one element at a time:
/// `lhs(r, p) = data[r * row_stride + p * depth_stride]`. A weight matrix `W` `(out, in)` is
/// `W` with strides `(ld, 1)`, and `Wᵀ` with strides `(1, ld)`, without copying.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lhs<'a, T> {
    data: &'a [T],
    rows: usize,
    depth: usize,
    row_stride: usize,
    depth_stride: usize,
}

impl<'a, T> Lhs<'a, T> {
    /// # Panics
    /// If some element `(r, p)` with `r < rows`, `p < depth` lies outside `data`.
    pub(crate) fn new(
        data: &'a [T],
        rows: usize,
        depth: usize,
        row_stride: usize,
        depth_stride: usize,
    ) -> Self {
        assert!(
            rows == 0 || depth == 0 || (rows - 1) * row_stride + (depth - 1) * depth_stride < data.len(),
            "a {rows}×{depth} operand with strides ({row_stride}, {depth_stride}) overruns {} elements",
            data.len()
        );
        Lhs {
            data,
            rows,
            depth,
            row_stride,
            depth_stride,
        }
    }

    #[cfg(test)]
    pub(crate) fn at(&self, r: usize, p: usize) -> T
    where
        T: Copy,
    {
        self.data[r * self.row_stride + p * self.depth_stride]
    }
}

/// What [`Kernels::product`] does to each result element before storing it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Epilogue<'a, T> {
    /// Nothing.
    Store,
    /// Add `bias[r]`, then apply the activation (none for the output layer's logits).
    Bias {
        bias: &'a [T],
        activation: Option<Activation>,
    },
    /// Multiply by the activation's derivative at the pre-activation, computed from the
    /// activation's output `output[r, c]`.
    Derivative {
        activation: Activation,
        output: Mat<'a, T>,
    },
}

/// What [`Kernels::weight_step`] does with the gradient.
#[derive(Debug)]
pub(crate) enum Update<'a, T> {
    /// Write it to `out` (same shape as the weights); leave the weights as they are.
    Store { out: MatMut<'a, T> },
    /// `w -= lr · g`.
    Sgd { lr: T },
    /// Adam, with its first and second moments (same shape as the weights).
    Adam {
        step: AdamStep,
        m: MatMut<'a, T>,
        v: MatMut<'a, T>,
    },
}

/// The backward product a [`Kernels::weight_step`] makes on its way, from the weights as they
/// were before it: `out[c, j] = epilogue(Σ_r w[r, c] · delta[r, j])`, `Wᵀ·ΔZᵀ`, for the
/// `out.rows = weights.cols` inputs `c` and `j < out.cols`. Where `out` has more columns
/// than `delta` (a wide batch's products compute the padding of its rows too), the columns
/// of `delta`'s rows past its own enter the product as they are, and not the gradient.
#[derive(Debug)]
pub(crate) struct Backward<'a, T> {
    pub out: MatMut<'a, T>,
    pub epilogue: Epilogue<'a, T>,
}

/// The shape checks both product implementations make before touching memory.
fn check_product<T>(
    lhs: &Lhs<'_, T>,
    rhs: &Mat<'_, T>,
    out: &MatMut<'_, T>,
    epilogue: &Epilogue<'_, T>,
) {
    assert_eq!(
        lhs.depth, rhs.rows,
        "inner dimensions of the product differ"
    );
    assert_eq!(
        (out.rows, out.cols),
        (lhs.rows, rhs.cols),
        "the product's output has the wrong shape"
    );
    check_epilogue(out, epilogue);
}

/// The epilogue's operands have the output's shape.
fn check_epilogue<T>(out: &MatMut<'_, T>, epilogue: &Epilogue<'_, T>) {
    match epilogue {
        Epilogue::Store => {}
        Epilogue::Bias { bias, .. } => assert_eq!(bias.len(), out.rows, "one bias per row"),
        Epilogue::Derivative { output, .. } => assert_eq!(
            (output.rows, output.cols),
            (out.rows, out.cols),
            "the activations for the derivative have the wrong shape"
        ),
    }
}

/// The shape checks of [`Kernels::dot_product`] before it touches memory.
fn check_dot_product<T>(
    lhs: &Mat<'_, T>,
    rhs: &Mat<'_, T>,
    out: &MatMut<'_, T>,
    epilogue: &Epilogue<'_, T>,
) {
    assert_eq!(lhs.cols, rhs.cols, "inner dimensions of the product differ");
    assert_eq!(
        (out.rows, out.cols),
        (lhs.rows, rhs.rows),
        "the product's output has the wrong shape"
    );
    check_epilogue(out, epilogue);
}

/// The shape checks both weight-step implementations make before touching memory.
fn check_weight_step<T>(
    weights: &MatMut<'_, T>,
    delta: &Mat<'_, T>,
    input: &Mat<'_, T>,
    update: &Update<'_, T>,
    backward: &Option<Backward<'_, T>>,
) {
    assert_eq!(delta.rows, weights.rows, "one row of deltas per output");
    assert_eq!(
        input.cols, weights.cols,
        "one input column per weight column"
    );
    assert_eq!(
        delta.cols, input.rows,
        "deltas and inputs cover different batches"
    );
    let shape = (weights.rows, weights.cols);
    match update {
        Update::Store { out } => assert_eq!((out.rows, out.cols), shape, "gradient shape"),
        Update::Sgd { .. } => {}
        Update::Adam { m, v, .. } => {
            assert_eq!((m.rows, m.cols), shape, "first moment shape");
            assert_eq!((v.rows, v.cols), shape, "second moment shape");
        }
    }
    if let Some(Backward { out, epilogue }) = backward {
        assert_eq!(
            out.rows, weights.cols,
            "one row of the backward product per input"
        );
        assert!(
            out.cols >= delta.cols,
            "the backward product's {} columns against deltas of {}",
            out.cols,
            delta.cols
        );
        // The deltas' rows hold the backward product's columns.
        Mat::new(delta.data, delta.rows, out.cols, delta.ld);
        check_epilogue(out, epilogue);
    }
}

/// The shape checks both implementations of [`Kernels::accumulate`] make.
fn check_accumulate<T>(
    dst: &MatMut<'_, T>,
    src: &Mat<'_, T>,
    derivative: &Option<(Activation, Mat<'_, T>)>,
) {
    let shape = (dst.rows, dst.cols);
    assert_eq!(
        (src.rows, src.cols),
        shape,
        "accumulate: shape of the source"
    );
    if let Some((_, output)) = derivative {
        assert_eq!(
            (output.rows, output.cols),
            shape,
            "accumulate: shape of the activations"
        );
    }
}

/// The shape checks both transpose implementations make before touching memory.
fn check_transpose<T>(src: &Mat<'_, T>, dst: &MatMut<'_, T>) {
    assert_eq!(dst.rows, src.cols, "transpose: rows of the result");
    assert!(dst.cols >= src.rows, "transpose: columns of the result");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "cannot hold")]
    fn a_matrix_larger_than_its_data_is_refused() {
        Mat::new(&[0.0f32; 10], 3, 4, 4);
    }
}
