//! One teacher-forced step: both models' loss and gradient at the same parameters on the same
//! batch, and the reference's in `f64`, compared layer by layer and tensor by tensor.

use contract::{
    Activation, Batch, Derivatives, Differentiable, ExactDerivatives, ExactDifferentiable,
    Parameters,
};
use ndarray::Axis;

use crate::kinks::Kinks;
use crate::{Difference, Error, ErrorRatio, Schedule};

/// The largest [`ErrorRatio::ratio`] allowed: how many times libtorch's own `f32` error (its
/// distance from the same computation in `f64`) a tensor's error, or the loss's, may be.
/// Over the false-alarm matrix (`scripts/parity-matrix`: sigmoid, tanh and ReLU, SGD and Adam,
/// L2 0 and 0.8, three seeds, 200 steps ending on the short batch; the candidates scratch,
/// scratch-textbook and the NumPy MLP in `f32` and `f64`) the worst a correct `f32` candidate
/// reached was 6.41, the `f64` one 0.49; 10 leaves 1.56× (`crates/parity/README.md`, with
/// the power).
pub const DEFAULT_MAX_RATIO: f64 = 10.0;

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

/// How far the candidate's value of one tensor (its gradient, or its parameters after the
/// optimiser step) is from the reference's and from the exact one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TensorReport {
    /// 0 for the first layer (input side).
    pub layer: usize,
    pub tensor: TensorKind,
    /// Against libtorch's `f32` value.
    pub difference: Difference,
    /// Against the exact value, as a multiple of libtorch's own error: what the verdict reads.
    pub error: ErrorRatio,
    /// ReLU units of this layer on in one model and off in the other, within rounding of 0,
    /// summed over the batch ([`Kinks`]); 0 for the output layer and smooth activations.
    pub kink_units: usize,
}

/// The comparison of one step.
#[derive(Debug, Clone, PartialEq)]
pub struct StepReport {
    pub reference_loss: f32,
    pub candidate_loss: f32,
    /// The loss's errors against the exact loss.
    pub loss_error: ErrorRatio,
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
    /// The loss, with the gradients within the bound.
    Loss(&'a ErrorRatio),
}

impl StepReport {
    /// `|candidate − reference| / |reference|` of the loss.
    pub fn loss_rel_diff(&self) -> f64 {
        Difference::between(&[self.reference_loss], &[self.candidate_loss]).max_rel
    }

    /// The first thing over `max_ratio`, in the order backpropagation computes it: layers
    /// from the output to the input (a wrong `ΔZ` spreads to every layer before it, so the
    /// layer nearest the output is where an error starts), within a layer the tensor furthest
    /// over; then the loss. `None` when everything is within it.
    pub fn over_bound(&self, max_ratio: f64) -> Option<Finding<'_>> {
        if let Some(tensor) = first_over_bound(&self.tensors, max_ratio) {
            return Some(Finding::Tensor(tensor));
        }
        let loss = &self.loss_error;
        is_over_bound(loss.ratio, max_ratio).then_some(Finding::Loss(loss))
    }
}

/// Whether an error ratio is over `max_ratio` (NaN always is).
pub fn is_over_bound(ratio: f64, max_ratio: f64) -> bool {
    ratio.is_nan() || ratio > max_ratio
}

/// The first of `tensors` over `max_ratio`: layers from the output to the input, within a
/// layer the tensor furthest over.
pub(crate) fn first_over_bound(tensors: &[TensorReport], max_ratio: f64) -> Option<&TensorReport> {
    let mut layers: Vec<&TensorReport> = tensors.iter().collect();
    layers.sort_by(|a, b| {
        let ratio = |t: &TensorReport| t.error.ratio;
        b.layer.cmp(&a.layer).then(ratio(b).total_cmp(&ratio(a)))
    });
    layers
        .into_iter()
        .find(|t| is_over_bound(t.error.ratio, max_ratio))
}

/// One step compared, and the reference's gradient on the whole batch: what the caller's
/// optimiser step needs, so that it need not compute it again.
#[derive(Debug, Clone)]
pub struct ComparedStep {
    pub report: StepReport,
    pub reference_gradient: Parameters,
}

/// A reference for [`compare_step`]: its `f32` computation, and the same in `f64`.
pub trait GradientReference: Differentiable + ExactDifferentiable {}

impl<T: Differentiable + ExactDifferentiable> GradientReference for T {}

