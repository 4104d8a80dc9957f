//! One run from flags to files: load the data, build every model from the same initial
//! weights, train, write the reports, and apply the parity gate.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use anyhow::{anyhow, Context, Result};
use serde::Serialize;

use crate::cli::{BadFlag, CommonArgs, DataArgs, ModelArg, RunConfig};
use crate::data_home;
use crate::html;
use crate::progress::Progress;
use crate::report::{self, CsvLog, SummaryRow};
use crate::run::{self, Contender, Logs, RunEnd};
use crate::EXIT_INTERRUPTED;

/// Set by the first Ctrl-C; the training loop stops after the current step.
static STOP: AtomicBool = AtomicBool::new(false);

/// Whether Ctrl-C has been pressed (once [`prepare`] has installed the handler).
pub fn interrupted() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// The `run.json` of the run in progress, while it says `running`. Every write of it holds
/// this lock, and so does a second Ctrl-C while it marks the run `aborted` and ends the
/// process, so no write can land after that mark.
static LIVE_RUN_JSON: Mutex<Option<PathBuf>> = Mutex::new(None);

pub enum Outcome {
    Success,
    GateFailed,
    Interrupted,
}

/// A model to train in a run.
#[derive(Clone)]
pub struct Spec {
    pub label: String,
    pub implementation: ModelArg,
    pub config: contract::ModelConfig,
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
}

pub fn load_data(args: &DataArgs) -> Result<mnist::Mnist> {
    let dataset = mnist::DatasetName::from(args.dataset);
    let source = mnist::DataSource {
        dataset,
        dir: data_home::data_dir(args.data_dir.as_deref(), dataset),
        verify_checksums: !args.no_checksums,
        download: !args.offline,
        mirrors: None,
    };
    mnist::load(&source).map_err(|error| {
        let advice = match error {
            mnist::Error::ChecksumMismatch { .. } => {
                "; to use another 28×28, 10-class IDX dataset on purpose, pass --no-checksums"
            }
            mnist::Error::Unverifiable { .. } => "; or pass --no-checksums to use it unverified",
            mnist::Error::NotFound { .. } | mnist::Error::Download { .. } => {
                "; or choose the folder with --data-dir"
            }
            _ => "",
        };
        let env_advice = data_home::env_advice(&error, dataset);
        anyhow!(
            "cannot load {}: {error}{env_advice}{advice}",
            dataset.title()
        )
    })
}

/// The models `--models` asks for, each with its optimiser.
pub fn compare_specs(config: &RunConfig) -> Vec<Spec> {
    config
        .models
        .iter()
        .map(|&implementation| {
            let optimizer = match implementation {
                ModelArg::Scratch | ModelArg::ScratchTextbook => config.scratch_optimizer,
                ModelArg::Torchref => config.torch_optimizer,
            };
            Spec {
                label: implementation.name().to_owned(),
                implementation,
                config: config.model_config(optimizer),
            }
        })
        .collect()
}

/// The default job: the scratch and the torch model side by side (once per seed with
/// `--seeds`).
pub fn compare(config: &RunConfig) -> Result<Outcome> {
    config.validate()?;
    if let Some(seeds) = &config.common.seeds {
        return crate::seeds::compare(config, &seeds.seeds(config.common.seed)?);
    }
    let finished = execute(&config.common, config, compare_specs(config))?;
    print_side_by_side(&finished, config.common.threads);
    if finished.end == RunEnd::Interrupted {
        print_page(&write_page(&finished, None, None)?);
        return Ok(Outcome::Interrupted);
    }
    let failures = gate_failures(config, &finished.contenders);
    let outcome = report_gate(config, &failures);
    let page = write_page(&finished, gate_verdict(config, &failures), None)?;
    print_page(&page);
    Ok(outcome)
}

/// The terminal's last line: where to look.
pub fn print_page(page: &Path) {
    println!("report: {}", page.display());
}

/// Writes the run's `report.html` from its `run.json` and what the run left in memory;
/// returns its path.
pub fn write_page(
    finished: &Finished,
    gate: Option<html::Verdict>,
    table: Option<html::ExtraTable>,
) -> Result<PathBuf> {
    let path = finished.folder.join("run.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let record: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    html::write_run_page(&html::RunPage {
        folder: &finished.folder,
        record: &record,
        summaries: &finished.summaries,
        contenders: &finished.contenders,
        data: &finished.data,
        gate,
        table,
    })
}

