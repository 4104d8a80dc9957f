//! The page of a multi-seed run: the statistics over the seeds with the gate, the band plots,
//! and a link to each seed's own page.

use std::path::{Path, PathBuf};

use anyhow::Result;
use maud::{html, Markup, DOCTYPE};
use serde::Serialize;

use super::parts::{
    configuration, extra_table, files_section, head, inline_svg, subtitle, verdict, write,
    ExtraTable, Header,
};
use crate::gate::Verdict;
use crate::record::SeedsRecord;

/// What the page of a multi-seed run shows: the statistics over the seeds, and a link to
/// each seed's own page.
pub struct SeedsPage<'a, R: Serialize> {
    pub folder: &'a Path,
    /// The run's `run.json`.
    pub record: &'a SeedsRecord<R>,
    pub title: String,
    pub stats: ExtraTable,
    /// Plots in the folder (over the seeds), shown in this order.
    pub figures: &'a [String],
    pub gate: Option<Verdict>,
}

/// Writes the multi-seed run's `report.html`; returns its path.
pub fn write_seeds_page<R: Serialize>(page: &SeedsPage<'_, R>) -> Result<PathBuf> {
    let header = Header::from(page.record);
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
                    p.sub { (subtitle(page.folder, &header)) }
                }
                // Stacked: the statistics table is too wide to share the page with the
                // configuration, and its verdict column is what the page is for.
                div.top.stacked {
                    section { h2 { "Configuration" } (configuration(&header)) }
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
                        @for seed in &page.record.seed_folders {
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
