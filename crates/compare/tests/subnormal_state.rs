//! Proof that flushing subnormals reaches every thread of both models, on any x86_64 CPU
//! whatever its subnormal speed: after two epochs of Adam on two threads, the optimiser state
//! holds no subnormal value in the default mode and does with `--keep-subnormals`.
//!
//! Each mode runs in a process of its own that, like `compare`'s `main`, sets the mode before
//! any thread starts or libtorch runs (this file re-runs itself; the test harness would have
//! started threads first). The parent is one test under libtest-mimic, so that `cargo test`
//! reports it as ignored, not passed, where it does not apply (not x86_64). In each child both
//! models train as in a run: scratch (its pool threads do the Adam update on their shares of
//! the rows) and libtorch, whose element-wise kernels split tensors of more than 32 768
//! elements between its OpenMP threads.
//!
//! libtorch's `nn::Optimizer` does not expose its Adam state (tch 0.26 has no accessor, and
//! `torch::optim::Adam` keeps it in C++). So beside the torch model's own `nn::adam` step, the
//! same gradient goes through `torch::optim::Adam::step`'s operations written in tch
//! (`exp_avg.mul_(β1).add_(g, 1−β1)`, …): the same kernels on the same threads, with the state
//! in tensors this test reads. Their parameters are checked equal to the model's afterwards,
//! so that state is the state libtorch's Adam holds. The first layer's `m` is counted in two
//! halves: libtorch's second OpenMP thread (not the main one) updates the second half.

use std::process::{Command, ExitCode};

use contract::{Differentiable, ModelConfig, Trainer};
use libtest_mimic::{Arguments, Trial};
use mnist::{Batcher, EpochOrder};
use tch::{Kind, Tensor};

/// The environment variable that makes this program a child measuring one mode.
const MODE: &str = "SUBNORMAL_STATE_MODE";
const THREADS: usize = 2;
/// Images and batch size: 2 × 750 steps. A weight whose gradient stays zero for about 650
/// steps sees its `m` (decaying by 0.9 a step) pass through the subnormal range; with fewer
/// steps per epoch the images come round again too soon.
const IMAGES: usize = 12_000;
const BATCH: usize = 16;
const EPOCHS: usize = 2;
/// 100 × 784 = 78 400 first-layer weights: more than two of libtorch's 32 768-element grains,
/// so both OpenMP threads take a half.
const HIDDEN: [usize; 1] = [100];

fn main() -> ExitCode {
    match std::env::var(MODE).as_deref() {
        Ok("flush") => measure(subnormals::Mode::FlushToZero),
        Ok("keep") => measure(subnormals::Mode::Keep),
        _ => return run_as_a_test(),
    }
    ExitCode::SUCCESS
}

/// The parent: one test, in `cargo test`'s format, ignored where it does not apply.
fn run_as_a_test() -> ExitCode {
    let applies = cfg!(target_arch = "x86_64");
    if !applies {
        eprintln!("subnormal_state is ignored: flushing subnormals is implemented on x86_64 only");
    }
    let test = Trial::test(
        "adam_state_holds_subnormals_only_when_they_are_kept",
        || {
            compare_modes();
            Ok(())
        },
    )
    .with_ignored_flag(!applies);
    libtest_mimic::run(&Arguments::from_args(), vec![test]).exit_code()
}

/// What a child reports: subnormal counts in each model's Adam state.
#[derive(Debug)]
struct Counts {
    scratch: usize,
    torch: usize,
    /// In the half of the first layer's `m` that libtorch's second thread updates.
    torch_second_thread: usize,
}

fn compare_modes() {
    let run = |mode: &str| {
        let output = Command::new(std::env::current_exe().expect("this test's path"))
            .env(MODE, mode)
            .output()
            .expect("the child starts");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{mode}: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let field = |name: &str| -> usize {
            stdout
                .split_whitespace()
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{mode}: no {name} in {stdout}"))
        };
        let counts = Counts {
            scratch: field("scratch"),
            torch: field("torch"),
            torch_second_thread: field("torch_second_thread"),
        };
        eprintln!("subnormal values in the Adam state, {mode}: {counts:?}");
        counts
    };
    let kept = run("keep");
    assert!(
        kept.scratch > 0 && kept.torch > 0 && kept.torch_second_thread > 0,
        "the setting must produce subnormals when they are kept, or the test proves nothing: {kept:?}"
    );
    let flushed = run("flush");
    assert_eq!(
        (flushed.scratch, flushed.torch, flushed.torch_second_thread),
        (0, 0, 0),
        "flushed: {flushed:?}"
    );
}

