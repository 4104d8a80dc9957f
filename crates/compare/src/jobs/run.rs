//! `compare` (no subcommand, no `--seeds`): the models side by side in one run, the closing
//! table, the parity gate and the page.

use anyhow::Result;

use crate::config::{JobConfig, RunConfig};
use crate::execute::{execute, write_page, RunFolder};
use crate::exit::JobEnd;
use crate::progress::Progress;
use crate::{gate, terminal};

pub fn run(config: &RunConfig) -> Result<JobEnd> {
    let common = &config.common;
    let specs = config.specs();
    let prepared = crate::prepare::prepare(common, &specs)?;
    let finished = execute(
        &prepared,
        JobConfig::Run(config.clone()),
        specs,
        RunFolder::NewUnder(&common.out),
        &Progress::new(common.log_every),
    )?;
    terminal::print_side_by_side(
        &finished.summaries,
        &finished.contenders,
        &finished.data,
        &finished.folder,
        common.threads,
    );
    if finished.end.is_interrupted() {
        terminal::print_page(&write_page(&finished, None, None)?);
        return Ok(JobEnd::ungated(finished.end));
    }
    let failures = gate::run_failures(config, &finished.contenders);
    terminal::print_gate(config.gated(), &failures);
    let page = write_page(&finished, gate::run_verdict(config, &failures), None)?;
    terminal::print_page(&page);
    Ok(JobEnd {
        run: finished.end,
        gate_failed: !failures.is_empty(),
    })
}
