//! The assignment's five experiments in one run, and `table.csv`: our test accuracy beside the
//! figure the assignment reported for the same setting; with `--seeds`, each experiment's mean,
//! spread and 95% interval, whether the assignment's figure falls inside it, and a plot per
//! experiment of test accuracy per epoch in a band over the seeds.

use anyhow::{Context, Result};
use serde::Serialize;
use sweep::SeedList;

use crate::config::{Common, JobConfig, Model, Optimizer, Spec, TableConfig};
use crate::execute::{execute, write_page, RunFolder};
use crate::exit::JobEnd;
use crate::progress::Progress;
use crate::report::junit;
use crate::report::outputs::{Output, OutputErrors};
use crate::report::page::ExtraTable;
use crate::report::tables::write_csv;
use crate::report::{plots, round};
use crate::seed_stats::{curves, ModelStats};
use crate::summary::SummaryRow;
use crate::terminal::{self, append_step_summary, SeedsTableLine, TableLine};

/// One experiment of the assignment and the test accuracy it reported.
struct Experiment {
    label: &'static str,
    implementation: Model,
    activation: contract::Activation,
    adam: bool,
    l2: f32,
    assignment_percent: f64,
}

const EXPERIMENTS: [Experiment; 5] = [
    Experiment {
        label: "scratch-sigmoid-sgd",
        implementation: Model::Scratch,
        activation: contract::Activation::Sigmoid,
        adam: false,
        l2: 0.0,
        assignment_percent: 79.66,
    },
    Experiment {
        label: "scratch-tanh-sgd",
        implementation: Model::Scratch,
        activation: contract::Activation::Tanh,
        adam: false,
        l2: 0.0,
        assignment_percent: 95.47,
    },
    Experiment {
        label: "scratch-relu-sgd",
        implementation: Model::Scratch,
        activation: contract::Activation::Relu,
        adam: false,
        l2: 0.0,
        assignment_percent: 96.94,
    },
    Experiment {
        label: "torchref-relu-adam",
        implementation: Model::Torchref,
        activation: contract::Activation::Relu,
        adam: true,
        l2: 0.0,
        assignment_percent: 97.4,
    },
    Experiment {
        label: "scratch-relu-sgd-l2",
        implementation: Model::Scratch,
        activation: contract::Activation::Relu,
        adam: false,
        l2: 0.8,
        assignment_percent: 94.28,
    },
];

/// The assignment's network.
const HIDDEN: [usize; 3] = [500, 250, 100];

#[derive(Serialize)]
struct TableRow {
    experiment: &'static str,
    implementation: &'static str,
    activation: contract::Activation,
    optimizer: &'static str,
    l2: f32,
    epochs_completed: usize,
    test_accuracy_percent: f64,
    assignment_test_accuracy_percent: f64,
    difference_points: f64,
    train_seconds_per_epoch: f64,
}

pub fn run(common: Common) -> Result<JobEnd> {
    let specs: Vec<Spec> = EXPERIMENTS
        .iter()
        .map(|e| Spec {
            label: e.label.to_owned(),
            implementation: e.implementation,
            config: contract::ModelConfig {
                hidden: HIDDEN.to_vec(),
                activation: e.activation,
                optimizer: common.optimizer(if e.adam {
                    Optimizer::Adam
                } else {
                    Optimizer::Sgd
                }),
                l2: e.l2,
            },
        })
        .collect();
    let seeds = common.seed_list();
    let config = JobConfig::Table(TableConfig {
        preset: "assignment-table",
        hidden: HIDDEN,
        common,
    });
    match seeds {
        Some(seeds) => over_seeds(&config, &specs, &seeds),
        None => once(config, specs),
    }
}

