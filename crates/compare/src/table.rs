//! The assignment's five experiments in one run, and `table.csv`: our test accuracy beside the
//! figure the assignment reported for the same setting; with `--seeds`, each experiment's mean,
//! spread and 95% interval, whether the assignment's figure falls inside it, and a plot per
//! experiment of test accuracy per epoch in a band over the seeds.

use anyhow::Result;
use serde::Serialize;

use crate::cli::{CommonArgs, ModelArg};
use crate::report::round;
use crate::run::RunEnd;
use crate::session::{self, Outcome, Spec};

/// One experiment of the assignment and the test accuracy it reported.
struct Experiment {
    label: &'static str,
    implementation: ModelArg,
    activation: contract::Activation,
    adam: bool,
    l2: f32,
    assignment_percent: f64,
}

const EXPERIMENTS: [Experiment; 5] = [
    Experiment {
        label: "scratch-sigmoid-sgd",
        implementation: ModelArg::Scratch,
        activation: contract::Activation::Sigmoid,
        adam: false,
        l2: 0.0,
        assignment_percent: 79.66,
    },
    Experiment {
        label: "scratch-tanh-sgd",
        implementation: ModelArg::Scratch,
        activation: contract::Activation::Tanh,
        adam: false,
        l2: 0.0,
        assignment_percent: 95.47,
    },
    Experiment {
        label: "scratch-relu-sgd",
        implementation: ModelArg::Scratch,
        activation: contract::Activation::Relu,
        adam: false,
        l2: 0.0,
        assignment_percent: 96.94,
    },
    Experiment {
        label: "torchref-relu-adam",
        implementation: ModelArg::Torchref,
        activation: contract::Activation::Relu,
        adam: true,
        l2: 0.0,
        assignment_percent: 97.4,
    },
    Experiment {
        label: "scratch-relu-sgd-l2",
        implementation: ModelArg::Scratch,
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
    activation: String,
    optimizer: &'static str,
    l2: f32,
    epochs_completed: usize,
    test_accuracy_percent: f64,
    assignment_test_accuracy_percent: f64,
    difference_points: f64,
    train_seconds_per_epoch: f64,
}

#[derive(Clone, Serialize)]
struct TableConfig {
    preset: &'static str,
    hidden: [usize; 3],
    #[serde(flatten)]
    common: CommonArgs,
}

pub fn run(common: &CommonArgs) -> Result<Outcome> {
    common.validate()?;
    let specs: Vec<Spec> = EXPERIMENTS
        .iter()
        .map(|e| Spec {
            label: e.label.to_owned(),
            implementation: e.implementation,
            config: contract::ModelConfig {
                hidden: HIDDEN.to_vec(),
                activation: e.activation,
                optimizer: if e.adam {
                    contract::Optimizer::adam(common.lr)
                } else {
                    contract::Optimizer::Sgd { lr: common.lr }
                },
                l2: e.l2,
            },
        })
        .collect();
    let config = TableConfig {
        preset: "assignment-table",
        hidden: HIDDEN,
        common: common.clone(),
    };
    if let Some(seeds) = &common.seeds {
        return over_seeds(common, &config, &specs, &seeds.seeds(common.seed)?);
    }
    let finished = session::execute(common, &config, specs)?;
    let rows: Vec<TableRow> = EXPERIMENTS
        .iter()
        .zip(&finished.contenders)
        .map(|(e, c)| {
            let summary = c.summary();
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
    crate::report::write_csv(finished.folder.join("table.csv"), &rows)?;
    println!();
    println!("{}", session::machine_line(common.threads));
    println!(
        "{:<22} {:>12} {:>12} {:>10}",
        "experiment", "ours (%)", "assignment", "difference"
    );
    for row in &rows {
        println!(
            "{:<22} {:>12.2} {:>12.2} {:>+10.2}",
            row.experiment,
            row.test_accuracy_percent,
            row.assignment_test_accuracy_percent,
            row.difference_points
        );
    }
    println!("table: {}", finished.folder.join("table.csv").display());
    let table = crate::html::ExtraTable {
        caption: "The assignment's experiments: test accuracy after the last epoch".to_owned(),
        header: [
            "experiment",
            "ours (%)",
            "assignment (%)",
            "difference (points)",
        ]
        .map(str::to_owned)
        .to_vec(),
        rows: rows
            .iter()
            .map(|row| {
                vec![
                    row.experiment.to_owned(),
                    format!("{:.2}", row.test_accuracy_percent),
                    format!("{:.2}", row.assignment_test_accuracy_percent),
                    format!("{:+.2}", row.difference_points),
                ]
            })
            .collect(),
    };
    session::print_page(&session::write_page(&finished, None, Some(table))?);
    Ok(match finished.end {
        RunEnd::Completed => Outcome::Success,
        RunEnd::Interrupted => Outcome::Interrupted,
    })
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
fn over_seeds(
    common: &CommonArgs,
    config: &TableConfig,
    specs: &[Spec],
    seeds: &[u64],
) -> Result<Outcome> {
    let with_seed = |config: &TableConfig, common: CommonArgs| TableConfig {
        common,
        ..config.clone()
    };
    let (folder, runs, end) = crate::seeds::run_seeds(common, config, with_seed, specs, seeds)?;
    let mut rows = Vec::new();
    for e in &EXPERIMENTS {
        let stats = crate::seeds::ModelStats::over(e.label, &runs)?;
        let Some(s) = stats.summary else {
            eprintln!("{}: completed no seed", e.label);
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
        let curves = crate::seeds::curves(&[e.label], &runs);
        let reference = format!("assignment {:.2}%", e.assignment_percent);
        crate::plots::seed_band_chart(
            &folder.join(format!("accuracy_over_seeds_{}.svg", e.label)),
            &format!("{}: test accuracy per epoch over {} seeds", e.label, s.n),
            &curves,
            Some((&reference, e.assignment_percent)),
        )?;
        if !stats.incomplete.is_empty() {
            eprintln!("{} did not complete seeds {:?}", e.label, stats.incomplete);
        }
    }
    crate::report::write_csv(folder.join("table.csv"), &rows)?;
    crate::seeds::write_record(&folder, end, config, &runs, &rows, &[])?;
    println!();
    println!(
        "{:<22} {:>16} {:>18} {:>11} {:>8}",
        "experiment", "mean ± sd (%)", "95% interval", "assignment", "inside"
    );
    for row in &rows {
        let interval = match (row.ci95_low_percent, row.ci95_high_percent) {
            (Some(low), Some(high)) => format!("[{low:.2}, {high:.2}]"),
            _ => "-".to_owned(),
        };
        println!(
            "{:<22} {:>16} {:>18} {:>11.2} {:>8}",
            row.experiment,
            format!(
                "{:.2} ± {:.2}",
                row.mean_test_accuracy_percent,
                row.sd_points.unwrap_or(f64::NAN)
            ),
            interval,
            row.assignment_test_accuracy_percent,
            match row.assignment_inside_ci95 {
                Some(true) => "yes",
                Some(false) => "no",
                None => "-",
            }
        );
    }
    println!("table: {}", folder.join("table.csv").display());
    let figures: Vec<String> = EXPERIMENTS
        .iter()
        .map(|e| format!("accuracy_over_seeds_{}.svg", e.label))
        .collect();
    session::print_page(&crate::seeds::write_page(
        &folder,
        format!("The assignment's experiments over {} seeds", runs.len()),
        common.data.dataset,
        "table.csv",
        &figures,
        None,
    )?);
    Ok(match end {
        RunEnd::Completed => Outcome::Success,
        RunEnd::Interrupted => Outcome::Interrupted,
    })
}
