//! Statistics over the seeds of a multi-seed run: per model the final test accuracy's mean,
//! spread and 95% interval, the paired difference with its equivalence test (`stats.csv`), the
//! per-seed rows (`seeds.csv`) and the curves of the band plots.

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::report::plots::SeedCurves;
use crate::report::{round, significant};
use crate::status::ModelStatus;
use crate::summary::SummaryRow;

/// What one seed left behind, as statistics over seeds need it.
pub struct SeedRun {
    pub seed: u64,
    pub result: SeedResult,
}

/// A seed's result, saved in its folder's `seed.json`: all that seeds.csv, stats.csv and the
/// band plots are made of, so that seeds from many machines pool as if one process ran them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedResult {
    /// One per model, in run order.
    pub models: Vec<ModelResult>,
}

/// One model's result in one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelResult {
    pub model: String,
    /// Whether it completed training (it may have diverged): only then does it count.
    pub completed: bool,
    /// As summary.csv says it (`completed`, `diverged at epoch E step S (loss L)`).
    pub status: String,
    pub final_test_accuracy_percent: f64,
    pub best_test_accuracy_percent: f64,
    pub final_train_loss: f64,
    pub final_test_loss: f64,
    pub seconds_per_epoch: f64,
    pub mcnemar_exact_p_value: Option<f64>,
    /// After each epoch, from epoch 1.
    pub test_accuracy_percent_per_epoch: Vec<f64>,
}

impl SeedResult {
    /// The result of a seed from its summary rows and each model's test accuracy per epoch
    /// (in the same order).
    pub fn new(summaries: &[SummaryRow], per_epoch: Vec<Vec<f64>>) -> SeedResult {
        SeedResult {
            models: summaries
                .iter()
                .zip(per_epoch)
                .map(|(s, per_epoch)| ModelResult {
                    model: s.model.clone(),
                    completed: s.status == ModelStatus::Completed,
                    status: s.status.to_string(),
                    final_test_accuracy_percent: s.final_test_accuracy_percent,
                    best_test_accuracy_percent: s.best_test_accuracy_percent,
                    final_train_loss: s.final_train_loss,
                    final_test_loss: s.final_test_loss,
                    seconds_per_epoch: s.seconds_per_epoch,
                    mcnemar_exact_p_value: s.mcnemar_exact_p_value,
                    test_accuracy_percent_per_epoch: per_epoch,
                })
                .collect(),
        }
    }

    /// Whether two runs of the same seed computed the same, however long each took.
    pub fn same_outcome(&self, other: &SeedResult) -> bool {
        let untimed = |result: &SeedResult| {
            let mut result = result.clone();
            for model in &mut result.models {
                model.seconds_per_epoch = 0.0;
            }
            result
        };
        untimed(self) == untimed(other)
    }
}

/// The curves of `accuracy_over_seeds.svg`: per model, each epoch's test accuracies.
pub fn curves(labels: &[&str], runs: &[SeedRun]) -> Vec<SeedCurves> {
    labels
        .iter()
        .map(|label| {
            let mut per_epoch: Vec<(usize, Vec<f64>)> = Vec::new();
            let models = runs
                .iter()
                .flat_map(|r| &r.result.models)
                .filter(|m| m.model == *label);
            for model in models {
                for (index, &accuracy) in model.test_accuracy_percent_per_epoch.iter().enumerate() {
                    match per_epoch.get_mut(index) {
                        Some((_, values)) => values.push(accuracy),
                        None => per_epoch.push((index + 1, vec![accuracy])),
                    }
                }
            }
            SeedCurves {
                model: (*label).to_owned(),
                per_epoch,
            }
        })
        .collect()
}

/// One row of `seeds.csv`.
#[derive(Serialize)]
pub struct SeedRow<'a> {
    seed: u64,
    model: &'a str,
    status: &'a str,
    final_test_accuracy_percent: f64,
    best_test_accuracy_percent: f64,
    final_train_loss: f64,
    final_test_loss: f64,
    seconds_per_epoch: f64,
    /// McNemar's exact test against the other model of the pair, on this seed's test images.
    mcnemar_exact_p_value: Option<f64>,
}

pub fn seed_rows(runs: &[SeedRun]) -> Vec<SeedRow<'_>> {
    runs.iter()
        .flat_map(|run| {
            run.result.models.iter().map(move |m| SeedRow {
                seed: run.seed,
                model: &m.model,
                status: &m.status,
                final_test_accuracy_percent: m.final_test_accuracy_percent,
                best_test_accuracy_percent: m.best_test_accuracy_percent,
                final_train_loss: m.final_train_loss,
                final_test_loss: m.final_test_loss,
                seconds_per_epoch: m.seconds_per_epoch,
                mcnemar_exact_p_value: m.mcnemar_exact_p_value,
            })
        })
        .collect()
}