/// `compare table`: the five experiments in one run.
fn once(config: JobConfig, specs: Vec<Spec>) -> Result<JobEnd> {
    let common = config.common().context("a job that trains")?.clone();
    let prepared = crate::prepare::prepare(&common, &specs)?;
    let mut finished = execute(
        &prepared,
        config,
        specs,
        RunFolder::NewUnder(&common.out),
        &Progress::new(common.log_every),
    )?;
    let rows: Vec<TableRow> = EXPERIMENTS
        .iter()
        .zip(&finished.contenders)
        .map(|(e, c)| {
            let summary = SummaryRow::of(c);
            TableRow {
                experiment: e.label,
                implementation: e.implementation.name(),
                activation: summary.activation,
                optimizer: if e.adam { "adam" } else { "sgd" },
                l2: e.l2,
                epochs_completed: summary.epochs_completed,
                test_accuracy_percent: summary.final_test_accuracy_percent,
                assignment_test_accuracy_percent: e.assignment_percent,
                difference_points: round(
                    summary.final_test_accuracy_percent - e.assignment_percent,
                    2,
                ),
                train_seconds_per_epoch: summary.seconds_per_epoch,
            }
        })
        .collect();
    let csv = finished.folder.join("table.csv");
    write_csv(csv.clone(), &rows)?;
    let lines: Vec<TableLine<'_>> = rows
        .iter()
        .map(|row| TableLine {
            experiment: row.experiment,
            ours_percent: row.test_accuracy_percent,
            assignment_percent: row.assignment_test_accuracy_percent,
            difference_points: row.difference_points,
        })
        .collect();
    terminal::print_table(common.threads, &lines, &csv);
    let table = ExtraTable {
        caption: "The assignment's experiments: test accuracy after the last epoch".to_owned(),
        header: TableLine::HEADER.map(str::to_owned).to_vec(),
        rows: lines.iter().map(|line| line.cells().to_vec()).collect(),
    };
    let mut outputs = OutputErrors::default();
    if let Some(path) = &common.junit {
        let cases: Vec<(String, String)> = (lines.iter())
            .map(|line| figures(&TableLine::HEADER, &line.cells()))
            .collect();
        outputs.write(Output::Junit, || {
            junit::write_table(path, &cases, finished.end.interrupted_by())
        });
    }
    let page = write_page(&finished, None, Some(table))?;
    outputs.write(Output::StepSummary, || {
        append_step_summary(|| {
            let rows = lines.iter().map(|line| line.cells().to_vec()).collect();
            terminal::table_step_summary("", &TableLine::HEADER, rows, &page)
        })
    });
    outputs.record_in(&mut finished.record, &finished.folder)?;
    terminal::print_page(&page);
    Ok(JobEnd::ungated(finished.end, &outputs))
}

/// A JUnit case of the table: the experiment (the first cell), and its other cells under their
/// header as the case's output (`ours (%): 97.12; assignment (%): 96.94; ...`).
fn figures(header: &[&str], cells: &[String]) -> (String, String) {
    let named: Vec<String> = (header.iter().zip(cells).skip(1))
        .map(|(name, cell)| format!("{name}: {cell}"))
        .collect();
    (cells[0].clone(), named.join("; "))
}

/// One row of `table.csv` over several seeds.
#[derive(Serialize)]
struct SeedsTableRow {
    experiment: &'static str,
    implementation: &'static str,
    optimizer: &'static str,
    l2: f32,
    /// Seeds in which the experiment completed training.
    seeds: usize,
    mean_test_accuracy_percent: f64,
    /// Sample standard deviation over the seeds (divisor n − 1).
    sd_points: Option<f64>,
    min_test_accuracy_percent: f64,
    max_test_accuracy_percent: f64,
    /// 95% Student-t confidence interval of the mean.
    ci95_low_percent: Option<f64>,
    ci95_high_percent: Option<f64>,
    assignment_test_accuracy_percent: f64,
    /// Whether the assignment's figure lies inside the 95% interval.
    assignment_inside_ci95: Option<bool>,
    mean_minus_assignment_points: f64,
}

