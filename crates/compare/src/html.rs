//! `report.html`: one page per run folder that a person opens instead of the dozen files
//! beside it. Self-contained: the plots are inline SVG, the images PNG data URIs, there is no
//! script and no web font, and a Content-Security-Policy tells the browser that nothing may
//! be fetched, so the page reads the same offline and prints as it shows. Text is escaped by
//! `maud`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use base64::Engine;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use mnist::metrics::{predictions, ClassificationReport, ConfusionMatrix};

use crate::report::{speed_ratio, SummaryRow};
use crate::run::Contender;

/// Nothing may be fetched: no script, font, frame or connection, images only from `data:`
/// URIs, styles only from the page itself.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

/// The most test images the gallery shows; the page counts all of them.
pub const GALLERY_SIZE: usize = 36;

/// How a parity gate went, when one was asked for.
pub struct Verdict {
    pub passed: bool,
    /// What was checked, or why it failed.
    pub lines: Vec<String>,
}

/// A table of figures beside the run's own, with its caption (the assignment's table).
pub struct ExtraTable {
    pub caption: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl ExtraTable {
    /// A CSV file as it is written, header and all.
    pub fn from_csv(caption: &str, path: &Path) -> Result<ExtraTable> {
        let mut reader = csv::Reader::from_path(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let header = reader.headers()?.iter().map(str::to_owned).collect();
        let rows = reader
            .records()
            .map(|r| Ok(r?.iter().map(str::to_owned).collect()))
            .collect::<Result<_>>()
            .with_context(|| format!("cannot read {}", path.display()))?;
        Ok(ExtraTable {
            caption: caption.to_owned(),
            header,
            rows,
        })
    }
}

/// What the page of a multi-seed run shows: the statistics over the seeds, and a link to
/// each seed's own page.
pub struct SeedsPage<'a> {
    pub folder: &'a Path,
    /// The run's `run.json`.
    pub record: &'a serde_json::Value,
    pub title: String,
    pub stats: ExtraTable,
    /// Plots in the folder (over the seeds), shown in this order.
    pub figures: &'a [String],
    pub gate: Option<Verdict>,
    /// Subfolders, one per seed, each with its `report.html`.
    pub seed_folders: &'a [String],
}

/// Everything one run's page shows.
pub struct RunPage<'a> {
    pub folder: &'a Path,
    /// The run's `run.json`, as written: configuration, versions, dataset, times.
    pub record: &'a serde_json::Value,
    pub summaries: &'a [SummaryRow],
    pub contenders: &'a [Contender],
    pub data: &'a mnist::Mnist,
    pub gate: Option<Verdict>,
    pub table: Option<ExtraTable>,
}

