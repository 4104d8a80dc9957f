//! [`Mlp`]: the `f32` network behind the [`Trainer`] interface, on the engine this CPU runs
//! best or the one asked for.

use contract::{
    Activation, Batch, Derivatives, Differentiable, LayerParameters, ModelConfig, Parameters,
    Trainer, UpdateRequest, UpdateRule, Updated,
};
use ndarray::{Array2, ArrayView2};

use crate::engine::{Engine, EngineError};
use crate::fused::Network;
use crate::init::xavier;
use crate::textbook::{self, Textbook};

/// The hand-written multilayer perceptron in `f32`: `[784, hidden.., 10]`, the configured
/// activation on the hidden layers, softmax cross-entropy on the output, trained by SGD or
/// Adam. Its [`Trainer::name`] is `"scratch"`, whichever [`Engine`] runs it.
#[derive(Debug, Clone)]
pub struct Mlp {
    engine: Engine,
    net: Net,
}

/// The network on its engine.
#[derive(Debug, Clone)]
enum Net {
    Textbook(Textbook<f32>),
    Fused(Box<Network>),
}

impl Mlp {
    /// A network for `config` with Xavier-uniform weights and zero biases drawn from `seed`:
    /// the same seed gives the same weights on every machine.
    pub fn new(config: &ModelConfig, seed: u64) -> Mlp {
        Mlp::from_parameters(config, &xavier(&config.layer_sizes(), seed))
    }

    /// A network for `config` starting from `params` (for example another model's), with fresh
    /// optimiser state, on the fastest engine this CPU has ([`Engine::Auto`]).
    ///
    /// # Panics
    /// If the shapes of `params` are not those of `config`'s layers (a bug in the caller).
    pub fn from_parameters(config: &ModelConfig, params: &Parameters) -> Mlp {
        let engine = Engine::Auto
            .resolve()
            .expect("the automatic choice always finds an engine");
        Mlp::on(engine, config, params)
    }

    /// The same network, its parameters and configuration, on `engine` from now on (with
    /// fresh optimiser state).
    ///
    /// # Errors
    /// [`EngineError::Unavailable`] if this CPU cannot run `engine`.
    pub fn with_engine(self, engine: Engine) -> Result<Mlp, EngineError> {
        let engine = engine.resolve()?;
        Ok(Mlp::on(engine, self.config(), &self.parameters()))
    }

    /// `engine` must be resolved and available.
    fn on(engine: Engine, config: &ModelConfig, params: &Parameters) -> Mlp {
        let net = match engine.kernels() {
            Some(kernels) => Net::Fused(Box::new(Network::new(config, params, kernels))),
            None => Net::Textbook(Textbook::from_parameters(config, params)),
        };
        Mlp { engine, net }
    }

    /// The engine that runs the network (never [`Engine::Auto`]).
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// How many threads a training step on `m` images runs on. The fused engine uses all of
    /// [`crate::set_threads`] unless the step is too small for a second thread to pay for
    /// the synchronisation, and then one; the textbook engine shares each large enough
    /// matrix product among all of them.
    pub fn threads_for_batch(&self, m: usize) -> usize {
        match &self.net {
            Net::Textbook(_) => crate::pool::threads(),
            Net::Fused(net) => net.threads_for_batch(m),
        }
    }

    /// All weights and biases, first layer first, in torch `Linear` layout.
    pub fn parameters(&self) -> Parameters {
        match &self.net {
            Net::Textbook(net) => net.parameters(),
            Net::Fused(net) => net.parameters(),
        }
    }

    /// Every value of the optimiser's state, in no particular order: Adam's first and second
    /// moments, nothing for SGD. For inspection, e.g. counting subnormal values, which cost
    /// some CPUs a microcode assist per operation.
    pub fn optimizer_state(&self) -> Vec<f32> {
        match &self.net {
            Net::Textbook(net) => net.optimizer_state(),
            Net::Fused(net) => net.optimizer_state(),
        }
    }

    /// The configuration the network was built for.
    pub fn config(&self) -> &ModelConfig {
        match &self.net {
            Net::Textbook(net) => net.config(),
            Net::Fused(net) => net.config(),
        }
    }

