//! [`TorchMlp`]: the network as a tch user writes it (`nn::VarStore`, `nn::linear`,
//! `nn::Sequential`, libtorch's optimisers through `nn::Optimizer`), its loss, its training step,
//! and its gradient at given parameters.

use contract::{
    Activation, Batch, Derivatives, Differentiable, LayerParameters, ModelConfig, Optimizer,
    Parameters, Trainer, CLASSES, INPUT_SIZE,
};
use ndarray::{Array2, ArrayView2, Axis};
use tch::kind::Element;
use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, TchError, Tensor};

use crate::device::check_device;
use crate::{init, Error};

/// Rows per forward pass in [`Trainer::logits`]: large enough to keep the matrix products
/// efficient, small enough that the activations stay modest (10 000 × 500 f32 = 20 MB).
const LOGITS_BLOCK: usize = 10_000;

/// The multilayer perceptron of [`ModelConfig`] in libtorch: `nn::linear` layers and the
/// activation in an `nn::Sequential`, trained by libtorch's SGD or Adam.
#[derive(Debug)]
pub struct TorchMlp {
    pub(crate) l2: f64,
    pub(crate) activation: Activation,
    /// Owns the variables the layers, `params` and the optimiser hold handles on.
    vs: nn::VarStore,
    /// `linear, activation, linear, activation, .., linear`.
    model: nn::Sequential,
    /// Handles on the VarStore's variables, `[w0, b0, w1, b1, ..]`: weights `(out, in)`,
    /// biases `(out)`.
    params: Vec<Tensor>,
    optimizer: nn::Optimizer,
}

impl TorchMlp {
    /// Xavier-uniform weights and zero biases drawn after `tch::manual_seed(seed)` (on the
    /// CPU, then moved to `device`, so a seed means the same weights on every device).
    pub fn new(config: &ModelConfig, device: Device, seed: u64) -> Result<Self, Error> {
        check_device(device)?;
        let (vs, model, params) = {
            let _rng = init::lock_rng();
            // The seed's bits pass through unchanged: libtorch reads them back as unsigned.
            tch::manual_seed(seed as i64);
            network(config)
        };
        Self::with_optimizer(config, vs, model, params, device)
    }

    /// Starts from `params` exactly (for example another model's export), copied into the
    /// VarStore's variables under `no_grad`. Panics if their shapes do not match `config`.
    pub fn from_parameters(
        config: &ModelConfig,
        params: &Parameters,
        device: Device,
    ) -> Result<Self, Error> {
        check_device(device)?;
        let (vs, model, mut variables) = {
            let _rng = init::lock_rng();
            network(config)
        };
        load(&mut variables, params)?;
        Self::with_optimizer(config, vs, model, variables, device)
    }

    /// Moves the variables to `device`, then hands them to libtorch's optimiser.
    fn with_optimizer(
        config: &ModelConfig,
        mut vs: nn::VarStore,
        model: nn::Sequential,
        params: Vec<Tensor>,
        device: Device,
    ) -> Result<Self, Error> {
        vs.set_device(device);
        let lr = f64::from(config.optimizer.lr());
        let optimizer = match config.optimizer {
            Optimizer::Sgd { .. } => nn::Sgd::default().build(&vs, lr)?,
            Optimizer::Adam {
                beta1, beta2, eps, ..
            } => nn::Adam {
                beta1: beta1.into(),
                beta2: beta2.into(),
                wd: 0.0,
                eps: eps.into(),
                amsgrad: false,
            }
            .build(&vs, lr)?,
        };
        Ok(TorchMlp {
            l2: config.l2.into(),
            activation: config.activation,
            vs,
            model,
            params,
            optimizer,
        })
    }

    /// The current parameters, copied to the CPU, in the exchange format.
    pub fn parameters(&self) -> Parameters {
        layer_parameters(&self.params, to_vec)
    }

    /// Where the parameters live.
    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// One step of libtorch's optimiser with `gradient` in place of a batch's: the optimiser
    /// on its own, for checking that the same gradient in gives the same parameters out.
    /// Panics if the shapes of `gradient` are not the model's.
    pub fn apply_gradient(&mut self, gradient: &Parameters) {
        check_shapes(&self.params, gradient);
        let gradient = tensors(gradient).expect("libtorch builds the gradient tensors");
        // ∂/∂θ Σ θ·g is g itself, exactly: the optimiser receives `gradient` unchanged.
        let surrogate = self
            .params
            .iter()
            .zip(&gradient)
            .map(|(p, g)| (p * g.to_device(p.device())).sum(Kind::Float))
            .reduce(|a, b| a + b)
            .expect("a network has at least one layer");
        self.optimizer.backward_step(&surrogate);
    }

