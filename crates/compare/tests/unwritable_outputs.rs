//! The files a job writes for CI (`--junit`, `$GITHUB_STEP_SUMMARY`) where they cannot be
//! written: in a read-only folder, in a missing folder, in place of a directory, on
//! `/dev/full`. Each ends in exit 1 with one line naming the file, `run.json` says the run
//! `completed` and lists the output under `output_errors`; a failed gate stays exit 3.

use std::path::{Path, PathBuf};
use std::process::{ExitCode, Output};

use libtest_mimic::{Arguments, Trial};

mod common;

use common::{compare, run_folder, run_json, stderr, Mounted};

/// Where an output cannot be written.
#[derive(Clone, Copy)]
enum Place {
    ReadOnly,
    MissingFolder,
    Directory,
    DevFull,
}

impl Place {
    fn name(self) -> &'static str {
        match self {
            Place::ReadOnly => "a_read_only_folder",
            Place::MissingFolder => "a_missing_folder",
            Place::Directory => "a_directory",
            Place::DevFull => "dev_full",
        }
    }
}

/// A file at `place` under `dir`, and what keeps it there (a mount), if anything.
fn unwritable(place: Place, dir: &Path) -> (PathBuf, Option<Mounted>) {
    match place {
        Place::ReadOnly => {
            let folder = dir.join("read-only");
            std::fs::create_dir(&folder).expect("a folder");
            let mounted = read_only(&folder).expect("a read-only folder");
            (folder.join("out"), mounted)
        }
        Place::MissingFolder => (dir.join("missing/out"), None),
        Place::Directory => (dir.to_owned(), None),
        Place::DevFull => (PathBuf::from("/dev/full"), None),
    }
}

/// Makes `folder` one this process cannot write into: its mode where that is enough (not
/// root), else a read-only tmpfs mounted on it; `None` where neither works.
fn read_only(folder: &Path) -> Option<Option<Mounted>> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o555)).ok()?;
    if std::fs::write(folder.join("probe"), "").is_err() {
        return Some(None);
    }
    std::fs::remove_file(folder.join("probe")).ok()?;
    let mounted = Mounted::tmpfs(folder, "ro")?;
    std::fs::write(folder.join("probe"), "")
        .is_err()
        .then_some(Some(mounted))
}

/// `compare` with `flags`, its output `junit` or the step summary at `path`.
fn run_with(out: &Path, junit: bool, path: &Path, flags: &[&str]) -> Output {
    let mut args = vec!["--epochs", "1", "--limit", "640", "--models", "scratch"];
    args.extend_from_slice(flags);
    let mut command = compare(out, &args);
    if junit {
        command.arg("--junit").arg(path);
    } else {
        command.env("GITHUB_STEP_SUMMARY", path);
    }
    command.output().expect("the compare binary starts")
}

/// The job exits `code`, says one error line naming `path`, and its `run.json` says
/// `completed` with `output` (`junit` or `step_summary`) as its only output error.
fn assert_recorded(out: &Path, output: &Output, code: i32, name: &str, path: &Path) {
    let message = stderr(output);
    assert_eq!(output.status.code(), Some(code), "{message}");
    let errors: Vec<&str> = message.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "{message}");
    assert!(errors[0].contains(&*path.to_string_lossy()), "{message}");
    let record = run_json(&run_folder(out));
    assert_eq!(record["status"], "completed", "{record}");
    let listed = record["output_errors"].as_array().expect("a list");
    assert_eq!(listed.len(), 1, "{record}");
    assert_eq!(listed[0]["output"], name, "{record}");
    assert_eq!(
        listed[0]["error"].as_str(),
        errors[0].strip_prefix("error: ")
    );
}

fn case(place: Place, junit: bool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, _mounted) = unwritable(place, dir.path());
    let out = dir.path().join("runs");
    let output = run_with(&out, junit, &path, &[]);
    let name = if junit { "junit" } else { "step_summary" };
    assert_recorded(&out, &output, 1, name, &path);
}

fn a_failed_gate_stays_exit_3_beside_an_unwritable_junit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("missing/junit.xml");
    let out = dir.path().join("runs");
    let output = run_with(&out, true, &path, &["--min-accuracy", "99.9"]);
    assert!(
        stderr(&output).contains("parity gate failed: scratch test accuracy"),
        "{}",
        stderr(&output)
    );
    assert_recorded(&out, &output, 3, "junit", &path);
}

fn main() -> ExitCode {
    let probe = tempfile::tempdir().expect("temp dir");
    let can_read_only = read_only(probe.path()).is_some();
    if !can_read_only {
        eprintln!("the read-only cases are ignored: this process can neither lose write access to a folder nor mount a tmpfs");
    }
    let places = [
        Place::ReadOnly,
        Place::MissingFolder,
        Place::Directory,
        Place::DevFull,
    ];
    let mut tests = Vec::new();
    for place in places {
        for junit in [true, false] {
            let output = if junit { "junit" } else { "step_summary" };
            let name = format!("{output}_in_{}_exits_1_and_run_json_lists_it", place.name());
            let trial = Trial::test(name, move || {
                case(place, junit);
                Ok(())
            });
            let ignored = matches!(place, Place::ReadOnly) && !can_read_only;
            tests.push(trial.with_ignored_flag(ignored));
        }
    }
    tests.push(Trial::test(
        "a_failed_gate_stays_exit_3_beside_an_unwritable_junit",
        || {
            a_failed_gate_stays_exit_3_beside_an_unwritable_junit();
            Ok(())
        },
    ));
    libtest_mimic::run(&Arguments::from_args(), tests).exit_code()
}
