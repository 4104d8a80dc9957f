//! The Markdown that GitHub Actions shows as a job's step summary (`$GITHUB_STEP_SUMMARY`).

use std::path::Path;

use super::run::summary_lines;
use crate::summary::SummaryRow;
use crate::train::Contender;

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
