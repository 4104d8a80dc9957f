//! The model's contract without real data: devices, initialisation, parameter exchange, the
//! loss and one update in closed form, and logits computed in blocks.

use contract::{
    Activation, Batch, Differentiable, LayerParameters, ModelConfig, Optimizer, Parameters, Trainer,
};
use ndarray::{s, Array1, Array2};
use tch::Device;
use testkit::{assert_close, worst_deviation};
use torchref::{parse_device, Error, TorchMlp};

fn default_config() -> ModelConfig {
    ModelConfig::new(
        &[500, 250, 100],
        Activation::Sigmoid,
        Optimizer::Sgd { lr: 0.01 },
        0.0,
    )
}

/// Deterministic images in [0, 1): `(0.37·i mod 1)` over the flattened array.
fn images(rows: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, contract::INPUT_SIZE), |(r, c)| {
        ((r * contract::INPUT_SIZE + c) as f32 * 0.37).fract()
    })
}

#[test]
fn parse_device_reads_cpu_cuda_and_cuda_n() {
    assert_eq!(parse_device("cpu").expect("cpu"), Device::Cpu);
    for bad in ["", "gpu", "CPU", "cuda:", "cuda:x", "cuda:-1", "cuda0"] {
        match parse_device(bad) {
            Err(Error::BadDevice(name)) => assert_eq!(name, bad),
            other => panic!("{bad:?} gave {other:?}, expected BadDevice"),
        }
    }
    // "cuda" is device 0: present or a CudaUnavailable that says so.
    match parse_device("cuda") {
        Ok(device) => assert_eq!(device, Device::Cuda(0)),
        Err(Error::CudaUnavailable { requested, .. }) => assert_eq!(requested, 0),
        Err(e) => panic!("cuda gave {e}"),
    }
}

#[test]
fn an_absent_cuda_device_is_a_clear_error() {
    let available = usize::try_from(tch::Cuda::device_count()).expect("count");
    let err = parse_device("cuda:1000").expect_err("no machine has 1001 GPUs");
    assert!(
        matches!(err, Error::CudaUnavailable { requested: 1000, available: a } if a == available),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("cuda:1000") && !message.contains("--"),
        "{message}"
    );
    let model = TorchMlp::new(&default_config(), Device::Cuda(1000), 0);
    assert!(matches!(
        model,
        Err(Error::CudaUnavailable {
            requested: 1000,
            ..
        })
    ));
}

/// Xavier/Glorot uniform: every weight of layer `fan_in → fan_out` in [−a, a), a =
/// √(6/(fan_in + fan_out)), mean 0 and variance a²/3 (within 5 standard errors: the mean of n
/// draws has σ = a/√(3n); the mean square has σ = a²·√(4/45)/√n), the largest |w| near a
/// (torch's default Kaiming bound 1/√fan_in is about half of a here); biases exactly zero.
#[test]
fn new_draws_xavier_uniform_weights_and_zero_biases() {
    let model = TorchMlp::new(&default_config(), Device::Cpu, 7).expect("model");
    let params = model.parameters();
    let sizes = [784, 500, 250, 100, 10];
    assert_eq!(params.len(), 4);
    for (layer, (p, pair)) in params.iter().zip(sizes.windows(2)).enumerate() {
        let (fan_in, fan_out) = (pair[0], pair[1]);
        assert_eq!((p.out_features, p.in_features), (fan_out, fan_in));
        let a = (6.0 / (fan_in + fan_out) as f64).sqrt();
        let w: Vec<f64> = p.weight.iter().map(|&x| f64::from(x)).collect();
        let n = w.len() as f64;
        let max = w.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
        assert!(
            w.iter().all(|&x| (-a..a).contains(&x)),
            "layer {layer}: a weight outside [-a, a)"
        );
        assert!(
            max > 0.99 * a,
            "layer {layer}: largest |w| {max} is not near a = {a}"
        );
        let mean = w.iter().sum::<f64>() / n;
        assert!(
            mean.abs() < 5.0 * a / (3.0 * n).sqrt(),
            "layer {layer}: mean {mean}"
        );
        let mean_square = w.iter().map(|x| x * x).sum::<f64>() / n;
        let sigma = a * a * (4.0_f64 / 45.0).sqrt() / n.sqrt();
        assert!(
            (mean_square - a * a / 3.0).abs() < 5.0 * sigma,
            "layer {layer}: mean square {mean_square}, expected {}",
            a * a / 3.0
        );
        assert_close(
            &format!("layer {layer} bias"),
            &p.bias,
            &vec![0.0; fan_out],
            0.0,
            0.0,
        );
    }
}

#[test]
fn a_seed_fixes_the_weights() {
    let weights = |seed| {
        TorchMlp::new(&default_config(), Device::Cpu, seed)
            .expect("model")
            .parameters()
    };
    let (a, again, other) = (weights(3), weights(3), weights(4));
    for (layer, ((a, again), other)) in a.iter().zip(&again).zip(&other).enumerate() {
        assert_close(
            &format!("layer {layer}, same seed"),
            &again.weight,
            &a.weight,
            0.0,
            0.0,
        );
        let differs = worst_deviation(&other.weight, &a.weight, 0.0, 0.0);
        assert!(
            differs.is_some(),
            "layer {layer}: seeds 3 and 4 gave the same weights"
        );
    }
}

