//! Everything a job tells the person at the terminal, apart from the progress of training
//! (`progress.rs`): results on stdout, notes and what was written on stderr.

use std::path::Path;

use crate::gate::ParityVerdict;
use crate::record::{cpu_model, subnormal_mode};
use crate::seed_stats::{verdict_text, ModelStats, PairStats};
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

/// A run's reports are complete in `folder`.
pub fn print_reports_written(folder: &Path) {
    eprintln!("reports written to {}", folder.display());
}

/// The terminal's last line: where to look.
pub fn print_page(page: &Path) {
    println!("report: {}", page.display());
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
            eprintln!("parity gate failed: {failure}");
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
