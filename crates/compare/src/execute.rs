//! One run from its models to its folder of reports: build every model from the same initial
//! weights, write `run.json`, train them on identical batches (`train.rs`), then write the
//! CSVs and plots, and end `run.json` with how the run ended, the error too when it failed.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{anyhow, Context, Result};

use crate::config::{Common, JobConfig, Model, Spec};
use crate::gate::Verdict;
use crate::prepare::Prepared;
use crate::progress::Progress;
use crate::record::{RunRecord, StepThreads};
use crate::report::files::create_run_folder;
use crate::report::page::{self, ExtraTable, RunPage};
use crate::report::plots;
use crate::report::tables::{self, CsvLog};
use crate::status::{ModelStatus, RunEnd};
use crate::summary::SummaryRow;
use crate::train::{self, Contender, Logs};

/// Where a run writes its reports.
pub enum RunFolder<'a> {
    /// A new folder under this one, named by the start time (a run of its own).
    NewUnder(&'a Path),
    /// This folder, made empty by the caller (one seed of a multi-seed run, written under its
    /// temporary name).
    Exactly(PathBuf),
}

/// A run that has ended, its files written.
pub struct Finished {
    pub folder: PathBuf,
    pub end: RunEnd,
    pub contenders: Vec<Contender>,
    /// One per contender, in the same order, with McNemar's test on the compared pair.
    pub summaries: Vec<SummaryRow>,
    /// The data it ran on (its test set is what `last_test_logits` score).
    pub data: Rc<mnist::Mnist>,
    /// Its `run.json`, as last written.
    pub record: RunRecord,
}

/// Writes the run's `report.html` from its record and what the run left in memory; returns
/// its path.
pub fn write_page(
    finished: &Finished,
    gate: Option<Verdict>,
    table: Option<ExtraTable>,
) -> Result<PathBuf> {
    page::write_run_page(&RunPage {
        folder: &finished.folder,
        record: &finished.record,
        summaries: &finished.summaries,
        contenders: &finished.contenders,
        data: &finished.data,
        gate,
        table,
    })
}

/// Trains `specs` on identical batches from the seed's weights into `folder` and writes
/// every report.
pub fn execute(
    prepared: &Prepared,
    config: JobConfig,
    specs: Vec<Spec>,
    folder: RunFolder<'_>,
    progress: &Progress,
) -> Result<Finished> {
    let (contenders, scratch_threads) = build(
        prepared,
        config.common().context("a job that trains")?,
        specs,
    )?;
    train_recorded(
        config,
        &prepared.data,
        (prepared.scratch_engine, scratch_threads),
        contenders,
        folder,
        progress,
    )
}

/// Every model of the run, each from the same Xavier-uniform weights of the seed, and the
/// threads the scratch model's steps run on (none without one).
fn build(
    prepared: &Prepared,
    common: &Common,
    specs: Vec<Spec>,
) -> Result<(Vec<Contender>, Vec<StepThreads>)> {
    let initial = scratch::Mlp::new(&specs[0].config, common.seed).parameters();
    let mut contenders = Vec::with_capacity(specs.len());
    let mut scratch_threads = Vec::new();
    for spec in specs {
        let trainer: Box<dyn contract::Trainer> = match spec.implementation {
            Model::Scratch => {
                let engine = prepared
                    .scratch_engine
                    .context("a scratch model needs an engine")?;
                let mlp = scratch::Mlp::from_parameters(&spec.config, &initial)
                    .with_engine(engine)
                    .context("--scratch-engine")?;
                scratch_threads = step_batches(common, prepared.data.train.len())
                    .map(|batch_images| StepThreads {
                        batch_images,
                        threads: mlp.threads_for_batch(batch_images),
                    })
                    .collect();
                Box::new(mlp)
            }
            Model::ScratchTextbook => Box::new(scratch::Textbook::<f32>::from_parameters(
                &spec.config,
                &initial,
            )),
            Model::Torchref => {
                let device = prepared
                    .torch_device
                    .context("a torch model needs a device")?;
                Box::new(
                    torchref::TorchMlp::from_parameters(&spec.config, &initial, device)
                        .with_context(|| format!("cannot build the torch model {}", spec.label))?,
                )
            }
        };
        contenders.push(Contender::new(
            spec.label,
            spec.implementation,
            spec.config,
            trainer,
        ));
    }
    Ok((contenders, scratch_threads))
}

