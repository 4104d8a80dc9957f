//! How each model of a run did, in one row (`summary.csv`, and `models` in `run.json`), and the
//! one list of summary lines that both the terminal's closing table and the page's summary
//! table render, each in its own precision.

use serde::Serialize;

use crate::config::Model;
use crate::report::round;
use crate::status::ModelStatus;
use crate::train::Contender;

/// One row of `summary.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    pub model: String,
    pub implementation: Model,
    pub activation: contract::Activation,
    pub optimizer: &'static str,
    pub l2: f32,
    /// `completed`, `diverged at epoch E step S`, `interrupted` or `failed`.
    pub status: ModelStatus,
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

impl SummaryRow {
    /// The row of `contender` as it stands, without McNemar's test (see `pair::summaries`).
    pub fn of(contender: &Contender) -> SummaryRow {
        let history = &contender.history;
        let best = history
            .iter()
            .max_by(|a, b| a.test_accuracy_percent.total_cmp(&b.test_accuracy_percent));
        let last = history.last();
        let total_train_seconds: f64 = history.iter().map(|row| row.train_seconds).sum();
        let epochs = history.len();
        let images: f64 = history
            .iter()
            .map(|row| row.images_per_second * row.train_seconds)
            .sum();
        SummaryRow {
            model: contender.label.clone(),
            implementation: contender.implementation,
            activation: contender.config.activation,
            optimizer: match contender.config.optimizer {
                contract::Optimizer::Sgd { .. } => "sgd",
                contract::Optimizer::Adam { .. } => "adam",
            },
            l2: contender.config.l2,
            status: contender.status.clone(),
            epochs_completed: epochs,
            final_test_accuracy_percent: last.map_or(f64::NAN, |r| r.test_accuracy_percent),
            best_test_accuracy_percent: best.map_or(f64::NAN, |r| r.test_accuracy_percent),
            best_epoch: best.map_or(0, |r| r.epoch),
            final_train_loss: last.map_or(f64::NAN, |r| r.train_loss),
            final_test_loss: last.map_or(f64::NAN, |r| r.test_loss),
            total_train_seconds: round(total_train_seconds, 4),
            seconds_per_epoch: if epochs > 0 {
                round(total_train_seconds / epochs as f64, 4)
            } else {
                f64::NAN
            },
            images_per_second: round(images / total_train_seconds, 1),
            mcnemar_against: None,
            test_images_only_this_model_got_right: None,
            mcnemar_exact_p_value: None,
            first_epoch_train_seconds: history.first().map_or(f64::NAN, |r| r.train_seconds),
            median_train_seconds_after_first_epoch: median(
                history.iter().skip(1).map(|row| row.train_seconds),
            ),
        }
    }
}

/// The median of `values`, NaN when there are none.
fn median(values: impl Iterator<Item = f64>) -> f64 {
    let values: Vec<f64> = values.collect();
    if values.is_empty() {
        return f64::NAN;
    }
    use statrs::statistics::Median;
    statrs::statistics::Data::new(values).median()
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

/// Whether the run compared a pair with McNemar's test (then the summary has its two lines).
pub fn has_mcnemar(summaries: &[SummaryRow]) -> bool {
    summaries.iter().any(|s| s.mcnemar_exact_p_value.is_some())
}

/// One line of the summary, one cell per model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryLine {
    Status,
    EpochsCompleted,
    FinalTestAccuracy,
    BestTestAccuracy,
    BestEpoch,
    FinalTrainLoss,
    FinalTestLoss,
    WeakestClass,
    SecondsPerEpoch,
    FirstEpochSeconds,
    MedianLaterEpochSeconds,
    ImagesPerSecond,
    OnlyThisModelRight,
    McNemarP,
}

/// What a summary cell holds; each renderer picks its precision.
pub enum Figure {
    Text(String),
    Count(u64),
    Percent(f64),
    /// The best test accuracy and the epoch it came at.
    Best {
        percent: f64,
        epoch: usize,
    },
    Loss(f64),
    Seconds(f64),
    Rate(f64),
    PValue(f64),
    /// Nothing to show for this model (outside the compared pair, no test predictions).
    Missing,
}

/// McNemar's two lines, shown when the run compared a pair.
pub const MCNEMAR_LINES: [SummaryLine; 2] =
    [SummaryLine::OnlyThisModelRight, SummaryLine::McNemarP];