    /// The loss [`Trainer::train_step`] would report for `batch` (any number of images,
    /// evaluated in blocks), without changing the model.
    pub fn loss(&mut self, batch: &Batch<'_>) -> f32 {
        match &mut self.net {
            Net::Textbook(net) => net.loss(batch.images, batch.labels),
            Net::Fused(net) => net.loss(batch.images, batch.labels),
        }
    }

    /// The loss on `batch` and its gradient with respect to every parameter (same layout as
    /// [`Mlp::parameters`]), at the current parameters, which are left unchanged. This is
    /// the gradient [`Trainer::train_step`] applies.
    pub fn gradient(&mut self, batch: &Batch<'_>) -> (f32, Parameters) {
        let params = self.parameters();
        match &mut self.net {
            Net::Textbook(net) => {
                let (loss, gradient, _) = net.gradient(batch.images, batch.labels);
                (loss, textbook::to_parameters(&gradient))
            }
            Net::Fused(net) => {
                let (loss, gradient) = net.gradient(batch.images, batch.labels);
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
    }
}

impl Trainer for Mlp {
    fn name(&self) -> &str {
        "scratch"
    }

    fn train_step(&mut self, batch: &Batch<'_>) -> f32 {
        match &mut self.net {
            Net::Textbook(net) => net.train_step(batch.images, batch.labels),
            Net::Fused(net) => net.train_step(batch.images, batch.labels),
        }
    }

    fn logits(&mut self, images: ArrayView2<'_, f32>) -> Array2<f32> {
        match &mut self.net {
            Net::Textbook(net) => net.logits(images),
            Net::Fused(net) => net.logits(images),
        }
    }
}

impl Differentiable for Mlp {
    fn name(&self) -> &str {
        "scratch"
    }

    /// On the fused engine: its kernels keep only each layer's `A = f(Z)`, so the
    /// pre-activations reported are recomputed, `Z_l = A_{l−1}·W_lᵀ + b_l`, from the
    /// `A_{l−1}` of the very pass that computed the gradient (one `f32` product by ndarray per
    /// layer). For ReLU the signs must be the kernels' own, since they decided which units
    /// passed the gradient: a unit the kernels turned on has `A = Z` exactly, and one they
    /// turned off had `Z ≤ 0`, so its recomputed value is capped at 0. (Summed in another
    /// order, a `Z` of 1e-7 can come out on the other side of 0: seen at step 51 of
    /// torchref's `gradient_parity::relu_l2` on AVX2, where the unit then looked on in both
    /// models and its image's gradient was 5e-2 off without being seen as a kink.)
    fn differentiate(&mut self, parameters: &Parameters, batch: &Batch<'_>) -> Derivatives {
        let mut at = Mlp::on(self.engine, self.config(), parameters);
        if let Net::Textbook(net) = &mut at.net {
            return net.differentiate(parameters, batch);
        }
        let (loss, gradient) = at.gradient(batch);
        let Net::Fused(net) = &at.net else {
            unreachable!("the textbook engine has answered above")
        };
        let hidden = parameters.len() - 1;
        let m = batch.images.nrows();
        let pre_activations = (0..hidden)
            .map(|l| {
                let input = match l {
                    0 => batch.images.to_owned(),
                    _ => net.output(l - 1, m),
                };
                let p = &parameters[l];
                let weight = ArrayView2::from_shape((p.out_features, p.in_features), &p.weight)
                    .expect("parameters of the config's shapes");
                let mut z = input.dot(&weight.t()) + ndarray::aview1(&p.bias);
                if self.config().activation == Activation::Relu {
                    let a = net.output(l, m);
                    ndarray::Zip::from(&mut z).and(&a).for_each(|z, &a| {
                        *z = if a > 0.0 { a } else { z.min(0.0) };
                    });
                }
                z
            })
            .collect();
        Derivatives {
            loss,
            gradient,
            pre_activations,
        }
    }
}

impl UpdateRule for Mlp {
    fn name(&self) -> &str {
        "scratch"
    }

    /// The update rule of the engine that runs the network: on the fused engine, its
    /// per-element SGD and Adam (`fused/update.rs`).
    fn update(&mut self, request: &UpdateRequest<'_>) -> Updated {
        match &mut self.net {
            Net::Textbook(net) => net.update(request),
            Net::Fused(_) => crate::fused::update::update(request),
        }
    }
}
