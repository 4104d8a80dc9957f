//! `run.json`, typed from the moment a run starts to the page that shows it: what ran, where,
//! with what, and how it ended. A run folder of one run holds a [`RunRecord`]; the folder of a
//! multi-seed run holds a [`SeedsRecord`] beside one `RunRecord` per seed.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::config::{Common, JobConfig};
use crate::report::files::write_json_atomically;
use crate::report::outputs::{ListsOutputErrors, OutputError};
use crate::status::{RunEnd, Signal};
use crate::summary::SummaryRow;

/// `run.json` of one run.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    /// `status`, and the `signal` that stopped the run if one did.
    #[serde(flatten)]
    pub status: RunEnd,
    pub error: Option<String>,
    /// The process that ran it: `pid` and `host`.
    #[serde(flatten)]
    owner: sweep::Owner,
    pub command_line: Vec<String>,
    pub config: JobConfig,
    seed: u64,
    threads: usize,
    device: String,
    /// The engine the `scratch` model ran on (`--scratch-engine` resolved on this CPU).
    pub scratch_engine: Option<&'static str>,
    /// The threads the `scratch` model's training step ran on, per batch size of the run
    /// (the full batch, and the epoch's short last batch if there is one): the engine picks
    /// fewer than `threads` where a step is too small to share.
    pub scratch_threads_per_step: Vec<StepThreads>,
    pub versions: Versions,
    pub git_commit: &'static str,
    pub cpu_model: String,
    /// How every thread of both models treated subnormal floats: `flush-to-zero` (FTZ and
    /// DAZ, the default) or `keep` (IEEE, `--keep-subnormals`).
    subnormals: subnormals::Mode,
    pub dataset: DatasetRecord,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub models: Vec<SummaryRow>,
    /// The outputs for CI that could not be written once the run had ended.
    output_errors: Vec<OutputError>,
}

