//! The files of a run: one new folder per run, CSVs flushed every epoch, `run.json` rewritten
//! atomically whenever its status changes.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

/// `x` rounded to `decimals` places: the reports carry what a reader can use, not float noise
/// (nor a "-0" where a small negative number rounds to zero).
pub fn round(x: f64, decimals: i32) -> f64 {
    let scale = 10_f64.powi(decimals);
    (x * scale).round() / scale + 0.0
}

/// `x` to `digits` significant digits: for p-values, which span many orders of magnitude.
pub fn significant(x: f64, digits: usize) -> f64 {
    format!("{x:.*e}", digits.saturating_sub(1))
        .parse()
        .unwrap_or(x)
}

/// A p-value as a reader scans it: three decimals, or two significant digits below 0.001
/// (so that a tiny p never reads as 0; an exact 0, from differences without spread, stays 0).
pub fn p_value_text(p: f64) -> String {
    if p > 0.0 && p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

/// One row of `epochs.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct EpochRow {
    pub model: String,
    pub epoch: usize,
    /// Mean of the batch losses of the epoch, weighted by batch size.
    pub train_loss: f64,
    /// Accuracy over the whole training set after the epoch.
    pub train_accuracy_percent: f64,
    pub test_loss: f64,
    pub test_accuracy_percent: f64,
    pub train_seconds: f64,
    pub eval_seconds: f64,
    pub images_per_second: f64,
}

/// One row of `steps.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct StepRow {
    pub model: String,
    pub epoch: usize,
    pub step: usize,
    pub images_seen: usize,
    /// Loss of this step's batch alone.
    pub batch_loss: f64,
    /// Mean batch loss since the previous row (weighted by batch size): the smoother curve.
    pub mean_loss_since_previous_row: f64,
    /// Training seconds of this model since its first step (evaluation excluded).
    pub train_seconds: f64,
}

/// One row of `summary.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    pub model: String,
    pub implementation: String,
    pub activation: String,
    pub optimizer: String,
    pub l2: f32,
    /// `completed`, `diverged at epoch E step S`, `interrupted` or `failed`.
    pub status: String,
    pub epochs_completed: usize,
    pub final_test_accuracy_percent: f64,
    pub best_test_accuracy_percent: f64,
    pub best_epoch: usize,
    pub final_train_loss: f64,
    pub final_test_loss: f64,
    pub total_train_seconds: f64,
    pub seconds_per_epoch: f64,
    pub images_per_second: f64,
    /// The other model of the compared pair (empty for a model outside it): the next two
    /// columns are McNemar's exact test between the two on the test images.
    pub mcnemar_against: Option<String>,
    /// Test images this model classifies correctly and the other model does not.
    pub test_images_only_this_model_got_right: Option<u64>,
    /// Two-sided p-value of "both models are equally accurate" from those discordant images
    /// (below 0.05: their test accuracies differ).
    pub mcnemar_exact_p_value: Option<f64>,
    /// Training seconds of epoch 1 beside the median of the later epochs: a later epoch much
    /// slower than the first (subnormal floats, thermal throttling) shows here.
    pub first_epoch_train_seconds: f64,
    /// Empty when only one epoch completed.
    pub median_train_seconds_after_first_epoch: f64,
}

/// How the scratch model's training time per epoch compares with torchref's.
pub struct SpeedRatio {
    /// Seconds per epoch of each.
    pub scratch: f64,
    pub torch: f64,
    /// `scratch / torch`: below 1 means scratch is faster.
    pub ratio: f64,
}

/// The speed ratio, when both scratch and torchref trained at least one epoch.
pub fn speed_ratio(summaries: &[SummaryRow]) -> Option<SpeedRatio> {
    let per_epoch = |name: &str| {
        summaries
            .iter()
            .find(|s| s.model == name)
            .map(|s| s.seconds_per_epoch)
            .filter(|s| s.is_finite())
    };
    let (scratch, torch) = (per_epoch("scratch")?, per_epoch("torchref")?);
    Some(SpeedRatio {
        scratch,
        torch,
        ratio: scratch / torch,
    })
}

