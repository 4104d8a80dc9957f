//! `compare` (no subcommand, no `--seeds`): the models side by side in one run, the closing
//! table, the parity gate and the page.

use anyhow::Result;

use crate::config::{JobConfig, RunConfig};
use crate::execute::{execute, write_page, RunFolder};
use crate::exit::JobEnd;
use crate::gate::{interrupted_line, verdict_lines};
use crate::progress::Progress;
use crate::report::junit;
use crate::report::outputs::{Output, OutputErrors};
use crate::terminal::append_step_summary;
use crate::{gate, terminal};

pub fn run(config: &RunConfig) -> Result<JobEnd> {
    let common = &config.common;
    let specs = config.specs();
    let prepared = crate::prepare::prepare(common, &specs)?;
    let mut finished = execute(
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
    let stopped_by = finished.end.interrupted_by();
    let (checks, verdict, verdict_lines) = match stopped_by {
        Some(signal) => (Vec::new(), None, vec![interrupted_line(signal)]),
        None => {
            let checks = gate::run_checks(config, &finished.contenders);
            let failures = gate::failures(&checks);
            terminal::print_gate(config.gated(), &failures);
            let lines = verdict_lines(config.gated(), &failures);
            let verdict = gate::run_verdict(config, &failures);
            (checks, verdict, lines)
        }
    };
    let mut outputs = OutputErrors::default();
    if let Some(path) = &common.junit {
        outputs.write(Output::Junit, || {
            junit::write_gates(path, &checks, stopped_by)
        });
    }
    let page = write_page(&finished, verdict, None)?;
    outputs.write(Output::StepSummary, || {
        append_step_summary(|| {
            terminal::step_summary(
                &finished.summaries,
                &finished.contenders,
                &finished.data,
                &verdict_lines,
                &page,
            )
        })
    });
    outputs.record_in(&mut finished.record, &finished.folder)?;
    terminal::print_page(&page);
    Ok(JobEnd {
        run: finished.end,
        gate_failed: checks.iter().any(|c| !c.failures.is_empty()),
        outputs_failed: outputs.failed(),
    })
}
