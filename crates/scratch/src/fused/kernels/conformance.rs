//! The checks every hand-vectorised `f32` kernel set must pass, whatever its instruction set:
//! each kernel against the scalar reference, on shapes that leave partial tiles everywhere, and
//! the vectorised exponential and activations against the scalar ones. The tests of each set
//! (in its own file) call these; where the CPU lacks the set they are ignored (`build.rs`).

use contract::Activation;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use testkit::assert_close;

use super::reference::Reference;
use super::{Backward, Epilogue, Kernels, Lhs, Mat, MatMut, Update};
use crate::fused::adam::AdamStep;

/// A vectorised function a kernel set implements, to check on its own.
#[derive(Debug, Clone, Copy)]
pub(super) enum Function {
    Exp,
    Expm1,
    Activate(Activation),
}

/// The tests of one kernel set, from `$detect`, the set if this CPU can run it. Each is
/// ignored where the build found the CPU without the set (`$tested`, a cfg of `build.rs`),
/// saying `$missing`.
macro_rules! kernel_set_tests {
    ($detect:expr, $tested:ident, $missing:literal) => {
        #[test]
        #[cfg_attr(not($tested), ignore = $missing)]
        fn product_matches_the_reference_kernel() {
            let kernels = conformance::present($detect);
            conformance::product_matches_the_reference_kernel(kernels);
        }

        #[test]
        #[cfg_attr(not($tested), ignore = $missing)]
        fn accumulate_matches_the_reference_kernel() {
            let kernels = conformance::present($detect);
            conformance::accumulate_matches_the_reference_kernel(kernels);
        }

        #[test]
        #[cfg_attr(not($tested), ignore = $missing)]
        fn transpose_matches_the_reference_kernel() {
            let kernels = conformance::present($detect);
            conformance::transpose_matches_the_reference_kernel(kernels);
        }

        #[test]
        #[cfg_attr(not($tested), ignore = $missing)]
        fn weight_step_matches_the_reference_kernel_for_every_update() {
            let kernels = conformance::present($detect);
            conformance::weight_step_matches_the_reference_kernel_for_every_update(kernels);
        }
    };
}
pub(super) use kernel_set_tests;

/// The kernel set of a test that was not ignored, so the build found its instruction set on
/// this CPU; a build run on another CPU fails here rather than passing unchecked.
pub(super) fn present<K>(detected: Option<K>) -> K {
    detected.expect(
        "the build found this kernel set's instruction set on the CPU and this CPU lacks it \
         (a build from another machine? `cargo clean -p scratch`)",
    )
}

fn random(rng: &mut ChaCha8Rng, len: usize, scale: f32) -> Vec<f32> {
    (0..len).map(|_| rng.gen_range(-scale..scale)).collect()
}

/// Shapes `(rows, cols, depth)` that cover full tiles, row tails (1–5 rows), column tails and
/// both strides, batches narrower than a vector (1, 3, 5, 8 columns), for which the forward
/// product vectorises along the depth and the weight step goes row by row, and operands wide
/// and deep enough to be
/// packed (from 128 columns for the product, a depth of 128 for the weight step, and 48
/// rows), over more than one row block (48 rows), depth chunk (256 for AVX2, 64 for AVX-512)
/// and, for AVX2, column block (256 columns; AVX-512's are 1024), none of them whole; and, for
/// the narrow weight step, which takes rows four at a time, a group of three rows with a column
/// tail, and none at all (a thread's share of a layer can be empty).
const SHAPES: [(usize, usize, usize); 13] = [
    (6, 64, 7),
    (13, 100, 30),
    (1, 16, 1),
    (25, 130, 64),
    (10, 20, 5),
    (37, 1, 100),
    (50, 3, 33),
    (9, 8, 17),
    (30, 5, 250),
    (53, 150, 300),
    (50, 300, 600),
    (7, 37, 3),
    (0, 20, 2),
];

