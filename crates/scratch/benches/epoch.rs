//! Seconds per epoch and GFLOP/s of the default network (784-500-250-100-10, ReLU, batch 64)
//! on 60 000 images of MNIST's shape (uniform random pixels and labels: the products cost the
//! same whatever the pixels are). Run with `cargo bench -p scratch`; for libtorch on the same
//! machine, `benches/torch_epoch.py` times the same loop.
//!
//! Prints, for each hand-written kernel set the CPU runs (AVX-512, AVX2: an AVX-512 machine
//! runs both), SGD and Adam at the default thread count and SGD on one thread, the median of
//! five epochs after one warm-up epoch. An argument keeps only the runs whose label (such as
//! `avx2 sgd/2`) contains it: `cargo bench -p scratch -- avx2`. The portable kernels run
//! only when asked for by name (`-- portable`), as they are many times slower.

use std::time::Instant;

use mnist::{Activation, Batch, ModelConfig, Optimizer, Trainer, INPUT_SIZE};
use ndarray::{s, Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use scratch::{set_threads, Engine, Mlp};

const IMAGES: usize = 60_000;
const BATCH: usize = 64;
const EPOCHS: usize = 5;

fn main() {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let images = Array2::from_shape_fn((IMAGES, INPUT_SIZE), |_| rng.gen::<f32>());
    let labels = Array1::from_shape_fn(IMAGES, |_| rng.gen_range(0..10u8));
    let config = |optimizer| ModelConfig {
        hidden: vec![500, 250, 100],
        activation: Activation::Relu,
        optimizer,
        l2: 0.0,
    };
    let sizes = config(Optimizer::Sgd { lr: 0.01 }).layer_sizes();
    // Forward W·Xᵀ and weight gradient ΔZᵀ·X for every layer, backward Wᵀ·ΔZᵀ for all but the
    // first (the gradient with respect to the images is not needed): 2 flops per multiply-add.
    let products: usize = sizes.windows(2).map(|p| p[0] * p[1]).sum();
    let first = sizes[0] * sizes[1];
    let flops = 2.0 * IMAGES as f64 * (3 * products - first) as f64;
    println!(
        "scratch, {} images, batch {BATCH}, {:.1} GFLOP per epoch, median of {EPOCHS} epochs",
        IMAGES,
        flops / 1e9
    );
    let default_threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let filter = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let engines = [Engine::Avx512, Engine::Avx2, Engine::Portable]
        .into_iter()
        .filter(|engine| {
            let asked = filter.as_ref().is_some_and(|f| f.contains(engine.name()));
            if !engine.is_available() {
                println!("{engine}: skipped, this CPU cannot run it");
            }
            engine.is_available() && (*engine != Engine::Portable || asked)
        });
    let runs = engines.flat_map(|engine| {
        [
            ("sgd", Optimizer::Sgd { lr: 0.01 }, default_threads),
            ("adam", Optimizer::adam(1e-3), default_threads),
            ("sgd", Optimizer::Sgd { lr: 0.01 }, 1),
        ]
        .map(|(name, optimizer, threads)| (engine, name, optimizer, threads))
    });
    for (engine, name, optimizer, threads) in runs {
        let label = format!("{engine} {name}/{threads}");
        if filter.as_ref().is_some_and(|f| !label.contains(f.as_str())) {
            continue;
        }
        set_threads(threads);
        let mut mlp = Mlp::new(&config(optimizer), 1)
            .with_engine(engine)
            .expect("only engines this CPU runs are timed");
        let mut epoch = || {
            let start = Instant::now();
            let mut loss = 0.0;
            for first in (0..IMAGES).step_by(BATCH) {
                let rows = first..(first + BATCH).min(IMAGES);
                let batch = Batch {
                    images: images.slice(s![rows.clone(), ..]),
                    labels: labels.slice(s![rows]),
                };
                loss += mlp.train_step(&batch);
            }
            assert!(loss.is_finite());
            start.elapsed().as_secs_f64()
        };
        epoch();
        let mut times: Vec<f64> = (0..EPOCHS).map(|_| epoch()).collect();
        times.sort_by(f64::total_cmp);
        let median = times[EPOCHS / 2];
        println!(
            "scratch {engine:<8} {name:<4} threads={threads} epoch {median:.3} s  {:.0} GFLOP/s  (min {:.3} s, max {:.3} s)",
            flops / median / 1e9,
            times[0],
            times[EPOCHS - 1]
        );
    }
    set_threads(0);
}
