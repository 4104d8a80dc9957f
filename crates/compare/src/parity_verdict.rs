//! `compare parity`'s verdict: per part of a step (the gradients, the loss, the optimiser
//! step) its first step over the bound or its worst within it, which parts gate the exit code
//! (`--check`), and what stopped the check early, if anything did. Each says what it found
//! in words, for the terminal, the page and `verdict.json`.

use parity::{Finding, StepReport, TensorReport, UpdateReport};
use serde::Serialize;

use crate::kinks::{Kinks, PreActivations};
use crate::parity_checks::{ParityChecks, ParityPart};

/// What a parity check compared, step by step (index `i` is step `i + 1`).
pub struct Compared {
    pub reports: Vec<StepReport>,
    /// Per step, the optimiser check if it was made.
    pub updates: Vec<Option<UpdateReport>>,
    /// Per step, whether the candidate's answer carried its pre-activations.
    pub pre_activations: Vec<PreActivations>,
    /// The step that ran on an epoch's last, smaller batch, if one did.
    pub short_batch: Option<ShortBatchStep>,
}

impl Compared {
    /// Adds the next step: its gradient report, its optimiser check if one was made, and
    /// whether the candidate's answer carried its pre-activations.
    pub fn push(
        &mut self,
        report: StepReport,
        update: Option<UpdateReport>,
        pre_activations: PreActivations,
    ) {
        self.reports.push(report);
        self.updates.push(update);
        self.pre_activations.push(pre_activations);
    }
}

/// A step on an epoch's last batch, smaller than the others.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ShortBatchStep {
    pub step: usize,
    pub images: usize,
}

/// A part's first step over the bound.
#[derive(Debug, Clone, Serialize)]
pub struct PartFinding {
    pub part: ParityPart,
    pub step: usize,
    /// What departs, and by how much, from the step on ("step 3, layer 2 bias: …").
    pub finding: String,
    /// Whether it fails the check (`--check` names its part).
    pub gates: bool,
}

