//! The page of a `compare parity` run: the verdict, the plot of the worst difference per
//! layer and step, and per layer and tensor the first step over the bound (gradient and
//! optimiser step) or the worst one within it.

use std::path::{Path, PathBuf};

use anyhow::Result;
use maud::{html, Markup, DOCTYPE};
use parity::{StepReport, TensorReport, UpdateReport};

use super::parts::{
    configuration, files_section, head, inline_svg, subtitle, verdict, write, Header,
};
use crate::gate::Verdict;
use crate::parity_verdict::{times, ParityVerdict};
use crate::record::RunRecord;

/// What the page of a parity run shows.
pub struct ParityPage<'a> {
    pub folder: &'a Path,
    pub record: &'a RunRecord,
    pub candidate: &'a str,
    pub verdict: &'a ParityVerdict,
    pub reports: &'a [StepReport],
    /// Per step, the optimiser check if it was made.
    pub updates: &'a [Option<UpdateReport>],
}

/// Writes the parity run's `report.html`; returns its path.
pub fn write_parity_page(page: &ParityPage<'_>) -> Result<PathBuf> {
    let header = Header::from(page.record);
    let title = format!("Parity of {} against torchref", page.candidate);
    let gate = Verdict {
        passed: page.verdict.passed(),
        lines: page.verdict.lines(page.candidate),
    };
    let gradients: Vec<&[TensorReport]> = page.reports.iter().map(|r| &r.tensors[..]).collect();
    let updates: Vec<Option<&[TensorReport]>> = page
        .updates
        .iter()
        .map(|u| u.as_ref().map(|u| &u.tensors[..]))
        .collect();
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(&title))
            body {
                header {
                    h1 { (title) }
                    p.sub { (subtitle(page.folder, &header)) }
                }
                div.top.stacked {
                    section { h2 { "Configuration" } (configuration(&header)) }
                    section {
                        h2 { "Verdict" }
                        (verdict(&gate))
                        (findings_table(&gradients, &updates, page.verdict.bound))
                    }
                }
                @if let Some(svg) = inline_svg(&page.folder.join("parity.svg")) {
                    section {
                        h2 { "Gradient error per step" }
                        p.note { "Per layer, the larger of its weight's and bias's error ratio: the candidate's distance from the exact (float64) gradient over libtorch's own float32 distance from it, against the bound (dashed). Below 1, the candidate is closer to the exact value than libtorch." }
                        figure { (svg) }
                    }
                }
                (files_section(page.folder))
            }
        }
    };
    write(&page.folder.join("report.html"), &markup)
}

/// One row per layer and tensor: the first step over `bound` of its gradient and of its
/// parameters after the optimiser step, or the worst step within it.
fn findings_table(
    gradients: &[&[TensorReport]],
    updates: &[Option<&[TensorReport]>],
    bound: f64,
) -> Markup {
    let tensors = gradients.first().map_or(0, |t| t.len());
    let update_steps: Vec<(usize, &[TensorReport])> = updates
        .iter()
        .enumerate()
        .filter_map(|(step, u)| u.map(|u| (step, u)))
        .collect();
    let gradient_steps: Vec<(usize, &[TensorReport])> =
        gradients.iter().copied().enumerate().collect();
    html! {
        h3 { "First finding per layer and tensor" }
        table #extra {
            thead { tr {
                th { "layer" } th { "tensor" }
                th { "gradient (error ratio, step)" }
                th { "after the optimiser step (error ratio, step)" }
            } }
            tbody {
                @for index in 0..tensors {
                    @let first = &gradient_steps[0].1[index];
                    tr {
                        td { (first.layer + 1) }
                        td { (first.tensor.name()) }
                        td { (finding(&gradient_steps, index, bound)) }
                        td {
                            @if update_steps.is_empty() { "not checked" }
                            @else { (finding(&update_steps, index, bound)) }
                        }
                    }
                }
            }
        }
    }
}

/// Tensor `index`'s first step over `bound` ("over the bound at step N: X"), else its worst.
fn finding(steps: &[(usize, &[TensorReport])], index: usize, bound: f64) -> String {
    let value = |(step, tensors): &(usize, &[TensorReport])| {
        tensors.get(index).map(|t| (*step + 1, t.error.ratio))
    };
    if let Some((step, ratio)) = steps
        .iter()
        .filter_map(value)
        .find(|(_, ratio)| parity::is_over_bound(*ratio, bound))
    {
        return format!("over the bound at step {step}: {}", times(ratio));
    }
    match steps
        .iter()
        .filter_map(value)
        .max_by(|a, b| a.1.total_cmp(&b.1))
    {
        Some((step, ratio)) => format!("within: worst {} at step {step}", times(ratio)),
        None => "–".to_owned(),
    }
}
