//! The page is enough: `tests/models/raw_client.py`, written from docs/candidate-protocol.md
//! alone (its own frames, no adapter, float64 throughout), is within the bound of libtorch
//! over 50 real MNIST steps of 784-500-250-100-10 (ReLU, L2 0.8, SGD at lr 0.01) whose last
//! is a short batch of 32, its gradients and its SGD step both.

mod common;

use candidate::{Candidate, Options};
use common::{teacher_forced, Found};
use contract::{Activation, ModelConfig, Optimizer};

#[test]
fn a_client_written_from_the_page_passes() {
    let config = ModelConfig::new(
        &[500, 250, 100],
        Activation::Relu,
        Optimizer::Sgd { lr: 0.01 },
        0.8,
    );
    let script = common::model("raw_client.py");
    let command = format!("{} {}", common::python().display(), script.display());
    let options = Options {
        echo_stderr: false,
        ..Options::default()
    };
    let mut candidate = Candidate::from_command_line(&command, &config, &options).expect("starts");
    assert!(candidate.has_update_rule());
    match teacher_forced(&config, &mut candidate, 50, 49 * 64 + 32) {
        Found::Within(worst) => {
            eprintln!("raw client: {worst:?}");
            assert_eq!(worst.last_batch, 32);
        }
        other => panic!("{other:?}"),
    }
}