/// What a parity check found.
#[derive(Serialize)]
pub struct ParityVerdict {
    pub steps_compared: usize,
    /// The largest error ratio allowed: how many times libtorch's own `f32` error a
    /// candidate's may be ([`parity::ErrorRatio`]).
    pub bound: f64,
    /// The parts whose findings fail the check (`--check`).
    pub checks: ParityChecks,
    /// The earliest finding of a part that gates; `None` when they were all within the bound.
    pub first_over_bound: Option<String>,
    /// Each part's first step over the bound, gated or not, in the order the verdict lists
    /// them (the gradients, the loss, the optimiser step); a part within the bound has none.
    pub findings: Vec<PartFinding>,
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
    /// What stopped the check before its last step (the candidate crashed, timed out or broke
    /// the protocol), as the error says it, with the candidate's last words on stderr; the
    /// findings are those of the steps before it.
    pub fault: Option<String>,
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

/// Where the loss departs.
fn loss_finding(step: usize, report: &StepReport) -> String {
    format!(
        "step {step}, the loss is {} as far from the exact loss as libtorch's own ({} against libtorch's {})",
        times(report.loss_error.ratio),
        report.candidate_loss,
        report.reference_loss
    )
}

/// Where a tensor departs after the optimiser step.
fn update_finding(step: usize, t: &TensorReport) -> String {
    format!(
        "step {step}, layer {} {} after the optimiser step: {} as far from the exact step as libtorch's own (it differs from libtorch's by {:.2e} of its largest |parameter|)",
        t.layer + 1,
        t.tensor.name(),
        times(t.error.ratio),
        t.difference.max_rel
    )
}

/// What a loss that departs while every gradient is within the bound says of its cause.
const LOSS_ONLY: &str = "every gradient of every step compared is within the bound, so the network learns as libtorch's does and only the loss it reports is computed another way. Likely causes: probabilities clipped before the log (such as to [1e-7, 1 − 1e-7]), the loss summed over the batch rather than averaged, or the L2 term counted another way in the loss than in its gradient (the harness's is λ/(2m)·Σ‖W‖², m the batch's images). --check gradients,update gates on the rest alone";

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

/// The parity check's verdict over what was `compared`: per part, the first step over
/// `bound` (for the gradients and the optimiser step, the layer and tensor); `checks` decides
/// which gate. `fault`: what stopped the check early, if anything did.
pub fn parity_verdict(
    compared: &Compared,
    bound: f64,
    checks: &ParityChecks,
    fault: Option<String>,
) -> ParityVerdict {
    let reports = &compared.reports;
    let first = |part: ParityPart| {
        let over = |(step, report): (usize, &StepReport)| {
            let step = step + 1;
            match part {
                ParityPart::Gradients => match report.over_bound(bound)? {
                    Finding::Tensor(t) => Some(tensor_finding(step, t, report.excluded_images)),
                    Finding::Loss(_) => None,
                },
                ParityPart::Loss => parity::is_over_bound(report.loss_error.ratio, bound)
                    .then(|| loss_finding(step, report)),
                ParityPart::Update => {
                    let t = compared
                        .updates
                        .get(step - 1)?
                        .as_ref()?
                        .over_bound(bound)?;
                    Some(update_finding(step, t))
                }
            }
            .map(|finding| PartFinding {
                part,
                step,
                finding,
                gates: checks.gates(part),
            })
        };
        reports.iter().enumerate().find_map(over)
    };
    let findings: Vec<PartFinding> = ParityPart::ALL.into_iter().filter_map(first).collect();
    let first_over_bound = (findings.iter().filter(|f| f.gates))
        .min_by_key(|f| f.step)
        .map(|f| f.finding.clone());
    let checked: Vec<&UpdateReport> = compared.updates.iter().flatten().collect();
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
        checks: checks.clone(),
        first_over_bound,
        findings,
        worst_error_ratio: worst(&ratio, &gradients),
        worst_loss_error_ratio: (reports.iter())
            .map(|r| r.loss_error.ratio)
            .fold(0.0, f64::max),
        worst_update_error_ratio: (!checked.is_empty()).then(|| worst(&ratio, &stepped)),
        worst_max_rel_diff: worst(&rel, &gradients),
        worst_update_max_rel_diff: (!checked.is_empty()).then(|| worst(&rel, &stepped)),
        kinks: Kinks::count(reports, &compared.pre_activations),
        short_batch: compared.short_batch,
        fault,
    }
}

impl ParityVerdict {
    /// Whether the check passed: every part that gates within the bound, and no fault.
    pub fn passed(&self) -> bool {
        self.first_over_bound.is_none() && self.fault.is_none()
    }

    /// A part's worst error ratio over the steps; `None` for an optimiser step not checked.
    fn worst(&self, part: ParityPart) -> Option<f64> {
        match part {
            ParityPart::Gradients => Some(self.worst_error_ratio),
            ParityPart::Loss => Some(self.worst_loss_error_ratio),
            ParityPart::Update => self.worst_update_error_ratio,
        }
    }

    /// The verdict on `candidate` as the terminal and the page say it: the finding (or what
    /// was within the bound), one line per part, what stopped the check if anything did, then
    /// which step had the epoch's smaller last batch.
    pub fn lines(&self, candidate: &str) -> Vec<String> {
        let mut lines = vec![self.headline(candidate)];
        lines.extend(ParityPart::ALL.map(|part| self.part_line(part)));
        if let Some(fault) = &self.fault {
            // Its first line: what the candidate did (the error's own lines follow it, with
            // what the candidate wrote to stderr).
            let what = fault.lines().next().unwrap_or_default();
            lines.push(format!(
                "the check stopped after {} steps compared, the findings above being theirs: {what}",
                self.steps_compared
            ));
        }
        lines.push(match self.short_batch {
            Some(ShortBatchStep { step, images }) => format!(
                "step {step} ran on an epoch's last, smaller batch ({images} images): the run ends on it unless an earlier step reaches it"
            ),
            None => "no step ran on a smaller batch (the training set is a multiple of --batch-size, --drop-last or --no-short-batch, or the run stopped before its last step)".to_owned(),
        });
        lines
    }

