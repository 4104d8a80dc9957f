//! A stand-in for `compare`'s sweep flags, built on this crate as `compare` is, so that the
//! scheduler examples (`scripts/slurm-test`, `scripts/parallel-test`) can be checked in
//! seconds without libtorch or MNIST. It trains nothing: a seed's "accuracy" is a function of the seed
//! and `--lr`, and `--seconds-per-seed` stands for the training time.
//!
//! ```text
//! stand_in_compare --seeds 0..100 [--shard I/N|slurm] --out DIR [--lr X]
//! stand_in_compare aggregate DIR... [--expect 0..100] --out DIR
//! ```
//! Like `compare`, a run that pools seeds ends with a `report: PATH` line.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use serde::{Deserialize, Serialize};
use sweep::{merge, Fingerprint, Merged, SeedList, SeedSpec, Shard, ShardSpec, Start, SweepFolder};

#[derive(Parser)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    aggregate: Option<Aggregate>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args)]
struct RunArgs {
    /// Seeds: a count from --seed, A..B (B excluded), a list, or a mix.
    #[arg(long, default_value = "2")]
    seeds: SeedSpec,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// I/N, or slurm (from the array job's variables).
    #[arg(long)]
    shard: Option<ShardSpec>,
    #[arg(long, default_value = "results")]
    out: PathBuf,
    /// Part of the fingerprint: two runs with another --lr cannot be pooled.
    #[arg(long, default_value_t = 0.01)]
    lr: f32,
    #[arg(long, default_value_t = 0.5)]
    seconds_per_seed: f64,
    /// Like compare's, and like it not part of the fingerprint.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

#[derive(Subcommand)]
enum Aggregate {
    /// Pool seed folders from any number of shards into one report.
    Aggregate {
        #[arg(required = true)]
        folders: Vec<PathBuf>,
        #[arg(long)]
        expect: Option<SeedSpec>,
        /// Where a count in --expect starts.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, default_value = "results")]
        out: PathBuf,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Config {
    lr: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SeedResult {
    accuracy_percent: f64,
    seconds: f64,
}

type Failure = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.aggregate {
        Some(Aggregate::Aggregate {
            folders,
            expect,
            seed,
            out,
        }) => aggregate(&folders, expect, seed, &out),
        None => run(&cli.run),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn fingerprint(lr: f32) -> Fingerprint<Config> {
    Fingerprint {
        config: Config { lr },
        dataset_sha256: Default::default(),
        crate_version: env!("CARGO_PKG_VERSION").into(),
        libtorch_version: "none (stand-in)".into(),
        scratch_engine: "stand-in".into(),
        device: "cpu".into(),
    }
}

/// A made-up accuracy between 96 and 98 % that depends on the seed and lr only.
fn accuracy(seed: u64, lr: f32) -> f64 {
    let mut x = seed ^ u64::from(lr.to_bits()).rotate_left(32);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    96.0 + (x >> 11) as f64 / (1u64 << 53) as f64 * 2.0
}

fn run(args: &RunArgs) -> Result<(), Failure> {
    let seeds = args
        .seeds
        .seeds(args.seed)
        .map_err(|e| format!("--seeds: {e}"))?;
    let shard = match &args.shard {
        Some(spec) => spec
            .resolve(|name| std::env::var(name).ok())
            .map_err(|e| format!("--shard: {e}"))?,
        None => Shard::WHOLE,
    };
    let Some(mine) = shard.select(&seeds) else {
        eprintln!(
            "shard {shard}: no seeds (more shards than the {} seeds)",
            seeds.len()
        );
        return Ok(());
    };
    let print = fingerprint(args.lr);
    let folder = SweepFolder::new(&args.out);
    let plan = folder.plan::<Config, SeedResult>(mine.as_slice(), &print)?;
    eprintln!(
        "shard {shard} on {} threads: seeds {mine} ({} of {})",
        args.threads,
        mine.len(),
        seeds.len()
    );
    if let Some(skipped) = SeedList::new(plan.skip.clone()) {
        eprintln!("skipping seeds {skipped}: complete, same settings");
    }
    if let Some(redone) = SeedList::new(plan.incomplete.clone()) {
        eprintln!("redoing seeds {redone}: left incomplete");
    }
    for &seed in &plan.run {
        let started = Instant::now();
        let partial = match folder.start(seed)? {
            Start::Run(partial) => partial,
            Start::Running(owner) => {
                let owner = owner.map_or("another process".to_owned(), |o| o.to_string());
                eprintln!("seed {seed}: skipped, {owner} runs it");
                continue;
            }
            Start::Completed => continue,
        };
        std::thread::sleep(Duration::from_secs_f64(args.seconds_per_seed));
        let result = SeedResult {
            accuracy_percent: accuracy(seed, args.lr),
            seconds: started.elapsed().as_secs_f64(),
        };
        std::fs::write(
            partial.dir().join("summary.txt"),
            format!("{}\n", result.accuracy_percent),
        )?;
        partial.complete(&print, &result)?;
        eprintln!("seed {seed} done: {:.3}%", result.accuracy_percent);
    }
    if args.shard.is_none() {
        let places = [folder.root().to_owned()];
        return write_report(&pool(&places, Some(&seeds))?, &args.out.join("report"));
    }
    Ok(())
}

fn aggregate(
    folders: &[PathBuf],
    expect: Option<SeedSpec>,
    first: u64,
    out: &Path,
) -> Result<(), Failure> {
    let expect = expect
        .map(|spec| spec.seeds(first))
        .transpose()
        .map_err(|e| format!("--expect: {e}"))?;
    let merged = pool(folders, expect.as_ref())?;
    for partial in &merged.incomplete {
        eprintln!("note: {} is incomplete and left out", partial.display());
    }
    if let Some(outside) = SeedList::new(merged.outside_expected.clone()) {
        eprintln!("note: seeds {outside} are not in --expect and left out");
    }
    write_report(&merged, out)
}

/// The same seed twice agrees when it computed the same, whatever it took.
fn pool(
    places: &[PathBuf],
    expect: Option<&SeedList>,
) -> Result<Merged<Config, SeedResult>, Failure> {
    Ok(merge(places, expect, |a: &SeedResult, b| {
        a.accuracy_percent == b.accuracy_percent
    })?)
}

/// Writes seeds.csv, stats.csv and a one-line report.html into `out`.
fn write_report(merged: &Merged<Config, SeedResult>, out: &Path) -> Result<(), Failure> {
    let mut rows = String::from("seed,accuracy_percent,seconds\n");
    for seed in &merged.seeds {
        let r = &seed.result;
        writeln!(rows, "{},{},{}", seed.seed, r.accuracy_percent, r.seconds)?;
    }
    let accuracies: Vec<f64> = merged
        .seeds
        .iter()
        .map(|s| s.result.accuracy_percent)
        .collect();
    let mean = accuracies.iter().sum::<f64>() / accuracies.len() as f64;
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join("seeds.csv"), rows)?;
    std::fs::write(
        out.join("stats.csv"),
        format!("n,mean_accuracy_percent\n{},{mean}\n", accuracies.len()),
    )?;
    let page = out.join("report.html");
    std::fs::write(
        &page,
        format!("<p>{} seeds, mean {mean:.3} %</p>\n", accuracies.len()),
    )?;
    eprintln!(
        "{} seeds pooled: mean accuracy {mean:.3} %",
        accuracies.len()
    );
    println!("report: {}", page.display());
    Ok(())
}
