//! What CI reads of a `compare` job: the JUnit XML of `--junit` (parsed with `roxmltree`
//! against the schema GitHub Actions, GitLab and Jenkins read: `testsuites` / `testsuite` /
//! `testcase`, with `tests`, `failures` and `errors` counts equal to the cases) and the
//! Markdown appended to `$GITHUB_STEP_SUMMARY`, for every gated job: one run, `--seeds`,
//! `aggregate`, `table`, `parity`, and a run stopped by a signal. Short runs on real MNIST.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::{column, compare, csv_rows, run_folder, send, stderr, wait_for_run_json};

/// One `<testcase>`: its name, its `<failure>` or `<error>` message, its `<system-out>`.
#[derive(Debug)]
struct Case {
    name: String,
    failure: Option<String>,
    error: Option<String>,
    output: Option<String>,
}

/// The cases of a JUnit file as CI reads it, after checking the counts on `testsuites` and
/// on its one `testsuite` against them.
fn junit_cases(path: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(path).expect("the JUnit file exists");
    let document = roxmltree::Document::parse(&text).expect("well-formed XML");
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 1, "{text}");
    let message = |case: roxmltree::Node, tag: &str| {
        (case.children().find(|n| n.has_tag_name(tag)))
            .map(|n| n.attribute("message").expect("a message").to_owned())
    };
    let cases: Vec<Case> = (suites[0].children())
        .filter(|n| n.has_tag_name("testcase"))
        .map(|case| Case {
            name: case.attribute("name").expect("a name").to_owned(),
            failure: message(case, "failure"),
            error: message(case, "error"),
            output: (case.children().find(|n| n.has_tag_name("system-out")))
                .and_then(|n| n.text())
                .map(str::to_owned),
        })
        .collect();
    let count = |n: usize| n.to_string();
    let failures = count(cases.iter().filter(|c| c.failure.is_some()).count());
    let errors = count(cases.iter().filter(|c| c.error.is_some()).count());
    for element in [root, suites[0]] {
        assert_eq!(
            element.attribute("tests"),
            Some(count(cases.len()).as_str())
        );
        assert_eq!(element.attribute("failures"), Some(failures.as_str()));
        assert_eq!(element.attribute("errors"), Some(errors.as_str()));
    }
    assert!(suites[0].attribute("name").is_some());
    cases
}

/// The names of the cases, in order.
fn names(cases: &[Case]) -> Vec<&str> {
    cases.iter().map(|c| c.name.as_str()).collect()
}

/// What CI is handed by one `compare args` into `dir/runs`, with `--junit dir/junit.xml` and
/// `$GITHUB_STEP_SUMMARY` at `dir/summary.md`.
struct CiFiles {
    junit: PathBuf,
    summary: PathBuf,
}

impl CiFiles {
    fn in_dir(dir: &Path) -> CiFiles {
        CiFiles {
            junit: dir.join("junit.xml"),
            summary: dir.join("summary.md"),
        }
    }

    /// `command` with `--junit` and `$GITHUB_STEP_SUMMARY` set to these files.
    fn on(&self, mut command: Command) -> Command {
        command
            .arg("--junit")
            .arg(&self.junit)
            .env("GITHUB_STEP_SUMMARY", &self.summary);
        command
    }

    /// The step summary, once its tables are checked to be well formed.
    fn markdown(&self) -> String {
        let markdown = std::fs::read_to_string(&self.summary).expect("the step summary");
        assert_tables_well_formed(&markdown);
        markdown
    }
}

/// Every Markdown table in `markdown` has as many cells in each row as in its header, and a
/// rule under it: a `|` inside a cell must be escaped, or it splits the cell.
fn assert_tables_well_formed(markdown: &str) {
    let cells = |line: &str| line.replace("\\|", "").matches('|').count() - 1;
    let mut lines = markdown.lines().peekable();
    while let Some(line) = lines.next() {
        if !line.starts_with('|') {
            continue;
        }
        let header = cells(line);
        let rule = lines.next().unwrap_or_default();
        assert_eq!(rule, format!("|{}", " --- |".repeat(header)), "{markdown}");
        while let Some(row) = lines.next_if(|l| l.starts_with('|')) {
            assert_eq!(cells(row), header, "{row} in {markdown}");
        }
    }
}

