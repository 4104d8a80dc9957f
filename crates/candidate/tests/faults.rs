//! Every way a candidate can break the protocol ends in one [`CandidateError`] that names the
//! step, the request and the fault, end to end: tiny Python candidates (`tests/models/fault_*.py`
//! through the NumPy adapter, `raw_version.py` without it) on a small network
//! (784-32-10, ReLU, SGD) and real MNIST. None may hang the harness or panic it.

mod common;

use std::process::Command;
use std::time::Duration;

use candidate::{Candidate, CandidateError, Fault, Options, When};
use common::{model, numpy, teacher_forced, Found};
use contract::{Activation, ModelConfig, Optimizer};

fn small() -> ModelConfig {
    ModelConfig::new(&[32], Activation::Relu, Optimizer::Sgd { lr: 0.01 }, 0.0)
}

/// The fault of `tests/models/<model>` within 3 steps, answers waited for up to `timeout`.
fn fault_of(model: &str, timeout: Duration) -> CandidateError {
    let config = small();
    let mut candidate = numpy(model, &config, timeout).expect("starts");
    match teacher_forced(&config, &mut candidate, 3, 3 * 64) {
        Found::Fault(error) => error,
        other => panic!("{model}: expected a fault, got {other:?}"),
    }
}

fn fault(model: &str) -> CandidateError {
    fault_of(model, Duration::from_secs(30))
}

#[test]
fn a_crash_names_its_exit_status_and_shows_stderr() {
    let error = fault("fault_crash.py");
    assert_eq!(error.when, When::Gradients(1));
    assert_eq!(
        error.fault,
        Fault::Crashed {
            status: "exit status: 3".to_owned()
        }
    );
    assert!(
        error.stderr.iter().any(|l| l == "about to crash"),
        "{error}"
    );
    let message = error.to_string();
    assert!(
        message
            .starts_with("candidate step 1, loss_and_grads: the process crashed (exit status: 3)"),
        "{message}"
    );
    assert!(message.contains("about to crash"), "{message}");
}

#[test]
fn an_early_exit() {
    let error = fault("fault_exit.py");
    assert_eq!(
        (error.when, error.fault),
        (When::Gradients(1), Fault::ExitedEarly)
    );
}

#[test]
fn an_exception_in_the_model_is_reported_with_its_traceback() {
    let error = fault("fault_raise.py");
    assert_eq!(error.when, When::Gradients(1));
    assert_eq!(
        error.fault,
        Fault::Reported("ValueError: shapes (64,784) and (500,) not aligned".to_owned())
    );
    assert!(
        error.stderr.iter().any(|l| l.starts_with("Traceback")),
        "{error}"
    );
    // The adapter loads the model from its file (importlib's spec_from_file_location), so
    // the frame that raised names that file and line and shows its source; the adapter's own
    // frames name the adapter.
    let file = model("fault_raise.py");
    let frame = format!("  File \"{}\", line 5, in loss_and_grads", file.display());
    let at = (error.stderr.iter().position(|l| *l == frame))
        .unwrap_or_else(|| panic!("no frame {frame:?}: {error}"));
    assert_eq!(
        error.stderr[at + 1].trim(),
        r#"raise ValueError("shapes (64,784) and (500,) not aligned")"#
    );
    let adapter = (error.stderr[..at].iter())
        .position(|l| {
            l.starts_with("  File \"adapters/numpy_adapter.py\", line ")
                && l.ends_with(", in answer")
        })
        .unwrap_or_else(|| panic!("no frame of the adapter's: {error}"));
    assert!(
        error.stderr[adapter + 1].contains("model.loss_and_grads("),
        "{error}"
    );
}

#[test]
fn text_on_stdout() {
    let error = fault("fault_print.py");
    assert_eq!(error.when, When::Gradients(1));
    assert_eq!(
        error.fault,
        Fault::TextOnStdout {
            text: "loss 2.302".to_owned()
        }
    );
}

#[test]
fn a_wrong_name() {
    let error = fault("fault_misname.py");
    assert_eq!(error.when, When::Gradients(1));
    let Fault::MissingArray { name, got } = &error.fault else {
        panic!("{error}")
    };
    assert_eq!(name, "W1");
    assert!(got.iter().any(|n| n == "w1"), "{error}");
}

#[test]
fn a_wrong_shape() {
    let error = fault("fault_misshape.py");
    assert_eq!(error.when, When::Gradients(1));
    assert_eq!(
        error.fault,
        Fault::WrongShape {
            name: "W1".to_owned(),
            expected: vec![32, 784],
            got: vec![784, 32]
        }
    );
}

#[test]
fn a_wrong_dtype() {
    let error = fault("fault_float16.py");
    assert_eq!(error.when, When::Gradients(1));
    assert_eq!(
        error.fault,
        Fault::WrongDtype {
            name: "W2".to_owned(),
            dtype: "<f2".to_owned()
        }
    );
}

/// Right at step 1, so the step named is 2.
#[test]
fn nan_is_named_with_its_step_and_index() {
    let error = fault("fault_nan.py");
    assert_eq!(error.when, When::Gradients(2));
    assert!(
        matches!(&error.fault, Fault::NotFinite { name, index: 0, value } if name == "b1" && value.is_nan()),
        "{error}"
    );
}

#[test]
fn a_candidate_that_hangs_is_stopped() {
    let error = fault_of("fault_hang.py", Duration::from_secs(3));
    assert_eq!(
        (error.when, error.fault),
        (When::Gradients(1), Fault::Timeout(Duration::from_secs(3)))
    );
}

#[test]
fn a_protocol_version_mismatch() {
    let script = common::model("raw_version.py");
    let command = format!("{} {}", common::python().display(), script.display());
    let error = Candidate::from_command_line(&command, &small(), &Options::default())
        .err()
        .expect("refused");
    assert_eq!(
        (error.when, error.fault),
        (When::Start, Fault::VersionMismatch { ours: 2, theirs: 1 })
    );
}

#[test]
fn a_command_that_cannot_start() {
    let missing = Command::new("/nonexistent/candidate");
    let error = Candidate::start("missing", missing, &small(), &Options::default())
        .err()
        .expect("refused");
    assert_eq!(error.when, When::Start);
    assert!(matches!(error.fault, Fault::Spawn { .. }), "{error}");
    let error = Candidate::from_command_line("exit 5", &small(), &Options::default())
        .err()
        .expect("refused");
    assert_eq!(
        (error.when, error.fault),
        (
            When::Start,
            Fault::Crashed {
                status: "exit status: 5".to_owned()
            }
        )
    );
}
