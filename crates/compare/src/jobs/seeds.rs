//! `compare --seeds`: the whole comparison once per seed, one seed after the other on data
//! loaded once, each seed in its own `seed-N` folder of the usual reports, complete or absent
//! (written as `seed-N.partial`, renamed with its `seed.json` when it ends). The run folder
//! adds `seeds.csv`, `stats.csv` (mean, spread and 95% interval per model and of the paired
//! difference), the equivalence verdict, `accuracy_over_seeds.svg`, and the parity gate on
//! intervals, made from the seed folders as `compare aggregate` makes them.
//!
//! With `--shard I/N` (or `slurm`) only this shard's seeds run, directly into `--out`, and
//! nothing is pooled: `compare aggregate` does that once every shard is done. With `--shard`
//! or `--resume`, seeds already complete in `--out` with the same fingerprint are skipped.
//! [`run_seeds`] serves `compare table --seeds` too.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use sweep::{merge, FolderError, Merged, SeedList, Shard, Start, SweepFolder};

use crate::bad_flag::BadFlag;
use crate::config::SeedSettings;
use crate::config::{JobConfig, RunConfig, SeedsGate, Spec};
use crate::execute::{execute, write_page, RunFolder};
use crate::exit::JobEnd;
use crate::fingerprint::fingerprint;
use crate::gate::{self, interrupted_line, verdict_lines, Verdict};
use crate::pair::compared_pair;
use crate::progress::Progress;
use crate::record::SeedsRecord;
use crate::report::files::create_run_folder;
use crate::report::junit;
use crate::report::outputs::{Output, OutputErrors};
use crate::report::page::{write_seeds_page, ExtraTable, SeedsPage};
use crate::report::plots;
use crate::report::tables::write_csv;
use crate::seed_check::check_against_epochs;
use crate::seed_stats::{curves, seed_rows, ModelStats, PairStats, SeedResult, SeedRun, StatsRow};
use crate::status::RunEnd;
use crate::terminal::{self, append_step_summary};

/// Seed folders pooled from one folder or many.
pub type Pooled = Merged<SeedSettings, SeedResult>;

/// Runs `specs` once per seed of this shard (all of `seeds` without `--shard`), into a new run
/// folder or, with `--shard` or `--resume`, into `--out` itself, skipping seeds complete there
/// with the same fingerprint. Returns the folder, this shard's complete seeds as read back
/// from their folders (`None` if there are none), and how the run ended (interrupted: the
/// seed under way stays `.partial`).
pub fn run_seeds(
    config: &JobConfig,
    specs: &[Spec],
    seeds: &SeedList,
) -> Result<(PathBuf, Option<Pooled>, RunEnd)> {
    let common = config.common().context("a job that trains")?;
    let shard = match &common.shard {
        Some(spec) => spec
            .resolve(|name| std::env::var(name).ok())
            .map_err(|error| BadFlag(format!("--shard: {error}")))?,
        None => Shard::WHOLE,
    };
    let Some(mine) = shard.select(seeds) else {
        terminal::print_shard_empty(&shard, seeds.len());
        return Ok((common.out.clone(), None, RunEnd::Completed));
    };
    let prepared = crate::prepare::prepare(common, specs)?;
    if !common.shuffle {
        terminal::print_unshuffled_seeds_note();
    }
    let folder = if common.seeds_into_out() {
        common.out.clone()
    } else {
        create_run_folder(&common.out, &chrono::Utc::now())?
    };
    let print = fingerprint(common, specs, &prepared);
    let sweep = SweepFolder::new(&folder);
    let plan = sweep
        .plan::<SeedSettings, SeedResult>(mine.as_slice(), &print)
        .map_err(|error| match error {
            FolderError::Fingerprint { .. } => anyhow::Error::new(BadFlag(format!(
                "--out: {error}; give another --out, or the settings it was made with"
            ))),
            other => anyhow::Error::new(other),
        })?;
    terminal::print_seed_plan(&shard, &mine, seeds.len(), &plan);
    let mut end = RunEnd::Completed;
    for (index, &seed) in plan.run.iter().enumerate() {
        let progress = Progress::for_seed(common.log_every, index + 1, plan.run.len());
        let partial = match sweep.start(seed)? {
            Start::Run(partial) => partial,
            Start::Running(owner) => {
                terminal::print_seed_taken(seed, owner.as_ref());
                continue;
            }
            Start::Completed => {
                terminal::print_seed_completed_meanwhile(seed);
                continue;
            }
        };
        let finished = execute(
            &prepared,
            config.for_seed(seed),
            specs.to_vec(),
            RunFolder::Exactly(partial.dir().to_owned()),
            &progress,
        )?;
        write_page(&finished, None, None)?;
        if finished.end.is_interrupted() {
            end = finished.end;
            break;
        }
        let per_epoch = finished
            .contenders
            .iter()
            .map(|c| {
                c.history
                    .iter()
                    .map(|row| row.test_accuracy_percent)
                    .collect()
            })
            .collect();
        let result = SeedResult::new(&finished.summaries, per_epoch);
        partial.complete(&print, &result)?;
        terminal::print_seed_done(index + 1, plan.run.len(), seed, &finished.summaries);
    }
    let complete: Vec<u64> = mine
        .as_slice()
        .iter()
        .copied()
        .filter(|&seed| sweep.seed_dir(seed).exists())
        .collect();
    let pooled = SeedList::new(complete)
        .map(|complete| pool(std::slice::from_ref(&folder), Some(&complete)))
        .transpose()?;
    Ok((folder, pooled, end))
}

