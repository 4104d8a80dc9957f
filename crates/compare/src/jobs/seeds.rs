//! `compare --seeds`: the whole comparison once per seed, one seed after the other on data
//! loaded once, each seed in its own subfolder of the usual reports. The run folder adds
//! `seeds.csv`, `stats.csv` (mean, spread and 95% interval per model and of the paired
//! difference), the equivalence verdict, `accuracy_over_seeds.svg`, and the parity gate on
//! intervals. [`run_seeds`] serves `compare table --seeds` too.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use crate::config::{JobConfig, RunConfig, Spec};
use crate::execute::{execute, write_page, RunFolder};
use crate::exit::JobEnd;
use crate::gate::{self, Verdict};
use crate::pair::compared_pair;
use crate::progress::Progress;
use crate::record::SeedsRecord;
use crate::report::files::create_run_folder;
use crate::report::page::{write_seeds_page, ExtraTable, SeedsPage};
use crate::report::plots;
use crate::report::tables::write_csv;
use crate::seed_stats::{curves, seed_rows, ModelStats, PairStats, SeedRun, StatsRow};
use crate::status::RunEnd;
use crate::terminal;

/// Runs `specs` once per seed under a new run folder. Returns the folder, the seeds that
/// finished, and how the whole run ended (interrupted: the seed under way is left out).
pub fn run_seeds(
    config: &JobConfig,
    specs: &[Spec],
    seeds: &[u64],
) -> Result<(PathBuf, Vec<SeedRun>, RunEnd)> {
    let common = config.common();
    let prepared = crate::prepare::prepare(common, specs)?;
    if !common.shuffle {
        terminal::print_unshuffled_seeds_note();
    }
    let folder = create_run_folder(&common.out, &chrono::Utc::now())?;
    let mut runs = Vec::with_capacity(seeds.len());
    for (index, &seed) in seeds.iter().enumerate() {
        let progress = Progress::for_seed(common.log_every, index + 1, seeds.len());
        let finished = execute(
            &prepared,
            config.for_seed(seed),
            specs.to_vec(),
            RunFolder::Exactly(folder.join(format!("seed-{seed}"))),
            &progress,
        )?;
        write_page(&finished, None, None)?;
        if finished.end.is_interrupted() {
            return Ok((folder, runs, finished.end));
        }
        terminal::print_seed_done(index + 1, seeds.len(), seed, &finished.summaries);
        runs.push(SeedRun {
            seed,
            summaries: finished.summaries,
            epochs: finished
                .contenders
                .iter()
                .flat_map(|c| c.history.iter().cloned())
                .collect(),
        });
    }
    Ok((folder, runs, RunEnd::Completed))
}

/// `compare --seeds`: the comparison per seed, then the statistics and the gate.
pub fn run(config: &RunConfig, seeds: &[u64]) -> Result<JobEnd> {
    let specs = config.specs();
    let labels: Vec<&str> = specs.iter().map(|s| s.label.as_str()).collect();
    let job = JobConfig::Run(config.clone());
    let (folder, runs, end) = run_seeds(&job, &specs, seeds)?;

    write_csv(folder.join("seeds.csv"), &seed_rows(&runs))?;
    let models: Vec<ModelStats> = labels
        .iter()
        .map(|label| ModelStats::over(label, &runs))
        .collect::<Result<_>>()?;
    let difference = compared_pair(&labels)
        .map(|(first, second)| {
            PairStats::over(
                labels[first],
                labels[second],
                &runs,
                config.equivalence_margin,
            )
        })
        .transpose()?;
    let mut rows: Vec<StatsRow> = models.iter().filter_map(ModelStats::row).collect();
    rows.extend(difference.as_ref().and_then(PairStats::row));
    write_csv(folder.join("stats.csv"), &rows)?;
    plots::seed_band_chart(
        &folder.join("accuracy_over_seeds.svg"),
        &format!("Test accuracy per epoch over {} seeds", runs.len()),
        &curves(&labels, &runs),
        None,
    )?;

    terminal::print_stats(&models, difference.as_ref());
    let failures = match end {
        RunEnd::Completed => gate::seeds_failures(config, &models, difference.as_ref()),
        _ => Vec::new(),
    };
    let record = seeds_record(job, end, &runs, rows, failures);
    record.write(&folder)?;
    terminal::print_reports(&folder);
    let page = write_over_seeds_page(
        &folder,
        &record,
        format!("{} over {} seeds", labels.join(" vs "), runs.len()),
        "stats.csv",
        &["accuracy_over_seeds.svg".to_owned()],
        gate::seeds_verdict(config, &record.gate_failures),
    )?;
    if end == RunEnd::Completed {
        terminal::print_gate(config.gated(), &record.gate_failures);
    }
    terminal::print_page(&page);
    Ok(JobEnd {
        run: end,
        gate_failed: !record.gate_failures.is_empty(),
    })
}

/// The run folder's `run.json` of the seeds that ran, with `results` (rows of stats.csv or
/// table.csv).
pub fn seeds_record<R: Serialize>(
    config: JobConfig,
    end: RunEnd,
    runs: &[SeedRun],
    results: Vec<R>,
    gate_failures: Vec<String>,
) -> SeedsRecord<R> {
    SeedsRecord {
        status: end,
        command_line: std::env::args().collect(),
        config,
        seeds: runs.iter().map(|r| r.seed).collect(),
        seed_folders: runs.iter().map(|r| format!("seed-{}", r.seed)).collect(),
        results,
        gate_failures,
    }
}

/// Writes the multi-seed run's `report.html` from its record, the statistics in `csv` and
/// the band plots `figures` (files in `folder`); returns its path.
pub fn write_over_seeds_page<R: Serialize>(
    folder: &Path,
    record: &SeedsRecord<R>,
    what: String,
    csv: &str,
    figures: &[String],
    gate: Option<Verdict>,
) -> Result<PathBuf> {
    write_seeds_page(&SeedsPage {
        folder,
        record,
        title: format!("{what} on {}", record.config.common().data.dataset.title()),
        stats: ExtraTable::from_csv(&format!("Over the seeds ({csv})"), &folder.join(csv))?,
        figures,
        gate,
    })
}
