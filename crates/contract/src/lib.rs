//! The contract between the models and the `compare` binary that drives them: the
//! [`Trainer`] trait (one update, logits), the smaller [`Differentiable`] trait that gradient
//! parity needs, the [`Batch`] both take, and the plain data they exchange: the architecture
//! and update rule ([`ModelConfig`]) and the parameters ([`Parameters`], torch `Linear`
//! layout), the optimiser step on its own ([`UpdateRule`]) that update parity needs, and the
//! `f64` computations ([`ExactDifferentiable`], [`ExactUpdateRule`]) that the parity verdict measures rounding against.
//! Depends on ndarray and serde only, so a model builds without the data crate's download
//! stack.

mod batch;
mod exact;
mod model;
mod model_config;
mod parameters;
mod shape;
mod update;

pub use batch::Batch;
pub use exact::{ExactDerivatives, ExactDifferentiable, ExactUpdateRule};
pub use model::{Derivatives, Differentiable, Trainer};
pub use model_config::{Activation, ModelConfig, Optimizer};
pub use parameters::{LayerParameters, Parameters};
pub use shape::{CLASSES, INPUT_SIZE};
pub use update::{AdamState, UpdateRequest, UpdateRule, Updated};
