//! The files a job writes for CI once its `run.json` has its end: `--junit` and the
//! `$GITHUB_STEP_SUMMARY` Markdown. One that cannot be written (a read-only or missing
//! folder, a directory in its place, a full disk) does not stop the others: stderr names it,
//! `run.json` lists it under `output_errors`, and the job exits 1 unless a gate failed, which
//! stays exit 3 (`exit::JobEnd`).

use std::path::Path;

use anyhow::Result;
use serde::Serialize;

/// A file written for CI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// `--junit FILE`.
    Junit,
    /// The file `$GITHUB_STEP_SUMMARY` names.
    StepSummary,
}

/// One that could not be written, as `run.json` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputError {
    pub output: Output,
    /// The error, as stderr said it (the path, and the system's reason).
    pub error: String,
}

/// A record that lists the outputs that could not be written, and writes itself again.
pub trait ListsOutputErrors {
    fn set_output_errors(&mut self, errors: Vec<OutputError>);
    fn write(&self, folder: &Path) -> Result<()>;
}

/// The outputs of one job that could not be written.
#[derive(Debug, Default)]
pub struct OutputErrors(Vec<OutputError>);

impl OutputErrors {
    /// Writes `output` with `write`; an error is said on stderr and kept.
    pub fn write(&mut self, output: Output, write: impl FnOnce() -> Result<()>) {
        if let Err(error) = write() {
            eprintln!("error: {error:#}");
            self.0.push(OutputError {
                output,
                error: format!("{error:#}"),
            });
        }
    }

    pub fn failed(&self) -> bool {
        !self.0.is_empty()
    }

    /// Lists the errors, if any, in `record`, written again into `folder`.
    pub fn record_in(&self, record: &mut impl ListsOutputErrors, folder: &Path) -> Result<()> {
        if self.failed() {
            record.set_output_errors(self.0.clone());
            record.write(folder)?;
        }
        Ok(())
    }
}
