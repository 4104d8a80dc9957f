//! What a pass does: a [`Task`], and the optimiser step a training task takes.

use contract::Optimizer;

use crate::fused::adam::AdamStep;

/// What a pass does.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Task {
    /// The logits only.
    Logits,
    /// The loss, no gradient.
    Loss,
    /// The loss and the gradient, written to the workspace; the parameters stay.
    Gradient,
    /// The loss, then one SGD step `w −= lr·g`.
    Sgd { lr: f32 },
    /// The loss, then one Adam step.
    Adam(AdamStep),
}

impl Task {
    /// Training step number `t` (1 for the first update) of `optimizer`.
    pub(crate) fn train(optimizer: &Optimizer, t: u64) -> Task {
        match *optimizer {
            Optimizer::Sgd { lr } => Task::Sgd { lr },
            Optimizer::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => Task::Adam(AdamStep::new(
                f64::from(lr),
                f64::from(beta1),
                f64::from(beta2),
                f64::from(eps),
                t,
            )),
        }
    }

    /// Whether the pass goes backward (and so changes the weights or stores the gradient).
    pub(super) fn backward(self) -> bool {
        !matches!(self, Task::Logits | Task::Loss)
    }
}
