//! One teacher-forced step: both models' loss and gradient at the same parameters on the same
//! batch, compared layer by layer and tensor by tensor.

use contract::{Activation, Batch, Differentiable, Parameters};
use ndarray::Axis;

use crate::kinks::Kinks;
use crate::{Difference, Error, Schedule};

/// The largest [`Difference::max_rel`] (and relative loss difference) one step's f32
/// rounding explains. Two f32 implementations that sum in different orders (and use
/// different exp/tanh approximations) differ by a few 1e-7 of a tensor's largest gradient at
/// the output and up to ~3e-6 after backpropagating through three hidden layers: the worst
/// measured scratch against libtorch over 200 real MNIST steps of 784-500-250-100-10 is
/// 2.7e-6 (ReLU; sigmoid 1.2e-6, tanh 1.4e-6; `crates/torchref/tests/gradient_parity.rs`).
/// A real error in a formula is orders of magnitude above it.
pub const DEFAULT_BOUND: f64 = 1e-5;

/// Which tensor of a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorKind {
    Weight,
    Bias,
}

impl TensorKind {
    /// `"weight"` or `"bias"`.
    pub fn name(self) -> &'static str {
        match self {
            TensorKind::Weight => "weight",
            TensorKind::Bias => "bias",
        }
    }
}

/// How far the candidate's gradient of one tensor is from the reference's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TensorReport {
    /// 0 for the first layer (input side).
    pub layer: usize,
    pub tensor: TensorKind,
    pub difference: Difference,
    /// ReLU units of this layer on in one model and off in the other, within rounding of 0,
    /// summed over the batch ([`Kinks`]); 0 for the output layer and smooth activations.
    pub kink_units: usize,
}

/// The comparison of one step.
#[derive(Debug, Clone, PartialEq)]
pub struct StepReport {
    pub reference_loss: f32,
    pub candidate_loss: f32,
    /// Every layer's weight, then bias, first layer first.
    pub tensors: Vec<TensorReport>,
    /// Images left out of the comparison because they hold kinks (0 when there are none).
    pub excluded_images: usize,
}

/// What a step found over the bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Finding<'a> {
    /// A tensor's gradient.
    Tensor(&'a TensorReport),
    /// The loss (with the gradients within the bound): relative difference.
    Loss(f64),
}

impl StepReport {
    /// `|candidate − reference| / |reference|` of the loss.
    pub fn loss_rel_diff(&self) -> f64 {
        Difference::between(&[self.reference_loss], &[self.candidate_loss]).max_rel
    }

    /// The first thing over `bound`, in the order backpropagation computes it: layers from
    /// the output to the input (a wrong `ΔZ` spreads to every layer before it, so the layer
    /// nearest the output is where an error starts), within a layer the tensor furthest over;
    /// then the loss. `None` when everything is within the bound.
    pub fn over_bound(&self, bound: f64) -> Option<Finding<'_>> {
        if let Some(tensor) = first_over_bound(&self.tensors, bound) {
            return Some(Finding::Tensor(tensor));
        }
        let loss = self.loss_rel_diff();
        is_over_bound(loss, bound).then_some(Finding::Loss(loss))
    }
}

/// Whether a relative difference is over `bound` (NaN always is).
pub fn is_over_bound(rel: f64, bound: f64) -> bool {
    rel.is_nan() || rel > bound
}

/// The first of `tensors` over `bound`: layers from the output to the input, within a layer
/// the tensor furthest over.
pub(crate) fn first_over_bound(tensors: &[TensorReport], bound: f64) -> Option<&TensorReport> {
    let mut layers: Vec<&TensorReport> = tensors.iter().collect();
    layers.sort_by(|a, b| {
        let rel = |t: &TensorReport| t.difference.max_rel;
        b.layer.cmp(&a.layer).then(rel(b).total_cmp(&rel(a)))
    });
    layers
        .into_iter()
        .find(|t| is_over_bound(t.difference.max_rel, bound))
}

/// One step compared, and the reference's gradient on the whole batch: what the caller's
/// optimiser step needs, so that it need not compute it again.
#[derive(Debug, Clone)]
pub struct ComparedStep {
    pub report: StepReport,
    pub reference_gradient: Parameters,
}

/// Both models' loss and gradient at `parameters` on `batch`, compared. With ReLU, images
/// holding [kinks](crate::kinks) are left out and the step is compared on the others (the
/// kinks are still counted), unless every image holds one. The two models are called as
/// `schedule` says.
pub fn compare_step(
    reference: &mut dyn Differentiable,
    candidate: &mut (dyn Differentiable + Send),
    parameters: &Parameters,
    batch: &Batch<'_>,
    activation: Activation,
    schedule: Schedule,
) -> Result<ComparedStep, Error> {
    let (whole, mut c) = schedule.both(
        || reference.differentiate(parameters, batch),
        || candidate.differentiate(parameters, batch),
    );
    // The reference on the images still compared, once some are left out.
    let mut rest_of_batch = None;
    let hidden = whole.pre_activations.len();
    let mut kink_units = vec![0; hidden];
    // Rows of `batch` still in the comparison.
    let mut kept: Vec<usize> = (0..batch.labels.len()).collect();
    if activation == Activation::Relu {
        loop {
            let r = rest_of_batch.as_ref().unwrap_or(&whole);
            let kinks = Kinks::find(&r.pre_activations, &c.pre_activations)?;
            if kinks.is_empty() || kinks.images.len() == kept.len() {
                break;
            }
            for (total, found) in kink_units.iter_mut().zip(&kinks.per_layer) {
                *total += found;
            }
            // `kinks.images` index the rows of the last batch compared, i.e. `kept`.
            let mut drop = kinks.images.iter().peekable();
            kept = kept
                .iter()
                .enumerate()
                .filter(|&(row, _)| drop.next_if_eq(&&row).is_none())
                .map(|(_, &original)| original)
                .collect();
            let images = batch.images.select(Axis(0), &kept);
            let labels = batch.labels.select(Axis(0), &kept);
            let rest = Batch {
                images: images.view(),
                labels: labels.view(),
            };
            let (r, rest_c) = schedule.both(
                || reference.differentiate(parameters, &rest),
                || candidate.differentiate(parameters, &rest),
            );
            rest_of_batch = Some(r);
            c = rest_c;
        }
    }
    let r = rest_of_batch.as_ref().unwrap_or(&whole);
    let report = StepReport {
        reference_loss: r.loss,
        candidate_loss: c.loss,
        tensors: compare_tensors(&r.gradient, &c.gradient, &kink_units)?,
        excluded_images: batch.labels.len() - kept.len(),
    };
    Ok(ComparedStep {
        report,
        reference_gradient: whole.gradient,
    })
}

