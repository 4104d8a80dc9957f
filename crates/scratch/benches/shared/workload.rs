//! The workload the benchmarks and the profiling driver share: the default network
//! (784-500-250-100-10, ReLU) under SGD with lr 0.01 and no L2, and images of uniform random
//! pixels with random labels (the arithmetic is the same whatever the pixels are).

use contract::{Activation, ModelConfig, Optimizer, INPUT_SIZE};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The default network, trained by SGD.
pub fn sgd_config() -> ModelConfig {
    ModelConfig::new(
        &[500, 250, 100],
        Activation::Relu,
        Optimizer::Sgd { lr: 0.01 },
        0.0,
    )
}

/// `n` images of MNIST's shape and their labels, the same for the same `n` every time.
pub fn random_images(n: usize) -> (Array2<f32>, Array1<u8>) {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let images = Array2::from_shape_fn((n, INPUT_SIZE), |_| rng.gen::<f32>());
    let labels = Array1::from_shape_fn(n, |_| rng.gen_range(0..10u8));
    (images, labels)
}