    /// [`loss`] of `logits` with this model's weights and λ.
    fn loss(&self, logits: &Tensor, labels: &Tensor) -> Tensor {
        loss(logits, labels, self.params.iter().step_by(2), self.l2)
    }

    /// `images` `(n, 784)` as an f32 tensor on the device.
    pub(crate) fn images_tensor(&self, images: ArrayView2<'_, f32>) -> Tensor {
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
            .to_device(self.device())
    }

    /// The batch's images and labels as tensors on the device.
    pub(crate) fn batch_tensors(&self, batch: &Batch<'_>) -> (Tensor, Tensor) {
        assert_eq!(
            batch.images.nrows(),
            batch.labels.len(),
            "one label per image"
        );
        let labels: Vec<i64> = batch.labels.iter().map(|&l| i64::from(l)).collect();
        let labels = Tensor::from_slice(&labels).to_device(self.device());
        (self.images_tensor(batch.images), labels)
    }
}

impl Trainer for TorchMlp {
    fn name(&self) -> &str {
        "torchref"
    }

    fn train_step(&mut self, batch: &Batch<'_>) -> f32 {
        let (images, labels) = self.batch_tensors(batch);
        let loss = self.loss(&self.model.forward(&images), &labels);
        self.optimizer.backward_step(&loss);
        loss.double_value(&[]) as f32
    }

    fn logits(&mut self, images: ArrayView2<'_, f32>) -> Array2<f32> {
        let mut out = Array2::zeros((images.nrows(), CLASSES));
        let _no_grad = tch::no_grad_guard();
        let blocks = images.axis_chunks_iter(Axis(0), LOGITS_BLOCK);
        for (block, mut dst) in blocks.zip(out.axis_chunks_iter_mut(Axis(0), LOGITS_BLOCK)) {
            let logits = self.model.forward(&self.images_tensor(block));
            let dst = dst
                .as_slice_mut()
                .expect("row blocks of a new array are contiguous");
            logits.copy_data(dst, dst.len());
        }
        out
    }
}

impl Differentiable for TorchMlp {
    fn name(&self) -> &str {
        Trainer::name(self)
    }

    /// Loads `parameters` into the variables, runs `loss.backward()` and reads each
    /// variable's `.grad()`, then puts the model's own parameters back. The optimiser's state
    /// is untouched (no step is taken).
    fn differentiate(&mut self, parameters: &Parameters, batch: &Batch<'_>) -> Derivatives {
        let own = self.parameters();
        load(&mut self.params, parameters).expect("libtorch copies the parameters");
        let (images, labels) = self.batch_tensors(batch);
        // linear, activation, .., linear: the linear layers' outputs are the even ones.
        let outputs = self.model.forward_all(&images, None);
        let logits = outputs.last().expect("the network has layers");
        let loss = self.loss(logits, &labels);
        self.optimizer.zero_grad();
        loss.backward();
        let gradient = layer_parameters(&self.params, |p| to_vec(&p.grad()));
        self.optimizer.zero_grad();
        let hidden = self.params.len() / 2 - 1;
        let pre_activations = outputs.iter().step_by(2).take(hidden).map(to_array2);
        let derivatives = Derivatives {
            loss: loss.double_value(&[]) as f32,
            gradient,
            pre_activations: pre_activations.collect(),
        };
        load(&mut self.params, &own).expect("libtorch copies the parameters back");
        derivatives
    }
}

/// The `nn::Sequential` of `config` on the CPU, weights drawn from libtorch's generator (the
/// caller holds [`init::lock_rng`]), and handles on its variables `[w0, b0, ..]`.
fn network(config: &ModelConfig) -> (nn::VarStore, nn::Sequential, Vec<Tensor>) {
    assert!(
        config.hidden.iter().all(|&w| w > 0),
        "hidden layers need at least one unit: {:?}",
        config.hidden
    );
    let vs = nn::VarStore::new(Device::Cpu);
    let root = vs.root();
    let sizes = config.layer_sizes();
    let layers = sizes.len() - 1;
    let mut model = nn::seq();
    let mut params = Vec::with_capacity(2 * layers);
    for (i, pair) in sizes.windows(2).enumerate() {
        let (fan_in, fan_out) = (pair[0], pair[1]);
        let xavier = init::xavier_uniform(fan_in, fan_out);
        let linear = nn::linear(&root / i, fan_in as i64, fan_out as i64, xavier);
        params.push(linear.ws.shallow_clone());
        params.push(
            linear
                .bs
                .as_ref()
                .expect("layers have a bias")
                .shallow_clone(),
        );
        model = model.add(linear);
        if i + 1 < layers {
            let activation = config.activation;
            model = model.add_fn(move |z| activate(activation, z));
        }
    }
    (vs, model, params)
}

