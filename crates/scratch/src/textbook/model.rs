//! [`Textbook`]: the network as a whole, trained with the formulas of [`super`]; parameters in
//! and out in torch `Linear` layout, and the [`Trainer`] and [`Differentiable`] contracts.

use contract::{
    AdamState, Batch, Derivatives, Differentiable, LayerParameters, ModelConfig, Parameters,
    Trainer, UpdateRequest, UpdateRule, Updated,
};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use super::{backward, forward, loss, output_delta, update, Dense, Float, Forward, Moments};

/// The network as a whole, trained with the functions above.
#[derive(Debug, Clone)]
pub struct Textbook<T> {
    config: ModelConfig,
    layers: Vec<Dense<T>>,
    /// Adam's moments, when training with Adam.
    moments: Option<Moments<T>>,
}

impl<T: Float> Textbook<T> {
    /// A network for `config` starting from `params` (fresh optimiser state).
    ///
    /// # Panics
    /// If the shapes of `params` are not those of `config`'s layers (a bug in the caller).
    pub fn from_parameters(config: &ModelConfig, params: &Parameters) -> Self {
        Textbook {
            config: config.clone(),
            layers: layers_from(config, params),
            moments: None,
        }
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The layers, first first.
    pub fn layers(&self) -> &[Dense<T>] {
        &self.layers
    }

    /// All weights and biases in `f32`, torch `Linear` layout.
    pub fn parameters(&self) -> Parameters {
        to_parameters(&self.layers)
    }

    /// Every value of the optimiser's state, in no particular order: Adam's `m` and `v` (in
    /// `f32`), nothing for SGD or before the first step.
    pub fn optimizer_state(&self) -> Vec<f32> {
        let Some(moments) = &self.moments else {
            return Vec::new();
        };
        moments
            .m
            .iter()
            .chain(&moments.v)
            .flat_map(|d| d.weight.iter().chain(&d.bias))
            .map(|x| x.narrow())
            .collect()
    }

    /// The loss on a batch, its gradient and the forward pass, at the current parameters.
    pub fn gradient(
        &self,
        images: ArrayView2<'_, f32>,
        labels: ArrayView1<'_, u8>,
    ) -> (T, Vec<Dense<T>>, Forward<T>) {
        let (activation, l2) = (self.config.activation, T::of(f64::from(self.config.l2)));
        let pass = forward(
            &self.layers,
            activation,
            images.mapv(|x| T::of(f64::from(x))),
        );
        let logits = pass.pre_activations[self.layers.len() - 1].view();
        let loss = loss(&self.layers, l2, logits, labels);
        let delta = output_delta(logits, labels);
        let gradient = backward(&self.layers, activation, l2, &pass, delta);
        (loss, gradient, pass)
    }

    /// The loss on a batch of any size (evaluated in blocks), without changing the model.
    pub fn loss(&self, images: ArrayView2<'_, f32>, labels: ArrayView1<'_, u8>) -> T {
        let l2 = T::of(f64::from(self.config.l2));
        loss(&self.layers, l2, self.logits(images).view(), labels)
    }

    /// One optimiser step on a batch; returns the batch's loss before the step.
    pub fn train_step(&mut self, images: ArrayView2<'_, f32>, labels: ArrayView1<'_, u8>) -> T {
        let (loss, gradient, _) = self.gradient(images, labels);
        update(
            &mut self.layers,
            &gradient,
            &self.config.optimizer,
            &mut self.moments,
        );
        loss
    }

    /// Logits `(n, 10)` of `images` `(n, 784)`, computed `EVAL_BLOCK` images at a time.
    pub fn logits(&self, images: ArrayView2<'_, f32>) -> Array2<T> {
        let blocks: Vec<Array2<T>> = images
            .axis_chunks_iter(Axis(0), EVAL_BLOCK)
            .map(|block| {
                let x = block.mapv(|x| T::of(f64::from(x)));
                let mut pass = forward(&self.layers, self.config.activation, x);
                pass.pre_activations.pop().expect("a network has layers")
            })
            .collect();
        let views: Vec<_> = blocks.iter().map(Array2::view).collect();
        ndarray::concatenate(Axis(0), &views).expect("blocks of logits have 10 columns")
    }
}

/// Images per forward pass when computing logits for many images (bounds the memory).
const EVAL_BLOCK: usize = 1024;

/// The layers of `config` holding `params`.
///
/// # Panics
/// If the shapes of `params` are not those of `config`'s layers.
pub fn layers_from<T: Float>(config: &ModelConfig, params: &Parameters) -> Vec<Dense<T>> {
    let sizes = config.layer_sizes();
    assert_eq!(
        params.len(),
        sizes.len() - 1,
        "number of layers of the parameters"
    );
    let cast = |v: &[f32]| v.iter().map(|&x| T::of(f64::from(x))).collect::<Vec<T>>();
    params
        .iter()
        .zip(sizes.windows(2))
        .enumerate()
        .map(|(l, (p, pair))| {
            let (inputs, outputs) = (pair[0], pair[1]);
            assert_eq!(
                (p.out_features, p.in_features, p.weight.len(), p.bias.len()),
                (outputs, inputs, outputs * inputs, outputs),
                "layer {l}: (out, in, weights, biases) of the parameters against the config"
            );
            Dense {
                weight: Array2::from_shape_vec((outputs, inputs), cast(&p.weight))
                    .expect("the length was checked"),
                bias: Array1::from(cast(&p.bias)),
            }
        })
        .collect()
}

/// `layers` in `f32`, torch `Linear` layout.
pub fn to_parameters<T: Float>(layers: &[Dense<T>]) -> Parameters {
    layers
        .iter()
        .map(|layer| LayerParameters {
            weight: layer.weight.iter().map(|w| w.narrow()).collect(),
            out_features: layer.weight.nrows(),
            in_features: layer.weight.ncols(),
            bias: layer.bias.iter().map(|b| b.narrow()).collect(),
        })
        .collect()
}

impl Trainer for Textbook<f32> {
    fn name(&self) -> &str {
        "scratch-textbook"
    }