/// How many threads a training step on `batch_images` images ran on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StepThreads {
    pub batch_images: usize,
    pub threads: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Versions {
    /// One version for all crates of the workspace (mnist, scratch, torchref, compare).
    pub workspace_crates: &'static str,
    pub libtorch: String,
    pub rustc: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct DatasetRecord {
    /// The `--dataset` value.
    name: mnist::DatasetName,
    pub title: &'static str,
    /// The name of each label, 0 to 9.
    pub classes: &'static [&'static str; contract::CLASSES],
    pub dir: PathBuf,
    pub train_images_used: usize,
    pub test_images: usize,
    checksums_verified: bool,
    pub files: Vec<FileRecord>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileRecord {
    name: String,
    path: PathBuf,
    /// Measured on the file read.
    sha256_of_content: String,
    /// What the dataset publishes (the content SHA-256 is not known for every dataset).
    expected_sha256_of_content: Option<&'static str>,
    published_gz_md5: &'static str,
    pub verified_by: mnist::Verification,
}

/// The `run.json` of the run in progress, while it says `running`. Every write of it holds
/// this lock, and so does a second stop signal while it marks the run `aborted` and ends the
/// process, so no write can land after that mark.
static LIVE: Mutex<Option<(PathBuf, RunRecord)>> = Mutex::new(None);

impl RunRecord {
    /// The record of a run starting now with `common` (the settings of `config`) on `data`
    /// (cut to `--limit`), status `running`.
    pub fn new(
        config: JobConfig,
        common: &Common,
        data: &mnist::Mnist,
        scratch_engine: Option<scratch::Engine>,
        started: &chrono::DateTime<chrono::Utc>,
    ) -> Self {
        RunRecord {
            status: RunEnd::Running,
            error: None,
            owner: sweep::Owner::this_process(),
            command_line: std::env::args().collect(),
            seed: common.seed,
            threads: common.threads,
            device: common.device.clone(),
            scratch_engine: scratch_engine.map(scratch::Engine::name),
            scratch_threads_per_step: Vec::new(),
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
                train_images_used: data.train.len(),
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
            config,
            started_at: started.to_rfc3339(),
            ended_at: None,
            models: Vec::new(),
            output_errors: Vec::new(),
        }
    }

    /// Ends the record: `end`, the time, and `error` if it failed.
    pub fn end(&mut self, end: RunEnd, error: Option<String>) {
        self.status = end;
        self.error = error;
        self.ended_at = Some(chrono::Utc::now().to_rfc3339());
    }

    /// Writes `folder/run.json`, and keeps it as the run in progress while it says `running`,
    /// with room reserved on disk for its last write ([`Reserve`]).
    pub fn write(&self, folder: &Path) -> Result<()> {
        let path = folder.join("run.json");
        let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
        if self.status == RunEnd::Running {
            write_json_atomically(&path, self)?;
            Reserve::keep(folder)?;
        } else {
            Reserve::release(folder);
            write_json_atomically(&path, self)?;
        }
        *live = (self.status == RunEnd::Running).then(|| (path, self.clone()));
        Ok(())
    }

    /// Ends the record `failed` with `error` and writes it; returns the error to report, which
    /// also says so when even `run.json` could not be written (a full disk, say).
    pub fn fail(&mut self, folder: &Path, error: anyhow::Error) -> anyhow::Error {
        self.end(RunEnd::Failed, Some(format!("{error:#}")));
        match self.write(folder) {
            Ok(()) => error,
            Err(unwritten) => anyhow::anyhow!(
                "{error:#}; run.json still says running, as it could not be marked failed: \
                 {unwritten:#}"
            ),
        }
    }
}

/// What a second stop signal found to mark.
pub enum Abort {
    /// The run in progress: its `run.json` now says `aborted`.
    Marked,
    /// No run in progress: its `run.json` had its end already (or none had started).
    NothingLive,
}

impl ListsOutputErrors for RunRecord {
    fn set_output_errors(&mut self, errors: Vec<OutputError>) {
        self.output_errors = errors;
    }

    fn write(&self, folder: &Path) -> Result<()> {
        RunRecord::write(self, folder)
    }
}

/// Marks the run in progress, if any, `aborted` by `signal` in its `run.json` (ended at once
/// by a second stop signal), then calls `then` with how that went, still holding the lock: `then` ends the
/// process, so that no write of `run.json` can follow the mark.
pub fn abort_live(signal: Signal, then: impl FnOnce(Result<Abort>)) {
    let live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
    let marked = match live.as_ref() {
        Some((path, record)) => {
            let mut record = record.clone();
            record.end(
                RunEnd::Aborted(signal),
                Some(format!(
                    "ended at once by a second stop signal ({})",
                    signal.name()
                )),
            );
            write_aborted(path, &record).map(|()| Abort::Marked)
        }
        None => Ok(Abort::NothingLive),
    };
    then(marked);
}

/// Room on disk for the last write of `run.json`, held in a hidden file of the run folder
/// while the run says `running`, and given back just before that write: a run that fills
/// the disk can still say `failed`.
struct Reserve;

impl Reserve {
    /// Twice the largest `run.json` (a few kB), as its atomic rewrite needs both at once.
    const BYTES: usize = 32 * 1024;

    /// `.run.json.PID@HOST.reserve`: a later run into the same `--out` tells a killed run's
    /// (`report::leftovers`).
    fn path(folder: &Path) -> PathBuf {
        folder.join(sweep::Owner::this_process().name(".run.json", "reserve"))
    }

    /// Writes the reserve, if it is not there yet (real bytes: a sparse file holds no room).
    fn keep(folder: &Path) -> Result<()> {
        let path = Reserve::path(folder);
        if !path.exists() {
            std::fs::write(&path, vec![0_u8; Reserve::BYTES])
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    }

    /// Frees the room for the last write; a reserve already gone is no error.
    fn release(folder: &Path) {
        let _ = std::fs::remove_file(Reserve::path(folder));
    }
}

/// An aborted `run.json` has always had its fields in alphabetical order (it was rewritten
/// through `serde_json::Value`); written the same way, it stays byte for byte as it was.
fn write_aborted(path: &Path, record: &RunRecord) -> Result<()> {
    if let Some(folder) = path.parent() {
        Reserve::release(folder);
    }
    let value: serde_json::Value = serde_json::from_str(&serde_json::to_string(record)?)?;
    write_json_atomically(path, &value)
}

/// The run folder's `run.json` of a multi-seed run: what ran, over which seeds, and what it
/// showed. Each seed's folder has its own [`RunRecord`] with versions, CPU and data.
#[derive(Debug, Serialize)]
pub struct SeedsRecord<R: Serialize> {
    /// `completed`, or `interrupted` with its `signal` (the seeds listed finished; the next
    /// one did not).
    #[serde(flatten)]
    pub status: RunEnd,
    pub command_line: Vec<String>,
    pub config: JobConfig,
    pub seeds: Vec<u64>,
    pub seed_folders: Vec<String>,
    /// The rows of `stats.csv` (`compare --seeds`) or `table.csv` (`compare table --seeds`).
    pub results: Vec<R>,
    pub gate_failures: Vec<String>,
    /// The outputs for CI that could not be written once the run had ended.
    pub output_errors: Vec<OutputError>,
}

impl<R: Serialize> SeedsRecord<R> {
    pub fn write(&self, folder: &Path) -> Result<()> {
        write_json_atomically(&folder.join("run.json"), self)
    }
}

impl<R: Serialize> ListsOutputErrors for SeedsRecord<R> {
    fn set_output_errors(&mut self, errors: Vec<OutputError>) {
        self.output_errors = errors;
    }

    fn write(&self, folder: &Path) -> Result<()> {
        SeedsRecord::write(self, folder)
    }
}

/// The mode the main thread, and so every thread it started, runs in; where it cannot be
/// read (not x86_64), subnormals are kept, as nothing changed the default.
pub fn subnormal_mode() -> subnormals::Mode {
    subnormals::current().unwrap_or(subnormals::Mode::Keep)
}

/// The CPU's model name as `/proc/cpuinfo` gives it.
pub fn cpu_model() -> String {
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