/// Both models' loss and gradient at `parameters` on `batch`, compared, and the reference's
/// in `f64`. With ReLU, images holding [kinks](crate::kinks) (between the candidate and the
/// reference, or between the reference's `f32` and `f64` passes) are left out and the step is
/// compared on the others (the candidate's kinks are still counted), unless every image holds
/// one. The two models are called as `schedule` says.
pub fn compare_step(
    reference: &mut dyn GradientReference,
    candidate: &mut (dyn Differentiable + Send),
    parameters: &Parameters,
    batch: &Batch<'_>,
    activation: Activation,
    schedule: Schedule,
) -> Result<ComparedStep, Error> {
    let mut both = |batch: &Batch<'_>| -> ((Derivatives, ExactDerivatives), Derivatives) {
        schedule.both(
            || {
                let f32_pass = reference.differentiate(parameters, batch);
                (f32_pass, reference.exact_derivatives(parameters, batch))
            },
            || candidate.differentiate(parameters, batch),
        )
    };
    let ((whole, whole_exact), mut c) = both(batch);
    // The reference on the images still compared, once some are left out.
    let mut rest_of_batch = None;
    let hidden = whole.pre_activations.len();
    let mut kink_units = vec![0; hidden];
    // Rows of `batch` still in the comparison.
    let mut kept: Vec<usize> = (0..batch.labels.len()).collect();
    if activation == Activation::Relu {
        loop {
            let (r, x) = match &rest_of_batch {
                Some((r, x)) => (r, x),
                None => (&whole, &whole_exact),
            };
            let kinks = Kinks::find(&r.pre_activations, &c.pre_activations)?;
            let rounding = Kinks::find(&r.pre_activations, &x.pre_activations)?;
            let images = kinks.images_with(&rounding);
            if images.is_empty() || images.len() == kept.len() {
                break;
            }
            for (total, found) in kink_units.iter_mut().zip(&kinks.per_layer) {
                *total += found;
            }
            // `images` index the rows of the last batch compared, i.e. `kept`.
            let mut drop = images.iter().peekable();
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
            let ((r, x), rest_c) = both(&rest);
            rest_of_batch = Some((r, x));
            c = rest_c;
        }
    }
    let (r, x) = match &rest_of_batch {
        Some((r, x)) => (r, x),
        None => (&whole, &whole_exact),
    };
    let report = StepReport {
        reference_loss: r.loss,
        candidate_loss: c.loss,
        loss_error: ErrorRatio::of_scalar(x.loss, r.loss, c.loss),
        tensors: compare_tensors(&x.gradient, &r.gradient, &c.gradient, &kink_units)?,
        excluded_images: batch.labels.len() - kept.len(),
    };
    Ok(ComparedStep {
        report,
        reference_gradient: whole.gradient,
    })
}

/// Every layer's weight, then bias, of `reference` and `candidate` against `exact`, first
/// layer first.
pub(crate) fn compare_tensors(
    exact: &Parameters<f64>,
    reference: &Parameters,
    candidate: &Parameters,
    kink_units: &[usize],
) -> Result<Vec<TensorReport>, Error> {
    if reference.len() != candidate.len() || exact.len() != reference.len() {
        return Err(Error::LayerCount {
            reference: reference.len(),
            candidate: candidate.len(),
        });
    }
    let mut tensors = Vec::with_capacity(2 * reference.len());
    for (layer, ((gx, gr), gc)) in exact.iter().zip(reference).zip(candidate).enumerate() {
        let kink_units = kink_units.get(layer).copied().unwrap_or(0);
        for (tensor, exact, want, got) in [
            (TensorKind::Weight, &gx.weight, &gr.weight, &gc.weight),
            (TensorKind::Bias, &gx.bias, &gr.bias, &gc.bias),
        ] {
            tensors.push(TensorReport {
                layer,
                tensor,
                difference: Difference::between(want, got),
                error: ErrorRatio::of(exact, want, got),
                kink_units,
            });
        }
    }
    Ok(tensors)
}

#[cfg(test)]
mod tests {
    use contract::LayerParameters;
    use ndarray::{Array1, Array2};

    use super::*;

    /// Its answer in `f64`, as the exact reference: the reference is then exact, and a
    /// candidate is measured against the ratio's floor.
    impl ExactDifferentiable for Stand {
        fn exact_derivatives(&mut self, p: &Parameters, batch: &Batch<'_>) -> ExactDerivatives {
            let d = self.differentiate(p, batch);
            let wide = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect();
            ExactDerivatives {
                loss: f64::from(d.loss),
                gradient: (d.gradient.iter())
                    .map(|l| LayerParameters {
                        weight: wide(&l.weight),
                        bias: wide(&l.bias),
                        out_features: l.out_features,
                        in_features: l.in_features,
                    })
                    .collect(),
                pre_activations: d.pre_activations,
            }
        }
    }

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
        assert_eq!(report.over_bound(DEFAULT_MAX_RATIO), None);
    }

    /// Without ReLU there is no kink: the whole batch is compared, and the difference (0.5 in
    /// 13.5, 3.7e-2; against an exact reference that is 0.5 / (ε·13.5) of the ratio's floor)
    /// is named at the layer nearest the output (1), in its weight.
    #[test]
    fn a_smooth_activation_compares_the_whole_batch() {
        let report = check(Activation::Tanh);
        assert_eq!(report.excluded_images, 0);
        match report.over_bound(DEFAULT_MAX_RATIO) {
            Some(Finding::Tensor(t)) => {
                assert_eq!((t.layer, t.tensor), (1, TensorKind::Weight));
                testkit::assert_close("max_rel", &[t.difference.max_rel], &[0.5 / 13.5], 1e-9, 0.0);
                let floor = f64::from(f32::EPSILON) * 13.5;
                testkit::assert_close("ratio", &[t.error.ratio], &[0.5 / floor], 1e-9, 0.0);
            }
            other => panic!("expected layer 1's weight, got {other:?}"),
        }
    }
}
