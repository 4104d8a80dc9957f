//! The public interface: construction, export and import, the `Trainer` contract, learning.

use contract::{Activation, Batch, ModelConfig, Optimizer, Trainer, INPUT_SIZE};
use mnist::metrics::{accuracy, mean_cross_entropy};
use ndarray::{s, Array1, Array2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use scratch::{Engine, Mlp};
use testkit::assert_close;

#[macro_use]
mod common;

test_on_engines! {
    logits_do_not_depend_on_blocking_and_leave_the_model_unchanged: textbook, avx2, avx512;
    train_step_returns_the_loss_before_the_update: textbook, avx2, avx512;
    an_sgd_step_applies_the_reported_gradient: textbook, avx2, avx512;
    a_small_network_learns_a_separable_problem_perfectly: textbook, avx2, avx512;
}

fn config(hidden: &[usize], optimizer: Optimizer, l2: f32) -> ModelConfig {
    ModelConfig::new(hidden, Activation::Relu, optimizer, l2)
}

/// [`Mlp::new`] on `engine`.
fn on(engine: Engine, config: &ModelConfig, seed: u64) -> Mlp {
    Mlp::new(config, seed)
        .with_engine(engine)
        .expect("the build found this engine on the CPU (built on another machine? `cargo clean -p scratch`)")
}

fn random_batch(m: usize, seed: u64) -> (Array2<f32>, Array1<u8>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let images = Array2::from_shape_fn((m, INPUT_SIZE), |_| rng.gen::<f32>());
    let labels = Array1::from_shape_fn(m, |_| rng.gen_range(0..10u8));
    (images, labels)
}

fn flat(params: &contract::Parameters) -> Vec<f32> {
    params
        .iter()
        .flat_map(|p| p.weight.iter().chain(&p.bias).copied())
        .collect()
}

#[test]
fn parameters_round_trip_through_export_and_import() {
    let config = config(&[500, 250, 100], Optimizer::Sgd { lr: 0.1 }, 0.0);
    let mlp = Mlp::new(&config, 7);
    assert_eq!(mlp.name(), "scratch");
    let params = mlp.parameters();
    let shapes: Vec<_> = params
        .iter()
        .map(|p| (p.out_features, p.in_features, p.weight.len(), p.bias.len()))
        .collect();
    assert_eq!(
        shapes,
        [
            (500, 784, 392_000, 500),
            (250, 500, 125_000, 250),
            (100, 250, 25_000, 100),
            (10, 100, 1000, 10)
        ]
    );
    let again = Mlp::from_parameters(&config, &params).parameters();
    assert_close(
        "re-imported parameters",
        &flat(&again),
        &flat(&params),
        0.0,
        0.0,
    );
    assert_close(
        "same seed",
        &flat(&Mlp::new(&config, 7).parameters()),
        &flat(&params),
        0.0,
        0.0,
    );
}

#[test]
#[should_panic(expected = "layer 1")]
fn importing_parameters_of_another_shape_is_a_bug() {
    let params = Mlp::new(&config(&[30, 20], Optimizer::Sgd { lr: 0.1 }, 0.0), 1).parameters();
    Mlp::from_parameters(&config(&[30, 21], Optimizer::Sgd { lr: 0.1 }, 0.0), &params);
}

/// Logits of 1000 images at once (several blocks, a partial one last) equal those of the
/// images taken 37 at a time, and computing them changes nothing.
fn logits_do_not_depend_on_blocking_and_leave_the_model_unchanged(engine: Engine) {
    let mut mlp = on(
        engine,
        &config(&[64, 32], Optimizer::Sgd { lr: 0.1 }, 0.0),
        3,
    );
    let before = flat(&mlp.parameters());
    let (images, _) = random_batch(1000, 4);
    let all = mlp.logits(images.view());
    assert_eq!(all.dim(), (1000, 10));
    let mut pieces = Vec::new();
    for chunk in images.axis_chunks_iter(Axis(0), 37) {
        pieces.extend(mlp.logits(chunk).iter().copied());
    }
    assert_close(
        "blocked logits",
        all.as_slice().unwrap(),
        &pieces,
        1e-6,
        1e-6,
    );
    assert_close(
        "parameters after logits",
        &flat(&mlp.parameters()),
        &before,
        0.0,
        0.0,
    );
}

/// The loss a step returns is the loss before its update: mean cross-entropy of the logits
/// (by `mnist::metrics`, from `logits()`) plus λ/(2m)·Σ‖W‖² of the exported weights.
fn train_step_returns_the_loss_before_the_update(engine: Engine) {
    let l2 = 0.7;
    let (images, labels) = random_batch(50, 5);
    for optimizer in [Optimizer::Sgd { lr: 0.05 }, Optimizer::adam(1e-3)] {
        let mut mlp = on(engine, &config(&[40], optimizer, l2), 6);
        for _ in 0..3 {
            let cross_entropy = mean_cross_entropy(mlp.logits(images.view()).view(), labels.view());
            let squares: f64 = mlp
                .parameters()
                .iter()
                .flat_map(|p| &p.weight)
                .map(|&w| (w as f64).powi(2))
                .sum();
            let want = cross_entropy + f64::from(l2) / (2.0 * 50.0) * squares;
            let batch = Batch {
                images: images.view(),
                labels: labels.view(),
            };
            assert_close("loss()", &[f64::from(mlp.loss(&batch))], &[want], 1e-5, 0.0);
            assert_close(
                "train_step()",
                &[f64::from(mlp.train_step(&batch))],
                &[want],
                1e-5,
                0.0,
            );
        }
    }
}

/// One SGD step is `w − lr·∇w` with the gradient `gradient()` reports (L2 term included).
fn an_sgd_step_applies_the_reported_gradient(engine: Engine) {
    let lr = 0.05;
    let (images, labels) = random_batch(64, 8);
    let batch = Batch {
        images: images.view(),
        labels: labels.view(),
    };
    let mut mlp = on(
        engine,
        &config(&[500, 250, 100], Optimizer::Sgd { lr }, 0.3),
        9,
    );
    let before = flat(&mlp.parameters());
    let (loss, gradient) = mlp.gradient(&batch);
    let want: Vec<f32> = before
        .iter()
        .zip(flat(&gradient))
        .map(|(w, g)| w - lr * g)
        .collect();
    assert_close("loss", &[mlp.train_step(&batch)], &[loss], 1e-6, 0.0);
    assert_close(
        "parameters after one step",
        &flat(&mlp.parameters()),
        &want,
        0.0,
        1e-7,
    );
}

/// Ten classes, each a fixed random pattern of pixels plus noise: a 784-32-10 network
/// trained by SGD classifies all 300 training images correctly.
fn a_small_network_learns_a_separable_problem_perfectly(engine: Engine) {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let prototypes = Array2::from_shape_fn((10, INPUT_SIZE), |_| {
        if rng.gen_bool(0.2) {
            1.0f32
        } else {
            0.0
        }
    });
    let labels = Array1::from_shape_fn(300, |i| (i % 10) as u8);
    let images = Array2::from_shape_fn((300, INPUT_SIZE), |(i, k)| {
        (prototypes[[usize::from(labels[i]), k]] + rng.gen_range(-0.3..0.3f32)).clamp(0.0, 1.0)
    });
    let mut mlp = on(engine, &config(&[32], Optimizer::Sgd { lr: 0.1 }, 0.0), 12);
    for _ in 0..20 {
        for first in (0..300).step_by(20) {
            let rows = first..first + 20;
            mlp.train_step(&Batch {
                images: images.slice(s![rows.clone(), ..]),
                labels: labels.slice(s![rows]),
            });
        }
    }
    let logits = mlp.logits(images.view());
    let correct = (accuracy(logits.view(), labels.view()) * 300.0).round() as usize;
    assert_eq!(correct, 300, "training accuracy {correct}/300");
}
