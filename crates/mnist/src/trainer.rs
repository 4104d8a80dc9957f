//! The contract `compare` drives: one trait for both models, and the plain-data types
//! (architecture, optimiser, parameters) they exchange.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::batch::Batch;

/// Number of input features (28 × 28 pixels).
pub const INPUT_SIZE: usize = 784;
/// Number of classes (digits 0–9).
pub const CLASSES: usize = 10;

/// One model under comparison. Libraries compute; the caller owns timing and printing.
pub trait Trainer {
    /// Short, stable name used in reports: `"scratch"` or `"torchref"`.
    fn name(&self) -> &str;
    /// One optimiser update on `batch`; returns the batch's mean loss before the update
    /// (cross-entropy plus the L2 term, if any).
    fn train_step(&mut self, batch: &Batch<'_>) -> f32;
    /// Logits `(n, 10)` for `images` `(n, 784)`, without changing the model.
    fn logits(&mut self, images: ArrayView2<'_, f32>) -> Array2<f32>;
}

/// What step-level (teacher-forced) gradient parity needs from a model: its loss and gradient
/// on a batch at parameters the caller chooses. Any model that implements it can be checked
/// against another, including a user's own and a deliberately broken test copy.
pub trait Differentiable {
    /// Short, stable name used in reports, as [`Trainer::name`].
    fn name(&self) -> &str;
    /// The loss and gradient on `batch` at exactly `parameters` (which must have the model's
    /// shapes), and the pre-activations of the hidden layers. Leaves no trace on the model:
    /// its own parameters and optimiser state are those it had before.
    fn differentiate(&mut self, parameters: &Parameters, batch: &Batch<'_>) -> Derivatives;
}

/// One model's answer to [`Differentiable::differentiate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Derivatives {
    /// Mean loss of the batch, cross-entropy plus the L2 term, as [`Trainer::train_step`].
    pub loss: f32,
    /// `∂loss/∂θ` for every parameter, in the layout of [`Parameters`].
    pub gradient: Parameters,
    /// `Z_l = A_{l−1}·W_lᵀ + b_l` of each hidden layer, `(batch, out)`, first layer first: a
    /// ReLU unit whose `Z` lies within rounding of 0 may legitimately be on in one model and
    /// off in the other, and the parity check needs to see it.
    pub pre_activations: Vec<Array2<f32>>,
}

/// Hidden-layer nonlinearity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Sigmoid,
    Tanh,
    Relu,
}

/// The update rule and its hyperparameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Optimizer {
    /// Plain stochastic gradient descent: `w -= lr · g`.
    Sgd { lr: f32 },
    /// Adam with bias correction, as `torch.optim.Adam`.
    Adam {
        lr: f32,
        beta1: f32,
        beta2: f32,
        eps: f32,
    },
}

impl Optimizer {
    /// Adam with `torch.optim.Adam`'s defaults (β1 0.9, β2 0.999, ε 1e-8) at `lr`.
    pub fn adam(lr: f32) -> Self {
        Optimizer::Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }

    /// Adam's `[lr, β1, β2, ε]` in `f64`, in which torch works out a step's constants;
    /// `None` for SGD.
    pub fn adam_f64(&self) -> Option<[f64; 4]> {
        match *self {
            Optimizer::Sgd { .. } => None,
            Optimizer::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => Some([lr, beta1, beta2, eps].map(f64::from)),
        }
    }

    /// The learning rate of either rule.
    pub fn lr(&self) -> f32 {
        match *self {
            Optimizer::Sgd { lr } | Optimizer::Adam { lr, .. } => lr,
        }
    }
}

/// Everything that defines a model and how it is trained, shared by both implementations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Widths of the hidden layers, input to output (default 500, 250, 100).
    pub hidden: Vec<usize>,
    pub activation: Activation,
    pub optimizer: Optimizer,
    /// L2 strength λ in the assignment's form: cost + λ/(2m)·Σ‖W‖², m the batch size;
    /// biases are not regularised. 0 disables it.
    pub l2: f32,
}

impl ModelConfig {
    pub fn new(hidden: &[usize], activation: Activation, optimizer: Optimizer, l2: f32) -> Self {
        ModelConfig {
            hidden: hidden.to_vec(),
            activation,
            optimizer,
            l2,
        }
    }

    /// Layer widths including input and output: `[784, hidden.., 10]`.
    pub fn layer_sizes(&self) -> Vec<usize> {
        std::iter::once(INPUT_SIZE)
            .chain(self.hidden.iter().copied())
            .chain(std::iter::once(CLASSES))
            .collect()
    }
}

/// One dense layer's parameters as plain row-major buffers, torch `Linear` layout.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerParameters {
    /// `(out, in)`, row-major.
    pub weight: Vec<f32>,
    pub out_features: usize,
    pub in_features: usize,
    /// `(out)`.
    pub bias: Vec<f32>,
}

/// All parameters of a network, first layer first: the exchange format that lets the two
/// implementations start from exactly the same point.
pub type Parameters = Vec<LayerParameters>;

// ---------------------------------------------------------------------------------------------
// The update rule on its own: what the parity check needs from a model's optimiser.
// ---------------------------------------------------------------------------------------------

/// Adam's state before a step: the running moments, shaped like the parameters, and the
/// number of steps already taken (0 before the first).
#[derive(Debug, Clone, PartialEq)]
pub struct AdamState {
    /// First moment `m`, in the layout of [`Parameters`].
    pub m: Parameters,
    /// Second moment `v`, in the layout of [`Parameters`].
    pub v: Parameters,
    /// Steps taken so far; the step about to be taken is `steps + 1`.
    pub steps: u64,
}

impl AdamState {
    /// Zero moments shaped like `parameters`, before the first step.
    pub fn zeros(parameters: &Parameters) -> Self {
        let zeros: Parameters = parameters
            .iter()
            .map(|p| LayerParameters {
                weight: vec![0.0; p.weight.len()],
                bias: vec![0.0; p.bias.len()],
                ..*p
            })
            .collect();
        AdamState {
            m: zeros.clone(),
            v: zeros,
            steps: 0,
        }
    }
}

/// One optimiser step, as [`UpdateRule::update`] is asked to take it.
#[derive(Debug, Clone, Copy)]
pub struct UpdateRequest<'a> {
    pub optimizer: &'a Optimizer,
    /// The parameters before the step.
    pub parameters: &'a Parameters,
    /// The gradient the step applies (the L2 term already in it).
    pub gradient: &'a Parameters,
    /// Adam's state before the step; `None` for SGD, and for Adam the zero state of
    /// [`AdamState::zeros`].
    pub adam: Option<&'a AdamState>,
}

impl UpdateRequest<'_> {
    /// Adam's state before the step: the one handed over, else zeros.
    pub fn adam_before(&self) -> AdamState {
        self.adam
            .cloned()
            .unwrap_or_else(|| AdamState::zeros(self.parameters))
    }
}

/// What [`UpdateRule::update`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Updated {
    /// The parameters after the step.
    pub parameters: Parameters,
    /// Adam's state after the step, when the rule reports it (a reference must, so that the
    /// trajectory can go on from it); `None` for SGD.
    pub adam: Option<AdamState>,
}

/// A model's optimiser on its own: the same parameters, gradient and state in must give the
/// same parameters out. Leaves no trace on the model.
pub trait UpdateRule {
    /// Short, stable name used in reports, as [`Trainer::name`].
    fn name(&self) -> &str;
    /// One step of `request.optimizer` from `request.parameters` with `request.gradient`.
    fn update(&mut self, request: &UpdateRequest<'_>) -> Updated;
}