#[test]
fn parameters_round_trip_exactly() {
    let config = default_config();
    let params = TorchMlp::new(&config, Device::Cpu, 11)
        .expect("model")
        .parameters();
    let copy = TorchMlp::from_parameters(&config, &params, Device::Cpu).expect("copy");
    for (layer, (got, want)) in copy.parameters().iter().zip(&params).enumerate() {
        assert_eq!(
            (got.out_features, got.in_features),
            (want.out_features, want.in_features)
        );
        assert_close(
            &format!("layer {layer} weight"),
            &got.weight,
            &want.weight,
            0.0,
            0.0,
        );
        assert_close(
            &format!("layer {layer} bias"),
            &got.bias,
            &want.bias,
            0.0,
            0.0,
        );
    }
}

#[test]
#[should_panic(
    expected = "layer 1: parameters are 250×500 (weight 125000 values, bias 250), the architecture wants 200×500"
)]
fn parameters_of_another_architecture_are_refused() {
    let params = TorchMlp::new(&default_config(), Device::Cpu, 0)
        .expect("model")
        .parameters();
    let other = ModelConfig::new(
        &[500, 200, 100],
        Activation::Sigmoid,
        Optimizer::Sgd { lr: 0.01 },
        0.0,
    );
    let _ = TorchMlp::from_parameters(&other, &params, Device::Cpu);
}

/// One hidden layer of 3 sigmoid units, W1 = 0.01 everywhere, W2 = 0, biases 0.
fn small_config(l2: f32) -> ModelConfig {
    ModelConfig::new(&[3], Activation::Sigmoid, Optimizer::Sgd { lr: 0.1 }, l2)
}

fn small_parameters() -> Parameters {
    vec![
        LayerParameters {
            weight: vec![0.01; 3 * 784],
            out_features: 3,
            in_features: 784,
            bias: vec![0.0; 3],
        },
        LayerParameters {
            weight: vec![0.0; 10 * 3],
            out_features: 10,
            in_features: 3,
            bias: vec![0.0; 10],
        },
    ]
}

/// A batch of m = 4 images of 0.5 with labels 0, 1, 1, 9.
fn small_batch() -> (Array2<f32>, Array1<u8>) {
    (
        Array2::from_elem((4, 784), 0.5_f32),
        Array1::from(vec![0_u8, 1, 1, 9]),
    )
}

/// The label frequencies of [`small_batch`].
const FREQUENCY: [f64; 10] = [0.25, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.25];

/// σ(784·0.5·0.01) = σ(3.92), every hidden unit's output on [`small_batch`].
fn hidden_output() -> f64 {
    1.0 / (1.0 + (-3.92_f64).exp())
}

fn as_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

/// [`small_parameters`] on [`small_batch`] with λ = 0.8. By hand:
/// - logits are 0, so softmax is 0.1 everywhere and the cross-entropy is ln 10;
/// - L2 term λ/(2m)·Σ‖W‖² = 0.1 · 3·784·0.01² = 0.02352; loss = ln 10 + 0.02352;
/// - ∂/∂b2 = mean(softmax − onehot) = 0.1 − f (f the label frequencies);
///   ∂/∂W2[k][j] = (0.1 − f_k)·a with a = σ(3.92);
/// - no gradient reaches the hidden layer through W2 = 0, so ∂/∂W1 = (λ/m)·W1 = 0.002 and
///   ∂/∂b1 = 0; every hidden pre-activation is 3.92.
#[test]
fn differentiate_gives_the_closed_form_and_leaves_the_model_alone() {
    let config = small_config(0.8);
    let own = TorchMlp::new(&config, Device::Cpu, 3)
        .expect("model")
        .parameters();
    let mut model = TorchMlp::from_parameters(&config, &own, Device::Cpu).expect("model");
    let (images, labels) = small_batch();
    let batch = Batch {
        images: images.view(),
        labels: labels.view(),
    };
    let at = model.differentiate(&small_parameters(), &batch);
    let want_loss = 10.0_f64.ln() + 0.02352;
    assert_close("loss", &[f64::from(at.loss)], &[want_loss], 1e-6, 0.0);
    let b2: Vec<f64> = FREQUENCY.iter().map(|f| 0.1 - f).collect();
    let w2: Vec<f64> = b2.iter().flat_map(|b| [b * hidden_output(); 3]).collect();
    let g = &at.gradient;
    assert_close(
        "∂W1",
        &as_f64(&g[0].weight),
        &vec![0.002; 3 * 784],
        1e-5,
        0.0,
    );
    assert_close("∂b1", &as_f64(&g[0].bias), &[0.0; 3], 0.0, 0.0);
    assert_close("∂W2", &as_f64(&g[1].weight), &w2, 1e-5, 1e-9);
    assert_close("∂b2", &as_f64(&g[1].bias), &b2, 1e-5, 1e-9);
    assert_eq!(at.pre_activations.len(), 1, "one hidden layer");
    assert_eq!(at.pre_activations[0].dim(), (4, 3));
    let z = as_f64(at.pre_activations[0].as_slice().expect("standard layout"));
    assert_close("Z1", &z, &[3.92; 12], 1e-6, 0.0);
    for (layer, (after, before)) in model.parameters().iter().zip(&own).enumerate() {
        assert_close(
            &format!("layer {layer} weight after"),
            &after.weight,
            &before.weight,
            0.0,
            0.0,
        );
        assert_close(
            &format!("layer {layer} bias after"),
            &after.bias,
            &before.bias,
            0.0,
            0.0,
        );
    }
}

