//! `--junit FILE`: the gates as JUnit XML, the format CI systems (GitHub Actions, GitLab,
//! Jenkins) show as test results: one test case per gate of a run or of a run over seeds, per
//! layer and tensor of `compare parity`, or per experiment of `compare table`; a failed one is
//! a `<failure>` whose message is the terminal's verdict line. A run stopped by a signal (or a
//! parity check by its candidate's fault) adds one `<error>` case saying so, so that CI finds
//! a file saying what happened.

use std::path::Path;

use anyhow::{Context, Result};
use parity::StepReport;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::gate::{failed_line, interrupted_line, GateCheck};
use crate::parity_verdict::{departs_line, tensor_finding};
use crate::status::Signal;

/// The gates of one run, or of a run over seeds (`compare --seeds`, `compare aggregate`), as
/// one suite; `interrupted`: the signal that stopped the run before the gates were applied.
pub fn write_gates(path: &Path, checks: &[GateCheck], interrupted: Option<Signal>) -> Result<()> {
    let cases = checks.iter().map(|check| {
        let message = (!check.failures.is_empty()).then(|| {
            let lines: Vec<String> = check.failures.iter().map(|f| failed_line(f)).collect();
            // One line: XML turns a newline in an attribute into a space.
            lines.join("; ")
        });
        case(check.gate.name(), message)
    });
    write(
        path,
        "compare gates",
        cases,
        interrupted.map(interrupted_line),
    )
}

/// `compare parity`: one case per layer and tensor, failed at its first step over `bound`,
/// over the steps compared before something stopped the check, if it did (`stopped`: a
/// signal's [`interrupted_line`], or the candidate's fault).
pub fn write_parity(
    path: &Path,
    candidate: &str,
    reports: &[StepReport],
    bound: f64,
    stopped: Option<String>,
) -> Result<()> {
    let tensors = reports.first().map_or(0, |r| r.tensors.len());
    let cases = (0..tensors).map(|index| {
        let first = &reports[0].tensors[index];
        let name = format!("layer {} {}", first.layer + 1, first.tensor.name());
        let over = reports.iter().enumerate().find_map(|(step, report)| {
            let t = &report.tensors[index];
            parity::is_over_bound(t.error.ratio, bound)
                .then(|| tensor_finding(step + 1, t, report.excluded_images))
        });
        case(
            &name,
            over.map(|finding| departs_line(candidate, bound, &finding)),
        )
    });
    write(path, &format!("compare parity {candidate}"), cases, stopped)
}

/// `compare table`, which has no gate: one passed case per experiment named by it, with its
/// figures (`experiments`: name and the terminal's row) as the case's output.
pub fn write_table(
    path: &Path,
    experiments: &[(String, String)],
    interrupted: Option<Signal>,
) -> Result<()> {
    let cases = experiments.iter().map(|(name, figures)| {
        let mut case = case(name, None);
        case.set_system_out(figures.as_str());
        case
    });
    write(
        path,
        "compare table",
        cases,
        interrupted.map(interrupted_line),
    )
}

/// A passed case, or a failed one with `failure` as its message.
fn case(name: &str, failure: Option<String>) -> TestCase {
    let status = match failure {
        None => TestCaseStatus::success(),
        Some(message) => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(message);
            status
        }
    };
    TestCase::new(name, status)
}

/// The case of a run that something stopped (`why`: a signal, a candidate's fault): an error
/// (the run did not get to its verdict), not a failure (a gate that failed).
fn stopped_case(why: String) -> TestCase {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    status.set_message(why);
    TestCase::new("run finished", status)
}

fn write(
    path: &Path,
    suite_name: &str,
    cases: impl Iterator<Item = TestCase>,
    stopped: Option<String>,
) -> Result<()> {
    let mut suite = TestSuite::new(suite_name);
    suite.add_test_cases(cases.chain(stopped.map(stopped_case)));
    let mut report = Report::new("compare");
    report.add_test_suite(suite);
    let xml = report
        .to_string()
        .with_context(|| format!("cannot write {}", path.display()))?;
    std::fs::write(path, xml).with_context(|| format!("cannot write {}", path.display()))
}