/// `compare table --seeds`: the five experiments once per seed, then their statistics.
fn over_seeds(config: &JobConfig, specs: &[Spec], seeds: &SeedList) -> Result<JobEnd> {
    let (folder, pooled, end) = crate::jobs::seeds::run_seeds(config, specs, seeds)?;
    let runs = pooled
        .as_ref()
        .map_or_else(Vec::new, crate::jobs::seeds::seed_runs);
    let mut rows = Vec::new();
    for e in &EXPERIMENTS {
        let stats = ModelStats::over(e.label, &runs)?;
        let Some(s) = stats.summary else {
            terminal::print_experiment_incomplete(e.label, &stats.incomplete, true);
            continue;
        };
        rows.push(SeedsTableRow {
            experiment: e.label,
            implementation: e.implementation.name(),
            optimizer: if e.adam { "adam" } else { "sgd" },
            l2: e.l2,
            seeds: s.n,
            mean_test_accuracy_percent: round(s.mean, 3),
            sd_points: s.sd.map(|sd| round(sd, 3)),
            min_test_accuracy_percent: round(s.min, 3),
            max_test_accuracy_percent: round(s.max, 3),
            ci95_low_percent: s.interval.map(|i| round(i.low, 3)),
            ci95_high_percent: s.interval.map(|i| round(i.high, 3)),
            assignment_test_accuracy_percent: e.assignment_percent,
            assignment_inside_ci95: s.interval.map(|i| i.contains(e.assignment_percent)),
            mean_minus_assignment_points: round(s.mean - e.assignment_percent, 2),
        });
        let reference = format!("assignment {:.2}%", e.assignment_percent);
        plots::seed_band_chart(
            &folder.join(format!("accuracy_over_seeds_{}.svg", e.label)),
            &format!("{}: test accuracy per epoch over {} seeds", e.label, s.n),
            &curves(&[e.label], &runs),
            Some((&reference, e.assignment_percent)),
        )?;
        if !stats.incomplete.is_empty() {
            terminal::print_experiment_incomplete(e.label, &stats.incomplete, false);
        }
    }
    let csv = folder.join("table.csv");
    write_csv(csv.clone(), &rows)?;
    let mut record = crate::jobs::seeds::seeds_record(config.clone(), end, &runs, rows, Vec::new());
    record.write(&folder)?;
    let lines: Vec<SeedsTableLine<'_>> = record
        .results
        .iter()
        .map(|row| SeedsTableLine {
            experiment: row.experiment,
            mean_percent: row.mean_test_accuracy_percent,
            sd_points: row.sd_points,
            interval: row.ci95_low_percent.zip(row.ci95_high_percent),
            assignment_percent: row.assignment_test_accuracy_percent,
            assignment_inside: row.assignment_inside_ci95,
        })
        .collect();
    terminal::print_table_over_seeds(&lines, &csv);
    let figures_files: Vec<String> = EXPERIMENTS
        .iter()
        .map(|e| format!("accuracy_over_seeds_{}.svg", e.label))
        .collect();
    let mut outputs = OutputErrors::default();
    if let Some(path) = &config.common().context("a job that trains")?.junit {
        let cases: Vec<(String, String)> = (lines.iter())
            .map(|line| figures(&SeedsTableLine::HEADER, &line.cells()))
            .collect();
        outputs.write(Output::Junit, || {
            junit::write_table(path, &cases, end.interrupted_by())
        });
    }
    let page = crate::jobs::seeds::write_over_seeds_page(
        &folder,
        &record,
        format!("The assignment's experiments over {} seeds", runs.len()),
        "table.csv",
        &figures_files,
        None,
    )?;
    outputs.write(Output::StepSummary, || {
        append_step_summary(|| {
            let rows = lines.iter().map(|line| line.cells().to_vec()).collect();
            let what = format!(" over {} seeds", runs.len());
            terminal::table_step_summary(&what, &SeedsTableLine::HEADER, rows, &page)
        })
    });
    outputs.record_in(&mut record, &folder)?;
    terminal::print_page(&page);
    Ok(JobEnd::ungated(end, &outputs))
}
