//! What a call into libtorch costs through tch: the fastest batch-1 SGD step of the default
//! network (784-500-250-100-10, ReLU, one thread), where dispatch rather than arithmetic is
//! most of the time, and the fastest one-element tensor add, nearly all dispatch. Each is the
//! fastest of 15 rounds (1000 steps, 20 000 adds), the figure other processes disturb least.
//! The workspace's Cargo.toml compiles torch-sys's C++ glue at -O1 on this evidence; set its
//! `opt-level` there to 3 and run this again to compare.
//!
//! Run: `cargo run --release -p torchref --example call_overhead`.

use std::hint::black_box;
use std::time::Instant;

use contract::{Activation, Batch, ModelConfig, Optimizer, Trainer, INPUT_SIZE};
use ndarray::{Array1, Array2};
use tch::{Device, Tensor};
use torchref::TorchMlp;

const ROUNDS: usize = 15;
const STEPS: usize = 1000;
const ADDS: usize = 20_000;

fn main() {
    torchref::set_threads(1);
    let config = ModelConfig::new(
        &[500, 250, 100],
        Activation::Relu,
        Optimizer::Sgd { lr: 0.01 },
        0.0,
    );
    let mut model = TorchMlp::new(&config, Device::Cpu, 0).expect("a CPU model");
    let images = Array2::from_shape_fn((1, INPUT_SIZE), |(_, j)| (j % 7) as f32 / 7.0);
    let labels = Array1::from_elem(1, 3u8);
    let batch = Batch {
        images: images.view(),
        labels: labels.view(),
    };
    for _ in 0..200 {
        model.train_step(&batch);
    }
    let (a, b) = (Tensor::from_slice(&[1.0f32]), Tensor::from_slice(&[2.0f32]));
    let (mut step, mut add) = (f64::MAX, f64::MAX);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        for _ in 0..STEPS {
            model.train_step(&batch);
        }
        step = step.min(started.elapsed().as_secs_f64() / STEPS as f64);
        let started = Instant::now();
        for _ in 0..ADDS {
            let _ = black_box(&a + &b);
        }
        add = add.min(started.elapsed().as_secs_f64() / ADDS as f64);
    }
    println!(
        "fastest batch-1 SGD step {:.1} µs, fastest one-element tensor add {:.3} µs",
        step * 1e6,
        add * 1e6
    );
}
