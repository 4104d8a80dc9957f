//! What both pages share: the head with its style and policy, the header from `run.json`
//! (status, times, configuration, machine), the gate's verdict, extra tables, inline SVG and
//! the list of files.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use maud::{html, Markup, PreEscaped};

use crate::config::JobConfig;
use crate::gate::Verdict;
use crate::record::{DatasetRecord, RunRecord, SeedsRecord, Versions};
use crate::status::RunEnd;

/// Nothing may be fetched: no script, font, frame or connection, images only from `data:`
/// URIs, styles only from the page itself.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

const STYLE: &str = include_str!("style.css");

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

/// What the top of a page shows of its `run.json`: how the run went, its configuration, and
/// where it ran (a multi-seed run's own record has no dataset, machine or times: its seeds'
/// records do).
pub(super) struct Header<'a> {
    status: RunEnd,
    started_at: Option<&'a str>,
    ended_at: Option<&'a str>,
    config: &'a JobConfig,
    dataset: Option<&'a DatasetRecord>,
    machine: Option<Machine<'a>>,
    command_line: &'a [String],
}

/// The CPU, versions and commit a run ran with.
struct Machine<'a> {
    cpu_model: &'a str,
    versions: &'a Versions,
    git_commit: &'a str,
}

impl<'a> From<&'a RunRecord> for Header<'a> {
    fn from(record: &'a RunRecord) -> Self {
        Header {
            status: record.status,
            started_at: Some(&record.started_at),
            ended_at: record.ended_at.as_deref(),
            config: &record.config,
            dataset: Some(&record.dataset),
            machine: Some(Machine {
                cpu_model: &record.cpu_model,
                versions: &record.versions,
                git_commit: record.git_commit,
            }),
            command_line: &record.command_line,
        }
    }
}

impl<'a, R: serde::Serialize> From<&'a SeedsRecord<R>> for Header<'a> {
    fn from(record: &'a SeedsRecord<R>) -> Self {
        Header {
            status: record.status,
            started_at: None,
            ended_at: None,
            config: &record.config,
            dataset: None,
            machine: None,
            command_line: &record.command_line,
        }
    }
}

pub(super) fn head(title: &str) -> Markup {
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

pub(super) fn subtitle(folder: &Path, header: &Header<'_>) -> Markup {
    let name = folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    html! {
        "Run " (name) " · " (header.status.name())
        @if let Some(started) = header.started_at { " · started " (timestamp(started)) }
        @if let Some(ended) = header.ended_at { ", ended " (timestamp(ended)) }
    }
}

pub(super) fn write(path: &Path, markup: &Markup) -> Result<PathBuf> {
    let temporary = path.with_extension("html.part");
    std::fs::write(&temporary, markup.0.as_bytes())
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path.to_owned())
}

/// An RFC 3339 time to the second, in UTC.
fn timestamp(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339).map_or_else(
        |_| rfc3339.to_owned(),
        |t| t.to_utc().format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

pub(super) fn configuration(header: &Header<'_>) -> Markup {
    html! {
        table.config {
            @if let Some(dataset) = header.dataset {
                tr { th { "dataset" } td {
                    (dataset.title) ", " (dataset.train_images_used) " training and "
                    (dataset.test_images) " test images, " (checked(dataset))
                } }
                tr { th { "classes" } td { (dataset.classes.join(", ")) } }
                tr { th { "data folder" } td { (dataset.dir.display().to_string()) } }
            }
            @for (name, value) in header.config.settings() {
                @if !HIDDEN_SETTINGS.contains(&name.as_str()) {
                    tr { th { (name.replace('_', " ")) } td { (value) } }
                }
            }
            @if let Some(machine) = &header.machine {
                tr { th { "CPU" } td { (machine.cpu_model) } }
                tr { th { "versions" } td {
                    "crates " (machine.versions.workspace_crates)
                    ", libtorch " (machine.versions.libtorch)
                    ", " (machine.versions.rustc)
                    ", commit " (machine.git_commit)
                } }
            }
            tr { th { "command" } td { (header.command_line.join(", ").replace(", ", " ")) } }
        }
    }
}

/// How the dataset's files were checked.
fn checked(dataset: &DatasetRecord) -> &'static str {
    match dataset.files.first().map(|f| f.verified_by) {
        Some(mnist::Verification::ContentSha256) => {
            "verified by the SHA-256 of each file's content"
        }
        Some(mnist::Verification::GzMd5) => "verified by the published MD5 of each .gz",
        _ => "not verified (checksums off)",
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

pub(super) fn verdict(gate: &Verdict) -> Markup {
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

pub(super) fn extra_table(table: &ExtraTable) -> Markup {
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
pub(super) fn inline_svg(path: &Path) -> Option<Markup> {
    let svg = std::fs::read_to_string(path).ok()?;
    let start = svg.find("<svg")?;
    Some(PreEscaped(svg[start..].to_owned()))
}

pub(super) fn files_section(folder: &Path) -> Markup {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n != "report.html" && !n.ends_with(".part") && !n.starts_with('.'))
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
