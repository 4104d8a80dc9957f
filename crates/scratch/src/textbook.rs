//! The network on ndarray, written to be read: one function per formula of the crate README,
//! generic over `f32` and `f64`. Every matrix product is [`dot`]: ndarray's product, its
//! result's columns shared among the threads of [`crate::set_threads`]. Shapes are torch
//! `Linear`'s: a batch of `m` images is `(m, 784)`, `W_l` is `(out, in)`, `b_l` is `(out)`,
//! `Z_l` and `A_l` are `(m, out)`.
//!
//! This is what the model computes. [`Textbook`] trains with these functions; the fused
//! engine (`crate::fused`) computes the same in hand-written kernels and is tested against
//! them step by step; the gradient checks run them in `f64`.

use std::fmt::Debug;
use std::sync::{Mutex, PoisonError};

use mnist::{
    Activation, Batch, Derivatives, Differentiable, LayerParameters, ModelConfig, Optimizer,
    Parameters, Trainer,
};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, LinalgScalar, ScalarOperand, Zip};

use crate::pool;

/// The float types the textbook network computes in.
pub trait Float:
    num_traits::Float + LinalgScalar + ScalarOperand + Debug + Send + Sync + Default
{
    /// `x` rounded to this type.
    fn of(x: f64) -> Self;
    /// `self` rounded to `f32`, the type of exported parameters.
    fn narrow(self) -> f32;
}

impl Float for f32 {
    fn of(x: f64) -> Self {
        x as f32
    }
    fn narrow(self) -> f32 {
        self
    }
}

impl Float for f64 {
    fn of(x: f64) -> Self {
        x
    }
    fn narrow(self) -> f32 {
        self as f32
    }
}

/// One dense layer, `z = a·Wᵀ + b`; also the shape of its gradient.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense<T> {
    /// `W`, `(out, in)`.
    pub weight: Array2<T>,
    /// `b`, `(out)`.
    pub bias: Array1<T>,
}

/// What the backward pass needs from the forward one.
#[derive(Debug, Clone)]
pub struct Forward<T> {
    /// `A_0 = X, A_1, …, A_{L−1}`: the input of each layer.
    pub inputs: Vec<Array2<T>>,
    /// `Z_1, …, Z_L`: each layer's pre-activation; the last is the logits.
    pub pre_activations: Vec<Array2<T>>,
}

/// `a·b` by ndarray's matrix product, the columns of the result shared out among the
/// threads of [`crate::set_threads`] (each thread multiplies `a` by its block of `b`'s
/// columns).
pub fn dot<T: Float>(a: ArrayView2<'_, T>, b: ArrayView2<'_, T>) -> Array2<T> {
    let mut out = Array2::zeros((a.nrows(), b.ncols()));
    let work = a.nrows() * a.ncols() * b.ncols();
    let threads = if work < PARALLEL_WORK {
        1
    } else {
        pool::threads()
    };
    let width = b.ncols().div_ceil(threads).next_multiple_of(16);
    let blocks: Vec<_> = b
        .axis_chunks_iter(Axis(1), width)
        .zip(out.axis_chunks_iter_mut(Axis(1), width))
        .map(Mutex::new)
        .collect();
    pool::run(blocks.len(), |ctx| {
        let mut block = blocks[ctx.tid]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (b, out) = &mut *block;
        general_mat_mul(T::one(), &a, b, T::zero(), out);
    });
    out
}

/// Multiply-adds of a product below which one thread does it all.
const PARALLEL_WORK: usize = 1 << 18;

/// `f(z)`: sigmoid `1/(1 + e^(−z))` (0 or 1 when it saturates, never NaN), tanh, or ReLU.
pub fn activate<T: Float>(activation: Activation, z: T) -> T {
    match activation {
        Activation::Sigmoid => T::one() / (T::one() + (-z).exp()),
        Activation::Tanh => z.tanh(),
        Activation::Relu => z.max(T::zero()),
    }
}

/// `f′(z)`, taken at the pre-activation `z` (the assignment took it at `A`, which is wrong
/// for sigmoid and tanh): `σ(z)(1 − σ(z))`, `1 − tanh²(z)`, `[z > 0]`.
pub fn derivative<T: Float>(activation: Activation, z: T) -> T {
    match activation {
        Activation::Sigmoid => activate(activation, z) * (T::one() - activate(activation, z)),
        Activation::Tanh => T::one() - z.tanh() * z.tanh(),
        Activation::Relu => {
            if z > T::zero() {
                T::one()
            } else {
                T::zero()
            }
        }
    }
}

/// Forward: `Z_l = A_{l−1}·W_lᵀ + b_l`, `A_l = f(Z_l)`, `A_0 = X`; the logits are `Z_L`
/// (no activation on the last layer).
pub fn forward<T: Float>(layers: &[Dense<T>], activation: Activation, x: Array2<T>) -> Forward<T> {
    let mut inputs = vec![x];
    let mut pre_activations = Vec::with_capacity(layers.len());
    for (l, layer) in layers.iter().enumerate() {
        let z = dot(inputs[l].view(), layer.weight.t()) + &layer.bias;
        if l + 1 < layers.len() {
            inputs.push(z.mapv(|z| activate(activation, z)));
        }
        pre_activations.push(z);
    }
    Forward {
        inputs,
        pre_activations,
    }
}

