//! Every gate and verdict, one definition each: the parity gate of one run
//! (`--max-accuracy-gap`, `--min-accuracy`), the same on intervals over seeds, and the bound
//! of `compare parity`. Each says why it failed, line by line, for the terminal and the page.

use parity::{Finding, StepReport, TensorReport, UpdateReport};
use serde::Serialize;

use crate::config::{RunConfig, SeedsGate};
use crate::kinks::{Kinks, PreActivations};
use crate::seed_stats::{ModelStats, PairStats};
use crate::status::{ModelStatus, Signal};
use crate::terminal::p_value_text;
use crate::train::Contender;

/// How a parity gate went, when one was asked for.
pub struct Verdict {
    pub passed: bool,
    /// What was checked, or why it failed.
    pub lines: Vec<String>,
}

/// The page's verdict on the parity gate: what it checked when it passed, why it failed
/// otherwise; `None` when no gate was asked for.
pub fn run_verdict(config: &RunConfig, failures: &[String]) -> Option<Verdict> {
    if !failures.is_empty() {
        return Some(Verdict {
            passed: false,
            lines: failures.to_vec(),
        });
    }
    let mut checked = Vec::new();
    if let Some(gap) = config.max_accuracy_gap {
        checked.push(format!(
            "the final test accuracies differ by at most {gap} percentage points"
        ));
    }
    if let Some(floor) = config.min_accuracy {
        checked.push(format!(
            "every model's final test accuracy is at least {floor}%"
        ));
    }
    (!checked.is_empty()).then_some(Verdict {
        passed: true,
        lines: checked,
    })
}

/// One gate of a run or of a run over seeds, as CI lists it (a test case of `--junit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Every model completed (checked whenever another gate is asked for).
    Completion,
    /// `--min-accuracy`.
    MinimumAccuracy,
    /// `--max-accuracy-gap`.
    AccuracyGap,
    /// `--require-equivalence` (over seeds): the two one-sided t tests find the pair
    /// equivalent within `--equivalence-margin`.
    Equivalence,
}

impl Gate {
    pub fn name(self) -> &'static str {
        match self {
            Gate::Completion => "every model completed",
            Gate::MinimumAccuracy => "minimum accuracy (--min-accuracy)",
            Gate::AccuracyGap => "accuracy gap (--max-accuracy-gap)",
            Gate::Equivalence => "equivalence (--require-equivalence)",
        }
    }
}

/// A gate that was asked for, and why it failed (empty when it passed).
pub struct GateCheck {
    pub gate: Gate,
    pub failures: Vec<String>,
}

/// Why the parity gate fails, if it does (empty when it passes or is not asked for).
pub fn failures(checks: &[GateCheck]) -> Vec<String> {
    checks
        .iter()
        .flat_map(|c| c.failures.iter().cloned())
        .collect()
}

/// Each gate of one run that was asked for, in the order the terminal lists failures.
pub fn run_checks(config: &RunConfig, contenders: &[Contender]) -> Vec<GateCheck> {
    let mut checks = Vec::new();
    if config.gated() {
        checks.push(GateCheck {
            gate: Gate::Completion,
            failures: (contenders.iter())
                .filter(|c| c.status != ModelStatus::Completed)
                .map(|c| format!("{} did not complete: {}", c.label, c.status))
                .collect(),
        });
    }
    if let Some(floor) = config.min_accuracy {
        let mut failures = Vec::new();
        for c in contenders {
            let accuracy = c.final_test_accuracy().unwrap_or(f64::NAN);
            if accuracy.is_nan() || accuracy < floor {
                failures.push(format!(
                    "{} test accuracy {accuracy:.2}% is below the floor {floor}%",
                    c.label
                ));
            }
        }
        checks.push(GateCheck {
            gate: Gate::MinimumAccuracy,
            failures,
        });
    }
    if let Some(max_gap) = config.max_accuracy_gap {
        let mut failures = Vec::new();
        let accuracy = |name: &str| {
            contenders
                .iter()
                .find(|c| c.label == name)
                .and_then(Contender::final_test_accuracy)
                .unwrap_or(f64::NAN)
        };
        let (scratch, torch) = (accuracy("scratch"), accuracy("torchref"));
        let gap = (scratch - torch).abs();
        if gap.is_nan() || gap > max_gap {
            failures.push(format!(
                "test accuracies differ by {gap:.2} points (scratch {scratch:.2}%, torchref {torch:.2}%), more than the allowed {max_gap}"
            ));
        }
        checks.push(GateCheck {
            gate: Gate::AccuracyGap,
            failures,
        });
    }
    checks
}

