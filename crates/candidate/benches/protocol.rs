//! What a check costs against the candidate's own arithmetic: the default network
//! (784-500-250-100-10, ReLU, Adam, batch 64) as `tests/models/numpy_mlp.py` through the NumPy
//! adapter, teacher-forced against libtorch over 200 real MNIST steps ending on the epoch's
//! short batch, as `compare parity` and `tests/numpy_parity.rs` run it: every step the
//! candidate's gradient and its Adam step, libtorch's, and their comparison. Inside the
//! candidate's process `benches/timed_mlp.py` times `loss_and_grads` and `update` alone.
//! Prints, per run, the whole check's seconds, the NumPy arithmetic's, and their ratio.
//!
//! `cargo build --release -p candidate --bench protocol` then `target/release/deps/protocol-* [RUNS]`
//! (default 3; `cargo bench` rebuilds everything in the bench profile).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use candidate::{Candidate, Options};
use common::{config, teacher_forced, Found, DEFAULT_HIDDEN};
use contract::Activation;

const STEPS: usize = 200;
const IMAGES: usize = 199 * 64 + 32;

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(3);
    let config = config(&DEFAULT_HIDDEN, Activation::Relu, 0.0);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/timed_mlp.py");
    let options = Options {
        timeout: Duration::from_secs(60),
        echo_stderr: true,
    };
    common::mnist();
    for run in 1..=runs {
        let timings =
            std::env::temp_dir().join(format!("candidate-timings-{}", std::process::id()));
        let _ = std::fs::remove_file(&timings);
        std::env::set_var("CANDIDATE_TIMINGS", &timings);
        let mut candidate =
            Candidate::python(&common::python(), script.as_ref(), &config, &options)
                .unwrap_or_else(|e| panic!("{e}"));
        let clock = Instant::now();
        let found = teacher_forced(&config, &mut candidate, STEPS, IMAGES);
        let check = clock.elapsed().as_secs_f64();
        assert!(matches!(found, Found::Within(_)), "{found:?}");
        drop(candidate);
        let (mut gradients, mut updates) = (0.0, 0.0);
        for line in std::fs::read_to_string(&timings)
            .expect("the candidate's timings")
            .lines()
        {
            match line.split_once(' ') {
                Some(("loss_and_grads", s)) => gradients += s.parse::<f64>().expect("seconds"),
                Some(("update", s)) => updates += s.parse::<f64>().expect("seconds"),
                _ => panic!("timings line {line:?}"),
            }
        }
        let _ = std::fs::remove_file(&timings);
        let arithmetic = gradients + updates;
        println!(
            "run {run}: {STEPS}-step check {check:.2} s; NumPy arithmetic {arithmetic:.2} s (loss_and_grads {gradients:.2} s, update {updates:.2} s): {:.2}×",
            check / arithmetic
        );
    }
}
