//! A candidate's processes and files never outlive its check, however it ends. The candidate
//! is the worst kind (`tests/models/deaf.py`): it answers the hello, then never answers
//! again, never reads its stdin again and ignores SIGTERM, SIGHUP and SIGINT; it writes its
//! pid, process group and the files it opened to a report first. It is run directly, and
//! through a shell script that stays (`deaf.sh`), so that it is the harness's grandchild.
//!
//! Each test ends with the candidate's process group empty (no process, no zombie: every one
//! reaped) and, where the harness is killed, no file of the check in `/dev/shm`. A test that
//! fails kills what is left ([`Leftovers`]).

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use candidate::{Candidate, CandidateError, Fault, Options, When};
use common::{teacher_forced, Found};
use contract::{Activation, ModelConfig, Optimizer};
use rustix::io::Errno;
use rustix::process::{
    kill_process_group, set_child_subreaper, test_kill_process_group, waitpgid, Pid, Signal,
    WaitOptions,
};

/// Where the harness the SIGKILL test starts finds the report path.
const REPORT_VARIABLE: &str = "CANDIDATE_HYGIENE_REPORT";

fn small() -> ModelConfig {
    ModelConfig::new(&[32], Activation::Relu, Optimizer::Sgd { lr: 0.01 }, 0.0)
}

fn quiet(timeout: Duration) -> Options {
    Options {
        timeout,
        echo_stderr: false,
    }
}

/// `sh deaf.sh PYTHON REPORT`, for [`Candidate::from_command_line`].
fn through_a_script(report: &Path) -> String {
    format!(
        "sh {} {} {}",
        common::model("deaf.sh").display(),
        common::python().display(),
        report.display()
    )
}

/// What `deaf.py` reported.
struct Deaf {
    pid: i32,
    group: Pid,
    paths: Vec<String>,
    /// (device, inode) of each file.
    inodes: Vec<(u64, u64)>,
}

impl Deaf {
    /// The report at `path`, once it is there (deaf.py writes it before its hello answer).
    fn read(path: &Path) -> Deaf {
        let deadline = Instant::now() + Duration::from_secs(60);
        let text = loop {
            if let Ok(text) = std::fs::read_to_string(path) {
                break text;
            }
            assert!(Instant::now() < deadline, "no report at {}", path.display());
            thread::sleep(Duration::from_millis(10));
        };
        let report: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let number = |v: &serde_json::Value| v.as_u64().expect("a number");
        let pid = i32::try_from(number(&report["pid"])).expect("a pid");
        let group = i32::try_from(number(&report["pgid"])).expect("a process group");
        Deaf {
            pid,
            group: Pid::from_raw(group).expect("not 0"),
            paths: (report["paths"].as_array().expect("paths").iter())
                .map(|p| p.as_str().expect("a path").to_owned())
                .collect(),
            inodes: (report["inodes"].as_array().expect("inodes").iter())
                .map(|pair| (number(&pair[0]), number(&pair[1])))
                .collect(),
        }
    }

    /// Whether a process of its group is left (running or a zombie).
    fn group_left(&self) -> bool {
        test_kill_process_group(self.group) != Err(Errno::SRCH)
    }

    /// Asserts that nothing of its group is left, nor its own pid.
    fn assert_gone(&self) {
        assert!(
            !self.group_left(),
            "a process of group {:?} is left",
            self.group
        );
        assert!(!Path::new(&format!("/proc/{}", self.pid)).exists());
    }

    /// Asserts that no entry of `/dev/shm` or the temporary folder is one of its files.
    fn assert_files_unnamed(&self) {
        for folder in [PathBuf::from("/dev/shm"), std::env::temp_dir()] {
            for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
                if let Ok(m) = entry.metadata() {
                    let named = (m.dev(), m.ino());
                    assert!(!self.inodes.contains(&named), "{}", entry.path().display());
                }
            }
        }
    }
}

/// Kills, when dropped, what a failed test would leave: the harness it started and deaf.py's
/// group (if deaf.py is still in it, so that the group's id is not another's).
struct Leftovers {
    harness: Option<Child>,
    deaf: Option<(i32, Pid)>,
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        if let Some(harness) = &mut self.harness {
            let _ = harness.kill();
            let _ = harness.wait();
        }
        let Some((pid, group)) = self.deaf else {
            return;
        };
        if group_of(pid) == Some(group.as_raw_pid()) {
            let _ = kill_process_group(group, Signal::KILL);
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline && test_kill_process_group(group) != Err(Errno::SRCH) {
            let _ = waitpgid(group, WaitOptions::NOHANG);
            thread::sleep(Duration::from_millis(5));
        }
    }
}

/// The process group of `pid` (`/proc/<pid>/stat`'s fifth field), while it exists.
fn group_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(2)?.parse().ok()
}