/// `apply(f, x)` is the kernel set's `f` on each of `lanes` elements `x` (one vector).
pub(super) fn vector_functions_match_the_scalar_ones(
    lanes: usize,
    apply: &dyn Fn(Function, &[f32]) -> Vec<f32>,
) {
    let apply = |f, xs: &[f32]| -> Vec<f32> {
        xs.chunks(lanes)
            .flat_map(|chunk| {
                let mut vector = chunk.to_vec();
                vector.resize(lanes, 0.0);
                apply(f, &vector)[..chunk.len()].to_vec()
            })
            .collect()
    };
    // exp is compared where it is finite; the activations also at ±1000.
    let finite: Vec<f32> = (-1740..=1760)
        .map(|i| i as f32 * 0.05)
        .chain([1e-7, -3e-6])
        .collect();
    let xs: Vec<f32> = finite
        .iter()
        .copied()
        .chain([-1000.0, -100.0, 100.0, 1000.0])
        .collect();
    // Bounds: the polynomial's 2e-8 plus a few roundings. Measured worst, AVX2 and AVX-512
    // alike: exp 1.2e-7 relative, expm1 1.2e-7, sigmoid 1.6e-7, tanh 1.8e-7 (that is, 1 to 2
    // ulp); the 1e-37 floor covers sigmoid's results in the subnormal range.
    let want: Vec<f32> = finite.iter().map(|&x| f64::from(x).exp() as f32).collect();
    assert_close("exp", &apply(Function::Exp, &finite), &want, 3e-7, 0.0);
    let want: Vec<f32> = finite
        .iter()
        .map(|&x| f64::from(x).exp_m1() as f32)
        .collect();
    assert_close("expm1", &apply(Function::Expm1, &finite), &want, 3e-7, 0.0);
    for f in [Activation::Sigmoid, Activation::Tanh, Activation::Relu] {
        let want: Vec<f32> = xs
            .iter()
            .map(|&x| crate::textbook::activate(f, x))
            .collect();
        let got = apply(Function::Activate(f), &xs);
        assert_close(&format!("{f:?}"), &got, &want, 4e-7, 1e-37);
    }
}

pub(super) fn product_matches_the_reference_kernel(kernels: &dyn Kernels<f32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for (rows, cols, depth) in SHAPES {
        let ld = cols.next_multiple_of(16);
        let rhs = random(&mut rng, depth * ld, 1.0);
        let bias = random(&mut rng, rows, 1.0);
        let outputs = random(&mut rng, rows * ld, 1.0);
        // W (rows, depth) read as is, and Wᵀ of a (depth, rows) matrix read transposed.
        let w = random(&mut rng, rows * depth, 0.5);
        for lhs in [
            Lhs::new(&w, rows, depth, depth, 1),
            Lhs::new(&w, rows, depth, 1, rows),
        ] {
            let epilogues = [
                None,
                Some(Activation::Sigmoid),
                Some(Activation::Tanh),
                Some(Activation::Relu),
            ]
            .map(|activation| Epilogue::Bias {
                bias: &bias,
                activation,
            })
            .into_iter()
            .chain(
                [Activation::Sigmoid, Activation::Tanh, Activation::Relu].map(|activation| {
                    Epilogue::Derivative {
                        activation,
                        output: Mat::new(&outputs, rows, cols, ld),
                    }
                }),
            )
            .chain([Epilogue::Store]);
            for epilogue in epilogues {
                let (mut got, mut want) = (vec![f32::NAN; rows * ld], vec![f32::NAN; rows * ld]);
                let rhs = Mat::new(&rhs, depth, cols, ld);
                kernels.product(lhs, rhs, MatMut::new(&mut got, rows, cols, ld), epilogue);
                Reference.product(lhs, rhs, MatMut::new(&mut want, rows, cols, ld), epilogue);
                let what = format!(
                    "{rows}×{cols}×{depth}, strides ({}, {}), {epilogue:?}",
                    lhs.row_stride, lhs.depth_stride
                );
                assert_same_product(&what, &got, &want, cols, ld);
                if lhs.depth_stride == 1 {
                    // The same product with the right operand transposed, `(cols, depth)`.
                    let rhs_t: Vec<f32> = (0..cols)
                        .flat_map(|c| (0..depth).map(move |p| rhs.row(p)[c]))
                        .collect();
                    let mut dot = vec![f32::NAN; rows * ld];
                    kernels.dot_product(
                        Mat::new(&w, rows, depth, depth),
                        Mat::new(&rhs_t, cols, depth, depth),
                        MatMut::new(&mut dot, rows, cols, ld),
                        epilogue,
                    );
                    assert_same_product(&format!("dot_product {what}"), &dot, &want, cols, ld);
                }
            }
        }
    }
}

