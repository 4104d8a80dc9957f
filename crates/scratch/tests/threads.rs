//! The thread count changes who computes what, not the result. (A file of its own: the count
//! is process-wide, so no other test may run beside these, and they run one at a time.)

use std::sync::{Mutex, PoisonError};

use contract::{Activation, Batch, ModelConfig, Optimizer, Trainer, INPUT_SIZE};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use scratch::{set_threads, Engine, Mlp};
use testkit::assert_close;

#[macro_use]
mod common;

test_on_engines! {
    one_two_and_three_threads_train_the_same_network: textbook, avx2, avx512;
}

/// The thread count is process-wide: one engine's test at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_two_and_three_threads_train_the_same_network(engine: Engine) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let images = Array2::from_shape_fn((64, INPUT_SIZE), |_| rng.gen::<f32>());
    let labels = Array1::from_shape_fn(64, |_| rng.gen_range(0..10u8));
    let batch = Batch {
        images: images.view(),
        labels: labels.view(),
    };
    let config = ModelConfig {
        hidden: vec![200, 50],
        activation: Activation::Tanh,
        optimizer: Optimizer::Sgd { lr: 0.1 },
        l2: 0.1,
    };
    check(engine, &config, &batch);
    set_threads(0);
}

fn check(engine: Engine, config: &ModelConfig, batch: &Batch<'_>) {
    let train = |threads| {
        set_threads(threads);
        let mut mlp = Mlp::new(config, 2)
            .with_engine(engine)
            .expect("the build found this engine on the CPU (built on another machine? `cargo clean -p scratch`)");
        let losses: Vec<f32> = (0..5).map(|_| mlp.train_step(batch)).collect();
        let params: Vec<f32> = mlp
            .parameters()
            .iter()
            .flat_map(|p| p.weight.iter().chain(&p.bias).copied())
            .collect();
        (losses, params)
    };
    let (losses, params) = train(1);
    for threads in [2, 3] {
        let (l, p) = train(threads);
        // Only the order of the loss's partial sums changes with the split.
        assert_close(
            &format!("{engine}: losses on {threads} threads"),
            &l,
            &losses,
            1e-6,
            0.0,
        );
        assert_close(
            &format!("{engine}: parameters on {threads} threads"),
            &p,
            &params,
            0.0,
            1e-7,
        );
    }
}
