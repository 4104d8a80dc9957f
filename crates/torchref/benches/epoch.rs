//! One epoch of MNIST (784-500-250-100-10, ReLU, batch 64, 938 sequential steps, 2 threads)
//! with libtorch's own SGD and Adam: the framework's time, as a tch user gets it. Prints the
//! fastest and the median of five epochs after a warm-up one, for each optimiser.
//!
//! Needs the MNIST files in `$MNIST_DIR` or `../shared/data/mnist` beside the workspace.
//! Run: `cargo bench -p torchref --bench epoch`.

use std::time::Instant;

use contract::{Activation, ModelConfig, Optimizer, Trainer};
use mnist::{Batcher, Dataset, EpochOrder};
use tch::Device;
use torchref::TorchMlp;

const BATCH: usize = 64;
const THREADS: usize = 2;
const EPOCHS: usize = 5;

fn epoch(trainer: &mut dyn Trainer, data: &Dataset) -> f64 {
    let started = Instant::now();
    let order = EpochOrder::sequential(data.len());
    let mut batcher = Batcher::new(BATCH, false);
    for step in 0..batcher.steps(data.len()) {
        let batch = batcher.batch(data, &order, step);
        trainer.train_step(&batch);
    }
    started.elapsed().as_secs_f64()
}

fn main() {
    torchref::set_threads(THREADS);
    let data = testkit::real_mnist().train;
    for (name, optimizer) in [
        ("sgd", Optimizer::Sgd { lr: 0.01 }),
        ("adam", Optimizer::adam(0.01)),
    ] {
        let config = ModelConfig::new(&[500, 250, 100], Activation::Relu, optimizer, 0.0);
        let mut model = TorchMlp::new(&config, Device::Cpu, 0).expect("model");
        epoch(&mut model, &data);
        let mut seconds: Vec<f64> = (0..EPOCHS).map(|_| epoch(&mut model, &data)).collect();
        seconds.sort_by(f64::total_cmp);
        println!(
            "torchref epoch, {name}, {THREADS} threads: fastest {:.3} s, median {:.3} s of {EPOCHS}",
            seconds[0],
            seconds[EPOCHS / 2]
        );
    }
}
