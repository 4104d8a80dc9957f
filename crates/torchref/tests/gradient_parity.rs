//! The hand-written model against libtorch, step by step along libtorch's own trajectory on
//! real MNIST (784-500-250-100-10, seed 2024, the first 200 batches of 64 in file order): at
//! every step both get libtorch's parameters and the same batch, and every layer's weight and
//! bias gradient must agree to one step's f32 rounding, for every activation, with and
//! without L2. The trajectory is advanced by libtorch's Adam (lr 0.001) for ReLU and tanh and
//! by its SGD (lr 0.01) for sigmoid. Then the optimisers on their own: the same gradients in
//! must give the same parameters out.
//!
//! The bound is `parity::DEFAULT_MAX_RATIO`: each tensor's gradient (and the loss) within 10
//! times libtorch's own float32 error, both measured from libtorch's float64 computation.
//! Worst error ratio measured over the 200 steps (gradient, loss; AMD EPYC Zen 5): sigmoid
//! 1.90, 0.51; sigmoid with L2 1.65, 0.45; tanh 3.73, 2.92; tanh with L2 3.50, 0.77; ReLU
//! 3.92, 4.36; ReLU with L2 3.52, 0.73, with one kink unit (one image set aside at one step).
//! As differences from libtorch's float32 gradient, relative to the tensor's largest: at most
//! 2.7e-6.

mod common;

use std::sync::{Mutex, MutexGuard, PoisonError};

use contract::{Activation, Differentiable, ModelConfig, Optimizer, Trainer};
use mnist::{Batcher, EpochOrder};
use parity::{Finding, StepReport, DEFAULT_MAX_RATIO};
use tch::Device;
use testkit::assert_close;
use torchref::TorchMlp;

const SEED: u64 = 2024;
const BATCH: usize = 64;
const THREADS: usize = 2;

/// One run at a time: each model already uses both cores, and two runs at once would leave
/// libtorch's OpenMP threads waiting for each other at every barrier.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    scratch::set_threads(THREADS);
    torchref::set_threads(THREADS);
    guard
}

/// libtorch (the reference) from Xavier weights of [`SEED`], advanced by its own optimiser on
/// the first `steps` training batches in file order; at every step, `candidate` (built by
/// `make` from the same starting weights) is compared with it at libtorch's parameters.
fn teacher_forced<C: Differentiable + Send>(
    config: &ModelConfig,
    steps: usize,
    make: impl FnOnce(&ModelConfig, &contract::Parameters) -> C,
) -> Vec<StepReport> {
    let _one = one_at_a_time();
    let mut reference = TorchMlp::new(config, Device::Cpu, SEED).expect("torchref");
    let mut candidate = make(config, &reference.parameters());
    let train = &common::mnist().train;
    let order = EpochOrder::sequential(train.len());
    let mut batcher = Batcher::new(BATCH, false);
    (0..steps)
        .map(|step| {
            let batch = batcher.batch(train, &order, step);
            let parameters = reference.parameters();
            let report = parity::compare_step(
                &mut reference,
                &mut candidate,
                &parameters,
                &batch,
                config.activation,
                parity::Schedule::Sequential,
            )
            .expect("comparable models")
            .report;
            reference.train_step(&batch);
            report
        })
        .collect()
}

const STEPS: usize = 200;
const LAMBDA: f32 = 0.8;

/// The worst of a run, for the figures in the comments: the error ratio of the gradients and
/// of the loss, the relative difference from libtorch's gradient, the kinks.
fn worst(reports: &[StepReport]) -> (f64, f64, f64, usize, usize) {
    let ratio = reports
        .iter()
        .flat_map(|r| r.tensors.iter().map(|t| t.error.ratio))
        .fold(0.0, f64::max);
    let loss = reports
        .iter()
        .map(|r| r.loss_error.ratio)
        .fold(0.0, f64::max);
    let rel = reports
        .iter()
        .flat_map(|r| r.tensors.iter().map(|t| t.difference.max_rel))
        .fold(0.0, f64::max);
    let kinks = reports
        .iter()
        .flat_map(|r| r.tensors.iter().step_by(2).map(|t| t.kink_units))
        .sum();
    let excluded = reports.iter().map(|r| r.excluded_images).sum();
    (ratio, loss, rel, kinks, excluded)
}

