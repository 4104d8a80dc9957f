//! `compare aggregate` against seed folders that lie or move: a `seed.json` whose result is
//! another seed's (its checksum intact) is refused against the folder's own `epochs.csv`, and
//! a seed that vanishes or changes while the aggregate reads it ends the aggregate with exit
//! 1, one line naming it, and no run folder left. Real MNIST, 64 images, one epoch.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod common;

use common::{compare, stderr};

/// Seeds 0..6 of scratch, complete, in `dir`.
fn six_seeds(dir: &Path) {
    let args = [
        "--seeds", "0..6", "--shard", "0/1", "--limit", "64", "--epochs", "1", "--models",
        "scratch",
    ];
    let output = compare(dir, &args).output().expect("starts");
    assert!(output.status.success(), "{}", stderr(&output));
}

fn aggregate(seeds: &Path, out: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_compare"));
    command.arg("aggregate").arg(seeds).arg("--out").arg(out);
    command
}

/// Seed `from`'s `seed.json` renumbered as seed `to`: its result and checksum are `from`'s.
fn record_as(seeds: &Path, from: u64, to: u64) -> String {
    let text =
        std::fs::read_to_string(seeds.join(format!("seed-{from}/seed.json"))).expect("a seed.json");
    let mut record: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    record["seed"] = to.into();
    record.to_string()
}

fn assert_refused_leaving_nothing(output: &Output, out: &Path, line: &str) {
    let message = stderr(output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    let errors: Vec<&str> = message.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "{message}");
    assert!(errors[0].contains(line), "{line} in {message}");
    let left: Vec<_> = std::fs::read_dir(out)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "no run folder left: {left:?}");
}

#[test]
fn a_seed_json_holding_another_seeds_result_is_refused_against_its_epochs_csv() {
    let dir = tempfile::tempdir().expect("temp dir");
    let seeds = dir.path().join("seeds");
    six_seeds(&seeds);
    let swapped = seeds.join("seed-0/seed.json");
    std::fs::write(&swapped, record_as(&seeds, 1, 0)).expect("written");
    let out = dir.path().join("pooled");
    let output = aggregate(&seeds, &out).output().expect("starts");
    let line = format!("seed 0: {}: scratch's ", swapped.display());
    assert_refused_leaving_nothing(&output, &out, &line);
    assert!(
        stderr(&output).contains("in its epochs.csv"),
        "{}",
        stderr(&output)
    );
}

/// Runs the aggregate of `seeds` with seed 4's `epochs.csv` a FIFO, so that it waits there
/// with seeds 0 to 3 read; then `meanwhile`, then lets it go on.
fn while_reading_seed_4(seeds: &Path, out: &Path, meanwhile: impl FnOnce()) -> Output {
    let csv = seeds.join("seed-4/epochs.csv");
    let content = std::fs::read(&csv).expect("epochs.csv");
    std::fs::remove_file(&csv).expect("removed");
    let made = Command::new("mkfifo")
        .arg(&csv)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let child = aggregate(seeds, out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    // A FIFO opens for writing, without blocking, only once its reader has opened it.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut fifo = loop {
        let opened = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&csv);
        match opened {
            Ok(fifo) => break fifo,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("the aggregate never read {}: {e}", csv.display()),
        }
    };
    meanwhile();
    fifo.write_all(&content).expect("written");
    drop(fifo);
    let output = child.wait_with_output().expect("it ends");
    std::fs::remove_file(&csv).expect("the FIFO removed");
    std::fs::write(&csv, content).expect("epochs.csv back");
    output
}

#[test]
fn a_seed_that_vanishes_or_changes_while_it_is_read_leaves_no_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let seeds = dir.path().join("seeds");
    six_seeds(&seeds);
    let backup = dir.path().join("seed-1");
    let copied = Command::new("cp")
        .arg("-r")
        .arg(seeds.join("seed-1"))
        .arg(&backup)
        .status()
        .expect("cp runs");
    assert!(copied.success());

    let out = dir.path().join("vanished");
    let output = while_reading_seed_4(&seeds, &out, || {
        std::fs::remove_dir_all(seeds.join("seed-1")).expect("removed");
    });
    let line = format!("{}", seeds.join("seed-1").display());
    assert_refused_leaving_nothing(&output, &out, &line);

    std::fs::rename(&backup, seeds.join("seed-1")).expect("restored");
    let out = dir.path().join("changed");
    let other = record_as(&seeds, 2, 1);
    let output = while_reading_seed_4(&seeds, &out, || {
        std::fs::write(seeds.join("seed-1/seed.json"), other).expect("written");
    });
    let line = format!(
        "seed 1: {} changed while it was pooled",
        seeds.join("seed-1/seed.json").display()
    );
    assert_refused_leaving_nothing(&output, &out, &line);
}
