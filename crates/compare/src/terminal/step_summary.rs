//! The Markdown that GitHub Actions shows as a job's step summary: when `$GITHUB_STEP_SUMMARY`
//! is set, every job that reports results appends its table, its verdict lines and where its
//! page is, through [`append_step_summary`].

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use super::parity::worst_point;
use super::run::summary_lines;
use super::seeds::{equivalence_line, spread};
use crate::parity_verdict::{times, ParityVerdict};
use crate::seed_stats::{ModelStats, PairStats};
use crate::summary::SummaryRow;
use crate::train::Contender;

/// Appends the Markdown `markdown` makes to the file `$GITHUB_STEP_SUMMARY` names (which the
/// other steps of the job share), if it is set; makes nothing otherwise.
pub fn append_step_summary(markdown: impl FnOnce() -> String) -> Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") else {
        return Ok(());
    };
    let path = Path::new(&path);
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(markdown().as_bytes()))
        .with_context(|| format!("cannot append to $GITHUB_STEP_SUMMARY ({})", path.display()))
}

/// A Markdown table: the header, its rule, the rows (a `|` in a cell escaped, so that it
/// stays in its cell).
fn table(header: &[String], rows: &[Vec<String>]) -> String {
    let row = |cells: &[String]| {
        let cells: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
        format!("| {} |\n", cells.join(" | "))
    };
    let mut text = row(header);
    text += &row(&vec!["---".to_owned(); header.len()]);
    for cells in rows {
        text += &row(cells);
    }
    text + "\n"
}

/// The end of every summary: the verdict lines, each a paragraph, and where the page is.
fn verdict_and_page(verdict: &[String], page: &Path) -> String {
    let mut text: String = verdict.iter().map(|line| format!("{line}\n\n")).collect();
    text += &format!("report: `{}`\n", page.display());
    text
}

/// One run: the closing table (the terminal's summary lines), the gate's verdict lines, and
/// where the page is.
pub fn step_summary(
    summaries: &[SummaryRow],
    contenders: &[Contender],
    data: &mnist::Mnist,
    verdict: &[String],
    page: &Path,
) -> String {
    let mut rows: Vec<Vec<String>> = summary_lines(summaries, contenders, data)
        .into_iter()
        .map(|(name, cells)| std::iter::once(name.to_owned()).chain(cells).collect())
        .collect();
    let header = rows.remove(0);
    format!(
        "### compare: {} test set, {} images\n\n{}{}",
        data.dataset.title(),
        data.test.len(),
        table(&header, &rows),
        verdict_and_page(verdict, page)
    )
}

/// A run over seeds (`compare --seeds`, `compare aggregate`): per model and for the paired
/// difference the mean ± sd and 95% interval, the equivalence line, the gate's verdict lines,
/// and where the page is.
pub fn seeds_step_summary(
    title: &str,
    models: &[ModelStats],
    difference: Option<&PairStats>,
    verdict: &[String],
    page: &Path,
) -> String {
    let header = [
        "",
        "final test accuracy, mean ± sd",
        "95% interval",
        "seeds",
    ]
    .map(String::from);
    let mut rows: Vec<Vec<String>> = models
        .iter()
        .map(|m| match &m.summary {
            Some(s) => {
                let (mean_sd, interval) = spread(s, false);
                vec![
                    m.model.clone(),
                    format!("{mean_sd} %"),
                    interval.map_or("-".to_owned(), |i| format!("{i} %")),
                    s.n.to_string(),
                ]
            }
            None => vec![
                m.model.clone(),
                "completed no seed".to_owned(),
                "-".to_owned(),
                "0".to_owned(),
            ],
        })
        .collect();
    let mut lines = Vec::new();
    if let Some(d) = difference {
        if let (Some(s), Some(e)) = (&d.summary, &d.equivalence) {
            let (mean_sd, interval) = spread(s, true);
            rows.push(vec![
                d.name.clone(),
                format!("{mean_sd} points"),
                interval.map_or("-".to_owned(), |i| format!("{i} points")),
                s.n.to_string(),
            ]);
            lines.push(equivalence_line(e));
        }
    }
    lines.extend_from_slice(verdict);
    format!(
        "### compare: {title}\n\n{}{}",
        table(&header, &rows),
        verdict_and_page(&lines, page)
    )
}

/// `compare table`, once or over seeds (`what`): the assignment's table (`header`, `rows`),
/// and where the page is.
pub fn table_step_summary(
    what: &str,
    header: &[&str],
    rows: Vec<Vec<String>>,
    page: &Path,
) -> String {
    let header: Vec<String> = header.iter().map(|&h| h.to_owned()).collect();
    format!(
        "### compare table: the assignment's experiments{what}\n\n{}{}",
        table(&header, &rows),
        verdict_and_page(&[], page)
    )
}

/// `compare parity`: per layer its worst gradient error ratio and the step, the verdict lines,
/// and where the page is.
pub fn parity_step_summary(
    layers: &[(String, Vec<(f64, f64)>)],
    verdict: &ParityVerdict,
    candidate: &str,
    page: &Path,
) -> String {
    let header = [
        "layer",
        "worst gradient error (times libtorch's own float32 error)",
        "at step",
    ]
    .map(String::from);
    let rows: Vec<Vec<String>> = layers
        .iter()
        .map(|(name, points)| {
            let (step, worst) = worst_point(points);
            vec![name.clone(), times(worst), format!("{step:.0}")]
        })
        .collect();
    format!(
        "### compare parity: {candidate} against torchref over {} steps\n\n{}{}",
        verdict.steps_compared,
        table(&header, &rows),
        verdict_and_page(&verdict.lines(candidate), page)
    )
}
