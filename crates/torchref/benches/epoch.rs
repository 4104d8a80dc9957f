//! One epoch of MNIST (784-500-250-100-10, ReLU, batch 64, 938 sequential steps, 2 threads)
//! with libtorch's own SGD and Adam: the framework's time, as a tch user gets it.
//!
//! Needs the MNIST files in `$MNIST_DIR` or `../shared/data/mnist` beside the workspace.
//! Run: `cargo bench -p torchref --bench epoch`.

use std::time::Duration;

use contract::{Activation, ModelConfig, Optimizer, Trainer};
use criterion::{criterion_group, criterion_main, Criterion};
use mnist::{Batcher, Dataset, EpochOrder};
use tch::Device;
use torchref::TorchMlp;

const BATCH: usize = 64;
const THREADS: usize = 2;

fn epoch(trainer: &mut dyn Trainer, data: &Dataset) {
    let order = EpochOrder::sequential(data.len());
    let mut batcher = Batcher::new(BATCH, false);
    for step in 0..batcher.steps(data.len()) {
        let batch = batcher.batch(data, &order, step);
        trainer.train_step(&batch);
    }
}

fn epochs(c: &mut Criterion) {
    torchref::set_threads(THREADS);
    let data = testkit::real_mnist().train;
    let mut group = c.benchmark_group("torchref_epoch");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    for (name, optimizer) in [
        ("sgd", Optimizer::Sgd { lr: 0.01 }),
        ("adam", Optimizer::adam(0.01)),
    ] {
        let config = ModelConfig::new(&[500, 250, 100], Activation::Relu, optimizer, 0.0);
        let mut model = TorchMlp::new(&config, Device::Cpu, 0).expect("model");
        group.bench_function(name, |b| b.iter(|| epoch(&mut model, &data)));
    }
    group.finish();
}

criterion_group!(benches, epochs);
criterion_main!(benches);