/// Runs `compare args` into `dir/runs` with the CI files in `dir`.
fn compare_for_ci(dir: &Path, args: &[&str]) -> (Output, CiFiles) {
    let files = CiFiles::in_dir(dir);
    let output = (files.on(compare(&dir.join("runs"), args)))
        .output()
        .expect("starts");
    (output, files)
}

/// The lines of `text` that start with `prefix`.
fn lines_starting(text: &str, prefix: &str) -> Vec<String> {
    (text.lines().filter(|l| l.starts_with(prefix)))
        .map(str::to_owned)
        .collect()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn one_run_has_a_case_per_gate_and_its_summary_the_closing_table() {
    let dir = tempfile::tempdir().expect("temp dir");
    let args = [
        "--epochs",
        "1",
        "--limit",
        "640",
        "--min-accuracy",
        "99.9",
        "--max-accuracy-gap",
        "100",
    ];
    let (output, files) = compare_for_ci(dir.path(), &args);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let cases = junit_cases(&files.junit);
    assert_eq!(
        names(&cases),
        [
            "every model completed",
            "minimum accuracy (--min-accuracy)",
            "accuracy gap (--max-accuracy-gap)"
        ]
    );
    assert_eq!((&cases[0].failure, &cases[2].failure), (&None, &None));
    let failure = cases[1].failure.as_deref().expect("the floor fails");
    // The terminal's verdict lines, both models below the floor, joined in one message.
    let terminal = lines_starting(&stderr(&output), "parity gate failed: ");
    assert_eq!(terminal.len(), 2, "{}", stderr(&output));
    assert_eq!(failure, terminal.join("; "));

    let markdown = files.markdown();
    let folder = run_folder(&dir.path().join("runs"));
    let (header, rows) = csv_rows(&folder.join("summary.csv"));
    let accuracy = column(&header, "final_test_accuracy_percent");
    let figures: Vec<String> = (rows.iter())
        .map(|row| format!("{:.2}", row[accuracy].parse::<f64>().expect("a number")))
        .collect();
    let table_row = format!("| final test accuracy (%) | {} |", figures.join(" | "));
    assert!(markdown.contains(&table_row), "{table_row} in {markdown}");
    assert!(markdown.contains(&terminal[0]), "{markdown}");
    let page = folder.join("report.html").display().to_string();
    assert!(markdown.contains(&page), "{markdown}");
}

#[test]
fn parity_has_a_case_per_tensor_and_its_summary_the_verdict() {
    let dir = tempfile::tempdir().expect("temp dir");
    let args = [
        "parity", "--steps", "2", "--hidden", "32,16", "--limit", "640", "--bound", "1",
    ];
    let (output, files) = compare_for_ci(dir.path(), &args);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let cases = junit_cases(&files.junit);
    assert_eq!(
        names(&cases),
        [
            "layer 1 weight",
            "layer 1 bias",
            "layer 2 weight",
            "layer 2 bias",
            "layer 3 weight",
            "layer 3 bias"
        ]
    );
    let verdict = lines_starting(&stdout(&output), "parity: ");
    assert_eq!(verdict.len(), 1, "{}", stdout(&output));
    assert!(
        cases
            .iter()
            .any(|c| c.failure.as_ref() == Some(&verdict[0])),
        "one case fails with the terminal's verdict line {verdict:?}: {cases:?}"
    );

    let markdown = files.markdown();
    assert!(
        markdown.contains(&format!("{}\n", verdict[0])),
        "{markdown}"
    );
    // The terminal's worst error ratio per layer, as table rows.
    for line in lines_starting(&stdout(&output), "  layer ") {
        let (layer, rest) = line.trim().split_once(": ").expect("layer: worst (step S)");
        let (worst, step) = rest.split_once(" (step ").expect("(step S)");
        let (step, _power) = step.split_once(')').expect("(step S); catches ...");
        let row = format!("| {layer} | {worst} | {step} |");
        assert!(markdown.contains(&row), "{row} in {markdown}");
    }
    let page = run_folder(&dir.path().join("runs")).join("report.html");
    assert!(markdown.contains(&page.display().to_string()), "{markdown}");
}

/// Seeds 42 and 43, one epoch on 640 images.
const TWO_SEEDS: [&str; 6] = ["--seeds", "2", "--epochs", "1", "--limit", "640"];

#[test]
fn seeds_and_their_aggregate_have_a_case_per_gate_equivalence_included() {
    // Like for like (both on SGD, shuffled): the paired difference is within rounding, so
    // every gate passes, equivalence within the default ±0.5 points included.
    let dir = tempfile::tempdir().expect("temp dir");
    let gates = [
        "--max-accuracy-gap",
        "1",
        "--min-accuracy",
        "10",
        "--require-equivalence",
    ];
    let like = [
        &TWO_SEEDS[..],
        &["--shuffle", "--torch-optimizer", "sgd"],
        &gates,
    ]
    .concat();
    let (output, files) = compare_for_ci(dir.path(), &like);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let cases = junit_cases(&files.junit);
    let gate_names = [
        "every model completed",
        "minimum accuracy (--min-accuracy)",
        "accuracy gap (--max-accuracy-gap)",
        "equivalence (--require-equivalence)",
    ];
    assert_eq!(names(&cases), gate_names);
    assert!(cases.iter().all(|c| c.failure.is_none()), "{cases:?}");
    let markdown = files.markdown();
    let folder = run_folder(&dir.path().join("runs"));
    assert_seeds_summary(&markdown, &folder, &output);
    assert!(markdown.contains("parity gate: passed\n"), "{markdown}");

    // The assignment's pair (SGD against Adam) after ten steps is far apart: all but the
    // completion gate fail (exit code 3), each with the terminal's lines.
    let dir = tempfile::tempdir().expect("temp dir");
    let apart = [
        &TWO_SEEDS[..],
        &[
            "--max-accuracy-gap",
            "1",
            "--min-accuracy",
            "99",
            "--require-equivalence",
        ],
    ]
    .concat();
    let (output, files) = compare_for_ci(dir.path(), &apart);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let cases = junit_cases(&files.junit);
    assert_eq!(names(&cases), gate_names);
    let terminal = lines_starting(&stderr(&output), "parity gate failed: ");
    let messages: Vec<&str> = cases.iter().filter_map(|c| c.failure.as_deref()).collect();
    assert_eq!(messages.len(), 3, "{cases:?}");
    // Two models under the floor: two lines in one message; then the gap, then equivalence.
    assert_eq!(messages[0], terminal[..2].join("; "));
    assert_eq!(messages[1..], terminal[2..]);
    assert!(messages[1].contains("is not within ±1"), "{messages:?}");
    assert!(
        messages[2].contains("not shown equivalent within ±0.5 points (TOST p = "),
        "{messages:?}"
    );
    let markdown = files.markdown();
    let folder = run_folder(&dir.path().join("runs"));
    assert_seeds_summary(&markdown, &folder, &output);
    for line in &terminal {
        assert!(
            markdown.contains(&format!("{line}\n")),
            "{line} in {markdown}"
        );
    }

    // Pooled again by `compare aggregate`, the same seeds give the same cases and messages.
    let pooled = tempfile::tempdir().expect("temp dir");
    let files = CiFiles::in_dir(pooled.path());
    let mut aggregate = Command::new(env!("CARGO_BIN_EXE_compare"));
    aggregate
        .arg("aggregate")
        .arg(&folder)
        .args(&apart[6..])
        .arg("--out")
        .arg(pooled.path().join("runs"));
    let output = files.on(aggregate).output().expect("starts");
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let again = junit_cases(&files.junit);
    assert_eq!(names(&again), gate_names);
    let again: Vec<&str> = again.iter().filter_map(|c| c.failure.as_deref()).collect();
    assert_eq!(again, messages);
    let markdown = files.markdown();
    assert_seeds_summary(&markdown, &run_folder(&pooled.path().join("runs")), &output);
}

/// The step summary of a run over seeds in `folder`: a row per model and for the difference
/// with the mean of `stats.csv`, the terminal's equivalence line, and the page.
fn assert_seeds_summary(markdown: &str, folder: &Path, output: &Output) {
    let (header, stats) = csv_rows(&folder.join("stats.csv"));
    let mean = column(&header, "mean");
    for row in &stats {
        let quantity = row[0].trim_end_matches(" final test accuracy");
        let line = (markdown.lines())
            .find_map(|l| l.strip_prefix(&format!("| {quantity} | ")))
            .unwrap_or_else(|| panic!("a row {quantity} in {markdown}"));
        let shown: f64 = (line.split_once(" ± ").expect("mean ± sd").0)
            .parse()
            .expect("a number");
        let mean: f64 = row[mean].parse().expect("a number");
        // The summary shows 2 decimals of the mean, stats.csv keeps 4 of it.
        assert!(
            (shown - mean).abs() <= 0.005 + 1e-4,
            "{shown} against {mean}: {markdown}"
        );
    }
    let equivalence = lines_starting(&stdout(output), "equivalence (");
    assert_eq!(equivalence.len(), 1, "{}", stdout(output));
    assert!(markdown.contains(&equivalence[0]), "{markdown}");
    let page = folder.join("report.html").display().to_string();
    assert!(markdown.contains(&page), "{markdown}");
}

#[test]
fn the_table_has_a_passed_case_per_experiment_with_its_figures() {
    // The table has no gate: a CI user gets one case per experiment, named by it (so that CI
    // can follow it from run to run), passed, with its figures as the case's output.
    let dir = tempfile::tempdir().expect("temp dir");
    let (output, files) = compare_for_ci(dir.path(), &["table", "--epochs", "1", "--limit", "64"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let folder = run_folder(&dir.path().join("runs"));
    let (header, rows) = csv_rows(&folder.join("table.csv"));
    let ours = column(&header, "test_accuracy_percent");
    let cases = junit_cases(&files.junit);
    let experiments: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names(&cases), experiments);
    let markdown = files.markdown();
    for (case, row) in cases.iter().zip(&rows) {
        assert_eq!((&case.failure, &case.error), (&None, &None));
        let accuracy = format!("{:.2}", row[ours].parse::<f64>().expect("a number"));
        let output = case.output.as_deref().expect("the figures");
        assert!(
            output.starts_with(&format!("ours (%): {accuracy}; ")),
            "{output}"
        );
        let table_row = format!("| {} | {accuracy} | ", row[0]);
        assert!(markdown.contains(&table_row), "{table_row} in {markdown}");
    }
    let page = folder.join("report.html").display().to_string();
    assert!(markdown.contains(&page), "{markdown}");

    // Over seeds: the same cases, with the mean, spread and interval of table.csv.
    let dir = tempfile::tempdir().expect("temp dir");
    let args = ["table", "--seeds", "2", "--epochs", "1", "--limit", "64"];
    let (output, files) = compare_for_ci(dir.path(), &args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let folder = run_folder(&dir.path().join("runs"));
    let (header, rows) = csv_rows(&folder.join("table.csv"));
    let (mean, sd) = (
        column(&header, "mean_test_accuracy_percent"),
        column(&header, "sd_points"),
    );
    let cases = junit_cases(&files.junit);
    assert_eq!(names(&cases), experiments);
    let markdown = files.markdown();
    for (case, row) in cases.iter().zip(&rows) {
        assert_eq!((&case.failure, &case.error), (&None, &None));
        let number = |i: usize| row[i].parse::<f64>().expect("a number");
        let spread = format!("{:.2} ± {:.2}", number(mean), number(sd));
        let output = case.output.as_deref().expect("the figures");
        assert!(
            output.starts_with(&format!("mean ± sd (%): {spread}; ")),
            "{output}"
        );
        let table_row = format!("| {} | {spread} | ", row[0]);
        assert!(markdown.contains(&table_row), "{table_row} in {markdown}");
    }
    assert!(markdown.contains("over 2 seeds"), "{markdown}");
}

#[test]
fn a_run_a_signal_stops_leaves_one_error_case_saying_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = CiFiles::in_dir(dir.path());
    let runs = dir.path().join("runs");
    let args = [
        "--epochs",
        "1000",
        "--limit",
        "640",
        "--models",
        "scratch",
        "--min-accuracy",
        "10",
    ];
    let mut child = files
        .on(compare(&runs, &args))
        .stderr(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("starts");
    wait_for_run_json(&runs);
    send(&child, "TERM");
    assert_eq!(child.wait().expect("the run ends").code(), Some(143));
    let cases = junit_cases(&files.junit);
    assert_eq!(names(&cases), ["run finished"]);
    let message = "run interrupted by SIGTERM: the gates were not applied";
    assert_eq!(cases[0].error.as_deref(), Some(message));
    assert!(files.markdown().contains(&format!("{message}\n")));
}
