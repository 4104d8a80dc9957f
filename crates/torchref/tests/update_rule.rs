//! The update rules on their own (`contract::UpdateRule`), on 30 real gradients: libtorch's
//! gradient at its parameters on each of the first 30 MNIST batches of 64 in file order
//! (784-500-250-100-10, ReLU, seed 2024), the state carried from step to step.
//!
//! 1. torchref's rule, which takes the state handed to it, is libtorch's own optimiser: it
//!    gives what `nn::Adam` and `nn::Sgd` (`TorchMlp::apply_gradient`) give.
//! 2. scratch's rules (the fused engine's and the textbook one's) are within
//!    `parity::DEFAULT_MAX_RATIO` times its own error through `parity::compare_update`.

mod common;

use contract::{
    Activation, AdamState, Differentiable, ModelConfig, Optimizer, UpdateRequest, UpdateRule,
};
use mnist::{Batcher, EpochOrder};
use parity::DEFAULT_MAX_RATIO;
use tch::Device;
use torchref::TorchMlp;

const STEPS: usize = 30;
const SEED: u64 = 2024;

/// Parameters are within ±0.11 (f32 spacing there 7.5e-9). The written-out step and
/// libtorch's C++ optimiser differ only by where `add_`'s and `addcmul_`'s scale is
/// rounded: worst measured over the 30 steps 1.5e-8 for Adam and for SGD (two ulps). 1e-7 is
/// a few ulps of the largest parameter, while a real difference in the rule (a bias
/// correction off by a step) moves parameters by 1e-5 or more. scratch's rules through
/// `compare_update`, worst `max_rel`: Adam 2.3e-7 (fused and textbook), SGD 0.
const SAME_RULE_ATOL: f64 = 1e-7;

fn config(optimizer: Optimizer) -> ModelConfig {
    ModelConfig::new(&[500, 250, 100], Activation::Relu, optimizer, 0.0)
}

/// Along libtorch's own trajectory (`nn::Optimizer`), the rule of `candidate` on the same
/// parameters, gradient and state; returns the worst error ratio of any tensor and the worst
/// |difference| from torchref's rule to `nn::Optimizer`'s step.
fn along_libtorchs_trajectory(
    optimizer: Optimizer,
    candidate: &mut (dyn UpdateRule + Send),
) -> (f64, f64) {
    torchref::set_threads(1);
    let config = config(optimizer);
    let mut torch = TorchMlp::new(&config, Device::Cpu, SEED).expect("torchref");
    let mut rule = TorchMlp::new(&config, Device::Cpu, SEED).expect("torchref");
    let mut adam =
        matches!(optimizer, Optimizer::Adam { .. }).then(|| AdamState::zeros(&torch.parameters()));
    let train = &common::mnist().train;
    let order = EpochOrder::sequential(train.len());
    let mut batcher = Batcher::new(64, false);
    let (mut worst_ratio, mut worst_abs) = (0.0_f64, 0.0_f64);
    for step in 0..STEPS {
        let batch = batcher.batch(train, &order, step);
        let parameters = torch.parameters();
        let gradient = torch.differentiate(&parameters, &batch).gradient;
        let request = UpdateRequest {
            optimizer: &optimizer,
            parameters: &parameters,
            gradient: &gradient,
            adam: adam.as_ref(),
        };
        let (report, stepped) =
            parity::compare_update(&mut rule, candidate, &request, parity::Schedule::Sequential)
                .expect("comparable");
        for t in &report.tensors {
            worst_ratio = worst_ratio.max(t.error.ratio);
        }
        assert_eq!(
            report.over_bound(DEFAULT_MAX_RATIO),
            None,
            "step {}",
            step + 1
        );
        torch.apply_gradient(&gradient);
        let want = torch.parameters();
        for (layer, (got, want)) in stepped.parameters.iter().zip(&want).enumerate() {
            for (got, want) in [(&got.weight, &want.weight), (&got.bias, &want.bias)] {
                let what = format!("{optimizer:?}, step {}, layer {layer}", step + 1);
                testkit::assert_close(&what, got, want, 0.0, SAME_RULE_ATOL);
                let d = got.iter().zip(want).map(|(a, b)| f64::from((a - b).abs()));
                worst_abs = d.fold(worst_abs, f64::max);
            }
        }
        adam = stepped.adam;
    }
    (worst_ratio, worst_abs)
}

#[test]
fn adam_fused_scratch_and_libtorch() {
    let adam = Optimizer::adam(1e-3);
    let mut scratch = scratch::Mlp::new(&config(adam), 0);
    let (ratio, abs) = along_libtorchs_trajectory(adam, &mut scratch);
    eprintln!(
        "Adam, fused scratch: worst error ratio {ratio:.2}; torchref's rule against nn::Adam {abs:.2e}"
    );
}

#[test]
fn adam_textbook_scratch() {
    let adam = Optimizer::adam(1e-3);
    let mut textbook = scratch::Textbook::<f32>::from_parameters(
        &config(adam),
        &scratch::Mlp::new(&config(adam), 0).parameters(),
    );
    let (ratio, _) = along_libtorchs_trajectory(adam, &mut textbook);
    eprintln!("Adam, textbook scratch: worst error ratio {ratio:.2}");
}

#[test]
fn sgd_fused_scratch_and_libtorch() {
    let sgd = Optimizer::Sgd { lr: 0.01 };
    let mut scratch = scratch::Mlp::new(&config(sgd), 0);
    let (ratio, abs) = along_libtorchs_trajectory(sgd, &mut scratch);
    eprintln!(
        "SGD, fused scratch: worst error ratio {ratio:.2}; torchref's rule against nn::Sgd {abs:.2e}"
    );
}
