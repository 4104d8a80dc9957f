//! [`TorchMlp`]: the network, its loss and its training step in tch.

use mnist::{
    Activation, Batch, LayerParameters, ModelConfig, Optimizer, Parameters, Trainer, CLASSES,
    INPUT_SIZE,
};
use ndarray::{Array2, ArrayView2, Axis};
use tch::{Device, Kind, Tensor};

use crate::device::check_device;
use crate::optim::{Adam, Update};
use crate::{init, Error};

/// Rows per forward pass in [`Trainer::logits`]: large enough to keep the matrix products
/// efficient, small enough that the activations stay modest (10 000 × 500 f32 = 20 MB).
const LOGITS_BLOCK: usize = 10_000;

/// The multilayer perceptron of [`ModelConfig`] in libtorch, trained with autograd.
#[derive(Debug)]
pub struct TorchMlp {
    activation: Activation,
    l2: f64,
    device: Device,
    /// `[w0, b0, w1, b1, ..]`: weights `(out, in)`, biases `(out)`; leaves that require grad.
    params: Vec<Tensor>,
    update: Update,
}

impl TorchMlp {
    /// Xavier-uniform weights and zero biases drawn after `tch::manual_seed(seed)` (on the
    /// CPU, then moved to `device`).
    pub fn new(config: &ModelConfig, device: Device, seed: u64) -> Result<Self, Error> {
        check_device(device)?;
        check_widths(config);
        let params = init::xavier_uniform(&config.layer_sizes(), seed)?;
        Self::on_device(config, params, device)
    }

    /// Starts from `params` exactly (for example another model's export). Panics if their
    /// shapes do not match `config`.
    pub fn from_parameters(
        config: &ModelConfig,
        params: &Parameters,
        device: Device,
    ) -> Result<Self, Error> {
        check_device(device)?;
        check_widths(config);
        let sizes = config.layer_sizes();
        assert_eq!(
            params.len(),
            sizes.len() - 1,
            "parameters for {} layers, the architecture has {}",
            params.len(),
            sizes.len() - 1
        );
        let mut tensors = Vec::with_capacity(2 * params.len());
        for (layer, (p, pair)) in params.iter().zip(sizes.windows(2)).enumerate() {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            assert!(
                p.in_features == fan_in
                    && p.out_features == fan_out
                    && p.weight.len() == fan_out * fan_in
                    && p.bias.len() == fan_out,
                "layer {layer}: parameters are {}×{} (weight {} values, bias {}), the architecture wants {fan_out}×{fan_in}",
                p.out_features,
                p.in_features,
                p.weight.len(),
                p.bias.len()
            );
            tensors.push(Tensor::f_from_slice(&p.weight)?.f_view([fan_out as i64, fan_in as i64])?);
            tensors.push(Tensor::f_from_slice(&p.bias)?);
        }
        Self::on_device(config, tensors, device)
    }

    fn on_device(config: &ModelConfig, cpu: Vec<Tensor>, device: Device) -> Result<Self, Error> {
        let params = cpu
            .into_iter()
            .map(|t| Ok(t.f_to_device(device)?.set_requires_grad(true)))
            .collect::<Result<Vec<_>, Error>>()?;
        let update = match config.optimizer {
            Optimizer::Sgd { lr } => Update::Sgd { lr: lr.into() },
            Optimizer::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => Update::Adam(Adam::new(lr, beta1, beta2, eps, &params)),
        };
        Ok(TorchMlp {
            activation: config.activation,
            l2: config.l2.into(),
            device,
            params,
            update,
        })
    }

    /// The current parameters, copied to the CPU, in the exchange format.
    pub fn parameters(&self) -> Parameters {
        self.params
            .chunks(2)
            .map(|pair| {
                let (weight, bias) = (&pair[0], &pair[1]);
                let size = weight.size();
                LayerParameters {
                    weight: to_vec(weight),
                    out_features: size[0] as usize,
                    in_features: size[1] as usize,
                    bias: to_vec(bias),
                }
            })
            .collect()
    }

