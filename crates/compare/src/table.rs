//! The assignment's five experiments in one run, and `table.csv`: our test accuracy beside the
//! figure the assignment reported for the same setting.

use anyhow::Result;
use serde::Serialize;

use crate::cli::{CommonArgs, ModelArg};
use crate::session::{self, Outcome, Spec};

/// One experiment of the assignment and the test accuracy it reported.
struct Experiment {
    label: &'static str,
    implementation: ModelArg,
    activation: mnist::Activation,
    adam: bool,
    l2: f32,
    assignment_percent: f64,
}

const EXPERIMENTS: [Experiment; 5] = [
    Experiment {
        label: "scratch-sigmoid-sgd",
        implementation: ModelArg::Scratch,
        activation: mnist::Activation::Sigmoid,
        adam: false,
        l2: 0.0,
        assignment_percent: 79.66,
    },
    Experiment {
        label: "scratch-tanh-sgd",
        implementation: ModelArg::Scratch,
        activation: mnist::Activation::Tanh,
        adam: false,
        l2: 0.0,
        assignment_percent: 95.47,
    },
    Experiment {
        label: "scratch-relu-sgd",
        implementation: ModelArg::Scratch,
        activation: mnist::Activation::Relu,
        adam: false,
        l2: 0.0,
        assignment_percent: 96.94,
    },
    Experiment {
        label: "torchref-relu-adam",
        implementation: ModelArg::Torchref,
        activation: mnist::Activation::Relu,
        adam: true,
        l2: 0.0,
        assignment_percent: 97.4,
    },
    Experiment {
        label: "scratch-relu-sgd-l2",
        implementation: ModelArg::Scratch,
        activation: mnist::Activation::Relu,
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

#[derive(Serialize)]
struct TableConfig<'a> {
    preset: &'static str,
    hidden: [usize; 3],
    #[serde(flatten)]
    common: &'a CommonArgs,
}

pub fn run(common: &CommonArgs) -> Result<Outcome> {
    common.validate()?;
    let specs = EXPERIMENTS
        .iter()
        .map(|e| Spec {
            label: e.label.to_owned(),
            implementation: e.implementation,
            config: mnist::ModelConfig {
                hidden: HIDDEN.to_vec(),
                activation: e.activation,
                optimizer: if e.adam {
                    mnist::Optimizer::adam(common.lr)
                } else {
                    mnist::Optimizer::Sgd { lr: common.lr }
                },
                l2: e.l2,
            },
        })
        .collect();
    let config = TableConfig {
        preset: "assignment-table",
        hidden: HIDDEN,
        common,
    };
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
                difference_points: crate::report::round(
                    summary.final_test_accuracy_percent - e.assignment_percent,
                    2,
                ),
                train_seconds_per_epoch: summary.seconds_per_epoch,
            }
        })
        .collect();
    crate::report::write_csv(finished.folder.join("table.csv"), &rows)?;
    println!();
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
    Ok(match finished.end {
        crate::run::RunEnd::Completed => Outcome::Success,
        crate::run::RunEnd::Interrupted => Outcome::Interrupted,
    })
}