/// A new, empty folder for one run under `parent`, named by its UTC start time.
pub fn create_run_folder(
    parent: &Path,
    started: &chrono::DateTime<chrono::Utc>,
) -> Result<PathBuf> {
    fs::create_dir_all(parent).with_context(|| {
        format!(
            "cannot create the output folder {}: choose a writable one with --out",
            parent.display()
        )
    })?;
    let stem = started.format("%Y-%m-%dT%H-%M-%SZ").to_string();
    for attempt in 1.. {
        let name = if attempt == 1 {
            stem.clone()
        } else {
            format!("{stem}-{attempt}")
        };
        let path = parent.join(name);
        match fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e).with_context(|| {
                    format!(
                        "cannot create a run folder in {}: choose a writable one with --out",
                        parent.display()
                    )
                })
            }
        }
    }
    unreachable!("the attempts above only end by returning")
}

/// A CSV file whose rows are flushed as they are written, so an interrupted run keeps them.
pub struct CsvLog {
    writer: csv::Writer<File>,
    path: PathBuf,
}

impl CsvLog {
    pub fn create(path: PathBuf) -> Result<Self> {
        let writer = csv::Writer::from_path(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(CsvLog { writer, path })
    }

    pub fn append<R: Serialize>(&mut self, row: &R) -> Result<()> {
        self.writer
            .serialize(row)
            .with_context(|| format!("cannot write to {}", self.path.display()))
    }

    pub fn flush(&mut self) -> Result<()> {
        self.writer
            .flush()
            .with_context(|| format!("cannot write to {}", self.path.display()))
    }
}

/// Writes a whole CSV file of `rows` at once.
pub fn write_csv<R: Serialize>(path: PathBuf, rows: &[R]) -> Result<()> {
    let mut log = CsvLog::create(path)?;
    for row in rows {
        log.append(row)?;
    }
    log.flush()
}

/// `classification_report_<model>.csv` in scikit-learn's layout, one row per class name.
pub fn write_classification_report(
    path: PathBuf,
    report: &mnist::metrics::ClassificationReport,
    classes: &[&str; contract::CLASSES],
) -> Result<()> {
    #[derive(Serialize)]
    struct Row<'a> {
        class: &'a str,
        precision: Option<f64>,
        recall: Option<f64>,
        f1_score: Option<f64>,
        support: usize,
    }
    let mut rows = Vec::new();
    for (name, class) in classes.iter().zip(&report.classes) {
        rows.push(Row {
            class: name,
            precision: Some(class.precision),
            recall: Some(class.recall),
            f1_score: Some(class.f1),
            support: class.support,
        });
    }
    // scikit-learn prints accuracy in the f1-score column, with the total support.
    rows.push(Row {
        class: "accuracy",
        precision: None,
        recall: None,
        f1_score: Some(report.accuracy),
        support: report.support,
    });
    for (name, avg) in [
        ("macro avg", &report.macro_avg),
        ("weighted avg", &report.weighted_avg),
    ] {
        rows.push(Row {
            class: name,
            precision: Some(avg.precision),
            recall: Some(avg.recall),
            f1_score: Some(avg.f1),
            support: avg.support,
        });
    }
    write_csv(path, &rows)
}

/// `confusion_matrix_<model>.csv`: rows are true classes, columns predicted classes, both
/// by name.
pub fn write_confusion_matrix(
    path: PathBuf,
    matrix: &mnist::metrics::ConfusionMatrix,
    classes: &[&str; contract::CLASSES],
) -> Result<()> {
    let mut writer = csv::Writer::from_path(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    let header = std::iter::once("true\\predicted").chain(classes.iter().copied());
    writer.write_record(header)?;
    for (truth, name) in classes.iter().enumerate() {
        let row = std::iter::once(name.to_string()).chain(
            (0..contract::CLASSES).map(|predicted| matrix.count(truth, predicted).to_string()),
        );
        writer.write_record(row)?;
    }
    writer
        .flush()
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Writes `value` as pretty JSON through a temporary file and a rename, so a reader never sees
/// half a file.
pub fn write_json_atomically<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let temporary = path.with_extension("json.part");
    let mut file = File::create(&temporary)
        .with_context(|| format!("cannot create {}", temporary.display()))?;
    serde_json::to_writer_pretty(&mut file, value)?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    fs::rename(&temporary, path).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::p_value_text;

    #[test]
    fn small_p_values_keep_their_digits() {
        assert_eq!(p_value_text(0.04321), "0.043");
        assert_eq!(p_value_text(0.000_123_4), "1.2e-4");
        assert_eq!(p_value_text(0.0), "0.000");
    }
}
