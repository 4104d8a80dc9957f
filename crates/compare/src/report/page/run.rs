//! The page of one run: configuration, summary and gate, curves, confusion matrices, the
//! test images the models disagree on, and the files beside it.

use std::path::{Path, PathBuf};

use anyhow::Result;
use maud::{html, Markup, DOCTYPE};
use mnist::metrics::{ClassificationReport, ConfusionMatrix};

use super::gallery::gallery_section;
use super::parts::{
    configuration, extra_table, files_section, head, inline_svg, subtitle, verdict, write,
    ExtraTable, Header,
};
use crate::gate::Verdict;
use crate::record::RunRecord;
use crate::summary::{has_mcnemar, speed_ratio, Figure, SummaryLine, SummaryRow, MCNEMAR_LINES};
use crate::train::Contender;

/// Everything one run's page shows.
pub struct RunPage<'a> {
    pub folder: &'a Path,
    /// The run's `run.json` as it was last written: configuration, versions, dataset, times.
    pub record: &'a RunRecord,
    pub summaries: &'a [SummaryRow],
    pub contenders: &'a [Contender],
    pub data: &'a mnist::Mnist,
    pub gate: Option<Verdict>,
    pub table: Option<ExtraTable>,
}

/// The page's summary lines, in its order; McNemar's two follow where the run has them.
const PAGE_LINES: [SummaryLine; 9] = [
    SummaryLine::Status,
    SummaryLine::FinalTestAccuracy,
    SummaryLine::BestTestAccuracy,
    SummaryLine::BestEpoch,
    SummaryLine::FinalTrainLoss,
    SummaryLine::FinalTestLoss,
    SummaryLine::SecondsPerEpoch,
    SummaryLine::ImagesPerSecond,
    SummaryLine::EpochsCompleted,
];

/// Writes `report.html` into the run's folder; returns its path.
pub fn write_run_page(page: &RunPage<'_>) -> Result<PathBuf> {
    let markup = run_page(page)?;
    write(&page.folder.join("report.html"), &markup)
}

fn run_page(page: &RunPage<'_>) -> Result<Markup> {
    let header = Header::from(page.record);
    let models: Vec<&str> = page.summaries.iter().map(|s| s.model.as_str()).collect();
    let title = match models[..] {
        [_] | [_, _] => format!("{} on {}", models.join(" vs "), page.data.dataset.title()),
        _ => format!("{} models on {}", models.len(), page.data.dataset.title()),
    };
    // Beside the configuration there is room for two models' columns, not five.
    let top = if models.len() > 2 {
        "top stacked"
    } else {
        "top"
    };
    let plots = [
        (
            "loss.svg",
            "Training and test loss after each epoch (test dashed).",
        ),
        (
            "accuracy.svg",
            "Test and training accuracy after each epoch (training dashed).",
        ),
        (
            "steps_loss.svg",
            "Mean training loss between logged steps, against training images seen.",
        ),
    ];
    let figures: Vec<(Markup, &str)> = plots
        .iter()
        .filter_map(|(file, caption)| {
            inline_svg(&page.folder.join(file)).map(|svg| (svg, *caption))
        })
        .collect();
    let samples = inline_svg(&page.folder.join("samples.svg"));
    Ok(html! {
        (DOCTYPE)
        html lang="en" {
            (head(&title))
            body {
                header {
                    h1 { (title) }
                    p.sub { (subtitle(page.folder, &header)) }
                }
                div class=(top) {
                    section {
                        h2 { "Configuration" }
                        (configuration(&header))
                    }
                    section {
                        h2 { "Summary" }
                        (summary_table(page.summaries))
                        @if let Some(ratio) = speed_ratio(page.summaries) {
                            p.ratio #speed-ratio {
                                "Speed: scratch takes "
                                strong data-column="speed_ratio" { (format!("{:.2}", ratio.ratio)) "×" }
                                " the time of torchref per training epoch ("
                                (format!("{:.3} s vs {:.3} s", ratio.scratch, ratio.torch))
                                "); below 1 means scratch is faster."
                            }
                        }
                        @if let Some(gate) = &page.gate { (verdict(gate)) }
                        @if let Some(table) = &page.table { (extra_table(table)) }
                    }
                }
                @if !figures.is_empty() {
                    section {
                        h2 { "Training curves" }
                        div.plots {
                            @for (svg, caption) in &figures {
                                figure { (svg) figcaption { (caption) } }
                            }
                        }
                    }
                }
                (confusion_section(page))
                (gallery_section(page.contenders, page.data))
                @if let Some(svg) = samples {
                    section {
                        h2 { "The first training images" }
                        figure style="max-width: 420px" { (svg) figcaption { "As the models see them, with their labels." } }
                    }
                }
                (files_section(page.folder))
            }
        }
    })
}

