//! Everything a job tells the person at the terminal, apart from the progress of training
//! (`progress.rs`): results on stdout, notes and what was written on stderr.

use std::path::Path;

use crate::gate::{failed_line, ParityVerdict};
use crate::record::{cpu_model, subnormal_mode};
use crate::seed_stats::{verdict_text, ModelStats, PairStats};
use crate::status::Signal;
use crate::summary::MCNEMAR_LINES;
use crate::summary::{has_mcnemar, speed_ratio, weakest_class, Figure, SummaryLine, SummaryRow};
use crate::train::Contender;

/// The closing table's summary lines, in its order; McNemar's two follow where the run has them.
const TERMINAL_LINES: [SummaryLine; 11] = [
    SummaryLine::Status,
    SummaryLine::EpochsCompleted,
    SummaryLine::FinalTestAccuracy,
    SummaryLine::BestTestAccuracy,
    SummaryLine::FinalTrainLoss,
    SummaryLine::FinalTestLoss,
    SummaryLine::WeakestClass,
    SummaryLine::SecondsPerEpoch,
    SummaryLine::FirstEpochSeconds,
    SummaryLine::MedianLaterEpochSeconds,
    SummaryLine::ImagesPerSecond,
];

/// A p-value as a reader scans it: three decimals, or two significant digits below 0.001
/// (so that a tiny p never reads as 0; an exact 0, from differences without spread, stays 0).
pub fn p_value_text(p: f64) -> String {
    if p > 0.0 && p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

/// A cell of the closing table: each figure to the precision a reader compares at a glance.
fn terminal_cell(figure: Figure) -> String {
    match figure {
        Figure::Text(text) => text,
        Figure::Count(n) => n.to_string(),
        Figure::Percent(x) => format!("{x:.2}"),
        Figure::Best { percent, epoch } => format!("{percent:.2} (epoch {epoch})"),
        Figure::Loss(x) => format!("{x:.4}"),
        Figure::Seconds(x) => format!("{x:.3}"),
        Figure::Rate(x) => format!("{x:.0}"),
        Figure::PValue(p) => p_value_text(p),
        Figure::Missing => "-".to_owned(),
    }
}

/// `compare data`: where the files are, how each was verified, and the classes.
pub fn print_data(data: &mnist::Mnist, no_checksums: bool) {
    let title = data.dataset.title();
    if no_checksums {
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
}

/// Where the run times come from: the CPU, the threads, and the subnormal mode.
fn machine_line(threads: usize) -> String {
    format!(
        "CPU: {}, {threads} threads; subnormal floats {}",
        cpu_model(),
        match subnormal_mode() {
            subnormals::Mode::FlushToZero => "flushed to zero (--keep-subnormals keeps them)",
            subnormals::Mode::Keep => "kept (IEEE 754)",
        }
    )
}

/// A first stop signal: the run stops after its current step and writes its reports.
pub fn print_stopping(signal: Signal) {
    eprintln!(
        "\n{}: stopping after this step and finishing the reports (a second signal, or Ctrl-C again, quits at once)",
        signal.name()
    );
}

/// A second stop signal: the process ends at once.
pub fn print_aborted(signal: Signal) {
    eprintln!(
        "\naborted by a second signal ({}): run.json says so; the reports of this run are incomplete",
        signal.name()
    );
}

/// A run's reports are complete in `folder`.
pub fn print_reports_written(folder: &Path) {
    eprintln!("reports written to {}", folder.display());
}

/// The terminal's last line: where to look.
pub fn print_page(page: &Path) {
    println!("report: {}", page.display());
}

/// The closing table's rows: a header of model names, then per summary line its label and one
/// cell per model.
fn summary_lines(
    summaries: &[SummaryRow],
    contenders: &[Contender],
    data: &mnist::Mnist,
) -> Vec<(&'static str, Vec<String>)> {
    let mcnemar_lines: &[SummaryLine] = if has_mcnemar(summaries) {
        &MCNEMAR_LINES
    } else {
        &[]
    };
    let mut lines: Vec<(&str, Vec<String>)> =
        vec![("", summaries.iter().map(|s| s.model.clone()).collect())];
    for &line in TERMINAL_LINES.iter().chain(mcnemar_lines) {
        let cells = summaries
            .iter()
            .zip(contenders)
            .map(|(row, contender)| {
                let weakest = (line == SummaryLine::WeakestClass)
                    .then(|| weakest_class(contender, data))
                    .flatten();
                terminal_cell(line.figure(row, weakest.as_deref()))
            })
            .collect();
        lines.push((line.label(), cells));
    }
    lines
}

/// The Markdown a GitHub Actions step summary shows of one run: the closing table, the
/// gate's verdict lines, and where the page is.
pub fn step_summary(
    summaries: &[SummaryRow],
    contenders: &[Contender],
    data: &mnist::Mnist,
    verdict: &[String],
    page: &Path,
) -> String {
    let lines = summary_lines(summaries, contenders, data);
    let row = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
    let mut text = format!(
        "### compare: {} test set, {} images\n\n",
        data.dataset.title(),
        data.test.len()
    );
    for (index, (name, cells)) in lines.iter().enumerate() {
        let cells: Vec<String> = std::iter::once(name.to_string())
            .chain(cells.iter().cloned())
            .collect();
        text += &row(&cells);
        if index == 0 {
            text += &row(&vec!["---".to_owned(); cells.len()]);
        }
    }
    text += "\n";
    for line in verdict {
        text += &format!("{line}\n\n");
    }
    text += &format!("report: `{}`\n", page.display());
    text
}

/// The terminal's closing table of one run: one column per model, then the speed ratio and
/// McNemar's test.
pub fn print_side_by_side(
    summaries: &[SummaryRow],
    contenders: &[Contender],
    data: &mnist::Mnist,
    folder: &Path,
    threads: usize,
) {
    let mut lines = summary_lines(summaries, contenders, data);
    let width = lines
        .iter()
        .flat_map(|(_, cells)| cells.iter().map(String::len))
        .max()
        .unwrap_or(8)
        .max(10);
    println!();
    println!("{}", machine_line(threads));
    println!(
        "{} test set, {} images:",
        data.dataset.title(),
        data.test.len()
    );
    for (name, cells) in lines.drain(..) {
        let cells: Vec<String> = cells.iter().map(|c| format!("{c:>width$}")).collect();
        println!("{name:<29} {}", cells.join("  "));
    }
    if let Some(speed) = speed_ratio(summaries) {
        println!(
            "speed: scratch takes {:.2}× the time of torchref per epoch ({:.3} s vs {:.3} s, {threads} threads; below 1 means scratch is faster)",
            speed.ratio, speed.scratch, speed.torch
        );
    }
    if let Some(p) = summaries.iter().find_map(|s| s.mcnemar_exact_p_value) {
        println!(
            "McNemar's exact test on the test images exactly one model got right: p = {} ({})",
            p_value_text(p),
            if p < 0.05 {
                "below 0.05: the two test accuracies differ"
            } else {
                "0.05 or more: no evidence that the test accuracies differ"
            }
        );
    }
    println!("reports: {}", folder.display());
}

/// How the parity gate went, if it was asked for (`gated`).
pub fn print_gate(gated: bool, failures: &[String]) {
    if failures.is_empty() {
        if gated {
            println!("parity gate: passed");
        }
    } else {
        for failure in failures {
            eprintln!("{}", failed_line(failure));
        }
    }
}

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

/// `mean ± sd  95% interval [low, high]` of a summary, with signs for a difference.
fn mean_sd_interval(s: &stats::Summary, signed: bool) -> String {
    let number = |x: f64| {
        if signed {
            format!("{x:+.2}")
        } else {
            format!("{x:.2}")
        }
    };
    match (s.sd, s.interval) {
        (Some(sd), Some(i)) => format!(
            "{} ± {sd:.2}  95% interval [{}, {}]",
            number(s.mean),
            number(i.low),
            number(i.high)
        ),
        _ => format!("{} (one seed: no spread)", number(s.mean)),
    }
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
            let p = |p: Option<f64>| p.map_or("-".to_owned(), p_value_text);
            println!(
                "equivalence (two one-sided t tests, margin ±{} points): {} (TOST p = {}; t test of no difference p = {})",
                e.margin,
                verdict_text(e),
                p(e.tost_p_value),
                p(e.difference_p_value)
            );
        }
    }
}

