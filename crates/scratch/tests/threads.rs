//! The thread count changes who computes what, not the result; and which thread takes which
//! chunk of a pass changes nothing at all. (A file of its own: the count is process-wide, so
//! no other test may run beside these, and they run one at a time.)

use std::sync::atomic::{AtomicBool, Ordering};
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
    every_run_gives_the_same_bits_whoever_takes_which_chunk: textbook, avx2, avx512;
}

/// The thread count is process-wide: one engine's test at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_two_and_three_threads_train_the_same_network(engine: Engine) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let (images, labels) = random_batch(64);
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

/// Runs on 2 and 3 threads, quiet and with every core held by a busy thread (so that the
/// threads are descheduled and take each other's chunks), at batches narrower than a vector
/// (8), odd (17) and the assignment's 64: the parameters after each run are the same bits.
fn every_run_gives_the_same_bits_whoever_takes_which_chunk(engine: Engine) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let config = ModelConfig {
        hidden: vec![200, 50],
        activation: Activation::Relu,
        optimizer: Optimizer::Adam {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        },
        l2: 0.1,
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for batch_size in [8, 17, 64] {
        let (images, labels) = random_batch(batch_size);
        let batch = Batch {
            images: images.view(),
            labels: labels.view(),
        };
        for threads in [2, 3] {
            set_threads(threads);
            let bits = |busy_threads: usize| {
                let stop = AtomicBool::new(false);
                std::thread::scope(|scope| {
                    for _ in 0..busy_threads {
                        scope.spawn(|| {
                            while !stop.load(Ordering::Relaxed) {
                                std::hint::spin_loop();
                            }
                        });
                    }
                    let (losses, params) = train(engine, &config, &batch, 20);
                    stop.store(true, Ordering::Relaxed);
                    let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                    (bits(&losses), bits(&params))
                })
            };
            let first = bits(0);
            for busy_threads in [0, cores, 0, cores] {
                assert!(
                    bits(busy_threads) == first,
                    "{engine}: batch {batch_size}, {threads} threads, {busy_threads} busy \
                     threads: not the bits of the first run"
                );
            }
        }
    }
    set_threads(0);
}

fn random_batch(m: usize) -> (Array2<f32>, Array1<u8>) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let images = Array2::from_shape_fn((m, INPUT_SIZE), |_| rng.gen::<f32>());
    let labels = Array1::from_shape_fn(m, |_| rng.gen_range(0..10u8));
    (images, labels)
}

/// `steps` training steps of a fresh network on `batch`: the losses, then the parameters.
fn train(
    engine: Engine,
    config: &ModelConfig,
    batch: &Batch<'_>,
    steps: usize,
) -> (Vec<f32>, Vec<f32>) {
    let mut mlp = Mlp::new(config, 2)
        .with_engine(engine)
        .expect("the build found this engine on the CPU (built on another machine? `cargo clean -p scratch`)");
    let losses: Vec<f32> = (0..steps).map(|_| mlp.train_step(batch)).collect();
    let params: Vec<f32> = mlp
        .parameters()
        .iter()
        .flat_map(|p| p.weight.iter().chain(&p.bias).copied())
        .collect();
    (losses, params)
}

fn check(engine: Engine, config: &ModelConfig, batch: &Batch<'_>) {
    let train = |threads| {
        set_threads(threads);
        train(engine, config, batch, 5)
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
