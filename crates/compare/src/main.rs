//! `compare`: trains the scratch MLP and the libtorch MLP on identical MNIST batches and writes
//! how they compare (CSV, run.json, SVG plots, a table on the terminal). Orchestration only: the
//! maths lives in the `scratch`, `torchref` and `mnist` crates.

mod cli;
mod pair;
mod plots;
mod progress;
mod report;
mod run;
mod seeds;
mod session;
mod table;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use cli::{Cli, Command};

/// Exit code when the parity gate (`--max-accuracy-gap`, `--min-accuracy`) fails: distinct
/// from 1, a crash or bad input.
const EXIT_GATE_FAILED: u8 = 3;
/// Exit code after Ctrl-C, as a shell reports a process ended by SIGINT.
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Data(args)) => {
            let data = session::load_data(&args)?;
            println!("MNIST files verified in {}", data.dir.display());
            for file in &data.files {
                println!("  {}  sha256 {}", file.name, file.sha256);
            }
            Ok(session::Outcome::Success)
        }
        Some(Command::Table(common)) => table::run(&common),
        None => session::compare(&cli.run),
    }
    .map(|outcome| match outcome {
        session::Outcome::Success => ExitCode::SUCCESS,
        session::Outcome::GateFailed => ExitCode::from(EXIT_GATE_FAILED),
        session::Outcome::Interrupted => ExitCode::from(EXIT_INTERRUPTED),
    })
}