/// Loss: `J = (1/m)·Σ_i [logsumexp(z_i) − z_i,y_i] + λ/(2m)·Σ_l ‖W_l‖²`, with
/// `logsumexp(z) = max(z) + ln Σ_k e^(z_k − max(z))`, which cannot overflow.
pub fn loss<T: Float>(
    layers: &[Dense<T>],
    l2: T,
    logits: ArrayView2<'_, T>,
    labels: ArrayView1<'_, u8>,
) -> T {
    let m = T::of(logits.nrows() as f64);
    let cross_entropy = Zip::from(logits.rows())
        .and(labels)
        .fold(T::zero(), |sum, z, &y| {
            sum + logsumexp(z) - z[usize::from(y)]
        });
    // Σ‖W‖² runs over ~390 000 squares: summed in f32 it drifts by ~1e-5 of the loss (measured
    // against libtorch by `compare parity --l2 0.8`), so it is summed in f64.
    let squares: f64 = layers
        .iter()
        .flat_map(|layer| layer.weight.iter())
        .map(|&w| w.to_f64().unwrap_or(f64::NAN).powi(2))
        .sum();
    cross_entropy / m + l2 / (T::of(2.0) * m) * T::of(squares)
}

fn logsumexp<T: Float>(z: ArrayView1<'_, T>) -> T {
    let max = z.fold(T::neg_infinity(), |max, &z| max.max(z));
    max + z.mapv(|z| (z - max).exp()).sum().ln()
}

/// Output delta: `ΔZ_L = (softmax(Z_L) − onehot(y)) / m`, the loss's gradient at the logits.
pub fn output_delta<T: Float>(logits: ArrayView2<'_, T>, labels: ArrayView1<'_, u8>) -> Array2<T> {
    let m = T::of(logits.nrows() as f64);
    let mut delta = logits.to_owned();
    Zip::from(delta.rows_mut())
        .and(labels)
        .for_each(|mut row, &y| {
            let lse = logsumexp(row.view());
            row.mapv_inplace(|z| (z - lse).exp());
            row[usize::from(y)] = row[usize::from(y)] - T::one();
            row.mapv_inplace(|d| d / m);
        });
    delta
}

/// Backward: `ΔZ_{l−1} = (ΔZ_l·W_l) ⊙ f′(Z_{l−1})`, and the gradients
/// `∇W_l = ΔZ_lᵀ·A_{l−1} + (λ/m)·W_l`, `∇b_l = Σ_i ΔZ_l[i]`; first layer first.
pub fn backward<T: Float>(
    layers: &[Dense<T>],
    activation: Activation,
    l2: T,
    forward: &Forward<T>,
    output_delta: Array2<T>,
) -> Vec<Dense<T>> {
    let decay = l2 / T::of(output_delta.nrows() as f64);
    let mut delta = output_delta;
    let mut gradient = Vec::with_capacity(layers.len());
    for l in (0..layers.len()).rev() {
        let layer = &layers[l];
        gradient.push(Dense {
            weight: dot(delta.t(), forward.inputs[l].view()) + &(&layer.weight * decay),
            bias: delta.sum_axis(Axis(0)),
        });
        if l > 0 {
            let f_prime = forward.pre_activations[l - 1].mapv(|z| derivative(activation, z));
            delta = dot(delta.view(), layer.weight.view()) * f_prime;
        }
    }
    gradient.reverse();
    gradient
}

/// SGD: `W −= lr·∇W`, `b −= lr·∇b`.
pub fn sgd<T: Float>(layers: &mut [Dense<T>], gradient: &[Dense<T>], lr: T) {
    for (layer, g) in layers.iter_mut().zip(gradient) {
        layer.weight.scaled_add(-lr, &g.weight);
        layer.bias.scaled_add(-lr, &g.bias);
    }
}

/// Adam's running moments `m` and `v`, shaped like the parameters, and the step count `t`.
#[derive(Debug, Clone)]
pub struct Moments<T> {
    pub m: Vec<Dense<T>>,
    pub v: Vec<Dense<T>>,
    pub t: i32,
}

impl<T: Float> Moments<T> {
    /// Zero moments for `layers`, before the first step.
    pub fn zeros(layers: &[Dense<T>]) -> Self {
        let zeros: Vec<Dense<T>> = layers
            .iter()
            .map(|l| Dense {
                weight: Array2::zeros(l.weight.raw_dim()),
                bias: Array1::zeros(l.bias.raw_dim()),
            })
            .collect();
        Moments {
            m: zeros.clone(),
            v: zeros,
            t: 0,
        }
    }
}

