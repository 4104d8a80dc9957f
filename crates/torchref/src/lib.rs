//! The same multilayer perceptron as the `scratch` crate, in tch (libtorch 2.13): the
//! framework reference that the scratch model is checked against, driven through the same
//! [`mnist::Trainer`] interface.
//!
//! [`TorchMlp`] is built either with Xavier/Glorot-uniform weights and zero biases from
//! `tch::manual_seed` ([`TorchMlp::new`]), or from another model's exported parameters
//! ([`TorchMlp::from_parameters`]), so both models can start from the same point. Shapes are
//! torch `Linear`'s: batch-major activations, weights `(out, in)`, `y = x·Wᵀ + b`.
//!
//! Deliberate departures from a plain PyTorch script:
//! - Initialisation is Xavier-uniform with zero biases, written out; `nn.Linear`'s default is
//!   Kaiming-uniform with nonzero biases.
//! - L2 is the assignment's: the loss is cross-entropy + λ/(2m)·Σ‖W‖² (m the batch size,
//!   biases not regularised), which is weight decay λ/m on the weights, not PyTorch's
//!   `weight_decay = λ`. The reported loss includes the term, as the scratch model's does.
//! - Gradients come from `torch.autograd.grad` (no `.grad` accumulation, no `zero_grad`), and
//!   the optimisers are written here: SGD, and Adam with `torch.optim.Adam`'s arithmetic, on
//!   the CPU fused into one pass over the buffers (an Adam epoch costs ~1.1× an SGD epoch
//!   instead of libtorch's ~1.4×; see `optim.rs`). Results match libtorch's optimisers to
//!   rounding, not bit for bit.
//! - The initial weights are always drawn on the CPU, so a seed gives the same weights on
//!   every device.

mod device;
mod error;
mod init;
mod mlp;
mod optim;

pub use device::{libtorch_version, parse_device, set_threads};
pub use error::Error;
pub use mlp::TorchMlp;
/// Where a [`TorchMlp`] runs, as [`parse_device`] returns it.
pub use tch::Device;
