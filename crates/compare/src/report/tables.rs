//! The CSV files of a run: rows flushed as they are written (so an interrupted run keeps
//! them), and the per-model classification report and confusion matrix.

use std::fs::File;
use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// One row of `epochs.csv`, read back to check a seed's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochRow {
    pub model: String,
    pub epoch: usize,
    /// Mean of the batch losses of the epoch, weighted by batch size.
    pub train_loss: f64,
    /// Accuracy over the whole training set after the epoch; empty with
    /// `--no-train-accuracy`.
    pub train_accuracy_percent: Option<f64>,
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