/// Pools the seed folders under `places` (with `expect`: exactly those seeds, in its order).
/// The same seed twice counts once if it computed the same, whatever it took. Each result
/// must match its checksum and each folder's `epochs.csv`.
pub fn pool(places: &[PathBuf], expect: Option<&SeedList>) -> Result<Pooled> {
    let pooled = merge(places, expect, SeedResult::same_outcome)?;
    for seed in &pooled.seeds {
        for folder in &seed.folders {
            check_against_epochs(seed.seed, folder, &seed.result)?;
        }
    }
    Ok(pooled)
}

/// The pooled seeds as statistics take them.
pub fn seed_runs(pooled: &Pooled) -> Vec<SeedRun> {
    pooled
        .seeds
        .iter()
        .map(|s| SeedRun {
            seed: s.seed,
            result: s.result.clone(),
        })
        .collect()
}

/// `compare --seeds`: the comparison per seed, then the statistics and the gate; with
/// `--shard`, only this shard's seeds.
pub fn run(config: &RunConfig, seeds: &SeedList) -> Result<JobEnd> {
    let job = JobConfig::Run(config.clone());
    let (folder, pooled, end) = run_seeds(&job, &config.specs(), seeds)?;
    let junit = config.common.junit.as_deref();
    // Without statistics there is no gate: the JUnit file still says whether a signal
    // stopped the run.
    let ungated = |end: RunEnd| -> Result<JobEnd> {
        let mut outputs = OutputErrors::default();
        if let Some(path) = junit {
            outputs.write(Output::Junit, || {
                junit::write_gates(path, &[], end.interrupted_by())
            });
        }
        Ok(JobEnd::ungated(end, &outputs))
    };
    if let (Some(_), Some(spec)) = (&config.common.shard, &config.common.seeds) {
        terminal::print_shard_done(&folder, spec, config.common.seed);
        return ungated(end);
    }
    let Some(pooled) = pooled else {
        terminal::print_no_seed_complete();
        return ungated(end);
    };
    report_over_seeds(
        &folder,
        job,
        &pooled,
        &config.gate(),
        config.equivalence_margin,
        end,
        junit,
    )
}

/// Writes `seeds.csv`, `stats.csv`, `accuracy_over_seeds.svg`, `run.json` and `report.html`
/// of the `pooled` seeds into `folder`, prints the statistics and applies `gate` (on a
/// completed run), writing its cases to `junit` and its summary to `$GITHUB_STEP_SUMMARY`:
/// what `compare --seeds` and `compare aggregate` both end with ([`write_over_seeds`], then
/// [`show_over_seeds`]).
pub fn report_over_seeds(
    folder: &Path,
    job: JobConfig,
    pooled: &Pooled,
    gate: &SeedsGate,
    margin: f64,
    end: RunEnd,
    junit: Option<&Path>,
) -> Result<JobEnd> {
    let written = write_over_seeds(folder, job, pooled, gate, margin, end)?;
    show_over_seeds(folder, written, gate, junit)
}

/// The statistics over the pooled seeds and the gate's checks on them, written into their
/// run folder (its CSVs, plot and `run.json`), not yet shown.
pub struct OverSeeds {
    models: Vec<ModelStats>,
    difference: Option<PairStats>,
    checks: Vec<gate::GateCheck>,
    record: SeedsRecord<StatsRow>,
    what: String,
}

