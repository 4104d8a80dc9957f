//! A model written in any language as a parity candidate. [`Candidate`] starts the user's
//! process once and talks to it over its stdin and stdout in the protocol of
//! `docs/candidate-protocol.md` (versioned frames of a JSON header, one request per step; the
//! arrays raw in two files in memory, where the headers say), so that `parity` can check its
//! loss, gradients and optimiser step against libtorch's like any
//! [`contract::Differentiable`] and [`contract::UpdateRule`].
//!
//! A Python user writes only `loss_and_grads(params, x, y)` (and optionally `update(params,
//! grads, state, config)`): the NumPy adapter shipped in `adapters/numpy_adapter.py` speaks
//! the protocol ([`Candidate::python`]).
//!
//! Whatever the candidate does wrong is a [`CandidateError`] naming the step, the request and
//! the [`Fault`] (a crash and its status, an early exit, text on stdout, a wrong name, shape
//! or dtype, NaN or infinity, no answer within the timeout, a version mismatch), with the
//! last lines of its stderr. Every wait has a deadline; nothing the candidate sends can make
//! the harness hang or panic. Nothing of it outlives its check: its processes run as one
//! process group, killed and reaped however the check ends, and its two files have no name.

mod arrays;
mod candidate;
mod error;
mod frame;
mod group;
mod process;

pub use candidate::{
    default_python, installed_python, Candidate, MissingPython, Options, DEFAULT_TIMEOUT,
};
pub use error::{CandidateError, Fault, When};
pub use frame::PROTOCOL;
