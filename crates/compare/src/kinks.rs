//! What a parity verdict says of the ReLU kinks it left out ([`parity::kinks`]), which
//! depends on what the candidate told: with its hidden pre-activations (`Z`), the units on in
//! one model and off in the other; without them, only which images hold a unit within
//! rounding of 0 in libtorch's pass, whatever the candidate had on.

use parity::StepReport;
use serde::Serialize;

/// Whether a step's gradient answer carried the candidate's hidden pre-activations (`Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreActivations {
    Sent,
    Missing,
}

impl PreActivations {
    /// What `pre_activations` (a [`contract::Derivatives`]'s, one per hidden layer) says.
    pub fn of<T>(pre_activations: &[T]) -> Self {
        if pre_activations.is_empty() {
            PreActivations::Missing
        } else {
            PreActivations::Sent
        }
    }
}

/// The kinks left out over a check, counted as what told them allows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Kinks {
    /// Over the steps whose candidate sent `Z`: ReLU units on in one model and off in the
    /// other, within rounding of 0 in both (summed over the images).
    pub units_on_in_one_model: usize,
    /// Over the steps whose candidate sent no `Z`: images left out because they hold a ReLU
    /// unit within rounding of 0 in libtorch's pass.
    pub images_near_zero_in_libtorch: usize,
}

impl Kinks {
    /// Over `reports`, step `i`'s answer having carried `pre_activations[i]`.
    pub fn count(reports: &[StepReport], pre_activations: &[PreActivations]) -> Kinks {
        let mut kinks = Kinks::default();
        for (report, told) in reports.iter().zip(pre_activations) {
            match told {
                PreActivations::Sent => {
                    // One row per layer: a layer's weight and bias carry the same count.
                    let units: usize = report.tensors.iter().step_by(2).map(|t| t.kink_units).sum();
                    kinks.units_on_in_one_model += units;
                }
                PreActivations::Missing => {
                    kinks.images_near_zero_in_libtorch += report.excluded_images;
                }
            }
        }
        kinks
    }

    /// What the terminal says of them: a line for each kind counted, none when none were.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if self.units_on_in_one_model > 0 {
            lines.push(format!(
                "{} ReLU units were on in one model and off in the other within rounding of 0; their images were left out of those steps",
                self.units_on_in_one_model
            ));
        }
        if self.images_near_zero_in_libtorch > 0 {
            lines.push(format!(
                "{} images were left out of their steps: each holds a ReLU unit within rounding of 0 in libtorch's pass (the candidate sent no pre-activations, Z, to tell which units it had on)",
                self.images_near_zero_in_libtorch
            ));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use parity::{Difference, ErrorRatio, StepReport, TensorKind, TensorReport};

    use super::{Kinks, PreActivations};

    /// A step of a one-hidden-layer network whose hidden layer holds `units` kink units and
    /// that left `images` images out.
    fn step(units: usize, images: usize) -> StepReport {
        let tensor = |layer, tensor, kink_units| TensorReport {
            layer,
            tensor,
            difference: Difference::between(&[1.0], &[1.0]),
            error: ErrorRatio::of(&[1.0], &[1.0], &[1.0]),
            kink_units,
        };
        StepReport {
            reference_loss: 2.3,
            candidate_loss: 2.3,
            loss_error: ErrorRatio::of_scalar(2.3, 2.3, 2.3),
            tensors: vec![
                tensor(0, TensorKind::Weight, units),
                tensor(0, TensorKind::Bias, units),
                tensor(1, TensorKind::Weight, 0),
                tensor(1, TensorKind::Bias, 0),
            ],
            excluded_images: images,
        }
    }

    /// With `Z`, the units (once per layer, not per tensor); without, the images left out,
    /// said as such: the same step reads differently by what the candidate sent.
    #[test]
    fn the_kink_line_says_only_what_the_candidate_told() {
        let reports = [step(3, 2), step(5, 4), step(0, 0)];
        let told = [
            PreActivations::Sent,
            PreActivations::Missing,
            PreActivations::Sent,
        ];
        let kinks = Kinks::count(&reports, &told);
        assert_eq!(
            kinks,
            Kinks {
                units_on_in_one_model: 3,
                images_near_zero_in_libtorch: 4
            }
        );
        let lines = kinks.lines();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("3 ReLU units were on in one model and off in the other"));
        assert!(lines[1].starts_with(
            "4 images were left out of their steps: each holds a ReLU unit within rounding of 0 in libtorch's pass"
        ));
        let without = Kinks::count(&reports[..2], &[PreActivations::Missing; 2]);
        assert_eq!(without.units_on_in_one_model, 0);
        assert!(without
            .lines()
            .iter()
            .all(|l| !l.contains("on in one model")));
        assert!(Kinks::count(&[step(0, 0)], &[PreActivations::Sent])
            .lines()
            .is_empty());
        assert_eq!(PreActivations::of::<u8>(&[]), PreActivations::Missing);
        assert_eq!(PreActivations::of(&[1]), PreActivations::Sent);
    }
}
