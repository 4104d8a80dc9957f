//! One epoch of MNIST (784-500-250-100-10, ReLU, batch 64, 938 sequential steps, 2 threads):
//! SGD and Adam of this crate, and — the "before" of the fused Adam — the same network
//! trained with tch's `nn` module and libtorch's own `torch::optim::Adam`.
//!
//! Needs the MNIST files in `$MNIST_DIR` or `../shared/data/mnist` beside the workspace.
//! Run: `cargo bench -p torchref --bench epoch`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use mnist::{Activation, Batcher, Dataset, EpochOrder, ModelConfig, Optimizer, Trainer};
use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Tensor};
use torchref::TorchMlp;

const BATCH: usize = 64;
const THREADS: usize = 2;

fn train() -> Dataset {
    mnist::testing::real_mnist().train
}

fn config(optimizer: Optimizer) -> ModelConfig {
    ModelConfig::new(&[500, 250, 100], Activation::Relu, optimizer, 0.0)
}

fn epoch(trainer: &mut dyn Trainer, data: &Dataset) {
    let order = EpochOrder::sequential(data.len());
    let mut batcher = Batcher::new(BATCH, false);
    for step in 0..batcher.steps(data.len()) {
        let batch = batcher.batch(data, &order, step);
        trainer.train_step(&batch);
    }
}

/// The same network with tch's `nn` layers and libtorch's C++ Adam.
fn libtorch_adam_epoch(model: &impl Module, opt: &mut nn::Optimizer, data: &Dataset) {
    let order = EpochOrder::sequential(data.len());
    let mut batcher = Batcher::new(BATCH, false);
    for step in 0..batcher.steps(data.len()) {
        let batch = batcher.batch(data, &order, step);
        let images = batch.images.as_standard_layout();
        let images = Tensor::from_slice(images.as_slice().expect("standard layout"))
            .view([batch.images.nrows() as i64, mnist::INPUT_SIZE as i64]);
        let labels: Vec<i64> = batch.labels.iter().map(|&l| i64::from(l)).collect();
        let loss = model
            .forward(&images)
            .cross_entropy_for_logits(&Tensor::from_slice(&labels));
        opt.backward_step(&loss);
    }
}

fn epochs(c: &mut Criterion) {
    torchref::set_threads(THREADS);
    let data = train();
    let mut group = c.benchmark_group("torchref_epoch");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    for (name, optimizer) in [
        ("sgd", Optimizer::Sgd { lr: 0.01 }),
        ("adam", Optimizer::adam(0.01)),
    ] {
        let mut model = TorchMlp::new(&config(optimizer), Device::Cpu, 0).expect("model");
        group.bench_function(name, |b| b.iter(|| epoch(&mut model, &data)));
    }
    let vs = nn::VarStore::new(Device::Cpu);
    let root = vs.root();
    let mut model = nn::seq();
    for (i, pair) in [784, 500, 250, 100, 10].windows(2).enumerate() {
        model = model.add(nn::linear(&root / i, pair[0], pair[1], Default::default()));
        if i < 3 {
            model = model.add_fn(|x| x.relu());
        }
    }
    let mut opt = nn::Adam::default().build(&vs, 0.01).expect("libtorch Adam");
    group.bench_function("adam_libtorch", |b| {
        b.iter(|| libtorch_adam_epoch(&model, &mut opt, &data))
    });
    group.finish();
}

criterion_group!(benches, epochs);
criterion_main!(benches);