    /// The first finding of a part that gates, or what was within the bound.
    fn headline(&self, candidate: &str) -> String {
        if let Some(finding) = &self.first_over_bound {
            return departs_line(candidate, self.bound, finding);
        }
        if self.fault.is_some() {
            return format!(
                "parity: {candidate} stopped after {} steps compared, none of them over {}× libtorch's own float32 error in what --check gates",
                self.steps_compared, self.bound
            );
        }
        let gated: Vec<ParityPart> = (ParityPart::ALL.into_iter())
            .filter(|&part| self.checks.gates(part) && self.worst(part).is_some())
            .collect();
        let names: Vec<&str> = gated
            .iter()
            .map(|part| match part {
                ParityPart::Gradients => "gradients",
                ParityPart::Loss => "loss",
                ParityPart::Update => "optimiser steps",
            })
            .collect();
        let worst = (gated.iter().filter_map(|&part| self.worst(part))).fold(0.0, f64::max);
        format!(
            "parity: {candidate} within {}× libtorch's own float32 error over {} steps: {} (worst {})",
            self.bound,
            self.steps_compared,
            listed(&names),
            times(worst)
        )
    }

    /// One part's line: its first finding, or its worst within the bound, and whether it
    /// gates the exit code.
    fn part_line(&self, part: ParityPart) -> String {
        let gating = if self.checks.gates(part) {
            String::new()
        } else {
            format!(" (not gating: --check {})", self.checks)
        };
        let said = match (
            self.findings.iter().find(|f| f.part == part),
            self.worst(part),
        ) {
            (Some(found), _) if part == ParityPart::Loss && !self.found(ParityPart::Gradients) => {
                format!("{}; {LOSS_ONLY}", found.finding)
            }
            (Some(found), _) => found.finding.clone(),
            _ if self.steps_compared == 0 => "no step compared".to_owned(),
            (None, Some(worst)) => format!(
                "within {}× libtorch's own error at every step, worst {}",
                self.bound,
                times(worst)
            ),
            (None, None) if self.fault.is_some() => {
                "none compared before the check stopped".to_owned()
            }
            (None, None) => {
                "not checked (--check-update=false, or the candidate has no update rule)".to_owned()
            }
        };
        format!("  {}{gating}: {said}", part.described())
    }

    /// Whether `part` went over the bound at some step.
    fn found(&self, part: ParityPart) -> bool {
        self.findings.iter().any(|f| f.part == part)
    }
}

