//! `compare parity`'s `parity.csv`: one row per step, check (the gradient, or the parameters
//! after the optimiser step), layer and tensor.

use parity::{StepReport, TensorReport};
use serde::Serialize;

/// What a row of `parity.csv` compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Check {
    /// The gradient at the step's parameters.
    Gradient,
    /// The parameters after the optimiser step.
    Update,
}

/// One row of `parity.csv`: one tensor's gradient, or its parameters after the optimiser
/// step, at one step.
#[derive(Serialize)]
pub struct ParityRow {
    step: usize,
    check: Check,
    /// Images in the step's batch (the epoch's last one may be smaller).
    batch_images: usize,
    /// 1 is the layer nearest the input (784 → first hidden width).
    layer: usize,
    /// `weight` or `bias`.
    tensor: &'static str,
    /// ‖candidate − exact‖ / ‖torchref − exact‖ (floored at ε·‖exact‖), the exact value
    /// being libtorch's same computation in float64: what the verdict reads.
    error_ratio: f64,
    /// ‖candidate − exact‖₂ and ‖torchref − exact‖₂, in the tensor's units.
    candidate_error: f64,
    torchref_error: f64,
    /// max |candidate − torchref| over the tensor (gradient, or parameters after the step).
    max_abs_diff: f64,
    /// `max_abs_diff` / max |torchref value| of the tensor.
    max_rel_diff: f64,
    cosine: f64,
    torchref_norm: f64,
    candidate_norm: f64,
    /// ReLU units of this layer (summed over the batch) on in one model and off in the other,
    /// with a pre-activation within rounding of 0 in both (gradient rows); when the candidate
    /// sent no pre-activations, its units within rounding of 0 in libtorch's pass.
    kink_units: usize,
    /// Images left out of this step's comparison because they hold such units.
    excluded_images: usize,
    /// Gradient rows only.
    torchref_loss: Option<f32>,
    candidate_loss: Option<f32>,
    /// The loss's error ratio (gradient rows only).
    loss_error_ratio: Option<f64>,
}

pub fn gradient_rows(
    step: usize,
    batch_images: usize,
    report: &StepReport,
) -> impl Iterator<Item = ParityRow> + '_ {
    report.tensors.iter().map(move |t| ParityRow {
        torchref_loss: Some(report.reference_loss),
        candidate_loss: Some(report.candidate_loss),
        loss_error_ratio: Some(report.loss_error.ratio),
        excluded_images: report.excluded_images,
        ..row(step, Check::Gradient, batch_images, t)
    })
}

pub fn update_rows(
    step: usize,
    batch_images: usize,
    tensors: &[TensorReport],
) -> impl Iterator<Item = ParityRow> + '_ {
    tensors
        .iter()
        .map(move |t| row(step, Check::Update, batch_images, t))
}

fn row(step: usize, check: Check, batch_images: usize, t: &TensorReport) -> ParityRow {
    ParityRow {
        step,
        check,
        batch_images,
        layer: t.layer + 1,
        tensor: t.tensor.name(),
        error_ratio: t.error.ratio,
        candidate_error: t.error.candidate_error,
        torchref_error: t.error.reference_error,
        max_abs_diff: t.difference.max_abs,
        max_rel_diff: t.difference.max_rel,
        cosine: t.difference.cosine,
        torchref_norm: t.difference.reference_norm,
        candidate_norm: t.difference.candidate_norm,
        kink_units: t.kink_units,
        excluded_images: 0,
        torchref_loss: None,
        candidate_loss: None,
        loss_error_ratio: None,
    }
}