/// `got` and `want`, `(rows, cols)` results `ld` apart, agree; nothing was written past the
/// columns asked for (`got` started as NaN).
fn assert_same_product(what: &str, got: &[f32], want: &[f32], cols: usize, ld: usize) {
    let keep =
        |v: &[f32]| -> Vec<f32> { v.chunks(ld).flat_map(|row| row[..cols].to_vec()).collect() };
    // Measured worst: 5% of this bound (7.7e-7 at 0.50) for the tiled products, which sum in
    // the same order as the reference, the vectorised exp differing by 1–2 ulp; 10% (AVX2,
    // `dot_product` 30×5×250, summing along the depth in another order) for the narrow ones.
    assert_close(what, &keep(got), &keep(want), 1e-5, 1e-5);
    assert!(got
        .chunks(ld)
        .all(|row| row[cols..].iter().all(|x| x.is_nan())));
}

pub(super) fn accumulate_matches_the_reference_kernel(kernels: &dyn Kernels<f32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let (rows, cols, ld) = (7, 37, 48);
    let src = random(&mut rng, rows * ld, 1.0);
    let start = random(&mut rng, rows * ld, 1.0);
    let outputs = random(&mut rng, rows * ld, 1.0);
    let derivatives = [
        None,
        Some(Activation::Sigmoid),
        Some(Activation::Tanh),
        Some(Activation::Relu),
    ];
    for overwrite in [false, true] {
        for derivative in derivatives {
            let derivative = derivative.map(|f| (f, Mat::new(&outputs, rows, cols, ld)));
            let (mut got, mut want) = (start.clone(), start.clone());
            let src = Mat::new(&src, rows, cols, ld);
            kernels.accumulate(
                MatMut::new(&mut got, rows, cols, ld),
                src,
                overwrite,
                derivative,
            );
            Reference.accumulate(
                MatMut::new(&mut want, rows, cols, ld),
                src,
                overwrite,
                derivative,
            );
            let what = format!("overwrite {overwrite}, {:?}", derivative.map(|d| d.0));
            // The padding beyond `cols` is left alone by both. (1 − a² is fused here, so
            // it differs by rounding where it cancels, for a near ±1.) Measured worst: 22% of
            // this bound (2.8e-8 at 0.029).
            assert_close(&what, &got, &want, 1e-6, 1e-7);
        }
    }
}

pub(super) fn transpose_matches_the_reference_kernel(kernels: &dyn Kernels<f32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for (rows, cols) in [
        (16usize, 16usize),
        (64, 784),
        (37, 500),
        (3, 20),
        (20, 3),
        (64, 10),
    ] {
        let (ld, dst_cols) = (cols + 5, rows.next_multiple_of(16));
        let src = random(&mut rng, rows * ld, 1.0);
        let (mut got, mut want) = (
            vec![f32::NAN; cols * dst_cols],
            vec![f32::NAN; cols * dst_cols],
        );
        let src = Mat::new(&src, rows, cols, ld);
        kernels.transpose(src, MatMut::new(&mut got, cols, dst_cols, dst_cols));
        Reference.transpose(src, MatMut::new(&mut want, cols, dst_cols, dst_cols));
        assert_close(&format!("{rows}×{cols} transposed"), &got, &want, 0.0, 0.0);
    }
}