fn assert_gradient_parity(activation: Activation, optimizer: Optimizer, l2: f32) {
    let config = ModelConfig::new(&[500, 250, 100], activation, optimizer, l2);
    let reports = teacher_forced(&config, STEPS, scratch::Mlp::from_parameters);
    let (ratio, loss, rel, kinks, excluded) = worst(&reports);
    eprintln!(
        "{activation:?}, {optimizer:?}, λ {l2}: worst error ratio {ratio:.2} (loss {loss:.2}); \
         worst gradient difference {rel:.2e} of the tensor's largest; {kinks} kink units, \
         {excluded} images set aside"
    );
    for (step, report) in reports.iter().enumerate() {
        match report.over_bound(DEFAULT_MAX_RATIO) {
            None => {}
            Some(Finding::Tensor(t)) => panic!(
                "{activation:?}, λ {l2}, step {}: layer {} {} gradient {:.2} times libtorch's \
                 own error (bound {DEFAULT_MAX_RATIO}), cosine {}",
                step + 1,
                t.layer,
                t.tensor.name(),
                t.error.ratio,
                t.difference.cosine
            ),
            Some(Finding::Loss(loss)) => panic!(
                "{activation:?}, λ {l2}, step {}: loss {:.2} times libtorch's own error",
                step + 1,
                loss.ratio
            ),
        }
    }
}

fn sgd() -> Optimizer {
    Optimizer::Sgd { lr: 0.01 }
}

fn adam() -> Optimizer {
    Optimizer::adam(0.001)
}

#[test]
fn sigmoid() {
    assert_gradient_parity(Activation::Sigmoid, sgd(), 0.0);
}

#[test]
fn sigmoid_l2() {
    assert_gradient_parity(Activation::Sigmoid, sgd(), LAMBDA);
}

#[test]
fn tanh() {
    assert_gradient_parity(Activation::Tanh, adam(), 0.0);
}

#[test]
fn tanh_l2() {
    assert_gradient_parity(Activation::Tanh, adam(), LAMBDA);
}

#[test]
fn relu() {
    assert_gradient_parity(Activation::Relu, adam(), 0.0);
}

#[test]
fn relu_l2() {
    assert_gradient_parity(Activation::Relu, adam(), LAMBDA);
}

/// Runs `steps` optimiser steps on libtorch (`TorchMlp::apply_gradient`) and on the textbook
/// engine's update (`scratch::textbook::update`), feeding both the same gradient each step:
/// libtorch's gradient at its own parameters on the next real batch. Returns the largest
/// |difference| of any parameter after any step.
fn optimiser_on_its_own(optimizer: Optimizer, steps: usize) -> f64 {
    let _one = one_at_a_time();
    let config = ModelConfig::new(&[500, 250, 100], Activation::Relu, optimizer, 0.0);
    let mut torch = TorchMlp::new(&config, Device::Cpu, SEED).expect("torchref");
    let mut layers = scratch::textbook::layers_from::<f32>(&config, &torch.parameters());
    let mut moments = None;
    let train = &common::mnist().train;
    let order = EpochOrder::sequential(train.len());
    let mut batcher = Batcher::new(BATCH, false);
    let mut worst = 0.0_f64;
    for step in 0..steps {
        let batch = batcher.batch(train, &order, step);
        let gradient = torch.differentiate(&torch.parameters(), &batch).gradient;
        torch.apply_gradient(&gradient);
        let same = scratch::textbook::layers_from::<f32>(&config, &gradient);
        scratch::textbook::update(&mut layers, &same, &config.optimizer, &mut moments);
        let want = torch.parameters();
        let got = scratch::textbook::to_parameters(&layers);
        for (layer, (g, w)) in got.iter().zip(&want).enumerate() {
            for (tensor, got, want) in
                [("weight", &g.weight, &w.weight), ("bias", &g.bias, &w.bias)]
            {
                let what = format!("{optimizer:?}, step {}, layer {layer} {tensor}", step + 1);
                assert_close(&what, got, want, 0.0, OPTIMISER_ATOL);
                let d = got.iter().zip(want).map(|(a, b)| f64::from((a - b).abs()));
                worst = d.fold(worst, f64::max);
            }
        }
    }
    worst
}

/// Largest |parameter difference| after the same gradients went through both optimisers.
/// Parameters are within ±0.11 (f32 spacing there: 7.5e-9); SGD differs by the fused
/// multiply-add of libtorch's `add_` (one rounding a step), Adam by the order of its
/// operations (libtorch's C++ Adam multiplies then adds where the textbook lerps). Measured
/// over 50 steps: SGD 1.5e-8, Adam 4.5e-8. The bound, 1e-7, is a few ulps of the
/// largest parameter: any real difference in the update rule (a missing bias correction,
/// ε inside the square root, β1 and β2 swapped) moves parameters by 1e-5 or more.
const OPTIMISER_ATOL: f64 = 1e-7;

#[test]
fn sgd_on_its_own() {
    let worst = optimiser_on_its_own(sgd(), 50);
    eprintln!("SGD on its own: worst parameter difference {worst:.2e}");
}

#[test]
fn adam_on_its_own() {
    let worst = optimiser_on_its_own(adam(), 50);
    eprintln!("Adam on its own: worst parameter difference {worst:.2e}");
}
