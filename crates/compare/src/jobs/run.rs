//! `compare` (no subcommand, no `--seeds`): the models side by side in one run, the closing
//! table, the parity gate and the page.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use crate::config::{JobConfig, RunConfig};
use crate::execute::{execute, write_page, RunFolder};
use crate::exit::JobEnd;
use crate::gate::{failed_line, Verdict};
use crate::progress::Progress;
use crate::report::junit;
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
    let checks = gate::run_checks(config, &finished.contenders);
    let failures = gate::failures(&checks);
    terminal::print_gate(config.gated(), &failures);
    if let Some(path) = &common.junit {
        junit::write_gates(path, &checks)?;
    }
    let verdict = gate::run_verdict(config, &failures);
    let verdict_lines = verdict.as_ref().map(gate_lines).unwrap_or_default();
    let page = write_page(&finished, verdict, None)?;
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") {
        let markdown = terminal::step_summary(
            &finished.summaries,
            &finished.contenders,
            &finished.data,
            &verdict_lines,
            &page,
        );
        append(Path::new(&path), &markdown)?;
    }
    terminal::print_page(&page);
    Ok(JobEnd {
        run: finished.end,
        gate_failed: !failures.is_empty(),
    })
}

/// The gate's verdict as the terminal says it: each failure's line, or that it passed.
fn gate_lines(verdict: &Verdict) -> Vec<String> {
    if verdict.passed {
        vec!["parity gate: passed".to_owned()]
    } else {
        verdict.lines.iter().map(|l| failed_line(l)).collect()
    }
}

/// Appends `text` to the file at `path` (`$GITHUB_STEP_SUMMARY`, which other steps share).
fn append(path: &Path, text: &str) -> Result<()> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .with_context(|| format!("cannot append to $GITHUB_STEP_SUMMARY ({})", path.display()))
}