/// `a`, `a and b`, `a, b and c`.
fn listed(names: &[&str]) -> String {
    match names {
        [] => "nothing".to_owned(),
        [only] => (*only).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use parity::{Difference, ErrorRatio, StepReport, TensorKind, TensorReport};

    use super::{parity_verdict, tensor_finding, Compared};
    use crate::kinks::PreActivations;
    use crate::parity_checks::ParityChecks;

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

    /// One step of a one-layer network: its weight's gradient `gradient_ratio` times
    /// libtorch's error, the loss `loss_ratio` times.
    fn step(gradient_ratio: f64, loss_ratio: f64) -> StepReport {
        let tensor = |tensor, ratio: f64| TensorReport {
            layer: 0,
            tensor,
            difference: Difference::between(&[1.0], &[1.0]),
            // libtorch 1 off the exact 10, the candidate `ratio` off.
            error: ErrorRatio::of(&[10.0], &[11.0], &[(10.0 + ratio) as f32]),
            kink_units: 0,
        };
        StepReport {
            reference_loss: 2.0,
            candidate_loss: 2.0,
            loss_error: ErrorRatio::of_scalar(2.0, 2.25, (2.0 + 0.25 * loss_ratio) as f32),
            tensors: vec![
                tensor(TensorKind::Weight, gradient_ratio),
                tensor(TensorKind::Bias, 1.0),
            ],
            excluded_images: 0,
        }
    }

    fn compared(steps: Vec<StepReport>) -> Compared {
        Compared {
            updates: vec![None; steps.len()],
            pre_activations: vec![PreActivations::Sent; steps.len()],
            reports: steps,
            short_batch: None,
        }
    }

    /// The loss over the bound with every gradient within it: its own line, saying so with
    /// the likely causes; with `--check gradients` it is reported and does not gate.
    #[test]
    fn a_loss_only_finding_says_every_gradient_is_within_the_bound() {
        let run = compared(vec![step(2.0, 1.0), step(2.0, 20.0)]);
        let verdict = parity_verdict(&run, 8.0, &ParityChecks::default(), None);
        assert!(!verdict.passed());
        let lines = verdict.lines("model.py");
        assert!(
            lines[0].ends_with("float32 error: step 2, the loss is 20.000× as far from the exact loss as libtorch's own (2 against libtorch's 2)"),
            "{lines:#?}"
        );
        assert!(
            lines[1].starts_with(
                "  the gradients: within 8× libtorch's own error at every step, worst 2.000×"
            ),
            "{lines:#?}"
        );
        assert!(
            lines[2].starts_with("  the loss: step 2, the loss is 20.000×"),
            "{lines:#?}"
        );
        for cause in [
            "every gradient of every step compared is within the bound",
            "clipped",
            "summed",
            "L2 term",
        ] {
            assert!(lines[2].contains(cause), "{cause}: {lines:#?}");
        }
        assert!(
            lines[3].starts_with("  the optimiser step: not checked"),
            "{lines:#?}"
        );

        let gradients: ParityChecks = "gradients".parse().expect("valid");
        let verdict = parity_verdict(&run, 8.0, &gradients, None);
        assert!(verdict.passed());
        let lines = verdict.lines("model.py");
        assert!(
            lines[0].contains(
                "within 8× libtorch's own float32 error over 2 steps: gradients (worst 2.000×)"
            ),
            "{lines:#?}"
        );
        assert!(
            lines[2].starts_with("  the loss (not gating: --check gradients): step 2"),
            "{lines:#?}"
        );
    }

    /// A gradient over the bound too: the earliest gating finding heads the verdict, the
    /// loss line gives no loss-only causes, and a fault comes after the findings.
    #[test]
    fn each_part_has_its_line_and_a_fault_follows_them() {
        let run = compared(vec![step(2.0, 20.0), step(30.0, 1.0)]);
        let fault = "candidate step 3, loss_and_grads: the process crashed (exit status: 3)";
        let verdict = parity_verdict(&run, 8.0, &ParityChecks::default(), Some(fault.into()));
        let lines = verdict.lines("model.py");
        assert!(lines[0].ends_with(": step 1, the loss is 20.000× as far from the exact loss as libtorch's own (2 against libtorch's 2)"), "{lines:#?}");
        assert!(
            lines[1]
                .starts_with("  the gradients: step 2, layer 1 weight: the gradient is 30.000×"),
            "{lines:#?}"
        );
        assert!(!lines[2].contains("clipped"), "{lines:#?}");
        assert_eq!(lines[4], format!("the check stopped after 2 steps compared, the findings above being theirs: {fault}"));
        assert!(!verdict.passed());
        let clean = parity_verdict(
            &compared(vec![step(1.0, 1.0)]),
            8.0,
            &ParityChecks::default(),
            Some(fault.into()),
        );
        assert!(clean.first_over_bound.is_none() && !clean.passed());
        let lines = clean.lines("model.py");
        assert_eq!(lines[0], "parity: model.py stopped after 1 steps compared, none of them over 8× libtorch's own float32 error in what --check gates");
        assert_eq!(
            lines[3],
            "  the optimiser step: none compared before the check stopped"
        );
        let none = parity_verdict(
            &compared(Vec::new()),
            8.0,
            &ParityChecks::default(),
            Some(fault.into()),
        );
        assert_eq!(
            none.lines("model.py")[1],
            "  the gradients: no step compared"
        );
    }
}
