//! What the parity verdict measures rounding against: a reference's loss, gradient and
//! optimiser step computed in `f64` from the same `f32` inputs as its `f32` computation.

use ndarray::Array2;

use crate::batch::Batch;
use crate::parameters::Parameters;
use crate::update::UpdateRequest;

/// A reference's answer to [`ExactDifferentiable::exact_derivatives`].
#[derive(Debug, Clone, PartialEq)]
pub struct ExactDerivatives {
    /// The batch's mean loss, as [`crate::Derivatives::loss`], in `f64`.
    pub loss: f64,
    /// `∂loss/∂θ` in `f64`, in the layout of [`Parameters`].
    pub gradient: Parameters<f64>,
    /// The hidden layers' pre-activations, rounded to `f32` (which keeps their signs): a ReLU
    /// unit within rounding of 0 may be on in the `f32` pass and off in this one.
    pub pre_activations: Vec<Array2<f32>>,
}

/// The same computation as the reference's [`crate::Differentiable`], in `f64`: how far the
/// reference's own `f32` result is from these values is the rounding a candidate's gradient
/// and loss are measured against.
pub trait ExactDifferentiable {
    /// The loss and gradient on `batch` at exactly `parameters`, in `f64`.
    fn exact_derivatives(&mut self, parameters: &Parameters, batch: &Batch<'_>)
        -> ExactDerivatives;
}

/// The same computation as the reference's [`crate::UpdateRule`], in `f64`, for the
/// optimiser step.
pub trait ExactUpdateRule {
    /// The parameters after one step of `request`, in `f64`.
    fn exact_update(&mut self, request: &UpdateRequest<'_>) -> Parameters<f64>;
}
