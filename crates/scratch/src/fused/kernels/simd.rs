//! The `f32` kernels written once over a vector type (`vector.rs`), which `avx2.rs` implements
//! with 8-lane AVX2/FMA registers and `avx512.rs` with 16-lane AVX-512 ones; each instruction
//! set compiles these functions inside its own `#[target_feature]` entry points (see
//! [`vectorised_kernels`]), where everything here is inlined.
//!
//! The product (`product.rs`) and the weight gradient (`weight_step.rs`) keep a tile of
//! `MR × NV` vectors of results in registers (`tile.rs`): per step of the inner loop they load
//! `NV` vectors of the right operand, broadcast `MR` scalars of the left one and issue `MR·NV`
//! FMAs, so they are bound by the FMA units rather than by loads. `NV` is chosen per
//! instruction set to fit its register file. Tiles that reach past the last column use masked
//! loads and stores (masked-off lanes do not fault); full ones, all of them at the network's
//! padded batch widths, plain ones. Rows past the end repeat the last row. Pointers are
//! offset with `wrapping_add`, as a masked-off vector may start past the end.
//!
//! This file holds the two small kernels that move data rather than multiply ([`accumulate`],
//! [`transpose`]) and the macro that makes a kernel set of all of them for one instruction set.

use contract::Activation;

use super::vector::{derivative_from_output, Lanes, Vector};
use super::{Mat, MatMut};

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
                    super::product::product::<$vector, $nv>(lhs, rhs, out, epilogue)
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
                backward: Option<super::Backward<'_, f32>>,
            ) -> f64 {
                super::check_weight_step(&weights, &delta, &input, &update, &backward);
                #[target_feature(enable = $features)]
                unsafe fn run(
                    weights: super::MatMut<'_, f32>,
                    delta: super::Mat<'_, f32>,
                    input: super::Mat<'_, f32>,
                    decay: f32,
                    update: super::Update<'_, f32>,
                    sum_squares: bool,
                    backward: Option<super::Backward<'_, f32>>,
                ) -> f64 {
                    super::weight_step::weight_step::<$vector, $nv>(
                        weights,
                        delta,
                        input,
                        decay,
                        update,
                        sum_squares,
                        backward,
                    )
                }
                // SAFETY: as in `product`.
                unsafe { run(weights, delta, input, decay, update, sum_squares, backward) }
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