/// The page's verdict on the parity gate: what it checked when it passed, why it failed
/// otherwise; `None` when no gate was asked for.
pub fn gate_verdict(config: &RunConfig, failures: &[String]) -> Option<html::Verdict> {
    if !failures.is_empty() {
        return Some(html::Verdict {
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
    (!checked.is_empty()).then_some(html::Verdict {
        passed: true,
        lines: checked,
    })
}

/// Prints how the parity gate went, if it was asked for, and the outcome it makes.
pub fn report_gate(config: &RunConfig, failures: &[String]) -> Outcome {
    if failures.is_empty() {
        if config.max_accuracy_gap.is_some() || config.min_accuracy.is_some() {
            println!("parity gate: passed");
        }
        Outcome::Success
    } else {
        for failure in failures {
            eprintln!("parity gate failed: {failure}");
        }
        Outcome::GateFailed
    }
}

/// What every run of a session shares: the data, read and verified once (and cut to
/// `--limit`), and the torch device.
pub struct Prepared {
    pub data: Rc<mnist::Mnist>,
    pub torch_device: Option<torchref::Device>,
    /// The engine `--scratch-engine` resolves to on this CPU, if a scratch model runs.
    pub scratch_engine: Option<scratch::Engine>,
}

/// Checks the device, loads the data, sets the threads and installs the Ctrl-C handler: once
/// per process, before the first run.
pub fn prepare(common: &CommonArgs, specs: &[Spec]) -> Result<Prepared> {
    // Checked before the data, which may take a download.
    let torch_device = specs
        .iter()
        .any(|s| s.implementation == ModelArg::Torchref)
        .then(|| torchref::parse_device(&common.device))
        .transpose()
        .map_err(|error| match error {
            torchref::Error::CudaUnavailable { .. } => BadFlag(format!(
                "--device {}: {error}; use --device cpu",
                common.device
            )),
            _ => BadFlag(format!("--device: {error}")),
        })?;
    let scratch_engine = specs
        .iter()
        .any(|s| s.implementation == ModelArg::Scratch)
        .then(|| scratch::Engine::from(common.scratch_engine).resolve())
        .transpose()
        .map_err(|error| BadFlag(format!("--scratch-engine: {error}")))?;
    let mut data = load_data(&common.data)?;
    if let Some(n) = common.limit.filter(|&n| n < data.train.len()) {
        data.train = data.train.head(n);
    }
    scratch::set_threads(common.threads);
    torchref::set_threads(common.threads);
    ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            // Held until the process is gone: no write of run.json can follow the mark.
            let live = LIVE_RUN_JSON.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(path) = live.as_deref() {
                if let Err(error) = mark_aborted(path) {
                    eprintln!("\nerror: {error:#}");
                }
            }
            eprintln!("\naborted: run.json says so; the reports of this run are incomplete");
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
        eprintln!("\ninterrupted: finishing the reports (Ctrl-C again to quit at once)");
    })
    .context("cannot install the Ctrl-C handler")?;
    Ok(Prepared {
        data: Rc::new(data),
        torch_device,
        scratch_engine,
    })
}

/// Where a run writes its reports.
pub enum RunFolder<'a> {
    /// A new folder under this one, named by the start time (a run of its own).
    NewUnder(&'a Path),
    /// This folder, which must not exist yet (one seed of a multi-seed run).
    Exactly(PathBuf),
}

/// Loads the data, then trains `specs` on identical batches and writes every report of the run.
pub fn execute<C: Serialize>(
    common: &CommonArgs,
    config: &C,
    specs: Vec<Spec>,
) -> Result<Finished> {
    let prepared = prepare(common, &specs)?;
    let progress = Progress::new(common.log_every);
    execute_prepared(
        &prepared,
        common,
        config,
        specs,
        RunFolder::NewUnder(&common.out),
        &progress,
    )
}

/// Trains `specs` on identical batches from `common.seed`'s weights and writes every report.
pub fn execute_prepared<C: Serialize>(
    prepared: &Prepared,
    common: &CommonArgs,
    config: &C,
    specs: Vec<Spec>,
    folder: RunFolder<'_>,
    progress: &Progress,
) -> Result<Finished> {
    let data = &prepared.data;
    // Xavier-uniform weights from the seed, shared by every model of the run.
    let initial = scratch::Mlp::new(&specs[0].config, common.seed).parameters();
    let mut contenders = Vec::with_capacity(specs.len());
    for spec in specs {
        let trainer: Box<dyn contract::Trainer> = match spec.implementation {
            ModelArg::Scratch => {
                let engine = prepared
                    .scratch_engine
                    .context("a scratch model needs an engine")?;
                Box::new(
                    scratch::Mlp::from_parameters(&spec.config, &initial)
                        .with_engine(engine)
                        .context("--scratch-engine")?,
                )
            }
            ModelArg::ScratchTextbook => Box::new(scratch::Textbook::<f32>::from_parameters(
                &spec.config,
                &initial,
            )),
            ModelArg::Torchref => {
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
    train_recorded(
        common,
        config,
        data,
        prepared.scratch_engine,
        contenders,
        folder,
        progress,
    )
}

/// Trains `contenders` in a new run folder whose `run.json` ends in a true status: the run's
/// end, or `failed` with the error when training returns one or panics (a CUDA
/// out-of-memory error in tch, for example, is a panic).
fn train_recorded<C: Serialize>(
    common: &CommonArgs,
    config: &C,
    data: &Rc<mnist::Mnist>,
    scratch_engine: Option<scratch::Engine>,
    mut contenders: Vec<Contender>,
    folder: RunFolder<'_>,
    progress: &Progress,
) -> Result<Finished> {
    let started = chrono::Utc::now();
    let folder = match folder {
        RunFolder::NewUnder(parent) => report::create_run_folder(parent, &started)?,
        RunFolder::Exactly(path) => {
            std::fs::create_dir(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            path
        }
    };
    let mut record = RunRecord::new(config, common, data, data.train.len(), &started);
    record.scratch_engine = scratch_engine.map(scratch::Engine::name);
    record.write(&folder)?;
    let result = guarded(|| train_and_report(common, data, &mut contenders, &folder, progress));
    if result.is_err() {
        for contender in &mut contenders {
            if contender.outcome == run::Outcome::Training {
                contender.outcome = run::Outcome::Failed;
            }
        }
    }
    record.ended_at = Some(chrono::Utc::now().to_rfc3339());
    record.models = contenders.iter().map(Contender::summary).collect();
    match result {
        Ok((end, summaries)) => {
            record.models.clone_from(&summaries);
            record.status = match end {
                RunEnd::Completed => "completed",
                RunEnd::Interrupted => "interrupted",
            };
            record.write(&folder)?;
            eprintln!("reports written to {}", folder.display());
            Ok(Finished {
                folder,
                end,
                contenders,
                summaries,
                data: Rc::clone(data),
            })
        }
        Err(error) => {
            record.status = "failed";
            record.error = Some(format!("{error:#}"));
            // The run's error is what the user needs; a second one writing run.json would hide it.
            let _ = record.write(&folder);
            Err(error)
        }
    }
}

fn train_and_report(
    common: &CommonArgs,
    data: &mnist::Mnist,
    contenders: &mut [Contender],
    folder: &Path,
    progress: &Progress,
) -> Result<(RunEnd, Vec<SummaryRow>)> {
    let (train_set, test_set) = (&data.train, &data.test);
    crate::plots::sample_images(folder, train_set, data.classes())?;
    let mut logs = Logs {
        epochs: CsvLog::create(folder.join("epochs.csv"))?,
        steps: CsvLog::create(folder.join("steps.csv"))?,
    };
    let end = run::train(
        common, train_set, test_set, contenders, &mut logs, progress, &STOP,
    )?;

    let summaries = crate::pair::summaries(contenders, &test_set.labels.to_vec());
    report::write_csv(folder.join("summary.csv"), &summaries)?;
    for contender in contenders.iter() {
        if let Some(logits) = &contender.last_test_logits {
            let matrix =
                mnist::metrics::ConfusionMatrix::from_logits(logits.view(), test_set.labels.view());
            report::write_confusion_matrix(
                folder.join(format!("confusion_matrix_{}.csv", contender.label)),
                &matrix,
                data.classes(),
            )?;
            report::write_classification_report(
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
    crate::plots::epoch_charts(folder, &epochs)?;
    let steps: Vec<_> = contenders
        .iter()
        .flat_map(|c| c.logged_steps.iter().cloned())
        .collect();
    crate::plots::step_chart(folder, &steps)?;
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

/// Rewrites the `run.json` at `path` with status `aborted`: a second Ctrl-C ends the process
/// at once, without the reports a first one writes.
fn mark_aborted(path: &Path) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut record: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("cannot parse {}", path.display()))?;
    record["status"] = "aborted".into();
    record["error"] = "ended at once by a second Ctrl-C".into();
    record["ended_at"] = chrono::Utc::now().to_rfc3339().into();
    report::write_json_atomically(path, &record)
}

/// `run.json`: what ran, where, with what, and how it ended.
#[derive(Serialize)]
pub struct RunRecord<'a, C: Serialize> {
    /// `running`, `completed`, `interrupted` (one Ctrl-C: the reports are complete up to the
    /// last finished epoch), `aborted` (a second Ctrl-C: ended at once) or `failed` (with
    /// `error`). A `running` left by a process that no longer exists (`pid` on `host`) is stale.
    pub status: &'static str,
    pub error: Option<String>,
    /// The process that ran it.
    pid: u32,
    host: String,
    command_line: Vec<String>,
    config: &'a C,
    seed: u64,
    threads: usize,
    device: &'a str,
    /// The engine the `scratch` model ran on (`--scratch-engine` resolved on this CPU).
    pub scratch_engine: Option<&'static str>,
    versions: Versions,
    git_commit: &'static str,
    cpu_model: String,
    /// How every thread of both models treated subnormal floats: `flush-to-zero` (FTZ and
    /// DAZ, the default) or `keep` (IEEE, `--keep-subnormals`).
    subnormals: subnormals::Mode,
    dataset: DatasetRecord,
    started_at: String,
    pub ended_at: Option<String>,
    models: Vec<SummaryRow>,
}

#[derive(Serialize)]
struct Versions {
    /// One version for all crates of the workspace (mnist, scratch, torchref, compare).
    workspace_crates: &'static str,
    libtorch: String,
    rustc: &'static str,
}

#[derive(Serialize)]
struct DatasetRecord {
    /// The `--dataset` value.
    name: mnist::DatasetName,
    title: &'static str,
    /// The name of each label, 0 to 9.
    classes: &'static [&'static str; contract::CLASSES],
    dir: PathBuf,
    train_images_used: usize,
    test_images: usize,
    checksums_verified: bool,
    files: Vec<FileRecord>,
}

#[derive(Serialize)]
struct FileRecord {
    name: String,
    path: PathBuf,
    /// Measured on the file read.
    sha256_of_content: String,
    /// What the dataset publishes (the content SHA-256 is not known for every dataset).
    expected_sha256_of_content: Option<&'static str>,
    published_gz_md5: &'static str,
    verified_by: mnist::Verification,
}

impl<'a, C: Serialize> RunRecord<'a, C> {
    pub fn new(
        config: &'a C,
        common: &'a CommonArgs,
        data: &mnist::Mnist,
        train_images_used: usize,
        started: &chrono::DateTime<chrono::Utc>,
    ) -> Self {
        RunRecord {
            status: "running",
            error: None,
            pid: std::process::id(),
            host: host(),
            command_line: std::env::args().collect(),
            config,
            seed: common.seed,
            threads: common.threads,
            device: &common.device,
            scratch_engine: None,
            versions: Versions {
                workspace_crates: env!("CARGO_PKG_VERSION"),
                libtorch: torchref::libtorch_version(),
                rustc: env!("COMPARE_RUSTC_VERSION"),
            },
            git_commit: env!("COMPARE_GIT_COMMIT"),
            cpu_model: cpu_model(),
            subnormals: subnormal_mode(),
            dataset: DatasetRecord {
                name: data.dataset,
                title: data.dataset.title(),
                classes: data.classes(),
                dir: data.dir.clone(),
                train_images_used,
                test_images: data.test.len(),
                checksums_verified: !common.data.no_checksums,
                files: data
                    .files
                    .iter()
                    .map(|f| FileRecord {
                        name: f.name.clone(),
                        path: f.path.clone(),
                        sha256_of_content: f.sha256.clone(),
                        expected_sha256_of_content: f.known.sha256,
                        published_gz_md5: f.known.gz_md5,
                        verified_by: f.verification,
                    })
                    .collect(),
            },
            started_at: started.to_rfc3339(),
            ended_at: None,
            models: Vec::new(),
        }
    }

    pub fn write(&self, folder: &Path) -> Result<()> {
        let path = folder.join("run.json");
        let mut live = LIVE_RUN_JSON.lock().unwrap_or_else(PoisonError::into_inner);
        report::write_json_atomically(&path, self)?;
        *live = (self.status == "running").then_some(path);
        Ok(())
    }
}

/// This machine's host name, which with the process id tells whether a `running` run is alive.
pub fn host() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

/// The mode the main thread, and so every thread it started, runs in; where it cannot be
/// read (not x86_64), subnormals are kept, as nothing changed the default.
pub fn subnormal_mode() -> subnormals::Mode {
    subnormals::current().unwrap_or(subnormals::Mode::Keep)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .and_then(|rest| rest.split_once(':'))
                .map(|(_, name)| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Where the run's times come from: the CPU, the threads, and the subnormal mode.
pub fn machine_line(threads: usize) -> String {
    format!(
        "CPU: {}, {threads} threads; subnormal floats {}",
        cpu_model(),
        match subnormal_mode() {
            subnormals::Mode::FlushToZero => "flushed to zero (--keep-subnormals keeps them)",
            subnormals::Mode::Keep => "kept (IEEE 754)",
        }
    )
}

/// The terminal's closing table: one column per model, then the speed ratio.
fn print_side_by_side(finished: &Finished, threads: usize) {
    let summaries = &finished.summaries;
    let mut lines: Vec<(&str, Vec<String>)> = vec![
        ("", summaries.iter().map(|s| s.model.clone()).collect()),
        (
            "status",
            summaries.iter().map(|s| s.status.clone()).collect(),
        ),
        (
            "epochs completed",
            summaries
                .iter()
                .map(|s| s.epochs_completed.to_string())
                .collect(),
        ),
        (
            "final test accuracy (%)",
            summaries
                .iter()
                .map(|s| format!("{:.2}", s.final_test_accuracy_percent))
                .collect(),
        ),
        (
            "best test accuracy (%)",
            summaries
                .iter()
                .map(|s| {
                    format!(
                        "{:.2} (epoch {})",
                        s.best_test_accuracy_percent, s.best_epoch
                    )
                })
                .collect(),
        ),
        (
            "final train loss",
            summaries
                .iter()
                .map(|s| format!("{:.4}", s.final_train_loss))
                .collect(),
        ),
        (
            "final test loss",
            summaries
                .iter()
                .map(|s| format!("{:.4}", s.final_test_loss))
                .collect(),
        ),
        (
            "weakest class (recall %)",
            finished
                .contenders
                .iter()
                .map(|c| weakest_class(c, &finished.data))
                .collect(),
        ),
        (
            "train seconds per epoch",
            summaries
                .iter()
                .map(|s| format!("{:.3}", s.seconds_per_epoch))
                .collect(),
        ),
        (
            "train s, epoch 1",
            summaries
                .iter()
                .map(|s| format!("{:.3}", s.first_epoch_train_seconds))
                .collect(),
        ),
        (
            "train s, median of rest",
            summaries
                .iter()
                .map(|s| format!("{:.3}", s.median_train_seconds_after_first_epoch))
                .collect(),
        ),
        (
            "train images per second",
            summaries
                .iter()
                .map(|s| format!("{:.0}", s.images_per_second))
                .collect(),
        ),
    ];
    if summaries.iter().any(|s| s.mcnemar_against.is_some()) {
        let cell = |value: Option<String>| value.unwrap_or_else(|| "-".to_owned());
        lines.push((
            "test images only it got right",
            summaries
                .iter()
                .map(|s| {
                    cell(
                        s.test_images_only_this_model_got_right
                            .map(|n| n.to_string()),
                    )
                })
                .collect(),
        ));
        lines.push((
            "McNemar exact p",
            summaries
                .iter()
                .map(|s| cell(s.mcnemar_exact_p_value.map(report::p_value_text)))
                .collect(),
        ));
    }
    let width = lines
        .iter()
        .flat_map(|(_, cells)| cells.iter().map(String::len))
        .max()
        .unwrap_or(8)
        .max(10);
    println!();
    println!("{}", machine_line(threads));
    println!(
        "{} test set, {} images:",
        finished.data.dataset.title(),
        finished.data.test.len()
    );
    for (name, cells) in lines.drain(..) {
        let cells: Vec<String> = cells.iter().map(|c| format!("{c:>width$}")).collect();
        println!("{name:<29} {}", cells.join("  "));
    }
    if let Some(speed) = report::speed_ratio(summaries) {
        println!(
            "speed: scratch takes {:.2}× the time of torchref per epoch ({:.3} s vs {:.3} s, {threads} threads; below 1 means scratch is faster)",
            speed.ratio, speed.scratch, speed.torch
        );
    }
    if let Some(p) = summaries.iter().find_map(|s| s.mcnemar_exact_p_value) {
        println!(
            "McNemar's exact test on the test images exactly one model got right: p = {} ({})",
            report::p_value_text(p),
            if p < 0.05 {
                "below 0.05: the two test accuracies differ"
            } else {
                "0.05 or more: no evidence that the test accuracies differ"
            }
        );
    }
    println!("reports: {}", finished.folder.display());
}

/// The class the model recognises least often in the test set, and its recall: where the
/// model is weakest, by name.
fn weakest_class(contender: &Contender, data: &mnist::Mnist) -> String {
    let Some(logits) = &contender.last_test_logits else {
        return "-".to_owned();
    };
    let report =
        mnist::metrics::ConfusionMatrix::from_logits(logits.view(), data.test.labels.view())
            .report();
    report
        .classes
        .iter()
        .min_by(|a, b| a.recall.total_cmp(&b.recall))
        .map_or_else(
            || "-".to_owned(),
            |c| {
                format!(
                    "{} {:.1}",
                    data.classes()[usize::from(c.class)],
                    100.0 * c.recall
                )
            },
        )
}

/// Why the parity gate fails, if it does (empty when it passes or is not asked for).
fn gate_failures(config: &RunConfig, contenders: &[Contender]) -> Vec<String> {
    let mut failures = Vec::new();
    let asked = config.max_accuracy_gap.is_some() || config.min_accuracy.is_some();
    for c in contenders {
        if asked && c.outcome != run::Outcome::Completed {
            failures.push(format!(
                "{} did not complete: {}",
                c.label,
                c.summary().status
            ));
        }
    }
    if let Some(floor) = config.min_accuracy {
        for c in contenders {
            let accuracy = c.final_test_accuracy().unwrap_or(f64::NAN);
            if accuracy.is_nan() || accuracy < floor {
                failures.push(format!(
                    "{} test accuracy {accuracy:.2}% is below the floor {floor}%",
                    c.label
                ));
            }
        }
    }
    if let Some(max_gap) = config.max_accuracy_gap {
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
    }
    failures
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use ndarray::{Array1, Array2, ArrayView2};

    use super::*;

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
        let images = || Array2::zeros((64, contract::INPUT_SIZE));
        let data = Rc::new(mnist::Mnist {
            dataset: mnist::DatasetName::Mnist,
            train: mnist::Dataset::new(images(), Array1::zeros(64)),
            test: mnist::Dataset::new(images(), Array1::zeros(64)),
            dir: out.path().to_owned(),
            files: Vec::new(),
        });
        let config = cli.run.model_config(crate::cli::OptimizerArg::Sgd);
        let contenders = vec![Contender::new(
            "panicking",
            ModelArg::Scratch,
            config,
            Box::new(PanickingStep),
        )];

        let progress = Progress::new(1);
        let error = train_recorded(
            &cli.run.common,
            &cli.run,
            &data,
            None,
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
