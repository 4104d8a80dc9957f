//! `compare`: trains the scratch MLP and the libtorch MLP on identical MNIST batches and writes
//! how they compare (CSV, run.json, SVG plots, a table on the terminal). Orchestration only: the
//! maths lives in the `scratch`, `torchref` and `mnist` crates.
//!
//! This file parses the flags, picks the job and maps how it ended to an exit code; the map
//! of the other files is in the crate's README.

mod bad_flag;
mod cli;
mod config;
mod data_home;
mod execute;
mod exit;
mod fingerprint;
mod gate;
mod jobs;
mod kinks;
mod pair;
mod parity_candidate;
mod parity_checks;
mod parity_verdict;
mod prepare;
mod progress;
mod record;
mod report;
mod seed_check;
mod seed_stats;
mod status;
mod stop;
mod summary;
mod terminal;
mod train;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use bad_flag::BadFlag;
use cli::{Cli, Command};
use exit::{JobEnd, EXIT_BAD_FLAG};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // First, before any thread starts or libtorch runs: threads take their floating-point
    // mode from the thread that starts them (tests/cli.rs checks both models' Adam state).
    set_subnormal_mode(cli.keep_subnormals);
    match run(cli) {
        Ok(end) => end.exit_code(),
        Err(error) => {
            eprintln!("error: {error:#}");
            if error.downcast_ref::<BadFlag>().is_some() {
                ExitCode::from(EXIT_BAD_FLAG)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Flushes subnormal floats to zero on this thread, and so on every thread it starts, unless
/// `keep` (`--keep-subnormals`). Where flushing is not available, says so and keeps them.
fn set_subnormal_mode(keep: bool) {
    let mode = if keep {
        subnormals::Mode::Keep
    } else {
        subnormals::Mode::FlushToZero
    };
    if let Err(error) = subnormals::set(mode) {
        eprintln!("warning: {error}; subnormal floats are kept");
    }
}

fn run(cli: Cli) -> Result<JobEnd> {
    match cli.command {
        Some(Command::Data(args)) => jobs::data::run(&args.into_config()),
        Some(Command::Table(args)) => jobs::table::run(args.into_table_config()?),
        Some(Command::Aggregate(args)) => jobs::aggregate::run(args.into_config()?),
        Some(Command::Parity(args)) => jobs::parity::run(&args.into_config()?),
        None => {
            let config = cli.run.into_config()?;
            match config.common.seed_list() {
                Some(seeds) => jobs::seeds::run(&config, &seeds),
                None => jobs::run::run(&config),
            }
        }
    }
}