/// Every layer's weight, then bias, of `reference` against `candidate`, first layer first.
pub(crate) fn compare_tensors(
    reference: &Parameters,
    candidate: &Parameters,
    kink_units: &[usize],
) -> Result<Vec<TensorReport>, Error> {
    if reference.len() != candidate.len() {
        return Err(Error::LayerCount {
            reference: reference.len(),
            candidate: candidate.len(),
        });
    }
    let mut tensors = Vec::with_capacity(2 * reference.len());
    for (layer, (gr, gc)) in reference.iter().zip(candidate).enumerate() {
        let kink_units = kink_units.get(layer).copied().unwrap_or(0);
        for (tensor, want, got) in [
            (TensorKind::Weight, &gr.weight, &gc.weight),
            (TensorKind::Bias, &gr.bias, &gc.bias),
        ] {
            tensors.push(TensorReport {
                layer,
                tensor,
                difference: Difference::between(want, got),
                kink_units,
            });
        }
    }
    Ok(tensors)
}

#[cfg(test)]
mod tests {
    use contract::{Derivatives, LayerParameters};
    use ndarray::{Array1, Array2};

    use super::*;

    /// A one-hidden-unit stand-in whose answers are written out: the gradient is one weight,
    /// the sum of the batch's labels; image label 7 holds a pre-activation of `kink` (±5e-8
    /// against 1.0 elsewhere) and, when `on_at_kink`, adds 0.5 to the gradient (the unit
    /// passes it in this model and blocks it in the other).
    struct Stand {
        kink: f32,
        on_at_kink: bool,
    }

    impl Differentiable for Stand {
        fn name(&self) -> &str {
            "stand-in"
        }

        fn differentiate(&mut self, _: &Parameters, batch: &Batch<'_>) -> Derivatives {
            let mut sum: f32 = batch.labels.iter().map(|&l| f32::from(l)).sum();
            let at_kink = |l: &u8| *l == 7;
            if self.on_at_kink && batch.labels.iter().any(at_kink) {
                sum += 0.5;
            }
            let z = batch.labels.mapv(|l| if l == 7 { self.kink } else { 1.0 });
            let layer = LayerParameters {
                weight: vec![sum],
                out_features: 1,
                in_features: 1,
                bias: vec![0.0],
            };
            Derivatives {
                loss: 1.0,
                gradient: vec![layer.clone(), layer],
                pre_activations: vec![z.insert_axis(Axis(1))],
            }
        }
    }

    fn check(activation: Activation) -> StepReport {
        let images = Array2::zeros((4, 1));
        let labels = Array1::from(vec![1_u8, 7, 2, 3]);
        let batch = Batch {
            images: images.view(),
            labels: labels.view(),
        };
        let mut reference = Stand {
            kink: 5e-8,
            on_at_kink: true,
        };
        let mut candidate = Stand {
            kink: -5e-8,
            on_at_kink: false,
        };
        compare_step(
            &mut reference,
            &mut candidate,
            &Vec::new(),
            &batch,
            activation,
            Schedule::Sequential,
        )
        .expect("same shapes")
        .report
    }

    /// With ReLU the image holding the kink is set aside: the rest (labels 1, 2, 3) agree
    /// exactly, and the kink is counted in the first layer's rows only.
    #[test]
    fn a_relu_kink_sets_its_image_aside() {
        let report = check(Activation::Relu);
        assert_eq!(report.excluded_images, 1);
        let kinks: Vec<usize> = report.tensors.iter().map(|t| t.kink_units).collect();
        assert_eq!(kinks, [1, 1, 0, 0]);
        assert_eq!(report.over_bound(DEFAULT_BOUND), None);
    }

    /// Without ReLU there is no kink: the whole batch is compared, and the difference (0.5 in
    /// 13.5, 3.7e-2) is named at the layer nearest the output (1), in its weight.
    #[test]
    fn a_smooth_activation_compares_the_whole_batch() {
        let report = check(Activation::Tanh);
        assert_eq!(report.excluded_images, 0);
        match report.over_bound(DEFAULT_BOUND) {
            Some(Finding::Tensor(t)) => {
                assert_eq!((t.layer, t.tensor), (1, TensorKind::Weight));
                testkit::assert_close("max_rel", &[t.difference.max_rel], &[0.5 / 13.5], 1e-9, 0.0);
            }
            other => panic!("expected layer 1's weight, got {other:?}"),
        }
    }
}
