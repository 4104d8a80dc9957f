//! What defines a model and how it is trained: architecture, activation, update rule, L2.

use serde::{Deserialize, Serialize};

use crate::shape::{CLASSES, INPUT_SIZE};

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