const STYLE: &str = r#"
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1f2328; background: #fff; max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.7em; margin: 0 0 4px; }
h2 { font-size: 1.3em; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 1.05em; margin: 14px 0 6px; }
.sub, .note { color: #59636e; }
.note { font-size: 0.92em; max-width: 60em; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e1e4e8; text-align: right; vertical-align: top; }
th { font-weight: 600; }
#extra { width: 100%; font-size: 0.9em; }
#extra th { overflow-wrap: anywhere; }
th:first-child, td:first-child { text-align: left; }
table.config td, table.config th { text-align: left; }
table.config td { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; overflow-wrap: anywhere; }
.top { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.25fr); gap: 32px; align-items: start; }
.verdict { margin: 14px 0; padding: 10px 14px; border-left: 6px solid; border-radius: 4px; }
.verdict.passed { background: #dafbe1; border-color: #1a7f37; }
.verdict.failed { background: #ffebe9; border-color: #cf222e; }
.verdict ul { margin: 4px 0 0; padding-left: 20px; }
.ratio { margin: 10px 0; }
.plots { display: grid; grid-template-columns: minmax(0, 900px); gap: 22px; }
figure { margin: 0; }
figure svg { width: 100%; height: auto; display: block; border: 1px solid #e1e4e8; }
figcaption { font-size: 0.9em; color: #59636e; margin-top: 4px; }
.matrices { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 24px; }
table.cm td, table.cm th { padding: 3px 4px; border: 1px solid #fff; text-align: center; min-width: 2.6em; font-size: 0.88em; }
table.cm th.predicted { writing-mode: vertical-rl; transform: rotate(180deg); text-align: left; font-weight: 500; height: 6.5em; vertical-align: bottom; }
table.cm th.truth { text-align: right; font-weight: 500; white-space: nowrap; }
table.cm td.recall { background: #f6f8fa; font-weight: 600; }
.axis { font-size: 0.85em; color: #59636e; }
.gallery { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 10px; margin-top: 14px; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px; text-align: center; font-size: 0.86em; }
.card img { width: 84px; height: 84px; image-rendering: pixelated; display: block; margin: 0 auto 6px; border: 1px solid #eaeef2; }
.card .truth { font-weight: 600; }
.card p { margin: 2px 0; }
.right { color: #1a7f37; }
.wrong { color: #cf222e; }
.files li { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; }
.top.stacked { grid-template-columns: minmax(0, 1fr); }
@media (max-width: 900px) { .top { grid-template-columns: 1fr; } .gallery { grid-template-columns: repeat(3, minmax(0, 1fr)); } }
@media print {
  body { max-width: none; padding: 0; font-size: 12px; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2 { break-after: avoid; }
  figure, .card, table { break-inside: avoid; }
  .matrices { grid-template-columns: 1fr 1fr; }
}
"#;

/// Writes `report.html` into the run's folder; returns its path.
pub fn write_run_page(page: &RunPage<'_>) -> Result<PathBuf> {
    let markup = run_page(page)?;
    write(&page.folder.join("report.html"), &markup)
}

/// Writes the multi-seed run's `report.html`; returns its path.
pub fn write_seeds_page(page: &SeedsPage<'_>) -> Result<PathBuf> {
    let record = page.record;
    let figures: Vec<Markup> = page
        .figures
        .iter()
        .filter_map(|file| inline_svg(&page.folder.join(file)))
        .collect();
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(&page.title))
            body {
                header {
                    h1 { (page.title) }
                    p.sub { (subtitle(page.folder, record)) }
                }
                // Stacked: the statistics table is too wide to share the page with the
                // configuration, and its verdict column is what the page is for.
                div.top.stacked {
                    section { h2 { "Configuration" } (configuration(record)) }
                    section {
                        h2 { "Over the seeds" }
                        (extra_table(&page.stats))
                        @if let Some(gate) = &page.gate { (verdict(gate)) }
                    }
                }
                @if !figures.is_empty() {
                    section {
                        h2 { "Test accuracy per epoch" }
                        p.note { "Mean over the seeds, in the band from the lowest to the highest." }
                        div.plots { @for svg in &figures { figure { (svg) } } }
                    }
                }
                section {
                    h2 { "Each seed" }
                    ul.files {
                        @for seed in page.seed_folders {
                            li { a href=(format!("{seed}/report.html")) { (seed) "/report.html" } }
                        }
                    }
                }
                (files_section(page.folder))
            }
        }
    };
    write(&page.folder.join("report.html"), &markup)
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta http-equiv="Content-Security-Policy" content=(CONTENT_SECURITY_POLICY);
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) }
            style { (PreEscaped(STYLE)) }
        }
    }
}

fn subtitle(folder: &Path, record: &serde_json::Value) -> Markup {
    let name = folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    html! {
        "Run " (name) " · " (text(&record["status"]))
        @if let Some(started) = record["started_at"].as_str() { " · started " (timestamp(started)) }
        @if let Some(ended) = record["ended_at"].as_str() { ", ended " (timestamp(ended)) }
    }
}

fn write(path: &Path, markup: &Markup) -> Result<PathBuf> {
    let temporary = path.with_extension("html.part");
    std::fs::write(&temporary, markup.0.as_bytes())
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path.to_owned())
}

fn run_page(page: &RunPage<'_>) -> Result<Markup> {
    let record = page.record;
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
                    p.sub { (subtitle(page.folder, record)) }
                }
                div class=(top) {
                    section {
                        h2 { "Configuration" }
                        (configuration(record))
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
                (gallery_section(page))
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

/// An RFC 3339 time to the second, in UTC.
fn timestamp(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339).map_or_else(
        |_| rfc3339.to_owned(),
        |t| t.to_utc().format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

/// A JSON value as a person reads it.
fn text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "–".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn configuration(record: &serde_json::Value) -> Markup {
    let dataset = &record["dataset"];
    let checked = match dataset["files"]
        .as_array()
        .and_then(|files| files.first())
        .and_then(|f| f["verified_by"].as_str())
    {
        Some("content_sha256") => "verified by the SHA-256 of each file's content",
        Some("gz_md5") => "verified by the published MD5 of each .gz",
        _ => "not verified (checksums off)",
    };
    let config = record["config"].as_object();
    html! {
        table.config {
            @if dataset.is_object() {
                tr { th { "dataset" } td {
                    (text(&dataset["title"])) ", " (text(&dataset["train_images_used"])) " training and "
                    (text(&dataset["test_images"])) " test images, " (checked)
                } }
                tr { th { "classes" } td { (text(&dataset["classes"])) } }
                tr { th { "data folder" } td { (text(&dataset["dir"])) } }
            }
            @if let Some(config) = config {
                @for (key, value) in config {
                    @if !value.is_null() && !HIDDEN_SETTINGS.contains(&key.as_str()) {
                        tr { th { (key.replace('_', " ")) } td { (text(value)) } }
                    }
                }
            }
            @if record["versions"].is_object() {
                tr { th { "CPU" } td { (text(&record["cpu_model"])) } }
                tr { th { "versions" } td {
                    "crates " (text(&record["versions"]["workspace_crates"]))
                    ", libtorch " (text(&record["versions"]["libtorch"]))
                    ", " (text(&record["versions"]["rustc"]))
                    ", commit " (text(&record["git_commit"]))
                } }
            }
            tr { th { "command" } td { (text(&record["command_line"]).replace(", ", " ")) } }
        }
    }
}

/// Settings the page shows elsewhere (the dataset line) or that do not change the results.
const HIDDEN_SETTINGS: [&str; 6] = [
    "data_dir",
    "dataset",
    "no_checksums",
    "out",
    "offline",
    "log_every",
];

/// One row of the summary: its label, the `summary.csv` column it shows (tests find the
/// figures by it), and how to show a model's value.
type SummaryLine = (
    &'static str,
    Option<&'static str>,
    fn(&SummaryRow) -> String,
);

fn summary_table(summaries: &[SummaryRow]) -> Markup {
    let lines: [SummaryLine; 9] = [
        ("status", None, |s| s.status.clone()),
        (
            "final test accuracy (%)",
            Some("final_test_accuracy_percent"),
            |s| s.final_test_accuracy_percent.to_string(),
        ),
        (
            "best test accuracy (%)",
            Some("best_test_accuracy_percent"),
            |s| s.best_test_accuracy_percent.to_string(),
        ),
        ("best at epoch", Some("best_epoch"), |s| {
            s.best_epoch.to_string()
        }),
        ("final train loss", Some("final_train_loss"), |s| {
            s.final_train_loss.to_string()
        }),
        ("final test loss", Some("final_test_loss"), |s| {
            s.final_test_loss.to_string()
        }),
        ("train seconds per epoch", Some("seconds_per_epoch"), |s| {
            s.seconds_per_epoch.to_string()
        }),
        ("train images per second", Some("images_per_second"), |s| {
            s.images_per_second.to_string()
        }),
        ("epochs completed", Some("epochs_completed"), |s| {
            s.epochs_completed.to_string()
        }),
    ];
    let mcnemar = summaries.iter().any(|s| s.mcnemar_exact_p_value.is_some());
    html! {
        table #summary {
            thead { tr { th { "" } @for s in summaries { th { (s.model) } } } }
            tbody {
                @for (label, column, show) in lines {
                    tr {
                        th { (label) }
                        @for s in summaries {
                            td data-model=(s.model) data-column=[column] { (show(s)) }
                        }
                    }
                }
                @if mcnemar {
                    tr {
                        th { "test images only it got right" }
                        @for s in summaries {
                            td data-model=(s.model) data-column="test_images_only_this_model_got_right" {
                                (s.test_images_only_this_model_got_right.map_or("–".to_owned(), |n| n.to_string()))
                            }
                        }
                    }
                    tr {
                        th { "McNemar exact p" }
                        @for s in summaries {
                            td data-model=(s.model) data-column="mcnemar_exact_p_value" {
                                (s.mcnemar_exact_p_value.map_or("–".to_owned(), |p| p.to_string()))
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

fn verdict(gate: &Verdict) -> Markup {
    let (class, word) = if gate.passed {
        ("verdict passed", "passed")
    } else {
        ("verdict failed", "failed")
    };
    html! {
        div class=(class) #parity-verdict {
            strong { "Parity gate " (word) }
            ul { @for line in &gate.lines { li { (line) } } }
        }
    }
}

fn extra_table(table: &ExtraTable) -> Markup {
    html! {
        h3 { (table.caption) }
        table #extra {
            thead { tr { @for h in &table.header { th { (h) } } } }
            tbody { @for row in &table.rows { tr { @for cell in row { td { (cell) } } } } }
        }
    }
}

/// The contents of an SVG file for inlining, or `None` if there is none (a run stopped
/// before its plots).
fn inline_svg(path: &Path) -> Option<Markup> {
    let svg = std::fs::read_to_string(path).ok()?;
    let start = svg.find("<svg")?;
    Some(PreEscaped(svg[start..].to_owned()))
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

/// Which models are right, and whether all answers are the same.
type Kind = (Vec<bool>, bool);

/// A test image the models do not all get right in the same way: their answers differ, or
/// they are all wrong.
struct Disagreement {
    index: usize,
    truth: u8,
    /// One per model with test predictions, in run order.
    answers: Vec<u8>,
}

impl Disagreement {
    /// Which models are right, and whether the wrong ones all agree: images of one kind
    /// tell the same story.
    fn kind(&self) -> Kind {
        let right: Vec<bool> = self.answers.iter().map(|&a| a == self.truth).collect();
        let same = self.answers.windows(2).all(|w| w[0] == w[1]);
        (right, same)
    }

    fn describe(&self, models: &[&str]) -> String {
        let (right, same) = self.kind();
        let wrong: Vec<&str> = models
            .iter()
            .zip(&right)
            .filter(|(_, r)| !**r)
            .map(|(m, _)| *m)
            .collect();
        match (wrong.len(), same) {
            (n, true) if n == models.len() => "all wrong, with the same answer".to_owned(),
            (n, false) if n == models.len() => "all wrong, with different answers".to_owned(),
            _ if models.len() == 2 => format!("only {} wrong", wrong.join(", ")),
            _ => "some right, some wrong".to_owned(),
        }
    }
}

/// Every test image the models classify differently, or that all of them get wrong.
fn disagreements(answers: &[Vec<u8>], truth: &[u8]) -> Vec<Disagreement> {
    (0..truth.len())
        .map(|index| Disagreement {
            index,
            truth: truth[index],
            answers: answers.iter().map(|a| a[index]).collect(),
        })
        .filter(|d| {
            let differ = d.answers.windows(2).any(|w| w[0] != w[1]);
            differ || d.answers.iter().all(|&a| a != d.truth)
        })
        .collect()
}

/// Up to `n` of `all`, taken in turn from each kind (in test-set order within a kind), so
/// that a rare kind is shown too.
fn pick(all: &[Disagreement], n: usize) -> Vec<&Disagreement> {
    let mut kinds: Vec<(Kind, Vec<&Disagreement>)> = Vec::new();
    for d in all {
        let kind = d.kind();
        match kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, members)) => members.push(d),
            None => kinds.push((kind, vec![d])),
        }
    }
    let mut picked: Vec<&Disagreement> = Vec::with_capacity(n.min(all.len()));
    for round in 0.. {
        let before = picked.len();
        for (_, members) in &kinds {
            if picked.len() < n {
                picked.extend(members.get(round));
            }
        }
        if picked.len() == before || picked.len() == n {
            break;
        }
    }
    picked.sort_by_key(|d| d.index);
    picked
}

fn gallery_section(page: &RunPage<'_>) -> Markup {
    let with_answers: Vec<(&str, Vec<u8>)> = page
        .contenders
        .iter()
        .filter_map(|c| {
            let logits = c.last_test_logits.as_ref()?;
            Some((c.label.as_str(), predictions(logits.view()).to_vec()))
        })
        .collect();
    if with_answers.is_empty() {
        return html! {};
    }
    let models: Vec<&str> = with_answers.iter().map(|(m, _)| *m).collect();
    let answers: Vec<Vec<u8>> = with_answers.into_iter().map(|(_, a)| a).collect();
    let test = &page.data.test;
    let all = disagreements(&answers, test.labels.as_slice().unwrap_or(&[]));
    let mut counts: Vec<(String, usize)> = Vec::new();
    for d in &all {
        let kind = d.describe(&models);
        match counts.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((kind, 1)),
        }
    }
    counts.sort();
    let shown = pick(&all, GALLERY_SIZE);
    let classes = page.data.classes();
    let heading = match models[..] {
        [_] => "Test images the model gets wrong".to_owned(),
        [a, b] => format!("Test images {a} and {b} classify differently, or both get wrong"),
        _ => format!(
            "Test images the {} models classify differently, or all get wrong",
            models.len()
        ),
    };
    html! {
        section #gallery {
            h2 { (heading) }
            p #disagreement-count {
                strong data-count=(all.len()) { (all.len()) }
                " of " (test.len()) " test images"
                @if !all.is_empty() { ", showing " (shown.len()) }
                "."
            }
            @if !counts.is_empty() {
                table #disagreement-kinds {
                    @for (kind, n) in &counts { tr { td { (kind) } td { (n) } } }
                }
            }
            div.gallery {
                @for d in &shown {
                    div.card {
                        img src=(png_data_uri(test.images.row(d.index))) alt=(format!("test image {}", d.index));
                        p.truth { "true: " (classes[usize::from(d.truth)]) }
                        @for (model, &answer) in models.iter().zip(&d.answers) {
                            @let right = answer == d.truth;
                            p class=(if right { "right" } else { "wrong" }) {
                                (model) ": " (classes[usize::from(answer)]) (if right { " ✓" } else { " ✗" })
                            }
                        }
                        p.note { "test image #" (d.index) }
                    }
                }
            }
        }
    }
}

/// A 28×28 image, ink dark on white as in `samples.svg`, as a PNG `data:` URI.
fn png_data_uri(pixels: ndarray::ArrayView1<'_, f32>) -> String {
    let side = mnist::format::COLS;
    let grey: Vec<u8> = pixels
        .iter()
        .map(|&v| 255 - (v.clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect();
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, side, mnist::format::ROWS);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        // Writing into memory fails only on a bug (a wrong length), never on input.
        let mut writer = encoder.write_header().expect("a PNG header in memory");
        writer
            .write_image_data(&grey)
            .expect("784 grey bytes make a 28×28 PNG");
    }
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn files_section(folder: &Path) -> Markup {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n != "report.html" && !n.ends_with(".part"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    html! {
        section {
            h2 { "Files of this run" }
            p.note { "Beside this page, in " (folder.display()) ":" }
            ul.files { @for name in &names { li { a href=(name) { (name) } } } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disagreements_are_the_images_answered_differently_or_all_wrong() {
        let truth = [0, 1, 2, 3, 4];
        let answers = vec![vec![0, 1, 9, 3, 7], vec![0, 5, 9, 8, 6]];
        let found = disagreements(&answers, &truth);
        let indices: Vec<usize> = found.iter().map(|d| d.index).collect();
        // 0: both right; 1: only the second wrong; 2: both wrong alike; 3: only the second
        // wrong; 4: both wrong, differently.
        assert_eq!(indices, [1, 2, 3, 4]);
        let models = ["scratch", "torchref"];
        let kinds: Vec<String> = found.iter().map(|d| d.describe(&models)).collect();
        assert_eq!(
            kinds,
            [
                "only torchref wrong",
                "all wrong, with the same answer",
                "only torchref wrong",
                "all wrong, with different answers"
            ]
        );
    }

    #[test]
    fn the_gallery_takes_every_kind_in_turn() {
        let truth = vec![0_u8; 10];
        // Images 0-7: only the second model wrong; 8 and 9: both wrong alike.
        let second = vec![1_u8; 10];
        let mut first = vec![0_u8; 10];
        first[8] = 1;
        first[9] = 1;
        let found = disagreements(&[first, second], &truth);
        let picked: Vec<usize> = pick(&found, 3).iter().map(|d| d.index).collect();
        assert_eq!(picked, [0, 1, 8]);
        assert_eq!(pick(&found, 100).len(), 10);
    }

    #[test]
    fn an_image_becomes_a_png_data_uri_that_decodes_back() {
        let pixels: Vec<f32> = (0..784).map(|i| (i % 256) as f32 / 255.0).collect();
        let uri = png_data_uri(ndarray::ArrayView1::from(&pixels));
        let encoded = uri
            .strip_prefix("data:image/png;base64,")
            .expect("a PNG data URI");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("base64");
        let mut reader = png::Decoder::new(bytes.as_slice())
            .read_info()
            .expect("a PNG");
        let mut grey = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut grey).expect("one frame");
        assert_eq!((info.width, info.height), (28, 28));
        let want: Vec<u8> = (0..784).map(|i| 255 - (i % 256) as u8).collect();
        assert_eq!(grey, want, "ink is dark on white");
    }
}