    /// Where the parameters live.
    pub fn device(&self) -> Device {
        self.device
    }

    /// Logits `(n, 10)` for images `(n, 784)` already on the device.
    fn forward(&self, images: &Tensor) -> Tensor {
        let layers = self.params.len() / 2;
        let mut h = images.shallow_clone();
        for (i, pair) in self.params.chunks(2).enumerate() {
            h = h.linear(&pair[0], Some(&pair[1]));
            if i + 1 < layers {
                h = match self.activation {
                    Activation::Sigmoid => h.sigmoid(),
                    Activation::Tanh => h.tanh(),
                    Activation::Relu => h.relu(),
                };
            }
        }
        h
    }

    /// Mean cross-entropy of `logits` against `labels`, plus λ/(2m)·Σ‖W‖² (m the batch
    /// size, weights only) when λ > 0: the scratch model's cost, so the two report the same
    /// number and autograd adds (λ/m)·W to each weight's gradient.
    fn loss(&self, logits: &Tensor, labels: &Tensor) -> Tensor {
        let cross_entropy = logits.cross_entropy_for_logits(labels);
        if self.l2 == 0.0 {
            return cross_entropy;
        }
        let m = logits.size()[0] as f64;
        let squares = self
            .params
            .iter()
            .step_by(2)
            .map(|w| w.square().sum(Kind::Float))
            .reduce(|a, b| a + b)
            .expect("a network has at least one layer");
        cross_entropy + squares * (self.l2 / (2.0 * m))
    }

    /// `images` `(n, 784)` as an f32 tensor on the device.
    fn images_tensor(&self, images: ArrayView2<'_, f32>) -> Tensor {
        assert_eq!(
            images.ncols(),
            INPUT_SIZE,
            "images must have {INPUT_SIZE} columns"
        );
        let rows = images.nrows() as i64;
        let standard = images.as_standard_layout();
        let data = standard.as_slice().expect("standard layout is contiguous");
        Tensor::from_slice(data)
            .view([rows, INPUT_SIZE as i64])
            .to_device(self.device)
    }
}

impl Trainer for TorchMlp {
    fn name(&self) -> &str {
        "torchref"
    }

    fn train_step(&mut self, batch: &Batch<'_>) -> f32 {
        assert_eq!(
            batch.images.nrows(),
            batch.labels.len(),
            "one label per image"
        );
        let images = self.images_tensor(batch.images);
        let labels: Vec<i64> = batch.labels.iter().map(|&l| i64::from(l)).collect();
        let labels = Tensor::from_slice(&labels).to_device(self.device);
        let loss = self.loss(&self.forward(&images), &labels);
        let grads = Tensor::run_backward(&[&loss], &self.params, false, false);
        let value = loss.double_value(&[]) as f32;
        self.update.apply(&mut self.params, &grads);
        value
    }

    fn logits(&mut self, images: ArrayView2<'_, f32>) -> Array2<f32> {
        let mut out = Array2::zeros((images.nrows(), CLASSES));
        let _no_grad = tch::no_grad_guard();
        let blocks = images.axis_chunks_iter(Axis(0), LOGITS_BLOCK);
        for (block, mut dst) in blocks.zip(out.axis_chunks_iter_mut(Axis(0), LOGITS_BLOCK)) {
            let logits = self.forward(&self.images_tensor(block));
            let dst = dst
                .as_slice_mut()
                .expect("row blocks of a new array are contiguous");
            logits.copy_data(dst, dst.len());
        }
        out
    }
}

fn check_widths(config: &ModelConfig) {
    assert!(
        config.hidden.iter().all(|&w| w > 0),
        "hidden layers need at least one unit: {:?}",
        config.hidden
    );
}

/// A tensor's elements, copied to the CPU, row-major.
fn to_vec(t: &Tensor) -> Vec<f32> {
    let flat = t.detach().to_device(Device::Cpu).flatten(0, -1);
    Vec::<f32>::try_from(&flat).expect("parameters are f32 tensors")
}
