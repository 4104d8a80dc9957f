//! What the candidate's process is given: its numerical libraries on one thread each
//! (`tests/models/report_threads.py` sends the variables back as its error), since it and
//! libtorch take turns and idle BLAS threads spinning against libtorch's slow both.

mod common;

use std::time::Duration;

use candidate::{Fault, When};
use common::{numpy, teacher_forced, Found};
use contract::{Activation, ModelConfig, Optimizer};

#[test]
fn blas_and_openmp_run_on_one_thread() {
    for variable in ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"] {
        assert!(
            std::env::var_os(variable).is_none(),
            "{variable} is set here, so this test cannot see the harness set it"
        );
    }
    let config = ModelConfig::new(&[32], Activation::Relu, Optimizer::Sgd { lr: 0.01 }, 0.0);
    let mut candidate =
        numpy("report_threads.py", &config, Duration::from_secs(30)).expect("starts");
    let Found::Fault(error) = teacher_forced(&config, &mut candidate, 1, 64) else {
        panic!("report_threads.py answers only with an error")
    };
    assert_eq!(
        (error.when, error.fault),
        (
            When::Gradients(1),
            Fault::Reported(
                "ValueError: OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1".to_owned()
            )
        )
    );
}
