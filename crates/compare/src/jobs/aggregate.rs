//! `compare aggregate DIR...`: seed folders from any number of shards or machines pooled into
//! one new run folder with the same reports, statistics and gate as a `compare --seeds` run
//! of those seeds (`jobs::seeds::report_over_seeds` writes both). The pooling rules are the
//! `sweep` crate's: one fingerprint for all, a seed found twice counts once if it computed
//! the same, `--expect` names the missing seeds, and the order of the folders does not matter.
//! The run folder is complete or absent: written under a temporary name, checked against the
//! seeds (each still there with the result pooled), then renamed, so that a seed vanishing
//! or changing while it is read leaves no folder behind.

use anyhow::{Context, Result};

use crate::config::{AggregateConfig, JobConfig};
use crate::exit::JobEnd;
use crate::jobs::seeds::{pool, show_over_seeds, write_over_seeds};
use crate::report::files::StagedFolder;
use crate::status::RunEnd;
use crate::terminal;

pub fn run(mut config: AggregateConfig) -> Result<JobEnd> {
    let expect = config
        .expect
        .as_ref()
        .map(|spec| spec.seeds(config.seed))
        .transpose()
        .context("--expect")?;
    let pooled = pool(&config.folders, expect.as_ref()).context("cannot pool the seed folders")?;
    terminal::print_pool_notes(&pooled.incomplete, &pooled.outside_expected);
    crate::prepare::remove_stale(&config.out);
    let staged = StagedFolder::create(&config.out, &chrono::Utc::now())?;
    config.pooled = Some(pooled.fingerprint.config.clone());
    let gate = config.gate;
    let margin = config.equivalence_margin;
    let junit = config.junit.clone();
    let job = JobConfig::Aggregate(config);
    let written = write_over_seeds(
        staged.path(),
        job,
        &pooled,
        &gate,
        margin,
        RunEnd::Completed,
    )?;
    pooled
        .check_unchanged()
        .context("the seed folders changed while they were pooled")?;
    let folder = staged.publish()?;
    show_over_seeds(&folder, written, &gate, junit.as_deref())
}