impl SummaryLine {
    /// The line's label, the same on the terminal and on the page.
    pub fn label(self) -> &'static str {
        match self {
            SummaryLine::Status => "status",
            SummaryLine::EpochsCompleted => "epochs completed",
            SummaryLine::FinalTestAccuracy => "final test accuracy (%)",
            SummaryLine::BestTestAccuracy => "best test accuracy (%)",
            SummaryLine::BestEpoch => "best at epoch",
            SummaryLine::FinalTrainLoss => "final train loss",
            SummaryLine::FinalTestLoss => "final test loss",
            SummaryLine::WeakestClass => "weakest class (recall %)",
            SummaryLine::SecondsPerEpoch => "train seconds per epoch",
            SummaryLine::FirstEpochSeconds => "train s, epoch 1",
            SummaryLine::MedianLaterEpochSeconds => "train s, median of rest",
            SummaryLine::ImagesPerSecond => "train images per second",
            SummaryLine::OnlyThisModelRight => "test images only it got right",
            SummaryLine::McNemarP => "McNemar exact p",
        }
    }

    /// The `summary.csv` column whose number the line shows (the page marks its cells with it,
    /// and tests compare them); `None` for a line that is not a number of that file.
    pub fn column(self) -> Option<&'static str> {
        match self {
            SummaryLine::Status | SummaryLine::WeakestClass => None,
            SummaryLine::EpochsCompleted => Some("epochs_completed"),
            SummaryLine::FinalTestAccuracy => Some("final_test_accuracy_percent"),
            SummaryLine::BestTestAccuracy => Some("best_test_accuracy_percent"),
            SummaryLine::BestEpoch => Some("best_epoch"),
            SummaryLine::FinalTrainLoss => Some("final_train_loss"),
            SummaryLine::FinalTestLoss => Some("final_test_loss"),
            SummaryLine::SecondsPerEpoch => Some("seconds_per_epoch"),
            SummaryLine::FirstEpochSeconds => Some("first_epoch_train_seconds"),
            SummaryLine::MedianLaterEpochSeconds => Some("median_train_seconds_after_first_epoch"),
            SummaryLine::ImagesPerSecond => Some("images_per_second"),
            SummaryLine::OnlyThisModelRight => Some("test_images_only_this_model_got_right"),
            SummaryLine::McNemarP => Some("mcnemar_exact_p_value"),
        }
    }

    /// The model's cell: from its row, and for the weakest class from its test predictions
    /// (`weakest_class`, "name recall", if it has any).
    pub fn figure(self, row: &SummaryRow, weakest_class: Option<&str>) -> Figure {
        match self {
            SummaryLine::Status => Figure::Text(row.status.to_string()),
            SummaryLine::EpochsCompleted => Figure::Count(row.epochs_completed as u64),
            SummaryLine::FinalTestAccuracy => Figure::Percent(row.final_test_accuracy_percent),
            SummaryLine::BestTestAccuracy => Figure::Best {
                percent: row.best_test_accuracy_percent,
                epoch: row.best_epoch,
            },
            SummaryLine::BestEpoch => Figure::Count(row.best_epoch as u64),
            SummaryLine::FinalTrainLoss => Figure::Loss(row.final_train_loss),
            SummaryLine::FinalTestLoss => Figure::Loss(row.final_test_loss),
            SummaryLine::WeakestClass => {
                weakest_class.map_or(Figure::Missing, |text| Figure::Text(text.to_owned()))
            }
            SummaryLine::SecondsPerEpoch => Figure::Seconds(row.seconds_per_epoch),
            SummaryLine::FirstEpochSeconds => Figure::Seconds(row.first_epoch_train_seconds),
            // A one-epoch run has no later epochs: a dash, not NaN.
            SummaryLine::MedianLaterEpochSeconds => {
                Some(row.median_train_seconds_after_first_epoch)
                    .filter(|seconds| !seconds.is_nan())
                    .map_or(Figure::Missing, Figure::Seconds)
            }
            SummaryLine::ImagesPerSecond => Figure::Rate(row.images_per_second),
            SummaryLine::OnlyThisModelRight => row
                .test_images_only_this_model_got_right
                .map_or(Figure::Missing, Figure::Count),
            SummaryLine::McNemarP => row
                .mcnemar_exact_p_value
                .map_or(Figure::Missing, Figure::PValue),
        }
    }
}

/// The class the model recognises least often in the test set, and its recall ("name 93.1"):
/// where the model is weakest, by name. `None` without test predictions.
pub fn weakest_class(contender: &Contender, data: &mnist::Mnist) -> Option<String> {
    let logits = contender.last_test_logits.as_ref()?;
    let report =
        mnist::metrics::ConfusionMatrix::from_logits(logits.view(), data.test.labels.view())
            .report();
    report
        .classes
        .iter()
        .min_by(|a, b| a.recall.total_cmp(&b.recall))
        .map(|c| {
            format!(
                "{} {:.1}",
                data.classes()[usize::from(c.class)],
                100.0 * c.recall
            )
        })
}
