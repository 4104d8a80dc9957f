//! Planted-bug copies of the NumPy MLP (`tests/models/bug_*.py`, each `numpy_mlp.py` with one
//! mistake) are named at the right step, layer (from 0 at the input side) and tensor,
//! teacher-forced against libtorch on real MNIST as in `numpy_parity.rs` (whose unbroken
//! model is the control: within the bound over 200 steps).

mod common;

use std::time::Duration;

use candidate::{Fault, When};
use common::{config, numpy, teacher_forced, Found, DEFAULT_HIDDEN};
use contract::Activation;
use parity::TensorKind;

fn first_finding(
    model: &str,
    activation: Activation,
    l2: f32,
    steps: usize,
    images: usize,
) -> Found {
    let config = config(&DEFAULT_HIDDEN, activation, l2);
    let mut candidate = numpy(model, &config, Duration::from_secs(60)).expect("starts");
    teacher_forced(&config, &mut candidate, steps, images)
}

/// Sigmoid (ReLU's derivative is the same at A and Z). Every hidden layer's ΔZ is wrong, so
/// the layer nearest the output with a wrong gradient is the last hidden one (2), named at
/// its bias, the tensor further over the bound (both are wrong; the bias's error is the
/// larger multiple of libtorch's own); the output layer's (3) is right.
#[test]
fn derivative_at_a_instead_of_z() {
    let found = first_finding(
        "bug_derivative_at_a.py",
        Activation::Sigmoid,
        0.0,
        3,
        3 * 64,
    );
    assert_eq!(found, Found::Gradient(1, 2, TensorKind::Bias));
}

/// `λ/(2·64)` and `(λ/64)·W` instead of `m`: right on every full batch, so steps 1 to 4 pass
/// and the fifth, an epoch's short last batch of 32 images (4·64 + 32), is named at the
/// output layer's weight (its bias has no L2 term).
///
/// Tanh, because with ReLU any batch can show it: a step where an image holds a unit within
/// rounding of 0 is compared again without that image, on 63, where 64 is wrong too.
/// `compare parity --candidate-python bug_batch_64.py --l2 0.8` (ReLU, shuffled) names step 2
/// so, 6.5e-5 off, its `excluded_images` 1 in `parity.csv`; the correct model, float32 and
/// float64, is within the bound on the same steps (at most 3.5 times libtorch's own error),
/// so it is no rounding of the L2 term.
#[test]
fn batch_size_hard_coded_to_64() {
    let found = first_finding("bug_batch_64.py", Activation::Tanh, 0.8, 5, 4 * 64 + 32);
    assert_eq!(found, Found::Gradient(5, 3, TensorKind::Weight));
}

/// Layer 2's bias gradient summed over the units: one value per image (64) instead of one
/// per unit (100), a wrong shape the protocol names at once.
#[test]
fn bias_gradient_summed_over_the_wrong_axis() {
    let found = first_finding("bug_bias_axis.py", Activation::Tanh, 0.0, 3, 3 * 64);
    let Found::Fault(error) = found else {
        panic!("{found:?}")
    };
    assert_eq!(error.when, When::Gradients(1));
    assert_eq!(
        error.fault,
        Fault::WrongShape {
            name: "b3".to_owned(),
            expected: vec![100],
            got: vec![64]
        }
    );
}

/// `1 − β1^(t+1)`: the gradients are right, the update is not. At step 1 Adam moves every
/// parameter by ±lr (1e-3); the candidate moves it by 0.1/0.19 of that. The biases start at
/// 0, so their parameters out are all step: the output layer's bias is named at step 1.
#[test]
fn adam_bias_correction_one_step_off() {
    let found = first_finding("bug_adam_correction.py", Activation::Relu, 0.0, 3, 3 * 64);
    assert_eq!(found, Found::Update(1, 3, TensorKind::Bias));
}

/// The biases start at 0, so the mistake first shows at step 2, in every bias gradient; the
/// layer nearest the output (3) is named.
#[test]
fn l2_applied_to_the_biases() {
    let found = first_finding("bug_l2_on_biases.py", Activation::Relu, 0.8, 3, 3 * 64);
    assert_eq!(found, Found::Gradient(2, 3, TensorKind::Bias));
}
