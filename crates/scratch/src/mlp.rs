//! [`Mlp`]: the `f32` network behind the [`Trainer`] interface.

use mnist::{
    Batch, Derivatives, Differentiable, LayerParameters, ModelConfig, Parameters, Trainer,
};
use ndarray::{Array2, ArrayView2};

use crate::engine::{Engine, EngineError};
use crate::init::xavier;
use crate::kernels::f32_kernels;
use crate::network::Network;

/// The hand-written multilayer perceptron in `f32`: `[784, hidden.., 10]`, the configured
/// activation on the hidden layers, softmax cross-entropy on the output, trained by SGD or
/// Adam. Its [`Trainer::name`] is `"scratch"`.
#[derive(Debug, Clone)]
pub struct Mlp {
    net: Network<f32>,
}

impl Mlp {
    /// A network for `config` with Xavier-uniform weights and zero biases drawn from `seed`:
    /// the same seed gives the same weights on every machine.
    pub fn new(config: &ModelConfig, seed: u64) -> Mlp {
        Mlp::from_parameters(config, &xavier(&config.layer_sizes(), seed))
    }

    /// A network for `config` starting from `params` (for example another model's), with fresh
    /// optimiser state.
    ///
    /// # Panics
    /// If the shapes of `params` are not those of `config`'s layers (a bug in the caller).
    pub fn from_parameters(config: &ModelConfig, params: &Parameters) -> Mlp {
        Mlp {
            net: Network::new(config, params),
        }
    }

    /// The same network, running its passes on `engine`'s kernels (by default, and with
    /// [`Engine::Auto`], the fastest this CPU has).
    ///
    /// # Errors
    /// [`EngineError::Unavailable`] if this CPU cannot run `engine`.
    pub fn with_engine(mut self, engine: Engine) -> Result<Mlp, EngineError> {
        let kernels = f32_kernels(engine).ok_or(EngineError::Unavailable {
            engine,
            needs: engine.needs(),
        })?;
        self.net.set_kernels(kernels);
        Ok(self)
    }

    /// All weights and biases, first layer first, in torch `Linear` layout.
    pub fn parameters(&self) -> Parameters {
        self.net.parameters()
    }

    /// The configuration the network was built for.
    pub fn config(&self) -> &ModelConfig {
        self.net.config()
    }

    /// The loss [`Trainer::train_step`] would report for `batch` (any number of images,
    /// evaluated in blocks), without changing the model.
    pub fn loss(&mut self, batch: &Batch<'_>) -> f32 {
        self.net.loss(batch.images, batch.labels)
    }

    /// The loss on `batch` and its gradient with respect to every parameter (same layout as
    /// [`Mlp::parameters`]), at the current parameters, which are left unchanged. This is
    /// the gradient [`Trainer::train_step`] applies.
    pub fn gradient(&mut self, batch: &Batch<'_>) -> (f32, Parameters) {
        let (loss, gradient) = self.net.gradient(batch.images, batch.labels);
        let params = self.parameters();
        let gradient = params
            .iter()
            .zip(gradient.weights.into_iter().zip(gradient.biases))
            .map(|(p, (weight, bias))| LayerParameters {
                weight,
                out_features: p.out_features,
                in_features: p.in_features,
                bias,
            })
            .collect();
        (loss, gradient)
    }
}

impl Trainer for Mlp {
    fn name(&self) -> &str {
        "scratch"
    }

    fn train_step(&mut self, batch: &Batch<'_>) -> f32 {
        self.net.train_step(batch.images, batch.labels)
    }

    fn logits(&mut self, images: ArrayView2<'_, f32>) -> Array2<f32> {
        self.net.logits(images)
    }
}

impl Differentiable for Mlp {
    fn name(&self) -> &str {
        "scratch"
    }

    /// The fused kernels keep only each layer's `A = f(Z)`, so the pre-activations reported
    /// are recomputed, `Z_l = A_{l−1}·W_lᵀ + b_l`, from the `A_{l−1}` of the very pass that
    /// computed the gradient (one `f32` product by ndarray per layer).
    fn differentiate(&mut self, parameters: &Parameters, batch: &Batch<'_>) -> Derivatives {
        let mut at = Mlp::from_parameters(self.config(), parameters);
        let (loss, gradient) = at.gradient(batch);
        let hidden = parameters.len() - 1;
        let m = batch.images.nrows();
        let pre_activations = (0..hidden)
            .map(|l| {
                let input = match l {
                    0 => batch.images.to_owned(),
                    _ => at.net.output(l - 1, m),
                };
                let p = &parameters[l];
                let weight = ArrayView2::from_shape((p.out_features, p.in_features), &p.weight)
                    .expect("parameters of the config's shapes");
                input.dot(&weight.t()) + ndarray::aview1(&p.bias)
            })
            .collect();
        Derivatives {
            loss,
            gradient,
            pre_activations,
        }
    }
}
