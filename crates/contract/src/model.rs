//! The two traits a model implements: [`Trainer`], which `compare` drives, and
//! [`Differentiable`], which step-level gradient parity needs.

use ndarray::{Array2, ArrayView2};

use crate::batch::Batch;
use crate::parameters::Parameters;

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