/// Where a multi-seed run's reports are.
pub fn print_reports(folder: &Path) {
    println!("reports: {}", folder.display());
}

/// One experiment of the assignment's table in one run.
pub struct TableLine<'a> {
    pub experiment: &'a str,
    pub ours_percent: f64,
    pub assignment_percent: f64,
    pub difference_points: f64,
}

/// The assignment's table of one run, and where `table.csv` is.
pub fn print_table(threads: usize, lines: &[TableLine<'_>], csv: &Path) {
    println!();
    println!("{}", machine_line(threads));
    println!(
        "{:<22} {:>12} {:>12} {:>10}",
        "experiment", "ours (%)", "assignment", "difference"
    );
    for line in lines {
        println!(
            "{:<22} {:>12.2} {:>12.2} {:>+10.2}",
            line.experiment, line.ours_percent, line.assignment_percent, line.difference_points
        );
    }
    println!("table: {}", csv.display());
}

/// One experiment of the assignment's table over seeds.
pub struct SeedsTableLine<'a> {
    pub experiment: &'a str,
    pub mean_percent: f64,
    pub sd_points: Option<f64>,
    pub interval: Option<(f64, f64)>,
    pub assignment_percent: f64,
    pub assignment_inside: Option<bool>,
}

/// The assignment's table over seeds, and where `table.csv` is.
pub fn print_table_over_seeds(lines: &[SeedsTableLine<'_>], csv: &Path) {
    println!();
    println!(
        "{:<22} {:>16} {:>18} {:>11} {:>8}",
        "experiment", "mean ± sd (%)", "95% interval", "assignment", "inside"
    );
    for line in lines {
        let interval = match line.interval {
            Some((low, high)) => format!("[{low:.2}, {high:.2}]"),
            None => "-".to_owned(),
        };
        println!(
            "{:<22} {:>16} {:>18} {:>11.2} {:>8}",
            line.experiment,
            format!(
                "{:.2} ± {:.2}",
                line.mean_percent,
                line.sd_points.unwrap_or(f64::NAN)
            ),
            interval,
            line.assignment_percent,
            match line.assignment_inside {
                Some(true) => "yes",
                Some(false) => "no",
                None => "-",
            }
        );
    }
    println!("table: {}", csv.display());
}

/// An experiment of the table that completed no seed, or not all of them.
pub fn print_experiment_incomplete(experiment: &str, incomplete: &[u64], completed_none: bool) {
    if completed_none {
        eprintln!("{experiment}: completed no seed");
    } else {
        eprintln!("{experiment} did not complete seeds {incomplete:?}");
    }
}

/// What `compare parity` found: per layer the worst relative difference (`layers`: name and
/// (step, difference) points), the kinks, and the verdict against the bound.
pub fn print_parity(
    layers: &[(String, Vec<(f64, f64)>)],
    verdict: &ParityVerdict,
    candidate: &str,
) {
    println!();
    println!("worst gradient difference per layer over {} steps, relative to the tensor's largest |gradient|:", verdict.steps_compared);
    for (name, points) in layers {
        let (step, worst) =
            points
                .iter()
                .copied()
                .fold((0.0, 0.0), |best, p| if p.1 > best.1 { p } else { best });
        println!("  {name}: {worst:.2e} (step {step:.0})");
    }
    if verdict.kink_units > 0 {
        println!(
            "{} ReLU units were on in one model and off in the other within rounding of 0; their images were left out of those steps",
            verdict.kink_units
        );
    }
    if let Some(worst) = verdict.worst_update_max_rel_diff {
        println!("worst parameter difference after the optimiser step: {worst:.2e} of the tensor's largest |parameter|");
    }
    for line in verdict.lines(candidate) {
        println!("{line}");
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

/// A shard has finished its seeds: where they are, and how to pool every shard's (`seeds`
/// the whole sweep's list, a count starting at `first`).
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
    print_reports(folder);
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

#[cfg(test)]
mod tests {
    use super::p_value_text;

    #[test]
    fn small_p_values_keep_their_digits() {
        assert_eq!(p_value_text(0.04321), "0.043");
        assert_eq!(p_value_text(0.000_123_4), "1.2e-4");
        assert_eq!(p_value_text(0.0), "0.000");
    }
}
