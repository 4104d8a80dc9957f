//! `--seeds`: the whole comparison once per seed, one seed after the other on data loaded once,
//! each seed in its own subfolder of the usual reports. The run folder adds `seeds.csv`,
//! `stats.csv` (mean, spread and 95% interval per model and of the paired difference), the
//! equivalence verdict, `accuracy_over_seeds.svg`, and the parity gate on intervals.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::cli::{CommonArgs, RunConfig};
use crate::pair::compared_pair;
use crate::plots::SeedCurves;
use crate::progress::Progress;
use crate::report::{self, round, significant, EpochRow, SummaryRow};
use crate::run::RunEnd;
use crate::session::{self, Outcome, RunFolder, Spec};

/// What one seed left behind.
pub struct SeedRun {
    pub seed: u64,
    /// One per model, in run order.
    pub summaries: Vec<SummaryRow>,
    pub epochs: Vec<EpochRow>,
}

/// Runs `specs` once per seed under a new run folder. Returns the folder, the seeds that
/// finished, and how the whole run ended (interrupted: the seed under way is left out).
pub fn run_seeds<C: Serialize + Clone>(
    common: &CommonArgs,
    config: &C,
    with_seed: impl Fn(&C, CommonArgs) -> C,
    specs: &[Spec],
    seeds: &[u64],
) -> Result<(PathBuf, Vec<SeedRun>, RunEnd)> {
    let prepared = session::prepare(common, specs)?;
    if !common.shuffle {
        eprintln!(
            "note: without --shuffle every seed sees the batches in the same order, so the seeds vary only the initial weights; add --shuffle to vary both"
        );
    }
    let folder = report::create_run_folder(&common.out, &chrono::Utc::now())?;
    let mut runs = Vec::with_capacity(seeds.len());
    for (index, &seed) in seeds.iter().enumerate() {
        let seeded = CommonArgs {
            seed,
            seeds: None,
            ..common.clone()
        };
        let progress = Progress::for_seed(common.log_every, index + 1, seeds.len());
        let finished = session::execute_prepared(
            &prepared,
            &seeded,
            &with_seed(config, seeded.clone()),
            specs.to_vec(),
            RunFolder::Exactly(folder.join(format!("seed-{seed}"))),
            &progress,
        )?;
        session::write_page(&finished, None, None)?;
        if finished.end == RunEnd::Interrupted {
            return Ok((folder, runs, RunEnd::Interrupted));
        }
        let accuracies: Vec<String> = finished
            .summaries
            .iter()
            .map(|s| format!("{} {:.2}%", s.model, s.final_test_accuracy_percent))
            .collect();
        eprintln!(
            "seed {}/{} (seed {seed}) done: final test accuracy {}",
            index + 1,
            seeds.len(),
            accuracies.join(", ")
        );
        runs.push(SeedRun {
            seed,
            summaries: finished.summaries,
            epochs: finished
                .contenders
                .iter()
                .flat_map(|c| c.history.iter().cloned())
                .collect(),
        });
    }
    Ok((folder, runs, RunEnd::Completed))
}