/// The sizes of an epoch's training batches over `images`: the full batch, and the short
/// last one unless `--drop-last` leaves it out.
fn step_batches(common: &Common, images: usize) -> impl Iterator<Item = usize> {
    let full = (images >= common.batch_size).then_some(common.batch_size);
    let short = images % common.batch_size;
    full.into_iter()
        .chain((short > 0 && !common.drop_last).then_some(short))
}

/// Trains `contenders` in a new run folder whose `run.json` ends in a true status: the run's
/// end, or `failed` with the error when training returns one or panics (a CUDA
/// out-of-memory error in tch, for example, is a panic).
fn train_recorded(
    config: JobConfig,
    data: &Rc<mnist::Mnist>,
    (scratch_engine, scratch_threads): (Option<scratch::Engine>, Vec<StepThreads>),
    mut contenders: Vec<Contender>,
    folder: RunFolder<'_>,
    progress: &Progress,
) -> Result<Finished> {
    let started = chrono::Utc::now();
    let folder = match folder {
        RunFolder::NewUnder(parent) => create_run_folder(parent, &started)?,
        RunFolder::Exactly(path) => path,
    };
    let common = config.common().context("a job that trains")?.clone();
    let mut record = RunRecord::new(config, &common, data, scratch_engine, &started);
    record.scratch_threads_per_step = scratch_threads;
    record.write(&folder)?;
    let result = guarded(|| train_and_report(&common, data, &mut contenders, &folder, progress));
    if result.is_err() {
        for contender in &mut contenders {
            if contender.status == ModelStatus::Training {
                contender.status = ModelStatus::Failed;
            }
        }
    }
    match result {
        Ok((end, summaries)) => {
            record.models.clone_from(&summaries);
            record.end(end, None);
            record.write(&folder)?;
            crate::terminal::print_reports_written(&folder);
            Ok(Finished {
                folder,
                end,
                contenders,
                summaries,
                data: Rc::clone(data),
                record,
            })
        }
        Err(error) => {
            record.models = contenders.iter().map(SummaryRow::of).collect();
            Err(record.fail(&folder, error))
        }
    }
}

fn train_and_report(
    common: &Common,
    data: &mnist::Mnist,
    contenders: &mut [Contender],
    folder: &Path,
    progress: &Progress,
) -> Result<(RunEnd, Vec<SummaryRow>)> {
    let (train_set, test_set) = (&data.train, &data.test);
    plots::sample_images(folder, train_set, data.classes())?;
    let mut logs = Logs {
        epochs: CsvLog::create(folder.join("epochs.csv"))?,
        steps: CsvLog::create(folder.join("steps.csv"))?,
    };
    let end = train::train(
        common,
        train_set,
        test_set,
        contenders,
        &mut logs,
        progress,
        &crate::stop::requested,
    )?;

    let summaries = crate::pair::summaries(contenders, &test_set.labels.to_vec());
    tables::write_csv(folder.join("summary.csv"), &summaries)?;
    for contender in contenders.iter() {
        if let Some(logits) = &contender.last_test_logits {
            let matrix =
                mnist::metrics::ConfusionMatrix::from_logits(logits.view(), test_set.labels.view());
            tables::write_confusion_matrix(
                folder.join(format!("confusion_matrix_{}.csv", contender.label)),
                &matrix,
                data.classes(),
            )?;
            tables::write_classification_report(
                folder.join(format!("classification_report_{}.csv", contender.label)),
                &matrix.report(),
                data.classes(),
            )?;
        }
    }
    let epochs: Vec<_> = contenders
        .iter()
        .flat_map(|c| c.history.iter().cloned())
        .collect();
    plots::epoch_charts(folder, &epochs)?;
    let steps: Vec<_> = contenders
        .iter()
        .flat_map(|c| c.logged_steps.iter().cloned())
        .collect();
    plots::step_chart(folder, &steps)?;
    Ok((end, summaries))
}