/// Writes `seeds.csv`, `stats.csv`, `accuracy_over_seeds.svg` and `run.json` of the
/// `pooled` seeds into `folder`, prints the statistics, and applies `gate` on a completed run.
pub fn write_over_seeds(
    folder: &Path,
    job: JobConfig,
    pooled: &Pooled,
    gate: &SeedsGate,
    margin: f64,
    end: RunEnd,
) -> Result<OverSeeds> {
    let labels = pooled.fingerprint.config.labels();
    let labels = labels.as_slice();
    let runs = &seed_runs(pooled)[..];
    write_csv(folder.join("seeds.csv"), &seed_rows(runs))?;
    let models: Vec<ModelStats> = labels
        .iter()
        .map(|label| ModelStats::over(label, runs))
        .collect::<Result<_>>()?;
    let difference = compared_pair(labels)
        .map(|(first, second)| PairStats::over(labels[first], labels[second], runs, margin))
        .transpose()?;
    let mut rows: Vec<StatsRow> = models.iter().filter_map(ModelStats::row).collect();
    rows.extend(difference.as_ref().and_then(PairStats::row));
    write_csv(folder.join("stats.csv"), &rows)?;
    plots::seed_band_chart(
        &folder.join("accuracy_over_seeds.svg"),
        &format!("Test accuracy per epoch over {} seeds", runs.len()),
        &curves(labels, runs),
        None,
    )?;

    terminal::print_stats(&models, difference.as_ref());
    let checks = match end {
        RunEnd::Completed => gate::seeds_checks(gate, &models, difference.as_ref()),
        _ => Vec::new(),
    };
    let mut record = seeds_record(job, end, runs, rows, gate::failures(&checks));
    record.seed_folders = pooled
        .seeds
        .iter()
        .map(|s| seed_folder_link(folder, &s.folders[0]))
        .collect::<Result<_>>()?;
    record.write(folder)?;
    Ok(OverSeeds {
        what: format!("{} over {} seeds", labels.join(" vs "), runs.len()),
        models,
        difference,
        checks,
        record,
    })
}

/// Shows what [`write_over_seeds`] wrote into `folder`: its page, the gate's verdict, the
/// JUnit cases in `junit` and the `$GITHUB_STEP_SUMMARY`.
pub fn show_over_seeds(
    folder: &Path,
    written: OverSeeds,
    gate: &SeedsGate,
    junit: Option<&Path>,
) -> Result<JobEnd> {
    let OverSeeds {
        models,
        difference,
        checks,
        mut record,
        what,
    } = written;
    let end = record.status;
    terminal::print_reports(folder);
    let page = write_over_seeds_page(
        folder,
        &record,
        what.clone(),
        "stats.csv",
        &["accuracy_over_seeds.svg".to_owned()],
        gate::seeds_verdict(gate, &record.gate_failures),
    )?;
    let verdict = match end.interrupted_by() {
        Some(signal) => vec![interrupted_line(signal)],
        None => {
            terminal::print_gate(gate.gated(), &record.gate_failures);
            verdict_lines(gate.gated(), &record.gate_failures)
        }
    };
    let mut outputs = OutputErrors::default();
    if let Some(path) = junit {
        outputs.write(Output::Junit, || {
            junit::write_gates(path, &checks, end.interrupted_by())
        });
    }
    outputs.write(Output::StepSummary, || {
        append_step_summary(|| {
            terminal::seeds_step_summary(&what, &models, difference.as_ref(), &verdict, &page)
        })
    });
    outputs.record_in(&mut record, folder)?;
    terminal::print_page(&page);
    Ok(JobEnd {
        run: end,
        gate_failed: !record.gate_failures.is_empty(),
        outputs_failed: outputs.failed(),
    })
}

/// How the page of `folder` links to the seed folder `seed`: by its name when it lies in
/// `folder`, else by its absolute path.
fn seed_folder_link(folder: &Path, seed: &Path) -> Result<String> {
    if seed.parent() == Some(folder) {
        if let Some(name) = seed.file_name() {
            return Ok(name.to_string_lossy().into_owned());
        }
    }
    let absolute = seed
        .canonicalize()
        .with_context(|| format!("cannot find {}", seed.display()))?;
    Ok(absolute.display().to_string())
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
        output_errors: Vec::new(),
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
    let dataset = record
        .config
        .dataset()
        .map_or("MNIST-format data", mnist::DatasetName::title);
    write_seeds_page(&SeedsPage {
        folder,
        record,
        title: format!("{what} on {dataset}"),
        stats: ExtraTable::from_csv(&format!("Over the seeds ({csv})"), &folder.join(csv))?,
        figures,
        gate,
    })
}
