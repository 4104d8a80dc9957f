//! What the protocol costs per step: the default network (784-500-250-100-10, ReLU, batch
//! 64) as `tests/models/numpy_mlp.py` through the NumPy adapter. Each step is timed twice in
//! the same run: by the harness, around `Candidate::try_differentiate` (the request's `.npz`
//! written, sent, read by the adapter, the model's arithmetic, the answer written, sent and
//! read back and checked), and inside the candidate's process, around `loss_and_grads` alone
//! (`benches/timed_mlp.py`). Prints both medians and their ratio.
//!
//! `cargo bench -p candidate --bench protocol [STEPS]` (default 300; the first 20 are warm-up).

use std::time::{Duration, Instant};

use candidate::{Candidate, Options};
use contract::{Activation, Batch, ModelConfig, Optimizer};
use ndarray::s;

const WARM_UP: usize = 20;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let steps: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(300);
    let timings = std::env::temp_dir().join(format!("candidate-timings-{}", std::process::id()));
    std::env::set_var("CANDIDATE_TIMINGS", &timings);
    std::env::set_var("OPENBLAS_NUM_THREADS", "1");
    let config = ModelConfig::new(
        &[500, 250, 100],
        Activation::Relu,
        Optimizer::adam(1e-3),
        0.0,
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/timed_mlp.py");
    let options = Options {
        timeout: Duration::from_secs(60),
        echo_stderr: true,
    };
    let mut candidate = Candidate::python(
        &candidate::default_python(),
        script.as_ref(),
        &config,
        &options,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let data = testkit::real_mnist();
    let parameters = torchref::TorchMlp::new(&config, torchref::Device::Cpu, 2024)
        .expect("torchref")
        .parameters();
    let batches = data.train.len() / 64;
    let mut seen = Vec::with_capacity(steps);
    for step in 0..steps {
        let rows = (step % batches) * 64..(step % batches + 1) * 64;
        let batch = Batch {
            images: data.train.images.slice(s![rows.clone(), ..]),
            labels: data.train.labels.slice(s![rows]),
        };
        candidate.begin_step(step + 1);
        let clock = Instant::now();
        candidate
            .try_differentiate(&parameters, &batch)
            .unwrap_or_else(|e| panic!("{e}"));
        seen.push(clock.elapsed().as_secs_f64());
    }
    drop(candidate);
    let inside: Vec<f64> = std::fs::read_to_string(&timings)
        .expect("the candidate's timings")
        .lines()
        .filter_map(|l| l.parse().ok())
        .collect();
    let _ = std::fs::remove_file(&timings);
    let step = median(seen[WARM_UP..].to_vec());
    let arithmetic = median(inside[WARM_UP..].to_vec());
    println!(
        "{} steps: a step through the protocol {:.2} ms, its arithmetic alone {:.2} ms (medians): {:.2}× (protocol {:.2} ms a step)",
        steps - WARM_UP,
        step * 1e3,
        arithmetic * 1e3,
        step / arithmetic,
        (step - arithmetic) * 1e3
    );
}