/// deaf.py started by `start` (given its report's path), what it reported, and the guard of
/// what it would leave.
fn started(
    start: impl FnOnce(&Path) -> Result<Candidate, CandidateError>,
) -> (Candidate, Deaf, Leftovers) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let report = folder.path().join("deaf.json");
    let candidate = start(&report).expect("it answers the hello");
    let deaf = Deaf::read(&report);
    let leftovers = Leftovers {
        harness: None,
        deaf: Some((deaf.pid, deaf.group)),
    };
    (candidate, deaf, leftovers)
}

/// The check ends (the candidate dropped: `bye`, stdin closed) while the candidate ignores
/// both: its group is killed after the grace of 0.5 s and reaped before the drop returns
/// (measured 0.51 s).
#[test]
fn a_candidate_that_ignores_its_stdin_closing_is_killed_when_the_check_ends() {
    let (candidate, deaf, _leftovers) = started(|report| {
        let mut command = Command::new(common::python());
        command.arg(common::model("deaf.py")).arg(report);
        Candidate::start("deaf", command, &small(), &quiet(Duration::from_secs(60)))
    });
    assert_eq!(
        deaf.group.as_raw_pid(),
        deaf.pid,
        "its own group, which it leads"
    );
    assert_ne!(
        deaf.group,
        rustix::process::getpgrp(),
        "not the test's group"
    );
    let ending = Instant::now();
    drop(candidate);
    let took = ending.elapsed();
    deaf.assert_gone();
    eprintln!("the check ended, its candidate reaped, in {took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

/// A candidate that never answers, started through a shell script: the timeout kills the
/// script's shell and deaf.py, its child, with it.
#[test]
fn a_candidate_started_through_a_script_is_killed_with_its_children_at_the_timeout() {
    let config = small();
    let options = quiet(Duration::from_secs(2));
    let (mut candidate, deaf, _leftovers) = started(|report| {
        Candidate::from_command_line(&through_a_script(report), &config, &options)
    });
    assert_ne!(
        deaf.group.as_raw_pid(),
        deaf.pid,
        "the shell leads the group"
    );
    let Found::Fault(error) = teacher_forced(&config, &mut candidate, 1, 64) else {
        panic!("deaf.py never answers")
    };
    assert_eq!(
        (error.when, error.fault),
        (When::Gradients(1), Fault::Timeout(Duration::from_secs(2)))
    );
    deaf.assert_gone();
}

/// The harness of [`a_sigkilled_harness_leaves_no_process_and_no_file`]: starts deaf.py
/// through its script, says `started` on stdout and waits to be killed.
#[test]
#[ignore = "the harness that a_sigkilled_harness_leaves_no_process_and_no_file starts and kills"]
fn harness_to_be_killed() {
    let report = std::env::var_os(REPORT_VARIABLE).expect("started by the SIGKILL test");
    let command_line = through_a_script(Path::new(&report));
    let options = quiet(Duration::from_secs(600));
    let _candidate = Candidate::from_command_line(&command_line, &small(), &options)
        .expect("it answers the hello");
    println!("started");
    loop {
        thread::sleep(Duration::from_secs(3600));
    }
}

/// A harness SIGKILLed in the middle of a check: its watchdog kills the candidate's group
/// (the script's shell and deaf.py, which ignores everything but SIGKILL), and the files
/// never had a name. This test is the subreaper of what the harness leaves, so it can see
/// each process end and reap it.
#[test]
fn a_sigkilled_harness_leaves_no_process_and_no_file() {
    set_child_subreaper(Some(rustix::process::getpid())).expect("PR_SET_CHILD_SUBREAPER");
    let folder = tempfile::tempdir().expect("a temporary folder");
    let report = folder.path().join("deaf.json");
    let harness = Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "harness_to_be_killed",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(REPORT_VARIABLE, &report)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the harness starts");
    let mut leftovers = Leftovers {
        harness: Some(harness),
        deaf: None,
    };
    let harness = leftovers.harness.as_mut().expect("just set");
    let harness_pid = harness.id();
    let stdout = harness.stdout.take().expect("piped");
    let started = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line == "started");
    assert!(started, "the harness did not start its candidate");
    let deaf = Deaf::read(&report);
    leftovers.deaf = Some((deaf.pid, deaf.group));
    for path in &deaf.paths {
        assert!(
            path.starts_with(&format!("/proc/{harness_pid}/fd/")),
            "{path}"
        );
    }
    deaf.assert_files_unnamed();
    assert!(deaf.group_left());

    let harness = leftovers.harness.as_mut().expect("still set");
    harness.kill().expect("SIGKILL");
    harness.wait().expect("reaped");
    leftovers.harness = None;
    let deadline = Instant::now() + Duration::from_secs(10);
    while deaf.group_left() && Instant::now() < deadline {
        let _ = waitpgid(deaf.group, WaitOptions::NOHANG);
        thread::sleep(Duration::from_millis(5));
    }
    deaf.assert_gone();
    deaf.assert_files_unnamed();
}
