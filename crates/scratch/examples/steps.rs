//! A driver for profilers: `STEPS` SGD training steps of the default network
//! (784-500-250-100-10, ReLU) at batch size `BATCH` on the fused engine (or `ENGINE`), after
//! one warm-up step, on random pixels and labels, and nothing else. For instruction counts
//! per function, for example:
//!
//! ```sh
//! cargo build --release -p scratch --example steps
//! valgrind --tool=callgrind --toggle-collect='steps::train' target/release/examples/steps 1 200
//! ```
//!
//! Arguments: `BATCH STEPS [ENGINE [THREADS]]` (default `1 100 auto 1`). It prints the
//! fastest step's wall time too: on a shared machine the minimum is the figure that other
//! processes disturb least.

use std::time::{Duration, Instant};

use contract::{Batch, Trainer};
use ndarray::s;
use scratch::{Engine, Mlp};

#[path = "../benches/shared/workload.rs"]
mod workload;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    let batch: usize = arg(0, "1").parse().expect("BATCH is a whole number");
    let steps: usize = arg(1, "100").parse().expect("STEPS is a whole number");
    let engine: Engine = arg(2, "auto")
        .parse()
        .expect("ENGINE is auto, textbook, avx2 or avx512");
    let threads: usize = arg(3, "1").parse().expect("THREADS is a whole number");
    scratch::set_threads(threads);
    let images_in_pool = (batch * 8).max(256);
    let (images, labels) = workload::random_images(images_in_pool);
    let config = workload::sgd_config();
    let mut mlp = Mlp::new(&config, 1)
        .with_engine(engine)
        .expect("an engine this CPU runs");
    let batches: Vec<Batch<'_>> = (0..images_in_pool / batch)
        .map(|k| Batch {
            images: images.slice(s![k * batch..(k + 1) * batch, ..]),
            labels: labels.slice(s![k * batch..(k + 1) * batch]),
        })
        .collect();
    mlp.train_step(&batches[0]);
    let (loss, fastest) = train(&mut mlp, &batches, steps);
    println!(
        "{steps} steps at batch {batch} on {} ({} threads): last loss {loss}, fastest step {:.4} ms",
        mlp.engine(),
        mlp.threads_for_batch(batch),
        fastest.as_secs_f64() * 1e3
    );
}

/// `steps` training steps, walking through `batches`; returns the last loss and the fastest
/// step's wall time.
#[inline(never)]
fn train(mlp: &mut Mlp, batches: &[Batch<'_>], steps: usize) -> (f32, Duration) {
    let mut fastest = Duration::MAX;
    let mut loss = 0.0;
    for k in 0..steps {
        let start = Instant::now();
        loss = mlp.train_step(&batches[k % batches.len()]);
        fastest = fastest.min(start.elapsed());
    }
    (loss, fastest)
}
