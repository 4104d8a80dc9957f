//! A correct NumPy MLP (`tests/models/numpy_mlp.py`, float32, and its float64 copy) through
//! the NumPy adapter against libtorch, teacher-forced over 200 real MNIST steps of
//! 784-500-250-100-10 whose last is an epoch's short batch (the first 12 768 training images:
//! 199 batches of 64, then 32), for every activation, with and without L2; its own optimiser
//! (SGD for sigmoid, Adam otherwise) checked at every step too.
//!
//! The bound is `parity::DEFAULT_BOUND`, 1e-5 of each tensor's largest |gradient| (of the
//! loss; of the tensor's largest |parameter| after the update). Worst measured (gradient,
//! loss, update), float32: sigmoid 1.2e-6, 2.1e-7, 0 (SGD: the same two roundings as
//! libtorch's); with L2 1.3e-6, 2.1e-7, 0; tanh 1.4e-6, 3.6e-7, 2.7e-6; with L2 1.6e-6,
//! 2.1e-7, 2.7e-6; ReLU 1.6e-6, 4.2e-7, 2.8e-6; with L2 1.1e-6, 2.1e-7, 2.7e-6 (one kink unit
//! in one run, none in another). float64: sigmoid 9.0e-7, 2.1e-7, 0; ReLU with L2 8.9e-7,
//! 1.8e-7, 2.6e-6 (2 kink units). That is scratch's own figures against libtorch
//! (torchref's `gradient_parity.rs`): what f32 rounding leaves. Adam's update differs most
//! where a moment is tiny and `m/(√v + ε)` magnifies the last bit of either; still 4× inside
//! the bound, which a wrong rule exceeds 100-fold (`planted_bugs.rs`).

mod common;

use std::time::Duration;

use common::{config, numpy, teacher_forced, Found};
use contract::Activation;

const STEPS: usize = 200;
const IMAGES: usize = 199 * 64 + 32;
const LAMBDA: f32 = 0.8;

fn assert_within(model: &str, activation: Activation, l2: f32) {
    let config = config(activation, l2);
    let mut candidate = numpy(model, &config, Duration::from_secs(60)).expect("starts");
    assert!(candidate.has_update_rule());
    match teacher_forced(&config, &mut candidate, STEPS, IMAGES) {
        Found::Within(worst) => {
            eprintln!("{model}, {activation:?}, λ {l2}: {worst:?}");
            assert_eq!(worst.last_batch, 32, "the last step is the short batch");
        }
        other => panic!("{model}, {activation:?}, λ {l2}: {other:?}"),
    }
}

#[test]
fn float32_sigmoid() {
    assert_within("numpy_mlp.py", Activation::Sigmoid, 0.0);
}

#[test]
fn float32_sigmoid_l2() {
    assert_within("numpy_mlp.py", Activation::Sigmoid, LAMBDA);
}

#[test]
fn float32_tanh() {
    assert_within("numpy_mlp.py", Activation::Tanh, 0.0);
}

#[test]
fn float32_tanh_l2() {
    assert_within("numpy_mlp.py", Activation::Tanh, LAMBDA);
}

#[test]
fn float32_relu() {
    assert_within("numpy_mlp.py", Activation::Relu, 0.0);
}

#[test]
fn float32_relu_l2() {
    assert_within("numpy_mlp.py", Activation::Relu, LAMBDA);
}

#[test]
fn float64_sigmoid() {
    assert_within("numpy_mlp_f64.py", Activation::Sigmoid, 0.0);
}

#[test]
fn float64_tanh_l2() {
    assert_within("numpy_mlp_f64.py", Activation::Tanh, LAMBDA);
}

#[test]
fn float64_relu_l2() {
    assert_within("numpy_mlp_f64.py", Activation::Relu, LAMBDA);
}