/// Adam, as `torch.optim.Adam`: `t += 1`, `m += (1−β1)(g − m)`, `v = β2·v + (1−β2)·g²`,
/// `W −= lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)` (biases likewise); the step's constants in
/// `f64`, as torch computes them in Python floats.
pub fn adam<T: Float>(
    layers: &mut [Dense<T>],
    gradient: &[Dense<T>],
    moments: &mut Moments<T>,
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
) {
    moments.t += 1;
    let step_size = T::of(lr / (1.0 - beta1.powi(moments.t)));
    let correction2 = T::of((1.0 - beta2.powi(moments.t)).sqrt());
    let (one_minus_beta1, beta2, one_minus_beta2) =
        (T::of(1.0 - beta1), T::of(beta2), T::of(1.0 - beta2));
    let eps = T::of(eps);
    let update = |w: &mut T, &g: &T, m: &mut T, v: &mut T| {
        *m = *m + (g - *m) * one_minus_beta1;
        *v = *v * beta2 + g * g * one_minus_beta2;
        *w = *w - step_size * (*m / (v.sqrt() / correction2 + eps));
    };
    for (((layer, g), m), v) in layers
        .iter_mut()
        .zip(gradient)
        .zip(&mut moments.m)
        .zip(&mut moments.v)
    {
        Zip::from(&mut layer.weight)
            .and(&g.weight)
            .and(&mut m.weight)
            .and(&mut v.weight)
            .for_each(update);
        Zip::from(&mut layer.bias)
            .and(&g.bias)
            .and(&mut m.bias)
            .and(&mut v.bias)
            .for_each(update);
    }
}

/// One step of `optimizer`: [`sgd`], or [`adam`] with `moments` (zero before the first step).
pub fn update<T: Float>(
    layers: &mut [Dense<T>],
    gradient: &[Dense<T>],
    optimizer: &Optimizer,
    moments: &mut Option<Moments<T>>,
) {
    match *optimizer {
        Optimizer::Sgd { lr } => sgd(layers, gradient, T::of(f64::from(lr))),
        Optimizer::Adam {
            lr,
            beta1,
            beta2,
            eps,
        } => {
            let moments = moments.get_or_insert_with(|| Moments::zeros(layers));
            let [lr, beta1, beta2, eps] = [lr, beta1, beta2, eps].map(f64::from);
            adam(layers, gradient, moments, lr, beta1, beta2, eps);
        }
    }
}

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

    /// Logits `(n, 10)` of `images` `(n, 784)`, computed [`EVAL_BLOCK`] images at a time.
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

#[cfg(test)]
mod tests {
    use super::*;
    use mnist::testing::assert_close;

    const ALL: [Activation; 3] = [Activation::Sigmoid, Activation::Tanh, Activation::Relu];

    #[test]
    fn values_match_their_definitions() {
        let z = [-2.0f64, -0.5, 0.0, 0.5, 2.0];
        let want = |activation| -> Vec<f64> {
            z.iter()
                .map(|&z: &f64| match activation {
                    Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
                    Activation::Tanh => (z.exp() - (-z).exp()) / (z.exp() + (-z).exp()),
                    Activation::Relu => z.max(0.0),
                })
                .collect()
        };
        for activation in ALL {
            let got: Vec<f64> = z.iter().map(|&z| activate(activation, z)).collect();
            assert_close(
                &format!("{activation:?}"),
                &got,
                &want(activation),
                1e-15,
                1e-15,
            );
        }
    }

    #[test]
    fn saturating_inputs_give_finite_limits() {
        let z = [-1000.0f32, 1000.0];
        let got: Vec<f32> = z
            .iter()
            .map(|&z| activate(Activation::Sigmoid, z))
            .collect();
        assert_close("sigmoid(±1000)", &got, &[0.0, 1.0], 0.0, 0.0);
        let got: Vec<f32> = z.iter().map(|&z| activate(Activation::Tanh, z)).collect();
        assert_close("tanh(±1000)", &got, &[-1.0, 1.0], 0.0, 0.0);
    }

    /// The derivative agrees with a central difference of `f` at `z`, and differs from the
    /// assignment's, the same formula applied to the output `a` (except for ReLU).
    #[test]
    fn derivatives_are_taken_at_the_pre_activation() {
        let h = 1e-6;
        for activation in [Activation::Sigmoid, Activation::Tanh] {
            for z in [-1.5f64, -0.3, 0.4, 2.0] {
                let numeric =
                    (activate(activation, z + h) - activate(activation, z - h)) / (2.0 * h);
                let ours = derivative(activation, z);
                assert_close(
                    &format!("{activation:?}′({z})"),
                    &[ours],
                    &[numeric],
                    1e-8,
                    1e-10,
                );
                // The assignment's: f′ applied at a = f(z) instead of at z.
                let assignments = derivative(activation, activate(activation, z));
                assert!(
                    (assignments - numeric).abs() > 1e-3,
                    "{activation:?} at {z}"
                );
            }
        }
        let relu = [-1.0f64, 2.0].map(|z| derivative(Activation::Relu, z));
        assert_close("relu′", &relu, &[0.0, 1.0], 0.0, 0.0);
    }
}
