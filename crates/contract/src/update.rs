//! The update rule on its own: what the parity check needs from a model's optimiser.

use crate::model_config::Optimizer;
use crate::parameters::{LayerParameters, Parameters};

/// Adam's state before a step: the running moments, shaped like the parameters, and the
/// number of steps already taken (0 before the first).
#[derive(Debug, Clone, PartialEq)]
pub struct AdamState {
    /// First moment `m`, in the layout of [`Parameters`].
    pub m: Parameters,
    /// Second moment `v`, in the layout of [`Parameters`].
    pub v: Parameters,
    /// Steps taken so far; the step about to be taken is `steps + 1`.
    pub steps: u64,
}

impl AdamState {
    /// Zero moments shaped like `parameters`, before the first step.
    pub fn zeros(parameters: &Parameters) -> Self {
        let zeros: Parameters = parameters
            .iter()
            .map(|p| LayerParameters {
                weight: vec![0.0; p.weight.len()],
                bias: vec![0.0; p.bias.len()],
                ..*p
            })
            .collect();
        AdamState {
            m: zeros.clone(),
            v: zeros,
            steps: 0,
        }
    }
}

/// One optimiser step, as [`UpdateRule::update`] is asked to take it.
#[derive(Debug, Clone, Copy)]
pub struct UpdateRequest<'a> {
    pub optimizer: &'a Optimizer,
    /// The parameters before the step.
    pub parameters: &'a Parameters,
    /// The gradient the step applies (the L2 term already in it).
    pub gradient: &'a Parameters,
    /// Adam's state before the step; `None` for SGD, and for Adam the zero state of
    /// [`AdamState::zeros`].
    pub adam: Option<&'a AdamState>,
}

impl UpdateRequest<'_> {
    /// Adam's state before the step: the one handed over, else zeros.
    pub fn adam_before(&self) -> AdamState {
        self.adam
            .cloned()
            .unwrap_or_else(|| AdamState::zeros(self.parameters))
    }
}

/// What [`UpdateRule::update`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Updated {
    /// The parameters after the step.
    pub parameters: Parameters,
    /// Adam's state after the step, when the rule reports it (a reference must, so that the
    /// trajectory can go on from it); `None` for SGD.
    pub adam: Option<AdamState>,
}

/// A model's optimiser on its own: the same parameters, gradient and state in must give the
/// same parameters out. Leaves no trace on the model.
pub trait UpdateRule {
    /// Short, stable name used in reports, as [`crate::Trainer::name`].
    fn name(&self) -> &str;
    /// One step of `request.optimizer` from `request.parameters` with `request.gradient`.
    fn update(&mut self, request: &UpdateRequest<'_>) -> Updated;
}