/// A cell of the page's summary: every figure as `summary.csv` holds it.
fn page_cell(figure: Figure) -> String {
    match figure {
        Figure::Text(text) => text,
        Figure::Count(n) => n.to_string(),
        Figure::Best { percent: x, .. }
        | Figure::Percent(x)
        | Figure::Loss(x)
        | Figure::Seconds(x)
        | Figure::Rate(x)
        | Figure::PValue(x) => x.to_string(),
        Figure::Missing => "–".to_owned(),
    }
}

fn summary_table(summaries: &[SummaryRow]) -> Markup {
    let mcnemar = has_mcnemar(summaries);
    let mcnemar_lines: &[SummaryLine] = if mcnemar { &MCNEMAR_LINES } else { &[] };
    html! {
        table #summary {
            thead { tr { th { "" } @for s in summaries { th { (s.model) } } } }
            tbody {
                @for &line in PAGE_LINES.iter().chain(mcnemar_lines) {
                    tr {
                        th { (line.label()) }
                        @for s in summaries {
                            td data-model=(s.model) data-column=[line.column()] {
                                (page_cell(line.figure(s, None)))
                            }
                        }
                    }
                }
            }
        }
        @if mcnemar {
            p.note {
                "McNemar's exact test counts the test images exactly one of the two models gets right; "
                "p below 0.05 says their test accuracies differ."
            }
        }
    }
}

fn confusion_section(page: &RunPage<'_>) -> Markup {
    let classes = page.data.classes();
    let labels = page.data.test.labels.view();
    let matrices: Vec<(&str, ConfusionMatrix)> = page
        .contenders
        .iter()
        .filter_map(|c| {
            let logits = c.last_test_logits.as_ref()?;
            Some((
                c.label.as_str(),
                ConfusionMatrix::from_logits(logits.view(), labels),
            ))
        })
        .collect();
    if matrices.is_empty() {
        return html! {};
    }
    html! {
        section {
            h2 { "Confusion matrices" }
            p.note {
                "Test set after the last epoch. Rows are the true class, columns the predicted one; "
                "the blue diagonal is right, red cells are mistakes, shaded by their share of the row. "
                "The last column is the recall: the share of each class recognised."
            }
            div.matrices {
                @for (model, matrix) in &matrices {
                    div { h3 { (model) } (heatmap(model, matrix, &matrix.report(), classes)) }
                }
            }
        }
    }
}

fn heatmap(
    model: &str,
    matrix: &ConfusionMatrix,
    report: &ClassificationReport,
    classes: &[&str; contract::CLASSES],
) -> Markup {
    let cell_style = |truth: usize, predicted: usize| {
        let row: u64 = (0..contract::CLASSES).map(|p| matrix.count(truth, p)).sum();
        let share = if row == 0 {
            0.0
        } else {
            matrix.count(truth, predicted) as f64 / row as f64
        };
        let (r, g, b, alpha) = if truth == predicted {
            (31, 119, 180, share)
        } else {
            // Mistakes are rare: a tenth of a row is already a strong red.
            (214, 39, 40, (share * 8.0).min(1.0))
        };
        let ink = if alpha > 0.55 { "#fff" } else { "#1f2328" };
        format!("background: rgba({r}, {g}, {b}, {alpha:.3}); color: {ink}")
    };
    html! {
        table.cm data-model=(model) {
            tr {
                th.axis { "true \\ predicted" }
                @for name in classes { th.predicted { (name) } }
                th.predicted { "recall %" }
            }
            @for (truth, name) in classes.iter().enumerate() {
                tr {
                    th.truth { (name) }
                    @for (predicted, predicted_name) in classes.iter().enumerate() {
                        td style=(cell_style(truth, predicted))
                            title=(format!("true {name}, predicted {predicted_name}")) {
                            (matrix.count(truth, predicted))
                        }
                    }
                    td.recall { (format!("{:.1}", 100.0 * report.classes[truth].recall)) }
                }
            }
        }
    }
}