/// `compare --seeds`: the comparison per seed, then the statistics and the gate.
pub fn compare(config: &RunConfig, seeds: &[u64]) -> Result<Outcome> {
    let specs = session::compare_specs(config);
    let labels: Vec<&str> = specs.iter().map(|s| s.label.as_str()).collect();
    let with_seed = |config: &RunConfig, common: CommonArgs| RunConfig {
        common,
        ..config.clone()
    };
    let (folder, runs, end) = run_seeds(&config.common, config, with_seed, &specs, seeds)?;

    report::write_csv(folder.join("seeds.csv"), &seed_rows(&runs))?;
    let models: Vec<ModelStats> = labels
        .iter()
        .map(|label| ModelStats::over(label, &runs))
        .collect::<Result<_>>()?;
    let difference = compared_pair(&labels)
        .map(|(first, second)| {
            PairStats::over(
                labels[first],
                labels[second],
                &runs,
                config.equivalence_margin,
            )
        })
        .transpose()?;
    let mut rows: Vec<StatsRow> = models.iter().filter_map(ModelStats::row).collect();
    rows.extend(difference.as_ref().and_then(PairStats::row));
    report::write_csv(folder.join("stats.csv"), &rows)?;
    crate::plots::seed_band_chart(
        &folder.join("accuracy_over_seeds.svg"),
        &format!("Test accuracy per epoch over {} seeds", runs.len()),
        &curves(&labels, &runs),
        None,
    )?;

    print_stats(&models, difference.as_ref());
    let failures = match end {
        RunEnd::Completed => gate_failures(config, &models, difference.as_ref()),
        RunEnd::Interrupted => Vec::new(),
    };
    write_record(&folder, end, config, &runs, &rows, &failures)?;
    println!("reports: {}", folder.display());
    let asked = config.max_accuracy_gap.is_some() || config.min_accuracy.is_some();
    let gate = (asked || !failures.is_empty()).then(|| crate::html::Verdict {
        passed: failures.is_empty(),
        lines: if failures.is_empty() {
            vec!["the gate on the intervals over the seeds".to_owned()]
        } else {
            failures.clone()
        },
    });
    let page = write_page(
        &folder,
        format!("{} over {} seeds", labels.join(" vs "), runs.len()),
        config.common.data.dataset,
        "stats.csv",
        &["accuracy_over_seeds.svg".to_owned()],
        gate,
    )?;
    let outcome = match end {
        RunEnd::Interrupted => Outcome::Interrupted,
        RunEnd::Completed => session::report_gate(config, &failures),
    };
    session::print_page(&page);
    Ok(outcome)
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
struct SeedRow<'a> {
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

fn seed_rows(runs: &[SeedRun]) -> Vec<SeedRow<'_>> {
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
                .find(|s| s.model == model && s.status == "completed")
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

    fn row(&self) -> Option<StatsRow> {
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
    fn over(first: &str, second: &str, runs: &[SeedRun], margin: f64) -> Result<PairStats> {
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

    fn row(&self) -> Option<StatsRow> {
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

/// The run folder's `run.json`: what ran, over which seeds, and what it showed. Each seed's
/// folder has its own `run.json` with versions, CPU and data.
#[derive(Serialize)]
struct SeedsRecord<'a, C: Serialize, R: Serialize> {
    /// `completed`, or `interrupted` (the seeds listed finished; the next one did not).
    status: &'static str,
    command_line: Vec<String>,
    config: &'a C,
    seeds: Vec<u64>,
    seed_folders: Vec<String>,
    /// The rows of `stats.csv` (`compare --seeds`) or `table.csv` (`compare table --seeds`).
    results: &'a [R],
    gate_failures: &'a [String],
}

/// Writes the run folder's `run.json`.
pub fn write_record<C: Serialize, R: Serialize>(
    folder: &Path,
    end: RunEnd,
    config: &C,
    runs: &[SeedRun],
    results: &[R],
    gate_failures: &[String],
) -> Result<()> {
    let record = SeedsRecord {
        status: match end {
            RunEnd::Completed => "completed",
            RunEnd::Interrupted => "interrupted",
        },
        command_line: std::env::args().collect(),
        config,
        seeds: runs.iter().map(|r| r.seed).collect(),
        seed_folders: runs.iter().map(|r| format!("seed-{}", r.seed)).collect(),
        results,
        gate_failures,
    };
    report::write_json_atomically(&folder.join("run.json"), &record)
}

/// Writes the multi-seed run's `report.html` from its `run.json`, the statistics in `csv`
/// and the band plots `figures` (files in `folder`); returns its path.
pub fn write_page(
    folder: &Path,
    what: String,
    dataset: crate::cli::DatasetArg,
    csv: &str,
    figures: &[String],
    gate: Option<crate::html::Verdict>,
) -> Result<PathBuf> {
    let path = folder.join("run.json");
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?,
    )
    .with_context(|| format!("{} is not JSON", path.display()))?;
    let seed_folders: Vec<String> = record["seed_folders"]
        .as_array()
        .map(|folders| {
            folders
                .iter()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    crate::html::write_seeds_page(&crate::html::SeedsPage {
        folder,
        record: &record,
        title: format!("{what} on {}", mnist::DatasetName::from(dataset).title()),
        stats: crate::html::ExtraTable::from_csv(
            &format!("Over the seeds ({csv})"),
            &folder.join(csv),
        )?,
        figures,
        gate,
        seed_folders: &seed_folders,
    })
}

/// `mean ± sd  95% interval [low, high]` of a summary, with signs for a difference.
pub fn mean_sd_interval(s: &stats::Summary, signed: bool) -> String {
    let number = |x: f64| {
        if signed {
            format!("{x:+.2}")
        } else {
            format!("{x:.2}")
        }
    };
    match (s.sd, s.interval) {
        (Some(sd), Some(i)) => format!(
            "{} ± {sd:.2}  95% interval [{}, {}]",
            number(s.mean),
            number(i.low),
            number(i.high)
        ),
        _ => format!("{} (one seed: no spread)", number(s.mean)),
    }
}

fn print_stats(models: &[ModelStats], difference: Option<&PairStats>) {
    println!();
    for m in models {
        match &m.summary {
            Some(s) => println!(
                "{:<24} {} %  over {} seeds, min {:.2}, max {:.2}",
                m.model,
                mean_sd_interval(s, false),
                s.n,
                s.min,
                s.max
            ),
            None => println!("{:<24} completed no seed", m.model),
        }
        if !m.incomplete.is_empty() {
            println!("{:<24} did not complete seeds {:?}", "", m.incomplete);
        }
    }
    if let Some(d) = difference {
        if let (Some(s), Some(e)) = (&d.summary, &d.equivalence) {
            println!("{:<24} {} points", d.name, mean_sd_interval(s, true));
            let p = |p: Option<f64>| p.map_or("-".to_owned(), report::p_value_text);
            println!(
                "equivalence (two one-sided t tests, margin ±{} points): {} (TOST p = {}; t test of no difference p = {})",
                e.margin,
                verdict_text(e),
                p(e.tost_p_value),
                p(e.difference_p_value)
            );
        }
    }
}

/// Why the gate fails over the seeds, if it does: every model must complete every seed, each
/// model's mean must reach `--min-accuracy`, and the whole 95% interval of the paired
/// difference must lie within `±--max-accuracy-gap`.
fn gate_failures(
    config: &RunConfig,
    models: &[ModelStats],
    difference: Option<&PairStats>,
) -> Vec<String> {
    let mut failures = Vec::new();
    if config.max_accuracy_gap.is_none() && config.min_accuracy.is_none() {
        return failures;
    }
    for m in models.iter().filter(|m| !m.incomplete.is_empty()) {
        failures.push(format!(
            "{} did not complete seeds {:?}",
            m.model, m.incomplete
        ));
    }
    if let Some(floor) = config.min_accuracy {
        for m in models {
            let mean = m.summary.as_ref().map_or(f64::NAN, |s| s.mean);
            if mean.is_nan() || mean < floor {
                failures.push(format!(
                    "{} mean test accuracy {mean:.2}% is below the floor {floor}%",
                    m.model
                ));
            }
        }
    }
    if let Some(gap) = config.max_accuracy_gap {
        match difference.and_then(|d| d.summary.as_ref().map(|s| (d, s.interval))) {
            Some((_, Some(i))) if i.within(gap) => {}
            Some((d, Some(i))) => failures.push(format!(
                "the 95% interval of {} test accuracy, [{:+.2}, {:+.2}] points, is not within ±{gap}",
                d.name, i.low, i.high
            )),
            _ => failures.push(
                "no interval of the test accuracy difference: it needs two seeds in which both models completed".to_owned(),
            ),
        }
    }
    failures
}