pub(super) fn weight_step_matches_the_reference_kernel_for_every_update(
    kernels: &dyn Kernels<f32>,
) {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    for (rows, cols, batch) in SHAPES {
        let ld = cols.next_multiple_of(16);
        let delta = random(&mut rng, rows * batch, 0.1);
        let input = random(&mut rng, batch * ld, 1.0);
        let weights = random(&mut rng, rows * ld, 0.5);
        let moments = [
            random(&mut rng, rows * ld, 0.1),
            random(&mut rng, rows * ld, 0.1)
                .iter()
                .map(|x| x * x)
                .collect(),
        ];
        // The backward product `(cols, batch)`, and the activations of its derivative.
        let below_ld = batch.next_multiple_of(16);
        let outputs = random(&mut rng, cols * below_ld, 1.0);
        let backwards = [
            None,
            Some(Epilogue::Store),
            Some(Epilogue::Derivative {
                activation: Activation::Relu,
                output: Mat::new(&outputs, cols, batch, below_ld),
            }),
            Some(Epilogue::Derivative {
                activation: Activation::Tanh,
                output: Mat::new(&outputs, cols, batch, below_ld),
            }),
        ];
        let step = AdamStep::new(1e-3, 0.9, 0.999, 1e-8, 3);
        for kind in 0..3 {
            let run = |kernels: &dyn Kernels<f32>, backward: Option<Epilogue<'_, f32>>| {
                let (mut w, mut out) = (weights.clone(), vec![0.0; rows * ld]);
                let [mut m, mut v] = moments.clone();
                let mut below = vec![f32::NAN; cols * below_ld];
                let update = match kind {
                    0 => Update::Store {
                        out: MatMut::new(&mut out, rows, cols, ld),
                    },
                    1 => Update::Sgd { lr: 0.1 },
                    _ => Update::Adam {
                        step,
                        m: MatMut::new(&mut m, rows, cols, ld),
                        v: MatMut::new(&mut v, rows, cols, ld),
                    },
                };
                let backward = backward.map(|epilogue| Backward {
                    out: MatMut::new(&mut below, cols, batch, below_ld),
                    epilogue,
                });
                let squares = kernels.weight_step(
                    MatMut::new(&mut w, rows, cols, ld),
                    Mat::new(&delta, rows, batch, batch),
                    Mat::new(&input, batch, cols, ld),
                    0.01,
                    update,
                    true,
                    backward,
                );
                (squares, [w, out, m, v], below)
            };
            let (alone_squares, alone, _) = run(kernels, None);
            for backward in backwards {
                let (got_squares, got, got_below) = run(kernels, backward);
                let (want_squares, want, want_below) = run(&Reference, backward);
                let what = format!("{rows}×{cols}, batch {batch}, update {kind}, {backward:?}");
                for (name, ((got, want), alone)) in ["weights", "gradient", "m", "v"]
                    .iter()
                    .zip(got.iter().zip(&want).zip(&alone))
                {
                    // Measured worst: 7% of this bound (9.1e-8 at 0.031, FMA against separate
                    // rounding of the decay term).
                    assert_close(&format!("{what}: {name}"), got, want, 1e-5, 1e-6);
                    // Making the backward product on the way changes nothing in the step.
                    assert_close(&format!("{what}: {name}, alone"), got, alone, 0.0, 0.0);
                }
                assert_close(
                    &format!("{what}: Σw²"),
                    &[got_squares],
                    &[want_squares],
                    1e-5,
                    0.0,
                );
                // Summed in another order: the narrow step goes through the columns a vector
                // at a time with the product, two without. Measured worst: 5.6e-8 relative.
                assert_close(
                    &format!("{what}: Σw², alone"),
                    &[got_squares],
                    &[alone_squares],
                    1e-6,
                    0.0,
                );
                if backward.is_some() {
                    // The bound and the worst value of the product's.
                    let what = format!("{what}: backward product");
                    assert_same_product(&what, &got_below, &want_below, batch, below_ld);
                }
            }
        }
    }
}
