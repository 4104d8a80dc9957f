//! Statistics over the seeds of a multi-seed run: per model the final test accuracy's mean,
//! spread and 95% interval, the paired difference with its equivalence test (`stats.csv`), the
//! per-seed rows (`seeds.csv`) and the curves of the band plots.

use anyhow::Result;
use serde::Serialize;

use crate::report::plots::SeedCurves;
use crate::report::tables::EpochRow;
use crate::report::{round, significant};
use crate::status::ModelStatus;
use crate::summary::SummaryRow;

/// What one seed left behind.
pub struct SeedRun {
    pub seed: u64,
    /// One per model, in run order.
    pub summaries: Vec<SummaryRow>,
    pub epochs: Vec<EpochRow>,
}

/// The curves of `accuracy_over_seeds.svg`: per model, each epoch's test accuracies.
pub fn curves(labels: &[&str], runs: &[SeedRun]) -> Vec<SeedCurves> {
    labels
        .iter()
        .map(|label| {
            let mut per_epoch: Vec<(usize, Vec<f64>)> = Vec::new();
            for row in runs
                .iter()
                .flat_map(|r| &r.epochs)
                .filter(|row| row.model == *label)
            {
                match per_epoch.iter_mut().find(|(epoch, _)| *epoch == row.epoch) {
                    Some((_, values)) => values.push(row.test_accuracy_percent),
                    None => per_epoch.push((row.epoch, vec![row.test_accuracy_percent])),
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
    status: &'a ModelStatus,
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
            run.summaries.iter().map(move |s| SeedRow {
                seed: run.seed,
                model: &s.model,
                status: &s.status,
                final_test_accuracy_percent: s.final_test_accuracy_percent,
                best_test_accuracy_percent: s.best_test_accuracy_percent,
                final_train_loss: s.final_train_loss,
                final_test_loss: s.final_test_loss,
                seconds_per_epoch: s.seconds_per_epoch,
                mcnemar_exact_p_value: s.mcnemar_exact_p_value,
            })
        })
        .collect()
}

/// The final test accuracy of `model` in each seed where it completed training.
fn completed_accuracies(model: &str, runs: &[SeedRun]) -> Vec<(u64, f64)> {
    runs.iter()
        .filter_map(|run| {
            run.summaries
                .iter()
                .find(|s| s.model == model && s.status == ModelStatus::Completed)
                .map(|s| (run.seed, s.final_test_accuracy_percent))
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