/// The page's verdict on the gate over seeds: passed when it was asked for and nothing failed.
pub fn seeds_verdict(gate: &SeedsGate, failures: &[String]) -> Option<Verdict> {
    (gate.gated() || !failures.is_empty()).then(|| Verdict {
        passed: failures.is_empty(),
        lines: if failures.is_empty() {
            vec!["the gate on the intervals over the seeds".to_owned()]
        } else {
            failures.to_vec()
        },
    })
}

/// Each gate over the seeds that was asked for, in the order the terminal lists failures:
/// every model must complete every seed, each model's mean must reach `--min-accuracy`, the
/// whole 95% interval of the paired difference must lie within `±--max-accuracy-gap`, and
/// with `--require-equivalence` the equivalence test must find the pair equivalent.
pub fn seeds_checks(
    gate: &SeedsGate,
    models: &[ModelStats],
    difference: Option<&PairStats>,
) -> Vec<GateCheck> {
    let mut checks = Vec::new();
    if !gate.gated() {
        return checks;
    }
    checks.push(GateCheck {
        gate: Gate::Completion,
        failures: (models.iter().filter(|m| !m.incomplete.is_empty()))
            .map(|m| format!("{} did not complete seeds {:?}", m.model, m.incomplete))
            .collect(),
    });
    if let Some(floor) = gate.min_accuracy {
        let mut failures = Vec::new();
        for m in models {
            let mean = m.summary.as_ref().map_or(f64::NAN, |s| s.mean);
            if mean.is_nan() || mean < floor {
                failures.push(format!(
                    "{} mean test accuracy {mean:.2}% is below the floor {floor}%",
                    m.model
                ));
            }
        }
        checks.push(GateCheck {
            gate: Gate::MinimumAccuracy,
            failures,
        });
    }
    if let Some(gap) = gate.max_accuracy_gap {
        let failure = match difference.and_then(|d| d.summary.as_ref().map(|s| (d, s.interval))) {
            Some((_, Some(i))) if i.within(gap) => None,
            Some((d, Some(i))) => Some(format!(
                "the 95% interval of {} test accuracy, [{:+.2}, {:+.2}] points, is not within ±{gap}",
                d.name, i.low, i.high
            )),
            _ => Some(NO_INTERVAL.to_owned()),
        };
        checks.push(GateCheck {
            gate: Gate::AccuracyGap,
            failures: failure.into_iter().collect(),
        });
    }
    if gate.require_equivalence {
        let failure = match difference.and_then(|d| d.equivalence.as_ref().map(|e| (d, e))) {
            Some((_, e)) if e.verdict == stats::Verdict::Equivalent => None,
            Some((d, e)) => Some(format!(
                "{} test accuracy is not shown equivalent within ±{} points (TOST p = {}){}",
                d.name,
                e.margin,
                e.tost_p_value.map_or("-".to_owned(), p_value_text),
                match e.verdict {
                    stats::Verdict::Different => ", and differs: its 95% interval excludes 0",
                    _ => "",
                }
            )),
            None => Some(NO_INTERVAL.to_owned()),
        };
        checks.push(GateCheck {
            gate: Gate::Equivalence,
            failures: failure.into_iter().collect(),
        });
    }
    checks
}

/// Why a gate on the paired difference cannot be applied.
const NO_INTERVAL: &str =
    "no interval of the test accuracy difference: it needs two seeds in which both models completed";