    fn train_step(&mut self, batch: &Batch<'_>) -> f32 {
        Textbook::train_step(self, batch.images, batch.labels)
    }

    fn logits(&mut self, images: ArrayView2<'_, f32>) -> Array2<f32> {
        Textbook::logits(self, images)
    }
}

impl<T: Float> Differentiable for Textbook<T> {
    fn name(&self) -> &str {
        "scratch-textbook"
    }

    fn differentiate(&mut self, parameters: &Parameters, batch: &Batch<'_>) -> Derivatives {
        let at = Textbook::<T>::from_parameters(&self.config, parameters);
        let (loss, gradient, pass) = at.gradient(batch.images, batch.labels);
        let hidden = pass.pre_activations.len() - 1;
        Derivatives {
            loss: loss.narrow(),
            gradient: to_parameters(&gradient),
            pre_activations: pass.pre_activations[..hidden]
                .iter()
                .map(|z| z.mapv(T::narrow))
                .collect(),
        }
    }
}

impl<T: Float> UpdateRule for Textbook<T> {
    fn name(&self) -> &str {
        "scratch-textbook"
    }

    /// [`super::update`] on the request's parameters, gradient and Adam state, in `T`.
    fn update(&mut self, request: &UpdateRequest<'_>) -> Updated {
        let mut layers = layers_from::<T>(&self.config, request.parameters);
        let gradient = layers_from::<T>(&self.config, request.gradient);
        let mut moments = request.adam.map(|state| Moments {
            m: layers_from(&self.config, &state.m),
            v: layers_from(&self.config, &state.v),
            t: i32::try_from(state.steps).unwrap_or(i32::MAX),
        });
        update(&mut layers, &gradient, request.optimizer, &mut moments);
        Updated {
            parameters: to_parameters(&layers),
            adam: moments.map(|moments| AdamState {
                m: to_parameters(&moments.m),
                v: to_parameters(&moments.v),
                steps: u64::try_from(moments.t).unwrap_or(0),
            }),
        }
    }
}
