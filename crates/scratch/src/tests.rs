//! Whole-network checks: the textbook engine's gradient against finite differences in `f64`,
//! and the fused `f32` network, on each set of kernels (AVX2, AVX-512; ignored where the CPU
//! lacks the set), against the `f64` textbook engine on small, oddly shaped networks. (The full-size, real-data,
//! step-by-step comparison is `tests/oracle.rs`.)

use contract::{Activation, ModelConfig, Optimizer, INPUT_SIZE};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use testkit::assert_close;

use crate::engine::Engine;
use crate::fused::kernels::Kernels;
use crate::fused::Network;
use crate::init::xavier;
use crate::textbook::{self, Textbook};

const ACTIVATIONS: [Activation; 3] = [Activation::Sigmoid, Activation::Tanh, Activation::Relu];

/// The `f32` kernels of `engine`, in a test that was not ignored, so the build found them on
/// this CPU (`build.rs`); a build run on another CPU fails here rather than passing unchecked.
fn kernels_of(engine: Engine) -> &'static dyn Kernels<f32> {
    engine.kernels().unwrap_or_else(|| {
        panic!(
            "the build found {} on the CPU and this CPU lacks it \
             (a build from another machine? `cargo clean -p scratch`)",
            engine.needs()
        )
    })
}

/// `m` images of uniform pixels in [0, 1) and uniform labels.
fn batch(m: usize, seed: u64) -> (Array2<f32>, Array1<u8>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let images = Array2::from_shape_fn((m, INPUT_SIZE), |_| rng.gen::<f32>());
    let labels = Array1::from_shape_fn(m, |_| rng.gen_range(0..10u8));
    (images, labels)
}

/// Every weight and bias gradient of the textbook engine on a 784-3-4-10 network, for each
/// activation, with and without L2, against central differences of its loss in `f64` (h =
/// 1e-5: truncation error about h² ≈ 1e-10 of the third derivative, rounding about 1e-16/h ≈
/// 1e-11). The relative error must be below 1e-6; the absolute floor of 1e-9 only covers
/// gradients that are themselves below the finite differences' resolution.
#[test]
fn textbook_gradients_match_finite_differences_in_f64() {
    let (images, labels) = batch(7, 1);
    let x = images.mapv(f64::from);
    let h = 1e-5;
    for activation in ACTIVATIONS {
        for l2 in [0.0, 0.3] {
            let config = ModelConfig::new(&[3, 4], activation, Optimizer::Sgd { lr: 0.1 }, l2);
            let mut params = xavier(&config.layer_sizes(), 2);
            // Nonzero biases, so that no ReLU sits at its kink and the biases matter.
            for (l, layer) in params.iter_mut().enumerate() {
                for (j, b) in layer.bias.iter_mut().enumerate() {
                    *b = 0.1 * (j as f32 + 1.0) * if l % 2 == 0 { 1.0 } else { -1.0 };
                }
            }
            let model = Textbook::<f64>::from_parameters(&config, &params);
            let (_, gradient, _) = model.gradient(images.view(), labels.view());
            let mut layers = model.layers().to_vec();
            let loss_at = |layers: &[textbook::Dense<f64>]| {
                let pass = textbook::forward(layers, activation, x.clone());
                let logits = pass.pre_activations[layers.len() - 1].view();
                textbook::loss(layers, f64::from(l2), logits, labels.view())
            };
            let numeric = |layers: &mut [textbook::Dense<f64>], l: usize, bias: bool, i: usize| {
                let w = *parameter(layers, l, bias, i);
                *parameter(layers, l, bias, i) = w + h;
                let up = loss_at(layers);
                *parameter(layers, l, bias, i) = w - h;
                let down = loss_at(layers);
                *parameter(layers, l, bias, i) = w;
                (up - down) / (2.0 * h)
            };
            for (l, g) in gradient.iter().enumerate() {
                for (bias, analytic) in [
                    (false, g.weight.as_slice().expect("standard layout")),
                    (true, g.bias.as_slice().expect("standard layout")),
                ] {
                    let numeric: Vec<f64> = (0..analytic.len())
                        .map(|i| numeric(&mut layers, l, bias, i))
                        .collect();
                    let what = format!(
                        "{activation:?}, l2 {l2}: layer {l} {}",
                        if bias { "biases" } else { "weights" }
                    );
                    assert_close(&what, analytic, &numeric, 1e-6, 1e-9);
                }
            }
        }
    }
}

/// Weight `i` of layer `l`'s `(out, in)` weights, row-major, or bias `i` if `bias`.
fn parameter(layers: &mut [textbook::Dense<f64>], l: usize, bias: bool, i: usize) -> &mut f64 {
    let layer = &mut layers[l];
    if bias {
        &mut layer.bias[i]
    } else {
        let cols = layer.weight.ncols();
        &mut layer.weight[[i / cols, i % cols]]
    }
}