/// The final test accuracy of `model` in each seed where it completed training.
fn completed_accuracies(model: &str, runs: &[SeedRun]) -> Vec<(u64, f64)> {
    runs.iter()
        .filter_map(|run| {
            run.result
                .models
                .iter()
                .find(|m| m.model == model && m.completed)
                .map(|m| (run.seed, m.final_test_accuracy_percent))
        })
        .collect()
}

/// One model's final test accuracy over the seeds it completed.
pub struct ModelStats {
    pub model: String,
    /// Seeds in which the model did not complete training (diverged).
    pub incomplete: Vec<u64>,
    pub summary: Option<stats::Summary>,
}

impl ModelStats {
    pub fn over(model: &str, runs: &[SeedRun]) -> Result<ModelStats> {
        let done = completed_accuracies(model, runs);
        let incomplete = runs
            .iter()
            .map(|r| r.seed)
            .filter(|seed| done.iter().all(|(s, _)| s != seed))
            .collect();
        let values: Vec<f64> = done.iter().map(|(_, a)| *a).collect();
        let summary = (!values.is_empty())
            .then(|| stats::Summary::of(&values))
            .transpose()?;
        Ok(ModelStats {
            model: model.to_owned(),
            incomplete,
            summary,
        })
    }

    pub fn row(&self) -> Option<StatsRow> {
        let s = self.summary.as_ref()?;
        Some(StatsRow::new(
            format!("{} final test accuracy", self.model),
            "percent",
            s,
        ))
    }
}

/// The paired difference first − second of final test accuracy, over the seeds both completed.
pub struct PairStats {
    pub name: String,
    pub summary: Option<stats::Summary>,
    pub equivalence: Option<stats::Equivalence>,
}

impl PairStats {
    pub fn over(first: &str, second: &str, runs: &[SeedRun], margin: f64) -> Result<PairStats> {
        let a = completed_accuracies(first, runs);
        let b = completed_accuracies(second, runs);
        let (x, y): (Vec<f64>, Vec<f64>) = a
            .iter()
            .filter_map(|(seed, x)| b.iter().find(|(s, _)| s == seed).map(|(_, y)| (*x, *y)))
            .unzip();
        let differences = stats::paired_differences(&x, &y)?;
        let (summary, equivalence) = if differences.is_empty() {
            (None, None)
        } else {
            (
                Some(stats::Summary::of(&differences)?),
                Some(stats::equivalence(&differences, margin)?),
            )
        };
        Ok(PairStats {
            name: format!("{first} − {second}"),
            summary,
            equivalence,
        })
    }

    pub fn row(&self) -> Option<StatsRow> {
        let mut row = StatsRow::new(
            format!("{} final test accuracy", self.name),
            "points",
            self.summary.as_ref()?,
        );
        if let Some(e) = &self.equivalence {
            row.equivalence_margin_points = Some(e.margin);
            row.tost_p_value = e.tost_p_value.map(|p| significant(p, 4));
            row.t_test_p_value = e.difference_p_value.map(|p| significant(p, 4));
            row.verdict = Some(verdict_text(e));
        }
        Some(row)
    }
}

/// The verdict as the reports say it.
pub fn verdict_text(e: &stats::Equivalence) -> String {
    match e.verdict {
        stats::Verdict::Equivalent => format!("equivalent within ±{} points", e.margin),
        other => other.to_string(),
    }
}

/// One row of `stats.csv`.
#[derive(Serialize)]
pub struct StatsRow {
    quantity: String,
    /// `percent` for a model's accuracy, `points` (percentage points) for a difference.
    unit: &'static str,
    /// Seeds counted (those in which the model, or both models, completed).
    n: usize,
    mean: f64,
    /// Sample standard deviation (divisor n − 1).
    sd: Option<f64>,
    min: f64,
    max: f64,
    /// 95% Student-t confidence interval of the mean.
    ci95_low: Option<f64>,
    ci95_high: Option<f64>,
    equivalence_margin_points: Option<f64>,
    /// Two one-sided t tests against ±margin: the larger p; below 0.05 shows equivalence.
    tost_p_value: Option<f64>,
    /// Two-sided t test of "no difference".
    t_test_p_value: Option<f64>,
    verdict: Option<String>,
}

impl StatsRow {
    fn new(quantity: String, unit: &'static str, s: &stats::Summary) -> StatsRow {
        StatsRow {
            quantity,
            unit,
            n: s.n,
            mean: round(s.mean, 4),
            sd: s.sd.map(|sd| round(sd, 4)),
            min: round(s.min, 4),
            max: round(s.max, 4),
            ci95_low: s.interval.map(|i| round(i.low, 4)),
            ci95_high: s.interval.map(|i| round(i.high, 4)),
            equivalence_margin_points: None,
            tost_p_value: None,
            t_test_p_value: None,
            verdict: None,
        }
    }
}