/// The same network and batch trained one SGD step (lr 0.1): every parameter moves by
/// −0.1 × the gradient of [`differentiate_gives_the_closed_form_and_leaves_the_model_alone`]:
/// W1 ← 0.01·(1 − 0.1·0.8/4) = 0.0098, b1 stays 0, b2 ← −0.1·(0.1 − f), W2 ← b2·a.
#[test]
fn one_sgd_step_with_l2_matches_the_closed_form() {
    let mut model = TorchMlp::from_parameters(&small_config(0.8), &small_parameters(), Device::Cpu)
        .expect("model");
    let (images, labels) = small_batch();
    let loss = model.train_step(&Batch {
        images: images.view(),
        labels: labels.view(),
    });
    let want_loss = 10.0_f64.ln() + 0.02352;
    assert_close("loss", &[f64::from(loss)], &[want_loss], 1e-6, 0.0);
    let b2: Vec<f64> = FREQUENCY.iter().map(|f| -0.1 * (0.1 - f)).collect();
    let w2: Vec<f64> = b2.iter().flat_map(|b| [b * hidden_output(); 3]).collect();
    let after = model.parameters();
    assert_close(
        "W1",
        &as_f64(&after[0].weight),
        &vec![0.0098; 3 * 784],
        1e-6,
        0.0,
    );
    assert_close("b1", &as_f64(&after[0].bias), &[0.0; 3], 0.0, 0.0);
    assert_close("W2", &as_f64(&after[1].weight), &w2, 1e-5, 1e-9);
    assert_close("b2", &as_f64(&after[1].bias), &b2, 1e-5, 1e-9);
}

/// The optimiser on its own: `apply_gradient(g)` with SGD at lr 0.1 gives θ − 0.1·g, to one
/// rounding of the product (libtorch fuses the multiply-add).
#[test]
fn apply_gradient_is_one_optimiser_step() {
    let start = small_parameters();
    let mut model =
        TorchMlp::from_parameters(&small_config(0.0), &start, Device::Cpu).expect("model");
    let gradient: Parameters = start
        .iter()
        .map(|p| LayerParameters {
            weight: (0..p.weight.len())
                .map(|i| (i as f32 * 0.37).sin())
                .collect(),
            bias: (0..p.bias.len()).map(|i| (i as f32 * 0.71).cos()).collect(),
            ..p.clone()
        })
        .collect();
    model.apply_gradient(&gradient);
    let after = model.parameters();
    for (layer, ((after, start), g)) in after.iter().zip(&start).zip(&gradient).enumerate() {
        let step = |p: &[f32], g: &[f32]| -> Vec<f64> {
            p.iter()
                .zip(g)
                .map(|(&p, &g)| f64::from(p) - 0.1 * f64::from(g))
                .collect()
        };
        // |θ − 0.1·g| ≤ 0.11: one f32 rounding is ≤ 7e-9 there.
        let what = format!("layer {layer} weight");
        assert_close(
            &what,
            &as_f64(&after.weight),
            &step(&start.weight, &g.weight),
            0.0,
            1e-8,
        );
        let what = format!("layer {layer} bias");
        assert_close(
            &what,
            &as_f64(&after.bias),
            &step(&start.bias, &g.bias),
            0.0,
            1e-8,
        );
    }
}

/// `logits` runs in blocks of 10 000 rows: rows on both sides of the seam must be what the
/// same rows give on their own (to matrix-product rounding).
#[test]
fn logits_are_stitched_across_blocks() {
    let mut model = TorchMlp::new(&default_config(), Device::Cpu, 5).expect("model");
    let images = images(10_037);
    let all = model.logits(images.view());
    assert_eq!(all.dim(), (10_037, 10));
    let seam = model.logits(images.slice(s![9_990.., ..]));
    let got = all
        .slice(s![9_990.., ..])
        .to_owned()
        .into_raw_vec_and_offset()
        .0;
    assert_close(
        "rows 9990..10037",
        &got,
        &seam.into_raw_vec_and_offset().0,
        0.0,
        1e-5,
    );
}

#[test]
fn reports_its_name_and_libtorch_version() {
    let model = TorchMlp::new(&default_config(), Device::Cpu, 0).expect("model");
    assert_eq!(Trainer::name(&model), "torchref");
    assert_eq!(Differentiable::name(&model), "torchref");
    assert_eq!(model.device(), Device::Cpu);
    let version = torchref::libtorch_version();
    assert!(
        version.starts_with("2.13"),
        "libtorch {version}, tch 0.26 needs 2.13"
    );
}
