//! `compare`: trains the scratch MLP and the libtorch MLP on identical MNIST batches and writes
//! how they compare (CSV, run.json, SVG plots, a table on the terminal). Orchestration only: the
//! maths lives in the `scratch`, `torchref` and `mnist` crates.

mod cli;
mod data_home;
mod gradient_parity;
mod html;
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

use cli::{BadFlag, Cli, Command};

/// Exit code when a flag's value is impossible (as clap's own exit code for unknown flags
/// and values of the wrong type).
const EXIT_BAD_FLAG: u8 = 2;
/// Exit code when a gate fails (`--max-accuracy-gap`, `--min-accuracy`, or `compare parity`'s
/// bound): distinct from 1, a crash or bad input.
const EXIT_GATE_FAILED: u8 = 3;
/// Exit code after Ctrl-C, as a shell reports a process ended by SIGINT.
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // First, before any thread starts or libtorch runs: threads take their floating-point
    // mode from the thread that starts them (tests/cli.rs checks both models' Adam state).
    set_subnormal_mode(cli.keep_subnormals);
    match run(cli) {
        Ok(code) => code,
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

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Some(Command::Data(args)) => {
            let data = session::load_data(&args)?;
            let title = data.dataset.title();
            if args.no_checksums {
                println!(
                    "{title}-format files found (checksums off) in {}",
                    data.dir.display()
                );
            } else {
                println!("{title} files verified in {}", data.dir.display());
            }
            for file in &data.files {
                let how = match file.verification {
                    mnist::Verification::ContentSha256 => "content SHA-256 as published",
                    mnist::Verification::GzMd5 => "published .gz MD5",
                    mnist::Verification::Unverified => "not verified",
                };
                println!("  {}  sha256 {}  ({how})", file.name, file.sha256);
            }
            if data.dataset != mnist::DatasetName::Mnist {
                let classes: Vec<String> = (data.classes().iter().enumerate())
                    .map(|(label, name)| format!("{label} {name}"))
                    .collect();
                println!("classes: {}", classes.join(", "));
            }
            Ok(session::Outcome::Success)
        }
        Some(Command::Table(common)) => table::run(&common),
        Some(Command::Parity(args)) => gradient_parity::run(&args),
        None => session::compare(&cli.run),
    }
    .map(|outcome| match outcome {
        session::Outcome::Success => ExitCode::SUCCESS,
        session::Outcome::GateFailed => ExitCode::from(EXIT_GATE_FAILED),
        session::Outcome::Interrupted => ExitCode::from(EXIT_INTERRUPTED),
    })
}
