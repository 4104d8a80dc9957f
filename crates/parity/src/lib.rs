//! Step-level gradient parity by teacher forcing: two models that implement
//! [`contract::Differentiable`] are handed the same parameters and the same batch, and their
//! losses and gradients are compared layer by layer and tensor by tensor. Neither model's
//! rounding can build up over steps, so the bound can be one step's f32 rounding for every
//! activation and optimiser, and a model that goes wrong is caught at the step, layer and
//! tensor where it first departs.
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
pub mod kinks;
mod schedule;
mod step;
mod update;

pub use difference::Difference;
pub use error::Error;
pub use schedule::Schedule;
pub use step::{
    compare_step, is_over_bound, ComparedStep, Finding, StepReport, TensorKind, TensorReport,
    DEFAULT_BOUND,
};
pub use update::{compare_update, UpdateReport};