/// Runs the work of a run whose `run.json` says `running`, turning a panic (tch panics on a
/// CUDA out-of-memory error, for example) into an error, so that the caller can record it.
pub fn guarded<T>(work: impl FnOnce() -> Result<T>) -> Result<T> {
    panic::catch_unwind(AssertUnwindSafe(work))
        .unwrap_or_else(|payload| Err(anyhow!("training panicked: {}", panic_message(&*payload))))
}

/// The text of a panic's payload (a `&str` or a `String` for `panic!` with a message).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use ndarray::{Array1, Array2, ArrayView2};

    use super::*;

    #[test]
    fn an_epoch_has_a_full_batch_and_a_short_one_unless_it_is_dropped() {
        let common = |flags: &[&str]| {
            let args = ["compare", "--batch-size", "64"].iter().chain(flags);
            let cli = crate::cli::Cli::try_parse_from(args).expect("valid flags");
            cli.run.into_config().expect("valid flags").common
        };
        let keep = common(&[]);
        let sizes = |common: &Common, images| step_batches(common, images).collect::<Vec<_>>();
        assert_eq!(sizes(&keep, 640), [64]);
        assert_eq!(sizes(&keep, 650), [64, 10]);
        assert_eq!(sizes(&keep, 30), [30]);
        assert_eq!(sizes(&common(&["--drop-last"]), 650), [64]);
    }

    /// A model whose training step panics, as tch's does on a CUDA out-of-memory error.
    struct PanickingStep;

    impl contract::Trainer for PanickingStep {
        fn name(&self) -> &str {
            "panicking"
        }

        fn train_step(&mut self, _: &contract::Batch<'_>) -> f32 {
            panic!("CUDA out of memory (planted)")
        }

        fn logits(&mut self, images: ArrayView2<'_, f32>) -> Array2<f32> {
            Array2::zeros((images.nrows(), contract::CLASSES))
        }
    }

    #[test]
    fn a_panicking_step_fails_the_run_and_run_json_says_why() {
        let out = tempfile::tempdir().expect("temp dir");
        let out_flag = out.path().to_str().expect("a UTF-8 temp path");
        let cli = crate::cli::Cli::try_parse_from(["compare", "--epochs", "1", "--out", out_flag])
            .expect("valid flags");
        let config = cli.run.into_config().expect("valid flags");
        let images = || Array2::zeros((64, contract::INPUT_SIZE));
        let data = Rc::new(mnist::Mnist {
            dataset: mnist::DatasetName::Mnist,
            train: mnist::Dataset::new(images(), Array1::zeros(64)),
            test: mnist::Dataset::new(images(), Array1::zeros(64)),
            dir: out.path().to_owned(),
            files: Vec::new(),
        });
        let contenders = vec![Contender::new(
            "panicking",
            Model::Scratch,
            config.model_config(crate::config::Optimizer::Sgd),
            Box::new(PanickingStep),
        )];

        let progress = Progress::new(1);
        let error = train_recorded(
            JobConfig::Run(config),
            &data,
            (None, Vec::new()),
            contenders,
            RunFolder::NewUnder(out.path()),
            &progress,
        )
        .err()
        .expect("the run fails");
        assert!(
            format!("{error:#}").contains("CUDA out of memory (planted)"),
            "{error:#}"
        );
        let folder = std::fs::read_dir(out.path())
            .expect("the output folder exists")
            .next()
            .expect("one run folder")
            .expect("readable")
            .path();
        let text = std::fs::read_to_string(folder.join("run.json")).expect("run.json exists");
        let record: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(record["status"], "failed");
        assert_eq!(
            record["error"],
            "training panicked: CUDA out of memory (planted)"
        );
        assert_eq!(record["models"][0]["status"], "failed");
        assert_eq!(record["pid"], std::process::id());
    }
}
