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

use contract::{Activation, Optimizer};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, LinalgScalar, ScalarOperand, Zip};

use crate::pool;

mod model;
#[cfg(test)]
mod tests;

pub use model::{layers_from, to_parameters, Textbook};

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

/// Loss: `J = (1/m)·Σ_i −ln softmax(z_i)_{y_i} + λ/(2m)·Σ_l ‖W_l‖²`, with
/// `−ln softmax(z)_y = ln Σ_k e^(z_k − max(z)) − (z_y − max(z))`, the logits shifted before anything is added to them.
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
            let (max, ln_sum) = log_softmax_parts(z);
            sum + (ln_sum - (z[usize::from(y)] - max))
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

/// `(max(z), ln Σ_k e^(z_k − max(z)))`, so that `ln softmax(z)_k = (z_k − max) − ln_sum`,
/// which cannot overflow. The logits are shifted before anything is added to them: forming
/// `logsumexp(z) = max + ln_sum` first rounds it to the spacing of `max` (1e-6 at 15 in
/// `f32`), which for a confident image is most of `ln_sum` itself; shifted, the largest
/// logit's term is exactly `0 − ln_sum` (as libtorch's `log_softmax` computes it).
fn log_softmax_parts<T: Float>(z: ArrayView1<'_, T>) -> (T, T) {
    let max = z.fold(T::neg_infinity(), |max, &z| max.max(z));
    (max, z.mapv(|z| (z - max).exp()).sum().ln())
}

/// Output delta: `ΔZ_L = (softmax(Z_L) − onehot(y)) / m`, the loss's gradient at the logits.
pub fn output_delta<T: Float>(logits: ArrayView2<'_, T>, labels: ArrayView1<'_, u8>) -> Array2<T> {
    let m = T::of(logits.nrows() as f64);
    let mut delta = logits.to_owned();
    Zip::from(delta.rows_mut())
        .and(labels)
        .for_each(|mut row, &y| {
            let (max, ln_sum) = log_softmax_parts(row.view());
            row.mapv_inplace(|z| ((z - max) - ln_sum).exp());
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
    match optimizer.adam_f64() {
        None => sgd(layers, gradient, T::of(f64::from(optimizer.lr()))),
        Some([lr, beta1, beta2, eps]) => {
            let moments = moments.get_or_insert_with(|| Moments::zeros(layers));
            adam(layers, gradient, moments, lr, beta1, beta2, eps);
        }
    }
}
