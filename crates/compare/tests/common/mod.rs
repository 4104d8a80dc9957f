//! What the test targets that run the `compare` binary share: running it on the real MNIST
//! copy, and reading the folder it writes.
// Each test target uses a part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// `compare args --out out` on the real MNIST copy, offline, on two threads unless `args`
/// says otherwise.
pub fn compare(out: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_compare"));
    command
        .args(args)
        .arg("--out")
        .arg(out)
        .arg("--data-dir")
        .arg(testkit::real_mnist_dir())
        .arg("--offline");
    if !args.contains(&"--threads") {
        command.args(["--threads", "2"]);
    }
    command
}

pub fn run(out: &Path, args: &[&str]) -> Output {
    compare(out, args)
        .output()
        .expect("the compare binary starts")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The single run folder under `out`.
pub fn run_folder(out: &Path) -> PathBuf {
    let folders: Vec<PathBuf> = std::fs::read_dir(out)
        .expect("the output folder exists")
        .map(|entry| entry.expect("readable entry").path())
        .collect();
    assert_eq!(
        folders.len(),
        1,
        "one run folder in {}: {folders:?}",
        out.display()
    );
    folders.into_iter().next().expect("one folder")
}

pub fn run_json(folder: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(folder.join("run.json")).expect("run.json exists");
    serde_json::from_str(&text).expect("run.json is JSON")
}

pub fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).expect("the CSV exists");
    let header = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("a valid row").iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

pub fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("a column {name}: {header:?}"))
}

/// Waits for the run folder under `out` and its `run.json`.
pub fn wait_for_run_json(out: &Path) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "no run.json in time");
        std::thread::sleep(Duration::from_millis(20));
        let Ok(entries) = std::fs::read_dir(out) else {
            continue;
        };
        if let Some(folder) = entries.flatten().next().map(|e| e.path()) {
            if folder.join("run.json").exists() {
                return folder;
            }
        }
    }
}

/// Sends SIG`signal` (`INT`, `TERM`…) to `child`.
pub fn send(child: &std::process::Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Unmounts the tmpfs at its path when dropped, pass or fail.
pub struct Mounted(pub PathBuf);

impl Mounted {
    /// A tmpfs with `options` (`mount -o`: `size=150k`, `ro`) at `dir`, or `None` if this
    /// process cannot mount (it needs root).
    pub fn tmpfs(dir: &Path, options: &str) -> Option<Mounted> {
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        mounted.then(|| Mounted(dir.to_owned()))
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}
