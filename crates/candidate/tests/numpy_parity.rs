//! A correct NumPy MLP (`tests/models/numpy_mlp.py`, float32, and its float64 copy) through
//! the NumPy adapter against libtorch, teacher-forced on real MNIST in file order, its own
//! optimiser (SGD for sigmoid, Adam otherwise) checked at every step too, the last step an
//! epoch's short batch of 32 (the run's training set is the first `64·(steps − 1) + 32`
//! images): once on the default network (784-500-250-100-10) over 200 steps, and for every
//! activation, with and without L2, in float32 and float64, over 40 steps on a small network
//! of the same depth (784-64-32-16-10), a tenth of the cost a step.
//!
//! The bound is `parity::DEFAULT_BOUND`, 1e-5 of each tensor's largest |gradient| (of the
//! loss; of the tensor's largest |parameter| after the update). Worst measured (gradient,
//! loss, update; a 2-core AMD EPYC Zen 3, NumPy 2.4): the default network 1.1e-6, 2.1e-7,
//! 2.7e-6 (earlier 200-step runs of every activation there: at most 1.6e-6, 4.2e-7, 2.8e-6);
//! the small network, float32, at most 6.6e-7 (sigmoid), 1.8e-7, 2.7e-6; float64 5.6e-7,
//! 2.0e-7, 2.7e-6; SGD's update 0 (the same two roundings as libtorch's). That is what f32
//! rounding leaves, as scratch's own figures against libtorch (torchref's
//! `gradient_parity.rs`): float64 gains little because libtorch's side is float32. Adam's
//! update differs most where a moment is tiny and `m/(√v + ε)` magnifies the last bit of
//! either; still 3.7× inside the bound, the gradients 9×, while a wrong formula exceeds it
//! 100-fold or more (`planted_bugs.rs`).

mod common;

use std::time::Duration;

use common::{config, numpy, teacher_forced, Found, DEFAULT_HIDDEN};
use contract::Activation;

const LAMBDA: f32 = 0.8;
const SMALL: [usize; 3] = [64, 32, 16];
const SMALL_STEPS: usize = 40;

fn assert_within(model: &str, hidden: &[usize], activation: Activation, l2: f32, steps: usize) {
    let config = config(hidden, activation, l2);
    let mut candidate = numpy(model, &config, Duration::from_secs(60)).expect("starts");
    assert!(candidate.has_update_rule());
    let images = (steps - 1) * common::BATCH + 32;
    match teacher_forced(&config, &mut candidate, steps, images) {
        Found::Within(worst) => {
            eprintln!("{model}, {hidden:?}, {activation:?}, λ {l2}: {worst:?}");
            assert_eq!(worst.last_batch, 32, "the last step is the short batch");
        }
        other => panic!("{model}, {hidden:?}, {activation:?}, λ {l2}: {other:?}"),
    }
}

#[test]
fn default_network_float32_relu_l2() {
    assert_within(
        "numpy_mlp.py",
        &DEFAULT_HIDDEN,
        Activation::Relu,
        LAMBDA,
        200,
    );
}

#[test]
fn float32_sigmoid() {
    assert_within(
        "numpy_mlp.py",
        &SMALL,
        Activation::Sigmoid,
        0.0,
        SMALL_STEPS,
    );
}

#[test]
fn float32_sigmoid_l2() {
    assert_within(
        "numpy_mlp.py",
        &SMALL,
        Activation::Sigmoid,
        LAMBDA,
        SMALL_STEPS,
    );
}

#[test]
fn float32_tanh() {
    assert_within("numpy_mlp.py", &SMALL, Activation::Tanh, 0.0, SMALL_STEPS);
}

#[test]
fn float32_tanh_l2() {
    assert_within(
        "numpy_mlp.py",
        &SMALL,
        Activation::Tanh,
        LAMBDA,
        SMALL_STEPS,
    );
}

#[test]
fn float32_relu() {
    assert_within("numpy_mlp.py", &SMALL, Activation::Relu, 0.0, SMALL_STEPS);
}

#[test]
fn float32_relu_l2() {
    assert_within(
        "numpy_mlp.py",
        &SMALL,
        Activation::Relu,
        LAMBDA,
        SMALL_STEPS,
    );
}

#[test]
fn float64_sigmoid() {
    assert_within(
        "numpy_mlp_f64.py",
        &SMALL,
        Activation::Sigmoid,
        0.0,
        SMALL_STEPS,
    );
}

#[test]
fn float64_sigmoid_l2() {
    assert_within(
        "numpy_mlp_f64.py",
        &SMALL,
        Activation::Sigmoid,
        LAMBDA,
        SMALL_STEPS,
    );
}

#[test]
fn float64_tanh() {
    assert_within(
        "numpy_mlp_f64.py",
        &SMALL,
        Activation::Tanh,
        0.0,
        SMALL_STEPS,
    );
}

#[test]
fn float64_tanh_l2() {
    assert_within(
        "numpy_mlp_f64.py",
        &SMALL,
        Activation::Tanh,
        LAMBDA,
        SMALL_STEPS,
    );
}

#[test]
fn float64_relu() {
    assert_within(
        "numpy_mlp_f64.py",
        &SMALL,
        Activation::Relu,
        0.0,
        SMALL_STEPS,
    );
}

#[test]
fn float64_relu_l2() {
    assert_within(
        "numpy_mlp_f64.py",
        &SMALL,
        Activation::Relu,
        LAMBDA,
        SMALL_STEPS,
    );
}
