//! Sweeps across processes: `--shard` and `--resume` into one folder, `compare aggregate`
//! pooling it, and every refusal they make, on real MNIST (64 training images, one epoch: a
//! seed takes about a second, most of it scoring the 10 000 test images). The whole story
//! under GNU parallel, with a shard stopped by SIGTERM, is `scripts/parallel-test`, run here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `compare ARGS` on the real MNIST copy, 64 images, one epoch, one thread.
fn compare(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_compare"))
        .args(args)
        .arg("--data-dir")
        .arg(testkit::real_mnist_dir())
        .args(["--offline", "--limit", "64", "--epochs", "1"])
        .args(if args.contains(&"--threads") {
            &[][..]
        } else {
            &["--threads", "1"][..]
        })
        .output()
        .expect("the compare binary starts")
}

/// `compare aggregate ARGS` (no training flags).
fn aggregate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_compare"))
        .arg("aggregate")
        .args(args)
        .output()
        .expect("the compare binary starts")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temp path")
}

/// Seeds `seeds` as shard 0 of 1 into `out`, with `extra` flags.
fn shard_into(out: &Path, seeds: &str, extra: &[&str]) -> Output {
    let mut args = vec!["--seeds", seeds, "--shard", "0/1", "--out", path(out)];
    args.extend_from_slice(extra);
    compare(&args)
}

/// The folder the last `report: …/report.html` line names.
fn report_folder(output: &Output) -> PathBuf {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let page = stdout
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("report: "))
        .unwrap_or_else(|| panic!("no report line in {}", text(output)));
    Path::new(page).parent().expect("a folder").to_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_shard_writes_complete_seed_folders_and_a_rerun_skips_them() {
    let out = tempfile::tempdir().expect("temp dir");
    let first = shard_into(out.path(), "0..2", &[]);
    assert!(first.status.success(), "{}", text(&first));
    for seed in [0, 1] {
        let folder = out.path().join(format!("seed-{seed}"));
        let record: serde_json::Value =
            serde_json::from_str(&read(&folder.join("seed.json"))).expect("seed.json is JSON");
        assert_eq!(record["seed"], seed);
        assert_eq!(record["fingerprint"]["config"]["train_images"], 64);
        assert!(folder.join("summary.csv").exists() && folder.join("run.json").exists());
    }
    assert!(
        text(&first).contains("compare aggregate") && text(&first).contains("--expect 0..2"),
        "a shard says how to pool: {}",
        text(&first)
    );

    let again = shard_into(out.path(), "0..3", &[]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        text(&again).contains("skipping seeds 0..2: already complete with the same settings"),
        "{}",
        text(&again)
    );
    assert!(out.path().join("seed-2/seed.json").exists());

    // Threads are not in the fingerprint; the learning rate is, and is named.
    let threads = compare(&[
        "--seeds",
        "0..3",
        "--shard",
        "0/1",
        "--out",
        path(out.path()),
        "--threads",
        "2",
    ]);
    assert!(threads.status.success(), "{}", text(&threads));
    let other = shard_into(out.path(), "0..3", &["--lr", "0.02"]);
    assert_eq!(other.status.code(), Some(2), "{}", text(&other));
    assert!(
        text(&other).contains(
            "seed-0 was made with other settings, so this run cannot add to it: the configuration's models[0].config.optimizer.lr is 0.01 there, 0.02 in this run"
        ),
        "names the folder and the field: {}",
        text(&other)
    );
}

