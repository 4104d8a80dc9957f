//! The training loop: every model sees the same batches in the same order, epoch by epoch,
//! one model at a time; timing, metrics and progress live here, the maths in the libraries.

use std::time::Instant;

use anyhow::Result;
use contract::{ModelConfig, Trainer};
use mnist::{Batcher, EpochOrder};

use crate::config::{Common, Model};
use crate::progress::{EpochProgress, Progress};
use crate::report::round;
use crate::report::tables::{CsvLog, EpochRow, StepRow};
use crate::status::{ModelStatus, RunEnd, Signal};

/// One model in a run: what it is, how it is trained, and what happened to it so far.
pub struct Contender {
    pub label: String,
    pub implementation: Model,
    pub config: ModelConfig,
    pub trainer: Box<dyn Trainer>,
    pub history: Vec<EpochRow>,
    /// The rows this model wrote to `steps.csv`.
    pub logged_steps: Vec<StepRow>,
    pub status: ModelStatus,
    /// Logits on the test set after the last completed epoch.
    pub last_test_logits: Option<ndarray::Array2<f32>>,
}

impl Contender {
    pub fn new(
        label: impl Into<String>,
        implementation: Model,
        config: ModelConfig,
        trainer: Box<dyn Trainer>,
    ) -> Self {
        Contender {
            label: label.into(),
            implementation,
            config,
            trainer,
            history: Vec::new(),
            logged_steps: Vec::new(),
            status: ModelStatus::Training,
            last_test_logits: None,
        }
    }

    pub fn final_test_accuracy(&self) -> Option<f64> {
        self.history.last().map(|row| row.test_accuracy_percent)
    }
}

/// The CSV logs the loop appends to.
pub struct Logs {
    pub epochs: CsvLog,
    pub steps: CsvLog,
}

/// Trains every contender for `common.epochs` epochs on identical batches. A contender whose
/// loss stops being finite is stopped and recorded; the others go on. A stop request (a
/// signal) ends the run after the current step, or after the evaluation of the train set
/// under way: `stop_requested` says whether one came, and which.
pub fn train(
    common: &Common,
    train_set: &mnist::Dataset,
    test_set: &mnist::Dataset,
    contenders: &mut [Contender],
    logs: &mut Logs,
    progress: &Progress,
    stop_requested: &dyn Fn() -> Option<Signal>,
) -> Result<RunEnd> {
    let mut batcher = Batcher::new(common.batch_size, common.drop_last);
    let steps = batcher.steps(train_set.len());
    let mut train_clock = vec![0.0_f64; contenders.len()];
    for epoch in 1..=common.epochs {
        let epoch_started = Instant::now();
        let order = if common.shuffle {
            EpochOrder::shuffled(train_set.len(), common.seed, epoch as u64)
        } else {
            EpochOrder::sequential(train_set.len())
        };
        for (contender, clock) in contenders.iter_mut().zip(&mut train_clock) {
            if contender.status != ModelStatus::Training {
                continue;
            }
            let bar = progress.epoch(&contender.label, epoch, common.epochs, steps);
            let started = Instant::now();
            let mut loss_sum = 0.0_f64;
            let mut window = (0.0_f64, 0_usize);
            let mut images = 0_usize;
            for step in 0..steps {
                if let Some(signal) = stop_requested() {
                    return Ok(interrupt(contender, &bar, signal));
                }
                let batch = batcher.batch(train_set, &order, step);
                let rows = batch.images.nrows();
                let loss = contender.trainer.train_step(&batch);
                if !loss.is_finite() {
                    contender.status = ModelStatus::Diverged {
                        epoch,
                        step: step + 1,
                        loss,
                    };
                    bar.abandon(&format!(
                        "diverged: loss {loss} at step {}; this model stops here",
                        step + 1
                    ));
                    break;
                }
                loss_sum += f64::from(loss) * rows as f64;
                window = (window.0 + f64::from(loss) * rows as f64, window.1 + rows);
                images += rows;
                let seconds = *clock + started.elapsed().as_secs_f64();
                bar.step(step + 1, loss_sum / images as f64, seconds);
                if (step + 1) % common.log_every == 0 || step + 1 == steps {
                    let row = StepRow {
                        model: contender.label.clone(),
                        epoch,
                        step: step + 1,
                        images_seen: (epoch - 1) * train_set.len() + images,
                        batch_loss: round(f64::from(loss), 6),
                        mean_loss_since_previous_row: round(window.0 / window.1 as f64, 6),
                        train_seconds: round(seconds, 4),
                    };
                    logs.steps.append(&row)?;
                    contender.logged_steps.push(row);
                    window = (0.0, 0);
                }
            }
            let train_seconds = started.elapsed().as_secs_f64();
            *clock += train_seconds;
            logs.steps.flush()?;
            if contender.status != ModelStatus::Training {
                continue;
            }

            let evaluation = Instant::now();
            let train_accuracy = if common.train_accuracy {
                let logits = contender.trainer.logits(train_set.images.view());
                // The train set is the longer half of an evaluation: stop between the two.
                if let Some(signal) = stop_requested() {
                    return Ok(interrupt(contender, &bar, signal));
                }
                Some(percent(logits.view(), train_set))
            } else {
                None
            };
            let test_logits = contender.trainer.logits(test_set.images.view());
            let eval_seconds = evaluation.elapsed().as_secs_f64();
            let row = EpochRow {
                model: contender.label.clone(),
                epoch,
                train_loss: round(loss_sum / images as f64, 6),
                train_accuracy_percent: train_accuracy,
                test_loss: round(
                    mnist::metrics::mean_cross_entropy(test_logits.view(), test_set.labels.view()),
                    6,
                ),
                test_accuracy_percent: percent(test_logits.view(), test_set),
                train_seconds: round(train_seconds, 4),
                eval_seconds: round(eval_seconds, 4),
                images_per_second: round(images as f64 / train_seconds, 1),
            };
            let train_accuracy = row
                .train_accuracy_percent
                .map_or_else(String::new, |a| format!("  train acc {a:.2}%"));
            bar.finish(&format!(
                "train loss {:.4}  test loss {:.4}{train_accuracy}  test acc {:.2}%  {:.2} s train + {:.2} s eval",
                row.train_loss,
                row.test_loss,
                row.test_accuracy_percent,
                row.train_seconds,
                row.eval_seconds
            ));
            logs.epochs.append(&row)?;
            logs.epochs.flush()?;
            contender.history.push(row);
            contender.last_test_logits = Some(test_logits);
        }
        progress.epoch_finished(epoch, common.epochs, epoch_started.elapsed().as_secs_f64());
    }
    for contender in contenders.iter_mut() {
        if contender.status == ModelStatus::Training {
            contender.status = ModelStatus::Completed;
        }
    }
    Ok(RunEnd::Completed)
}

/// Stops `contender`'s epoch on `signal`: the run ends interrupted.
fn interrupt(contender: &mut Contender, bar: &EpochProgress, signal: Signal) -> RunEnd {
    contender.status = ModelStatus::Interrupted;
    bar.abandon("interrupted");
    RunEnd::Interrupted(signal)
}

/// Accuracy of `logits` on `data`, in percent, to the third decimal.
fn percent(logits: ndarray::ArrayView2<'_, f32>, data: &mnist::Dataset) -> f64 {
    round(
        100.0 * mnist::metrics::accuracy(logits, data.labels.view()),
        3,
    )
}
