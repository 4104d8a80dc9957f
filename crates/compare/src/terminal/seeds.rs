//! A multi-seed run's output: its plan (shard, skipped and redone seeds), each seed as it ends,
//! the statistics over the seeds, and what pooling left out.

use std::path::Path;

use super::{p_value_text, print_reports};
use crate::seed_stats::{verdict_text, ModelStats, PairStats};
use crate::summary::SummaryRow;

/// Without `--shuffle`, seeds vary only the initial weights.
pub fn print_unshuffled_seeds_note() {
    eprintln!(
        "note: without --shuffle every seed sees the batches in the same order, so the seeds vary only the initial weights; add --shuffle to vary both"
    );
}

/// Seed `index` (from 1) of `count` is done, with each model's final test accuracy.
pub fn print_seed_done(index: usize, count: usize, seed: u64, summaries: &[SummaryRow]) {
    let accuracies: Vec<String> = summaries
        .iter()
        .map(|s| format!("{} {:.2}%", s.model, s.final_test_accuracy_percent))
        .collect();
    eprintln!(
        "seed {index}/{count} (seed {seed}) done: final test accuracy {}",
        accuracies.join(", ")
    );
}

/// `mean ± sd` and the 95% interval `[low, high]` of a summary, with signs for a difference;
/// one seed has no spread (and no interval).
pub(super) fn spread(s: &stats::Summary, signed: bool) -> (String, Option<String>) {
    let number = |x: f64| {
        if signed {
            format!("{x:+.2}")
        } else {
            format!("{x:.2}")
        }
    };
    match (s.sd, s.interval) {
        (Some(sd), Some(i)) => (
            format!("{} ± {sd:.2}", number(s.mean)),
            Some(format!("[{}, {}]", number(i.low), number(i.high))),
        ),
        _ => (format!("{} (one seed: no spread)", number(s.mean)), None),
    }
}

/// `mean ± sd  95% interval [low, high]` of a summary, with signs for a difference.
fn mean_sd_interval(s: &stats::Summary, signed: bool) -> String {
    match spread(s, signed) {
        (mean_sd, Some(interval)) => format!("{mean_sd}  95% interval {interval}"),
        (mean, None) => mean,
    }
}

/// The equivalence test's verdict line.
pub(super) fn equivalence_line(e: &stats::Equivalence) -> String {
    let p = |p: Option<f64>| p.map_or("-".to_owned(), p_value_text);
    format!(
        "equivalence (two one-sided t tests, margin ±{} points): {} (TOST p = {}; t test of no difference p = {})",
        e.margin,
        verdict_text(e),
        p(e.tost_p_value),
        p(e.difference_p_value)
    )
}

/// The statistics over the seeds: per model, then the paired difference and its equivalence.
pub fn print_stats(models: &[ModelStats], difference: Option<&PairStats>) {
    println!();
    for m in models {
        match &m.summary {
            Some(s) => println!(
                "{:<24} {} %  over {} seeds, min {:.2}, max {:.2}",
                m.model,
                mean_sd_interval(s, false),
                s.n,
                s.min,
                s.max
            ),
            None => println!("{:<24} completed no seed", m.model),
        }
        if !m.incomplete.is_empty() {
            println!("{:<24} did not complete seeds {:?}", "", m.incomplete);
        }
    }
    if let Some(d) = difference {
        if let (Some(s), Some(e)) = (&d.summary, &d.equivalence) {
            println!("{:<24} {} points", d.name, mean_sd_interval(s, true));
            println!("{}", equivalence_line(e));
        }
    }
}

/// A shard with no seeds: more shards than seeds.
pub fn print_shard_empty(shard: &sweep::Shard, seeds: usize) {
    eprintln!("shard {shard}: no seeds to run (more shards than the {seeds} seeds)");
}

/// Which seeds this process runs, and which it skips or redoes.
pub fn print_seed_plan(
    shard: &sweep::Shard,
    mine: &sweep::SeedList,
    total: usize,
    plan: &sweep::ResumePlan,
) {
    if *shard != sweep::Shard::WHOLE {
        eprintln!("shard {shard}: seeds {mine} ({} of {total})", mine.len());
    }
    if let Some(skipped) = sweep::SeedList::new(plan.skip.clone()) {
        eprintln!("skipping seeds {skipped}: already complete with the same settings");
    }
    if let Some(redone) = sweep::SeedList::new(plan.incomplete.clone()) {
        eprintln!("redoing seeds {redone}: left incomplete by a stopped run");
    }
}

/// A seed another live process is writing (its `.partial` folder locked): left to it.
pub fn print_seed_taken(seed: u64, owner: Option<&sweep::Owner>) {
    let owner = owner.map_or(
        "another process (its pid not yet written)".to_owned(),
        |o| o.to_string(),
    );
    eprintln!("seed {seed}: skipped, {owner} is running it");
}

/// A seed another process completed since this one planned it.
pub fn print_seed_completed_meanwhile(seed: u64) {
    eprintln!("seed {seed}: skipped, another process has completed it meanwhile");
}

/// A shard has finished its seeds: where they are (a shard with none made no folder), and
/// how to pool every shard's (`seeds` the whole sweep's list, a count starting at `first`).
pub fn print_shard_done(folder: &Path, seeds: &sweep::SeedSpec, first: u64) {
    let expect = match seeds {
        sweep::SeedSpec::Count(count) => {
            format!(" --expect {first}..{}", first.saturating_add(*count))
        }
        ranges => format!(" --expect {ranges}"),
    };
    eprintln!(
        "this shard is done; once every shard is, pool them with: compare aggregate {}{expect}",
        folder.display()
    );
    if folder.is_dir() {
        print_reports(folder);
    }
}

/// A multi-seed run stopped before any seed was complete: nothing to pool.
pub fn print_no_seed_complete() {
    eprintln!("no seed was complete: nothing to summarise");
}

/// What pooling left out: incomplete seed folders, and seeds outside `--expect`.
pub fn print_pool_notes(incomplete: &[std::path::PathBuf], outside_expected: &[u64]) {
    for folder in incomplete {
        eprintln!("note: {} is incomplete and left out", folder.display());
    }
    if let Some(outside) = sweep::SeedList::new(outside_expected.to_vec()) {
        eprintln!("note: seeds {outside} are not in --expect and left out");
    }
}