#[test]
fn the_aggregate_of_shards_equals_one_process_and_refuses_what_cannot_be_pooled() {
    let out = tempfile::tempdir().expect("temp dir");
    let (a, b) = (out.path().join("a"), out.path().join("b"));
    for (index, dir) in [(0, &a), (1, &b)] {
        let shard = format!("{index}/2");
        let output = compare(&[
            "--seeds",
            "0..4",
            "--shard",
            &shard,
            "--out",
            path(dir),
            "--shuffle",
        ]);
        assert!(output.status.success(), "{}", text(&output));
    }
    let single = compare(&[
        "--seeds",
        "0..4",
        "--out",
        path(&out.path().join("single")),
        "--shuffle",
    ]);
    assert!(single.status.success(), "{}", text(&single));
    let single = report_folder(&single);

    let pooled_out = out.path().join("pooled");
    let mut pooled = Vec::new();
    for order in [[&a, &b], [&b, &a]] {
        let output = aggregate(&[
            path(order[0]),
            path(order[1]),
            "--expect",
            "0..4",
            "--out",
            path(&pooled_out),
        ]);
        assert!(output.status.success(), "{}", text(&output));
        pooled.push(report_folder(&output));
    }
    let without_timing = |csv: String| -> String {
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
        let keep: Vec<usize> = (0..header.len())
            .filter(|&i| !header[i].contains("seconds"))
            .collect();
        std::iter::once(header.join(","))
            .chain(lines.map(|line| {
                let cells: Vec<&str> = line.split(',').collect();
                keep.iter().map(|&i| cells[i]).collect::<Vec<_>>().join(",")
            }))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for folder in &pooled {
        assert_eq!(
            read(&folder.join("stats.csv")),
            read(&single.join("stats.csv"))
        );
        assert_eq!(
            without_timing(read(&folder.join("seeds.csv"))),
            without_timing(read(&single.join("seeds.csv")))
        );
        for file in ["accuracy_over_seeds.svg", "report.html", "run.json"] {
            assert!(folder.join(file).exists(), "{file}");
        }
    }
    assert_eq!(
        read(&pooled[0].join("seeds.csv")),
        read(&pooled[1].join("seeds.csv")),
        "the order of the folders changes nothing"
    );

    // The gate over the pooled seeds, with --seeds' exit code.
    let gated = aggregate(&[
        path(&a),
        path(&b),
        "--min-accuracy",
        "99.9",
        "--out",
        path(&pooled_out),
    ]);
    assert_eq!(gated.status.code(), Some(3), "{}", text(&gated));

    // Missing seeds are named.
    let missing = aggregate(&[path(&a), "--expect", "0..4", "--out", path(&pooled_out)]);
    assert_eq!(missing.status.code(), Some(1), "{}", text(&missing));
    assert!(
        text(&missing).contains("2 of the 4 expected seeds are missing: 1, 3"),
        "{}",
        text(&missing)
    );

    // The same seed twice: counted once when identical, refused when the results differ.
    let copy = out.path().join("copy");
    std::fs::create_dir(&copy).expect("a folder");
    let seed_0 = copy.join("seed-0");
    std::fs::create_dir(&seed_0).expect("a folder");
    let record = read(&a.join("seed-0/seed.json"));
    std::fs::write(seed_0.join("seed.json"), &record).expect("written");
    let epochs = read(&a.join("seed-0/epochs.csv"));
    std::fs::write(seed_0.join("epochs.csv"), epochs).expect("written");
    let twice = aggregate(&[path(&a), path(&b), path(&copy), "--out", path(&pooled_out)]);
    assert!(twice.status.success(), "{}", text(&twice));
    let stats = read(&report_folder(&twice).join("stats.csv"));
    assert_eq!(
        stats,
        read(&single.join("stats.csv")),
        "seed 0 counted once"
    );
    // A result edited by hand is refused by its checksum, naming the seed and the file (two
    // results that differ, each as written, are refused as a conflict: tests/merge.rs of
    // the sweep crate).
    let mut changed: serde_json::Value = serde_json::from_str(&record).expect("JSON");
    changed["result"]["models"][0]["final_test_accuracy_percent"] = 99.99.into();
    std::fs::write(seed_0.join("seed.json"), changed.to_string()).expect("written");
    let edited = aggregate(&[path(&a), path(&copy), "--out", path(&pooled_out)]);
    assert_eq!(edited.status.code(), Some(1), "{}", text(&edited));
    let line = format!(
        "error: cannot pool the seed folders: seed 0: {}: its result does not match its result_sha256 (edited after it was written)",
        seed_0.join("seed.json").display()
    );
    assert!(text(&edited).contains(&line), "{}", text(&edited));

    // Another fingerprint: both folders and the field named.
    let other = out.path().join("other");
    let output = shard_into(&other, "4..5", &["--batch-size", "32"]);
    assert!(output.status.success(), "{}", text(&output));
    let refused = aggregate(&[path(&a), path(&other), "--out", path(&pooled_out)]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    let message = text(&refused);
    assert!(
        message.contains("cannot be pooled")
            && message.contains("batch_size")
            && message.contains("seed-0")
            && message.contains("seed-4"),
        "{message}"
    );
}

#[test]
fn resume_without_a_shard_goes_on_in_out_and_pools_there() {
    let out = tempfile::tempdir().expect("temp dir");
    let first = compare(&["--seeds", "0..2", "--resume", "--out", path(out.path())]);
    assert!(first.status.success(), "{}", text(&first));
    assert_eq!(
        report_folder(&first),
        out.path(),
        "no new folder under --out"
    );
    let again = compare(&["--seeds", "0..3", "--resume", "--out", path(out.path())]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        text(&again).contains("skipping seeds 0..2"),
        "{}",
        text(&again)
    );
    let seeds: Vec<String> = read(&out.path().join("seeds.csv"))
        .lines()
        .skip(1)
        .map(|line| line.split(',').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(seeds, ["0", "0", "1", "1", "2", "2"], "two models per seed");
}

#[test]
fn shards_and_resume_are_checked_before_anything_runs() {
    let out = tempfile::tempdir().expect("temp dir");
    let outside = Command::new(env!("CARGO_BIN_EXE_compare"))
        .args([
            "--seeds",
            "0..4",
            "--shard",
            "slurm",
            "--out",
            path(out.path()),
        ])
        .env_remove("SLURM_ARRAY_TASK_ID")
        .output()
        .expect("starts");
    assert_eq!(outside.status.code(), Some(2), "{}", text(&outside));
    assert!(
        text(&outside).contains("SLURM_ARRAY_TASK_ID"),
        "{}",
        text(&outside)
    );
    let empty = compare(&[
        "--seeds",
        "0..2",
        "--shard",
        "3/4",
        "--out",
        path(out.path()),
    ]);
    assert!(empty.status.success(), "{}", text(&empty));
    assert!(text(&empty).contains("no seeds to run"), "{}", text(&empty));
    assert_eq!(std::fs::read_dir(out.path()).expect("exists").count(), 0);
    // A shard with no seeds names no folder, as it makes none.
    let nowhere = out.path().join("h/o5");
    let empty = compare(&["--seeds", "0..2", "--shard", "5/6", "--out", path(&nowhere)]);
    assert!(empty.status.success(), "{}", text(&empty));
    assert!(
        !nowhere.exists() && !text(&empty).contains("reports:"),
        "{}",
        text(&empty)
    );
    // A missing folder: its reason said once.
    let missing = aggregate(&[path(&nowhere)]);
    assert_eq!(missing.status.code(), Some(1), "{}", text(&missing));
    assert_eq!(
        text(&missing).matches("No such file or directory").count(),
        1,
        "{}",
        text(&missing)
    );
}

#[test]
fn gnu_parallel_runs_four_shards_one_stopped_and_resumed_and_the_aggregate_equals_one_process() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/parallel-test");
    let output = Command::new(script)
        .env("COMPARE", env!("CARGO_BIN_EXE_compare"))
        .env("MNIST_DIR", testkit::real_mnist_dir())
        .output()
        .expect("scripts/parallel-test starts");
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains("parallel-test: passed"),
        "{}",
        text(&output)
    );
}
