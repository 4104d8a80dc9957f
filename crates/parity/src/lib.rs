//! Step-level gradient parity by teacher forcing: two models that implement
//! [`contract::Differentiable`] are handed the same parameters and the same batch, and their
//! losses and gradients are compared layer by layer and tensor by tensor. Neither model's
//! rounding can build up over steps, and a model that goes wrong is caught at the step, layer
//! and tensor where it first departs.
//!
//! The verdict is grounded in `f32` rounding ([`ErrorRatio`]): the reference computes every
//! step in `f64` too, and a candidate's error (its distance from that exact value) is measured
//! as a multiple of libtorch's own `f32` error, tensor by tensor, for the gradient, the loss
//! and the optimiser step. A correct `f32` candidate stays within [`DEFAULT_MAX_RATIO`] of
//! libtorch however much a tensor's value cancels; a fixed bound relative to the tensor's
//! largest value was too tight for cancelling tensors and too loose for well-conditioned ones.
//!
//! The caller owns the trajectory: it hands [`compare_step`] the parameters of each step
//! (typically the reference model's after its own update) and the batch. One difference is
//! legitimate, and is reported rather than bounded: a ReLU unit whose pre-activation lies
//! within rounding of 0 can be on in one model and off in the other from identical
//! parameters ([`kinks`]). Such a step is compared on the batch without the images that hold
//! those units, at the same bound.
//!
//! The optimiser is checked on its own too ([`compare_update`]): two [`contract::UpdateRule`]s
//! get the same parameters, gradient and state, and the parameters they return are compared
//! per layer and tensor at the same bound.
//!
//! A candidate in another process computes while this one would only wait for it: with
//! [`Schedule::Concurrent`] the reference computes meanwhile, on the calling thread.

mod difference;
mod error;
mod error_ratio;
pub mod kinks;
mod schedule;
mod step;
mod update;

pub use difference::Difference;
pub use error::Error;
pub use error_ratio::{ErrorRatio, FLOOR_EPSILONS};
pub use schedule::Schedule;
pub use step::{
    compare_step, is_over_bound, ComparedStep, Finding, GradientReference, StepReport, TensorKind,
    TensorReport, DEFAULT_MAX_RATIO,
};
pub use update::{compare_update, UpdateReference, UpdateReport};