/// What a parity check found.
#[derive(Serialize)]
pub struct ParityVerdict {
    pub steps_compared: usize,
    /// The largest error ratio allowed: how many times libtorch's own `f32` error a
    /// candidate's may be ([`parity::ErrorRatio`]).
    pub bound: f64,
    /// `None` when every step was within the bound.
    pub first_over_bound: Option<String>,
    /// The worst gradient error ratio of any tensor, and of the loss.
    pub worst_error_ratio: f64,
    pub worst_loss_error_ratio: f64,
    /// The worst error ratio after the optimiser step; `None` when not checked.
    pub worst_update_error_ratio: Option<f64>,
    /// The same as differences from libtorch's values, relative to the tensor's largest one.
    pub worst_max_rel_diff: f64,
    pub worst_update_max_rel_diff: Option<f64>,
    /// The ReLU kinks left out, as far as the candidate's answers tell them apart.
    pub kinks: Kinks,
    /// The step that ran on an epoch's last, smaller batch, if one did.
    pub short_batch: Option<ShortBatchStep>,
}

/// Where a tensor's gradient departs: the step (from 1), the layer, by how much, and whether
/// the step was compared without images that hold a ReLU kink ([`parity::kinks`]).
pub fn tensor_finding(step: usize, t: &TensorReport, excluded_images: usize) -> String {
    let left_out = match excluded_images {
        0 => String::new(),
        1 => {
            ", on the batch without the 1 image that holds a ReLU unit within rounding of 0".into()
        }
        n => format!(
            ", on the batch without the {n} images that hold a ReLU unit within rounding of 0"
        ),
    };
    format!(
        "step {step}, layer {} {}: the gradient is {} as far from the exact value as libtorch's own (it differs from libtorch's by {:.2e} of its largest |gradient|, cosine {:.6}){left_out}",
        t.layer + 1,
        t.tensor.name(),
        times(t.error.ratio),
        t.difference.max_rel,
        t.difference.cosine
    )
}

/// An error ratio as the verdict says it: `2.3×`, or `infinitely` for a tensor of the wrong
/// shape or with values that are not finite.
pub fn times(ratio: f64) -> String {
    if ratio.is_finite() {
        format!("{ratio:.3}×")
    } else {
        "infinitely".to_owned()
    }
}

/// The verdict line of a parity check that found `finding` over `bound`.
pub fn departs_line(candidate: &str, bound: f64, finding: &str) -> String {
    format!("parity: {candidate} departs from torchref beyond {bound}× libtorch's own float32 error: {finding}")
}

/// The gate's verdict as the terminal says it: each failure's line, or that it passed when it
/// was asked for (`gated`).
pub fn verdict_lines(gated: bool, failures: &[String]) -> Vec<String> {
    if failures.is_empty() {
        (gated.then(|| "parity gate: passed".to_owned()))
            .into_iter()
            .collect()
    } else {
        failures.iter().map(|f| failed_line(f)).collect()
    }
}

/// What a run that `signal` stopped says instead of a verdict.
pub fn interrupted_line(signal: Signal) -> String {
    format!(
        "run interrupted by {}: the gates were not applied",
        signal.name()
    )
}

/// The verdict line of a failed run gate, as the terminal prints it.
pub fn failed_line(failure: &str) -> String {
    format!("parity gate failed: {failure}")
}

/// A step on an epoch's last batch, smaller than the others.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ShortBatchStep {
    pub step: usize,
    pub images: usize,
}