/// Trains both models with Adam in `mode` and prints the subnormal counts of their state.
fn measure(mode: subnormals::Mode) {
    subnormals::set(mode).expect("x86_64 has both modes");
    scratch::set_threads(THREADS);
    torchref::set_threads(THREADS);

    let data = testkit::real_mnist().train.head(IMAGES);
    let config = ModelConfig::new(
        &HIDDEN,
        contract::Activation::Relu,
        contract::Optimizer::adam(0.01),
        0.0,
    );
    let initial = scratch::Mlp::new(&config, 42).parameters();
    let mut scratch = scratch::Mlp::from_parameters(&config, &initial);
    let mut torch = torchref::TorchMlp::from_parameters(&config, &initial, torchref::Device::Cpu)
        .expect("a CPU torch model");
    let mut replica = AdamOps::new(&initial);

    let mut batcher = Batcher::new(BATCH, false);
    let order = EpochOrder::sequential(data.len());
    for _ in 0..EPOCHS {
        for step in 0..batcher.steps(data.len()) {
            let batch = batcher.batch(&data, &order, step);
            scratch.train_step(&batch);
            let gradient = torch.differentiate(&torch.parameters(), &batch).gradient;
            torch.apply_gradient(&gradient);
            replica.step(&gradient);
        }
    }

    // The replica is libtorch's Adam: the same parameters as nn::adam's, to rounding. The
    // worst difference measured was 4.2e-6 after 1500 steps (f32 rounding of each update, which
    // moves a weight by up to lr = 0.01, adding up); any other arithmetic (a bias correction
    // left out, β1 and β2 swapped) is off by a sizeable part of one update, 1e-3 or more.
    let worst = replica.worst_difference(&torch.parameters());
    assert!(worst < 1e-5, "the replica left libtorch's Adam: {worst:e}");

    let first_m = Vec::<f32>::try_from(&replica.m[0].flatten(0, -1)).expect("f32 state");
    let second_half = &first_m[first_m.len() / 2..];
    let torch_state: usize = replica
        .m
        .iter()
        .chain(&replica.v)
        .map(|t| subnormals::count(&Vec::<f32>::try_from(&t.flatten(0, -1)).expect("f32")))
        .sum();
    println!(
        "scratch={} torch={torch_state} torch_second_thread={} worst_parameter_difference={worst:e}",
        subnormals::count(&scratch.optimizer_state()),
        subnormals::count(second_half),
    );
}

/// `torch::optim::Adam::step` (libtorch 2.13, `torch/csrc/api/src/optim/adam.cpp`, no weight
/// decay, no amsgrad), operation by operation in tch, with its state in reach.
struct AdamOps {
    params: Vec<Tensor>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    step: i32,
}

impl AdamOps {
    const BETA1: f64 = 0.9;
    const BETA2: f64 = 0.999;
    const EPS: f64 = 1e-8;
    const LR: f64 = 0.01;

    fn new(initial: &contract::Parameters) -> Self {
        let params = tensors(initial);
        let zeros = || params.iter().map(Tensor::zeros_like).collect();
        AdamOps {
            m: zeros(),
            v: zeros(),
            params,
            step: 0,
        }
    }

    fn step(&mut self, gradient: &contract::Parameters) {
        self.step += 1;
        let bias_correction1 = 1.0 - Self::BETA1.powi(self.step);
        let bias_correction2 = 1.0 - Self::BETA2.powi(self.step);
        let step_size = Self::LR / bias_correction1;
        let grads = tensors(gradient);
        let state = self.m.iter_mut().zip(&mut self.v);
        for ((p, g), (m, v)) in self.params.iter_mut().zip(&grads).zip(state) {
            // exp_avg.mul_(beta1).add_(grad, 1 - beta1)
            let _ = m.g_mul_scalar_(Self::BETA1);
            let _ = m.g_add_(&(g * (1.0 - Self::BETA1)));
            // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
            let _ = v.g_mul_scalar_(Self::BETA2);
            let _ = v.addcmul_(&(g * (1.0 - Self::BETA2)), g);
            // denom = (exp_avg_sq.sqrt() / sqrt(bias_correction2)).add_(eps)
            let denom = v.sqrt() / bias_correction2.sqrt() + Self::EPS;
            // p.addcdiv_(exp_avg, denom, -step_size)
            let _ = p.g_sub_(&(&*m / &denom * step_size));
        }
    }

    /// The largest |difference| between these parameters and `others`.
    fn worst_difference(&self, others: &contract::Parameters) -> f64 {
        self.params
            .iter()
            .zip(tensors(others))
            .map(|(a, b)| (a - b).abs().max().double_value(&[]))
            .fold(0.0, f64::max)
    }
}

/// `[w0, b0, w1, b1, …]` as f32 CPU tensors, weights `(out, in)`.
fn tensors(params: &contract::Parameters) -> Vec<Tensor> {
    params
        .iter()
        .flat_map(|layer| {
            let rows = i64::try_from(layer.out_features).expect("a small width");
            let columns = i64::try_from(layer.in_features).expect("a small width");
            [
                Tensor::from_slice(&layer.weight).view([rows, columns]),
                Tensor::from_slice(&layer.bias),
            ]
        })
        .map(|t| t.to_kind(Kind::Float))
        .collect()
}