#[test]
#[cfg_attr(
    not(test_avx2),
    ignore = "needs AVX2 and FMA (absent here or in SCRATCH_TEST_DISABLE)"
)]
fn the_f32_gradient_matches_the_f64_one_on_avx2() {
    f32_gradient_matches_the_f64_one(Engine::Avx2);
}

#[test]
#[cfg_attr(
    not(test_avx512),
    ignore = "needs AVX-512F (absent here or in SCRATCH_TEST_DISABLE)"
)]
fn the_f32_gradient_matches_the_f64_one_on_avx512() {
    f32_gradient_matches_the_f64_one(Engine::Avx512);
}

/// The fused `f32` network's gradient, on `engine`'s kernels, agrees with the `f64` textbook
/// engine's to f32 rounding, with and without L2, on layer widths and a batch size (37) that
/// leave partial tiles and padding everywhere.
fn f32_gradient_matches_the_f64_one(engine: Engine) {
    let kernels = kernels_of(engine);
    let (images, labels) = batch(37, 3);
    for activation in ACTIVATIONS {
        for l2 in [0.0, 0.5] {
            let config = ModelConfig::new(&[40, 17], activation, Optimizer::Sgd { lr: 0.1 }, l2);
            let params = xavier(&config.layer_sizes(), 4);
            let (loss32, g32) =
                Network::new(&config, &params, kernels).gradient(images.view(), labels.view());
            let (loss64, g64, _) = Textbook::<f64>::from_parameters(&config, &params)
                .gradient(images.view(), labels.view());
            let what = format!("{engine}, {activation:?}, l2 {l2}");
            // Measured worst, for every kernel set: 7% of these bounds (the loss of a ReLU
            // network: 1.6e-7 at 2.28, against 8e-8 with the portable kernels).
            assert_close(
                &format!("{what}: loss"),
                &[f64::from(loss32)],
                &[loss64],
                1e-6,
                0.0,
            );
            for (l, want) in g64.iter().enumerate() {
                let widen = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
                assert_close(
                    &format!("{what}: ∇W{l}"),
                    &widen(&g32.weights[l]),
                    want.weight.as_slice().expect("standard layout"),
                    1e-4,
                    1e-6,
                );
                assert_close(
                    &format!("{what}: ∇b{l}"),
                    &widen(&g32.biases[l]),
                    want.bias.as_slice().expect("standard layout"),
                    1e-4,
                    1e-6,
                );
            }
        }
    }
}

#[test]
#[cfg_attr(
    not(test_avx2),
    ignore = "needs AVX2 and FMA (absent here or in SCRATCH_TEST_DISABLE)"
)]
fn f32_training_tracks_f64_training_on_avx2() {
    f32_training_tracks_f64_training(Engine::Avx2);
}

#[test]
#[cfg_attr(
    not(test_avx512),
    ignore = "needs AVX-512F (absent here or in SCRATCH_TEST_DISABLE)"
)]
fn f32_training_tracks_f64_training_on_avx512() {
    f32_training_tracks_f64_training(Engine::Avx512);
}

/// Training in `f32` (fused SGD and Adam updates, with and without L2), on `engine`'s
/// kernels, tracks the textbook engine's training in `f64` step by step: the same losses
/// within 1e-4 relative and the same parameters within 1e-4 after 30 steps.
fn f32_training_tracks_f64_training(engine: Engine) {
    let kernels = kernels_of(engine);
    let batches: Vec<_> = (0..30)
        .map(|s| batch(if s % 3 == 2 { 21 } else { 48 }, 10 + s))
        .collect();
    for activation in ACTIVATIONS {
        for optimizer in [Optimizer::Sgd { lr: 0.1 }, Optimizer::adam(1e-3)] {
            for l2 in [0.0, 0.2] {
                let config = ModelConfig::new(&[64, 30], activation, optimizer, l2);
                let params = xavier(&config.layer_sizes(), 5);
                let (mut n32, mut n64) = (
                    Network::new(&config, &params, kernels),
                    Textbook::<f64>::from_parameters(&config, &params),
                );
                let what = format!("{engine}, {activation:?}, {optimizer:?}, l2 {l2}");
                // Measured worst: 4% of these bounds with AVX2 and AVX-512, 19% with the
                // portable kernels (Adam on sigmoid, first layer's weights: 4.3e-6 and
                // 1.9e-5), as Adam's √v amplifies differences in small gradients.
                for (step, (images, labels)) in batches.iter().enumerate() {
                    let l32 = n32.train_step(images.view(), labels.view());
                    let l64 = n64.train_step(images.view(), labels.view());
                    let what = format!("{what}, step {step} loss");
                    assert_close(&what, &[f64::from(l32)], &[l64], 1e-4, 0.0);
                }
                for (l, (p32, p64)) in n32.parameters().iter().zip(n64.parameters()).enumerate() {
                    let what = format!("{what}, layer {l}");
                    assert_close(
                        &format!("{what} weights"),
                        &p32.weight,
                        &p64.weight,
                        0.0,
                        1e-4,
                    );
                    assert_close(&format!("{what} biases"), &p32.bias, &p64.bias, 0.0, 1e-4);
                }
            }
        }
    }
}
