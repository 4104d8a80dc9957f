//! A full disk, as a user meets it: `--out` on a 150 KB tmpfs ends in one line naming the
//! file ("No space left on device"), never a Debug dump, and `run.json` says `failed`.
//! Mounting a tmpfs needs root (CI runs as root): where this process cannot mount one, the
//! test is reported as ignored, not passed (libtest-mimic, so that it is decided at run time).

use std::process::ExitCode;

use libtest_mimic::{Arguments, Trial};

mod common;

use common::{run, run_folder, run_json, stderr, Mounted};

fn main() -> ExitCode {
    let probe = tempfile::tempdir().expect("temp dir");
    let can_mount = Mounted::tmpfs(probe.path(), "size=4k").is_some();
    if !can_mount {
        eprintln!("full_disk is ignored: this process cannot mount a tmpfs (it needs root)");
    }
    let test = Trial::test(
        "a_full_disk_is_one_line_naming_the_file_and_run_json_says_failed",
        || {
            a_full_disk_is_one_line_naming_the_file_and_run_json_says_failed();
            Ok(())
        },
    )
    .with_ignored_flag(!can_mount);
    libtest_mimic::run(&Arguments::from_args(), vec![test]).exit_code()
}

fn a_full_disk_is_one_line_naming_the_file_and_run_json_says_failed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mounted = Mounted::tmpfs(dir.path(), "size=150k").expect("a tmpfs mounts");
    let output = run(&mounted.0, &["--epochs", "1", "--limit", "640"]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    let error = message
        .lines()
        .find(|line| line.starts_with("error: "))
        .expect("an error line");
    assert!(
        error.contains("No space left on device") && error.contains(&*mounted.0.to_string_lossy()),
        "{message}"
    );
    assert!(
        !error.contains("Os {") && !error.contains("kind:"),
        "no Debug dump: {error}"
    );
    assert_eq!(
        message.lines().filter(|l| l.starts_with("error")).count(),
        1
    );
    let record = run_json(&run_folder(&mounted.0));
    assert_eq!(record["status"], "failed", "{record}");
    assert!(
        record["error"]
            .as_str()
            .is_some_and(|e| e.contains("No space left on device")),
        "{record}"
    );
}
