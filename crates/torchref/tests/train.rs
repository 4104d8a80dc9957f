//! Training on real MNIST: one epoch of Adam reaches the accuracy the assignment's PyTorch
//! model reaches.

mod common;

use contract::{Activation, ModelConfig, Optimizer, Trainer};
use mnist::{Batcher, EpochOrder};
use tch::Device;
use torchref::TorchMlp;

/// 784-500-250-100-10, sigmoid, Adam lr 0.01 (the assignment's PyTorch optimiser), batch 64,
/// one shuffled epoch: test accuracy must exceed 95%. Measured: 96.48% with seed 1 (96.28%
/// and 96.17% with seeds 2 and 3); in file order, unshuffled, the same run reaches 94.5%.
#[test]
fn one_epoch_of_adam_reaches_95_percent() {
    torchref::set_threads(2);
    let data = common::mnist();
    let config = ModelConfig {
        hidden: vec![500, 250, 100],
        activation: Activation::Sigmoid,
        optimizer: Optimizer::adam(0.01),
        l2: 0.0,
    };
    let mut model = TorchMlp::new(&config, Device::Cpu, 1).expect("model");
    let order = EpochOrder::shuffled(data.train.len(), 1, 0);
    let mut batcher = Batcher::new(64, false);
    let mut losses = Vec::new();
    for step in 0..batcher.steps(data.train.len()) {
        losses.push(model.train_step(&batcher.batch(&data.train, &order, step)));
    }
    assert!(
        losses.iter().all(|l| l.is_finite()),
        "a loss was not finite"
    );
    let logits = model.logits(data.test.images.view());
    let accuracy = mnist::metrics::accuracy(logits.view(), data.test.labels.view());
    assert!(accuracy > 0.95, "test accuracy after one epoch: {accuracy}");
}