/// The parity check's verdict: the first step, layer and tensor (gradient, loss, or the
/// parameters after the optimiser step) over `bound`. `updates[i]` is step `i + 1`'s
/// optimiser check, if it was made; `pre_activations[i]` whether its candidate sent `Z`.
pub fn parity_verdict(
    reports: &[StepReport],
    updates: &[Option<UpdateReport>],
    pre_activations: &[PreActivations],
    short_batch: Option<ShortBatchStep>,
    bound: f64,
) -> ParityVerdict {
    let first_over_bound = reports.iter().enumerate().find_map(|(step, report)| {
        let gradient = report.over_bound(bound).map(|finding| match finding {
            Finding::Tensor(t) => tensor_finding(step + 1, t, report.excluded_images),
            Finding::Loss(loss) => format!(
                "step {}, the loss: {} as far from the exact loss as libtorch's own ({} against libtorch's {}), every gradient within the bound",
                step + 1,
                times(loss.ratio),
                report.candidate_loss,
                report.reference_loss
            ),
        });
        let update = || {
            let t = updates.get(step)?.as_ref()?.over_bound(bound)?;
            Some(format!(
                "step {}, layer {} {} after the optimiser step: {} as far from the exact step as libtorch's own (it differs from libtorch's by {:.2e} of its largest |parameter|)",
                step + 1,
                t.layer + 1,
                t.tensor.name(),
                times(t.error.ratio),
                t.difference.max_rel
            ))
        };
        gradient.or_else(update)
    });
    let checked: Vec<&UpdateReport> = updates.iter().flatten().collect();
    let worst = |of: &dyn Fn(&TensorReport) -> f64, tensors: &[&[TensorReport]]| {
        (tensors.iter().flat_map(|t| t.iter()))
            .map(of)
            .fold(0.0, f64::max)
    };
    let gradients: Vec<&[TensorReport]> = reports.iter().map(|r| &r.tensors[..]).collect();
    let stepped: Vec<&[TensorReport]> = checked.iter().map(|u| &u.tensors[..]).collect();
    let ratio = |t: &TensorReport| t.error.ratio;
    let rel = |t: &TensorReport| t.difference.max_rel;
    ParityVerdict {
        steps_compared: reports.len(),
        bound,
        first_over_bound,
        worst_error_ratio: worst(&ratio, &gradients),
        worst_loss_error_ratio: (reports.iter())
            .map(|r| r.loss_error.ratio)
            .fold(0.0, f64::max),
        worst_update_error_ratio: (!checked.is_empty()).then(|| worst(&ratio, &stepped)),
        worst_max_rel_diff: worst(&rel, &gradients),
        worst_update_max_rel_diff: (!checked.is_empty()).then(|| worst(&rel, &stepped)),
        kinks: Kinks::count(reports, pre_activations),
        short_batch,
    }
}

impl ParityVerdict {
    /// The verdict on `candidate` as the terminal and the page say it: the finding (or what
    /// was within the bound), then which step had the epoch's smaller last batch.
    pub fn lines(&self, candidate: &str) -> Vec<String> {
        let checked = match self.worst_update_error_ratio {
            Some(_) => "gradients, loss and optimiser steps",
            None => "gradients and loss (the optimiser step not checked)",
        };
        let finding = match &self.first_over_bound {
            Some(finding) => departs_line(candidate, self.bound, finding),
            None => format!(
                "parity: {candidate} within {}× libtorch's own float32 error over {} steps: {checked} (worst {})",
                self.bound,
                self.steps_compared,
                times(self.worst_error_ratio.max(self.worst_loss_error_ratio).max(self.worst_update_error_ratio.unwrap_or(0.0)))
            ),
        };
        let short_batch = match self.short_batch {
            Some(ShortBatchStep { step, images }) => format!(
                "step {step} ran on an epoch's last, smaller batch ({images} images): the run ends on it unless an earlier step reaches it"
            ),
            None => "no step ran on a smaller batch (the training set is a multiple of --batch-size, --drop-last or --no-short-batch, or the run stopped before its last step)".to_owned(),
        };
        vec![finding, short_batch]
    }
}

#[cfg(test)]
mod tests {
    use parity::{Difference, ErrorRatio, TensorKind, TensorReport};

    use super::tensor_finding;

    #[test]
    fn a_finding_says_when_its_step_left_images_out_at_a_relu_kink() {
        let t = TensorReport {
            layer: 2,
            tensor: TensorKind::Weight,
            difference: Difference::between(&[1.0, 2.0], &[1.0, 2.5]),
            error: ErrorRatio::of(&[1.0, 2.0], &[1.0, 2.25], &[1.0, 2.5]),
            kink_units: 0,
        };
        let whole = "step 3, layer 3 weight: the gradient is 2.000× as far from the exact value as libtorch's own (it differs from libtorch's by 2.50e-1 of its largest |gradient|";
        assert!(
            tensor_finding(3, &t, 0).starts_with(whole),
            "{}",
            tensor_finding(3, &t, 0)
        );
        assert!(!tensor_finding(3, &t, 0).contains("ReLU"));
        assert!(tensor_finding(3, &t, 1).ends_with(
            ", on the batch without the 1 image that holds a ReLU unit within rounding of 0"
        ));
        assert!(tensor_finding(3, &t, 2).contains("without the 2 images that hold"));
    }
}
