//! What the candidate tests share: real MNIST, the Python that runs the NumPy adapter, the
//! candidates of `tests/models`, and the teacher-forced run against libtorch: at every step
//! the candidate gets libtorch's parameters and the batch, its loss and gradients are
//! compared ([`parity::compare_step`]), then (if it has an update rule) both optimisers take
//! the step from the same parameters, gradient and state ([`parity::compare_update`]), and
//! libtorch's step is the one the run goes on from. libtorch computes while the candidate's
//! process does ([`parity::Schedule::Concurrent`]), as in `compare parity`.

#![allow(dead_code)] // each test binary uses its own part

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use candidate::{Candidate, CandidateError, Options};
use contract::{Activation, AdamState, Batch, ModelConfig, Optimizer, UpdateRequest, UpdateRule};
use mnist::Mnist;
use ndarray::s;
use parity::{Finding, TensorKind, DEFAULT_MAX_RATIO};
use torchref::{Device, TorchMlp};

pub const SEED: u64 = 2024;
pub const BATCH: usize = 64;

pub fn mnist() -> &'static Mnist {
    static DATA: OnceLock<Mnist> = OnceLock::new();
    DATA.get_or_init(testkit::real_mnist)
}

/// One run at a time, libtorch on one thread: the candidate and libtorch compute at the same
/// time, one thread each.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    torchref::set_threads(1);
    guard
}

/// `scripts/setup`'s venv Python, which has NumPy (its BLAS on one thread: `Candidate` sees
/// to that).
pub fn python() -> PathBuf {
    candidate::installed_python().unwrap_or_else(|missing| panic!("{missing}"))
}

/// A file of `tests/models`.
pub fn model(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/models")).join(name)
}

/// The NumPy adapter on `tests/models/<name>`, stderr kept quiet unless it fails.
pub fn numpy(
    name: &str,
    config: &ModelConfig,
    timeout: Duration,
) -> Result<Candidate, CandidateError> {
    let options = Options {
        timeout,
        echo_stderr: false,
    };
    Candidate::python(&python(), &model(name), config, &options)
}

/// The default network's hidden widths (784-500-250-100-10).
pub const DEFAULT_HIDDEN: [usize; 3] = [500, 250, 100];

/// The network 784-`hidden`-10 with `activation`: Adam (lr 1e-3) for ReLU and tanh, SGD
/// (lr 0.01) for sigmoid, as torchref's own parity tests.
pub fn config(hidden: &[usize], activation: Activation, l2: f32) -> ModelConfig {
    let optimizer = match activation {
        Activation::Sigmoid => Optimizer::Sgd { lr: 0.01 },
        Activation::Relu | Activation::Tanh => Optimizer::adam(1e-3),
    };
    ModelConfig::new(hidden, activation, optimizer, l2)
}

/// What a teacher-forced run found first.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// Every step within the bound.
    Within(Worst),
    /// A gradient over the bound: step (from 1), layer (from 0), tensor.
    Gradient(usize, usize, TensorKind),
    /// The loss over the bound, the gradients within it.
    Loss(usize),
    /// A parameter after the optimiser step over the bound.
    Update(usize, usize, TensorKind),
    Fault(CandidateError),
}

/// The worst error ratios of a run within the bound (times libtorch's own `f32` error).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Worst {
    pub gradient: f64,
    pub loss: f64,
    pub update: f64,
    pub kink_units: usize,
    /// Images in the last step's batch.
    pub last_batch: usize,
}

/// `steps` steps on the first `images` training images in file order (batches of 64, the
/// last one short when `images` is not a multiple of 64).
pub fn teacher_forced(
    config: &ModelConfig,
    candidate: &mut Candidate,
    steps: usize,
    images: usize,
) -> Found {
    let _one = one_at_a_time();
    let mut reference = TorchMlp::new(config, Device::Cpu, SEED).expect("torchref");
    let mut parameters = reference.parameters();
    let mut adam =
        matches!(config.optimizer, Optimizer::Adam { .. }).then(|| AdamState::zeros(&parameters));
    let train = &mnist().train;
    let mut worst = Worst::default();
    for step in 1..=steps {
        let rows = (step - 1) * BATCH..(step * BATCH).min(images);
        assert!(!rows.is_empty(), "step {step} is past {images} images");
        worst.last_batch = rows.len();
        let batch = Batch {
            images: train.images.slice(s![rows.clone(), ..]),
            labels: train.labels.slice(s![rows]),
        };
        candidate.begin_step(step);
        let report = parity::compare_step(
            &mut reference,
            candidate,
            &parameters,
            &batch,
            config.activation,
            parity::Schedule::Concurrent,
        );
        if let Some(fault) = candidate.fault() {
            return Found::Fault(fault.clone());
        }
        let parity::ComparedStep {
            report,
            reference_gradient: gradient,
        } = report.expect("comparable answers");
        for t in &report.tensors {
            worst.gradient = worst.gradient.max(t.error.ratio);
        }
        worst.loss = worst.loss.max(report.loss_error.ratio);
        worst.kink_units += report
            .tensors
            .iter()
            .step_by(2)
            .map(|t| t.kink_units)
            .sum::<usize>();
        match report.over_bound(DEFAULT_MAX_RATIO) {
            Some(Finding::Tensor(t)) => return Found::Gradient(step, t.layer, t.tensor),
            Some(Finding::Loss(_)) => return Found::Loss(step),
            None => {}
        }
        let request = UpdateRequest {
            optimizer: &config.optimizer,
            parameters: &parameters,
            gradient: &gradient,
            adam: adam.as_ref(),
        };
        let stepped = if candidate.has_update_rule() {
            let compared = parity::compare_update(
                &mut reference,
                candidate,
                &request,
                parity::Schedule::Concurrent,
            );
            if let Some(fault) = candidate.fault() {
                return Found::Fault(fault.clone());
            }
            let (report, stepped) = compared.expect("comparable parameters");
            for t in &report.tensors {
                worst.update = worst.update.max(t.error.ratio);
            }
            if let Some(t) = report.over_bound(DEFAULT_MAX_RATIO) {
                return Found::Update(step, t.layer, t.tensor);
            }
            stepped
        } else {
            reference.update(&request)
        };
        parameters = stepped.parameters;
        adam = stepped.adam;
    }
    Found::Within(worst)
}
