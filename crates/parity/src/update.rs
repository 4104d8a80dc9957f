//! One optimiser step on its own: both update rules get the same parameters, gradient and
//! state, and the parameters they return are compared layer by layer and tensor by tensor.
//! A mistake in a rule (Adam's bias correction one step off, momentum applied twice) moves
//! the parameters out; the gradient comparison alone cannot see it.

use contract::{ExactUpdateRule, UpdateRequest, UpdateRule, Updated};

use crate::step::{compare_tensors, first_over_bound};
use crate::{Error, Schedule, TensorReport};

/// The comparison of one step of two update rules.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateReport {
    /// Every layer's weight, then bias, first layer first: the candidate's parameters out
    /// against the reference's and against the exact step's (`kink_units` is 0).
    pub tensors: Vec<TensorReport>,
}

impl UpdateReport {
    /// The first tensor over `max_ratio`, layers from the output to the input, as
    /// [`crate::StepReport::over_bound`]; `None` when every one is within it.
    pub fn over_bound(&self, max_ratio: f64) -> Option<&TensorReport> {
        first_over_bound(&self.tensors, max_ratio)
    }
}

/// A reference for [`compare_update`]: its `f32` step, and the same in `f64`.
pub trait UpdateReference: UpdateRule + ExactUpdateRule {}

impl<T: UpdateRule + ExactUpdateRule> UpdateReference for T {}

/// Both rules' step on `request`, compared, and the reference's in `f64`; also the
/// reference's step, from which the caller typically goes on. The two rules are called as
/// `schedule` says.
pub fn compare_update(
    reference: &mut dyn UpdateReference,
    candidate: &mut (dyn UpdateRule + Send),
    request: &UpdateRequest<'_>,
    schedule: Schedule,
) -> Result<(UpdateReport, Updated), Error> {
    let ((r, x), c) = schedule.both(
        || (reference.update(request), reference.exact_update(request)),
        || candidate.update(request),
    );
    let tensors = compare_tensors(&x, &r.parameters, &c.parameters, &[])?;
    Ok((UpdateReport { tensors }, r))
}

#[cfg(test)]
mod tests {
    use contract::{LayerParameters, Optimizer, Parameters};

    use super::*;

    /// SGD by hand: `w − lr·g`, or with the learning rate doubled in the candidate.
    struct HandSgd {
        factor: f32,
    }

    impl UpdateRule for HandSgd {
        fn name(&self) -> &str {
            "hand-written SGD"
        }

        fn update(&mut self, request: &UpdateRequest<'_>) -> Updated {
            let lr = request.optimizer.lr() * self.factor;
            let step = |p: &[f32], g: &[f32]| p.iter().zip(g).map(|(p, g)| p - lr * g).collect();
            let parameters = request
                .parameters
                .iter()
                .zip(request.gradient)
                .map(|(p, g)| LayerParameters {
                    weight: step(&p.weight, &g.weight),
                    bias: step(&p.bias, &g.bias),
                    ..*p
                })
                .collect();
            Updated {
                parameters,
                adam: None,
            }
        }
    }

    impl ExactUpdateRule for HandSgd {
        fn exact_update(&mut self, request: &UpdateRequest<'_>) -> Parameters<f64> {
            let lr = f64::from(request.optimizer.lr() * self.factor);
            let step = |p: &[f32], g: &[f32]| {
                (p.iter().zip(g))
                    .map(|(&p, &g)| f64::from(p) - lr * f64::from(g))
                    .collect()
            };
            (request.parameters.iter().zip(request.gradient))
                .map(|(p, g)| LayerParameters {
                    weight: step(&p.weight, &g.weight),
                    bias: step(&p.bias, &g.bias),
                    out_features: p.out_features,
                    in_features: p.in_features,
                })
                .collect()
        }
    }

    /// One layer, weight [1, 2], bias [0.5], gradient [1, 1] and [1], lr 0.1: the reference
    /// gives [0.9, 1.9] and [0.4]; lr 0.2 gives [0.8, 1.8] and [0.3], 0.1 off, which is
    /// 0.1/1.9 of the weight's largest |parameter| and 0.1/0.4 of the bias's. Against the exact
    /// step, the candidate is 0.1·√2 off in the weight and 0.1 in the bias, where the `f32`
    /// reference is within 1.5e-8 (the bias 0.4 in `f32` against 0.39999999851 exactly), so
    /// the ratio's floor (ε of the tensor's norm: 4.8e-8 for the bias, 2.5e-7 for the weight)
    /// decides: the bias is the furthest over.
    #[test]
    fn a_doubled_learning_rate_is_named_at_the_bias() {
        let layer = |weight: Vec<f32>, bias: Vec<f32>| LayerParameters {
            weight,
            out_features: 1,
            in_features: 2,
            bias,
        };
        let parameters: Parameters = vec![layer(vec![1.0, 2.0], vec![0.5])];
        let gradient: Parameters = vec![layer(vec![1.0, 1.0], vec![1.0])];
        let request = UpdateRequest {
            optimizer: &Optimizer::Sgd { lr: 0.1 },
            parameters: &parameters,
            gradient: &gradient,
            adam: None,
        };
        let mut reference = HandSgd { factor: 1.0 };
        let mut against = |factor, schedule| {
            compare_update(&mut reference, &mut HandSgd { factor }, &request, schedule)
                .expect("comparable")
        };
        let (same, _) = against(1.0, Schedule::Sequential);
        assert_eq!(same.over_bound(crate::DEFAULT_MAX_RATIO), None);
        let (report, stepped) = against(2.0, Schedule::Sequential);
        let concurrent = against(2.0, Schedule::Concurrent);
        assert_eq!(
            concurrent,
            (report.clone(), stepped.clone()),
            "either schedule"
        );
        testkit::assert_close(
            "reference",
            &stepped.parameters[0].weight,
            &[0.9, 1.9],
            1e-6,
            0.0,
        );
        let rel: Vec<f64> = report
            .tensors
            .iter()
            .map(|t| t.difference.max_rel)
            .collect();
        testkit::assert_close("max_rel", &rel, &[0.1 / 1.9, 0.1 / 0.4], 1e-5, 0.0);
        let ratios: Vec<f64> = report.tensors.iter().map(|t| t.error.ratio).collect();
        let bias_floor = f64::from(f32::EPSILON) * 0.4;
        let weight_floor = f64::from(f32::EPSILON) * (0.9_f64.powi(2) + 1.9_f64.powi(2)).sqrt();
        let expected = [0.1 * 2.0_f64.sqrt() / weight_floor, 0.1 / bias_floor];
        testkit::assert_close("ratios", &ratios, &expected, 1e-5, 0.0);
        let found = report
            .over_bound(crate::DEFAULT_MAX_RATIO)
            .expect("over the bound");
        assert_eq!((found.layer, found.tensor), (0, crate::TensorKind::Bias));
    }
}
