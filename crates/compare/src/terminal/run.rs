//! One run's closing table (one column per model, the speed ratio, McNemar's test) and the
//! parity gate's lines.

use std::path::Path;

use super::{machine_line, p_value_text};
use crate::gate::verdict_lines;
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

/// The closing table's rows: a header of model names, then per summary line its label and one
/// cell per model.
pub(super) fn summary_lines(
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

/// How the parity gate went, if it was asked for (`gated`): passed on stdout, failures on
/// stderr.
pub fn print_gate(gated: bool, failures: &[String]) {
    for line in verdict_lines(gated, failures) {
        if failures.is_empty() {
            println!("{line}");
        } else {
            eprintln!("{line}");
        }
    }
}
