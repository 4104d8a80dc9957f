//! Every gate and verdict of a run, one definition each: the parity gate of one run
//! (`--max-accuracy-gap`, `--min-accuracy`) and the same on intervals over seeds (`compare
//! parity`'s is `parity_verdict.rs`). Each says why it failed, line by line, for the terminal
//! and the page.

use crate::config::{RunConfig, SeedsGate};
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
