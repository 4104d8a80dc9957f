//! The same multilayer perceptron as the `scratch` crate, in tch (libtorch 2.13): the
//! framework reference that the scratch model is checked against, driven through the same
//! [`contract::Trainer`] interface.
//!
//! [`TorchMlp`] is built either with Xavier/Glorot-uniform weights and zero biases from
//! `tch::manual_seed` ([`TorchMlp::new`]), or from another model's exported parameters
//! ([`TorchMlp::from_parameters`]), so both models can start from the same point. Shapes are
//! torch `Linear`'s: batch-major activations, weights `(out, in)`, `y = x·Wᵀ + b`.
//!
//! It is written as a tch user writes it: an `nn::VarStore` holding `nn::linear` layers in an
//! `nn::Sequential`, the loss `cross_entropy_for_logits`, and libtorch's own optimisers
//! (`nn::Sgd`, `nn::Adam` through `nn::Optimizer::backward_step`): this crate has no update
//! arithmetic of its own, so its accuracy and its time are the framework's.
//!
//! Deliberate departures from a plain PyTorch script:
//! - Initialisation is Xavier-uniform with zero biases (an explicit `nn::LinearConfig`);
//!   `nn.Linear`'s default is Kaiming-uniform with nonzero biases. The weights are drawn on
//!   the CPU and then moved, so a seed gives the same weights on every device.
//! - L2 is the assignment's: the loss is cross-entropy + λ/(2m)·Σ‖W‖² (m the batch size,
//!   biases not regularised), which is weight decay λ/m on the weights, not PyTorch's
//!   `weight_decay = λ`. The reported loss includes the term, as the scratch model's does.
//!
//! [`TorchMlp`] also implements [`contract::Differentiable`] (loss, gradient and hidden
//! pre-activations at given parameters) for step-level gradient parity, and
//! [`contract::UpdateRule`] (libtorch's SGD and Adam step from parameters, gradient and state
//! handed in) for the parity check of an optimiser, and [`contract::ExactDifferentiable`] and [`contract::ExactUpdateRule`]: the same
//! loss, gradient and step in `f64`, the exact values that the parity verdict measures its own
//! `f32` rounding, and a candidate's, against.

mod device;
mod error;
mod exact;
mod init;
mod mlp;
mod update;

pub use device::{libtorch_version, parse_device, set_threads};
pub use error::Error;
pub use mlp::TorchMlp;
/// Where a [`TorchMlp`] runs, as [`parse_device`] returns it.
pub use tch::Device;
