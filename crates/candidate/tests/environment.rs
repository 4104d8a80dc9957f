//! What the candidate's process is given: its numerical libraries on one thread each, unless
//! the user set their variables (`tests/models/report_threads.py` sends them back as its
//! error), since it and libtorch compute at the same time and idle BLAS threads spinning
//! against libtorch's slow both.

mod common;

use std::time::Duration;

use candidate::{Fault, When};
use common::{numpy, teacher_forced, Found};
use contract::{Activation, ModelConfig, Optimizer};

/// The variables `report_threads.py` finds, as its error at step 1.
fn threads_reported() -> String {
    let config = ModelConfig::new(&[32], Activation::Relu, Optimizer::Sgd { lr: 0.01 }, 0.0);
    let mut candidate =
        numpy("report_threads.py", &config, Duration::from_secs(30)).expect("starts");
    let Found::Fault(error) = teacher_forced(&config, &mut candidate, 1, 64) else {
        panic!("report_threads.py answers only with an error")
    };
    assert_eq!(error.when, When::Gradients(1));
    let Fault::Reported(message) = error.fault else {
        panic!("{error}")
    };
    message
}

/// One test, so that no other changes the environment while it runs.
#[test]
fn blas_and_openmp_run_on_one_thread_unless_the_user_said_otherwise() {
    for variable in ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"] {
        assert!(
            std::env::var_os(variable).is_none(),
            "{variable} is set here, so this test cannot see the harness set it"
        );
    }
    assert_eq!(
        threads_reported(),
        "ValueError: OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1"
    );
    std::env::set_var("OPENBLAS_NUM_THREADS", "3");
    assert_eq!(
        threads_reported(),
        "ValueError: OPENBLAS_NUM_THREADS=3 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1"
    );
}