/// Mean cross-entropy of `logits` against `labels`, plus λ/(2m)·Σ‖W‖² over `weights` (m the
/// batch size, biases not regularised) when λ > 0: the scratch model's cost, so the two report
/// the same number and autograd adds (λ/m)·W to each weight's gradient. In the kind of
/// `logits` (`f32`, or `f64` for the exact reference).
pub(crate) fn loss<'a>(
    logits: &Tensor,
    labels: &Tensor,
    weights: impl Iterator<Item = &'a Tensor>,
    l2: f64,
) -> Tensor {
    // tch's `cross_entropy_for_logits`, but in the logits' kind: it asks `log_softmax` for
    // `f32` whatever it is given, which would round the exact reference's loss to `f32`.
    let cross_entropy = logits.log_softmax(-1, logits.kind()).nll_loss(labels);
    if l2 == 0.0 {
        return cross_entropy;
    }
    let m = logits.size()[0] as f64;
    let squares = weights
        .map(|w| w.square().sum(logits.kind()))
        .reduce(|a, b| a + b)
        .expect("a network has at least one layer");
    cross_entropy + squares * (l2 / (2.0 * m))
}

/// A hidden layer's activation of its pre-activations `z`.
pub(crate) fn activate(activation: Activation, z: &Tensor) -> Tensor {
    match activation {
        Activation::Sigmoid => z.sigmoid(),
        Activation::Tanh => z.tanh(),
        Activation::Relu => z.relu(),
    }
}

/// Panics, naming the layer, unless `params` has the shapes of `variables` `[w0, b0, ..]`.
fn check_shapes(variables: &[Tensor], params: &Parameters) {
    assert_eq!(
        params.len(),
        variables.len() / 2,
        "parameters for {} layers, the architecture has {}",
        params.len(),
        variables.len() / 2
    );
    for (layer, (p, weight)) in params.iter().zip(variables.iter().step_by(2)).enumerate() {
        let [fan_out, fan_in] = weight.size()[..] else {
            unreachable!("a weight is a matrix")
        };
        let (fan_out, fan_in) = (fan_out as usize, fan_in as usize);
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
    }
}

/// `params` as CPU tensors `[w0, b0, ..]`, weights `(out, in)`.
pub(crate) fn tensors(params: &Parameters) -> Result<Vec<Tensor>, TchError> {
    let mut out = Vec::with_capacity(2 * params.len());
    for p in params {
        let shape = [p.out_features as i64, p.in_features as i64];
        out.push(Tensor::f_from_slice(&p.weight)?.f_view(shape)?);
        out.push(Tensor::f_from_slice(&p.bias)?);
    }
    Ok(out)
}

/// Copies `params` into the variables `[w0, b0, ..]` (on any device) under `no_grad`.
/// Panics if the shapes differ.
fn load(variables: &mut [Tensor], params: &Parameters) -> Result<(), TchError> {
    check_shapes(variables, params);
    let sources = tensors(params)?;
    tch::no_grad(|| {
        variables
            .iter_mut()
            .zip(&sources)
            .try_for_each(|(variable, source)| variable.f_copy_(source))
    })
}

/// One [`LayerParameters`] per `[weight, bias]` pair of `tensors`, each tensor read by `values`.
pub(crate) fn layer_parameters<T>(
    tensors: &[Tensor],
    values: impl Fn(&Tensor) -> Vec<T>,
) -> Parameters<T> {
    tensors
        .chunks(2)
        .map(|pair| {
            let size = pair[0].size();
            LayerParameters {
                weight: values(&pair[0]),
                out_features: size[0] as usize,
                in_features: size[1] as usize,
                bias: values(&pair[1]),
            }
        })
        .collect()
}

/// A tensor's elements, copied to the CPU, row-major.
pub(crate) fn to_vec(t: &Tensor) -> Vec<f32> {
    values(t)
}

/// A tensor's elements as `T` (converted from the tensor's kind), copied to the CPU, row-major.
pub(crate) fn values<T: Element + Copy>(t: &Tensor) -> Vec<T> {
    let flat = t.detach().to_device(Device::Cpu).flatten(0, -1);
    Vec::<T>::try_from(&flat).expect("libtorch converts a flat tensor to any element kind")
}

/// A matrix `(rows, columns)`, copied to the CPU as `f32`.
pub(crate) fn to_array2(t: &Tensor) -> Array2<f32> {
    let size = t.size();
    let shape = (size[0] as usize, size[1] as usize);
    Array2::from_shape_vec(shape, to_vec(t)).expect("a matrix has rows × columns elements")
}
