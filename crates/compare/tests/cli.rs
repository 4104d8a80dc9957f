//! The `compare` binary as a user meets it: real runs on real MNIST (a few hundred images, so
//! each takes seconds), bad input, the parity gate and divergence. The stop signals are in
//! `signals.rs`.

use std::process::Command;

mod common;
mod page;

use common::{column, csv_rows, run, run_folder, run_json, stderr};

#[test]
fn a_short_run_writes_every_report() {
    let out = tempfile::tempdir().expect("temp dir");
    let output = run(
        out.path(),
        &["--epochs", "2", "--limit", "640", "--log-every", "5"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let folder = run_folder(out.path());

    let (header, rows) = csv_rows(&folder.join("epochs.csv"));
    assert_eq!(
        header,
        [
            "model",
            "epoch",
            "train_loss",
            "train_accuracy_percent",
            "test_loss",
            "test_accuracy_percent",
            "train_seconds",
            "eval_seconds",
            "images_per_second"
        ]
    );
    let order: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("scratch", "1"),
            ("torchref", "1"),
            ("scratch", "2"),
            ("torchref", "2")
        ]
    );
    let test_accuracy = |i: usize| rows[i][5].parse::<f64>().expect("a number");
    // Ten SGD steps at lr 0.01 move ReLU slowly (about 15% then 25% here); Adam is far
    // ahead (about 70% then 78%). Each must beat chance (10%) and improve.
    assert!(
        test_accuracy(0) > 10.0 && test_accuracy(2) > test_accuracy(0),
        "{rows:?}"
    );
    assert!(
        test_accuracy(1) > 50.0 && test_accuracy(3) > test_accuracy(1),
        "{rows:?}"
    );

    // 640 images / 64 = 10 steps an epoch, logged every 5.
    let (_, steps) = csv_rows(&folder.join("steps.csv"));
    let images_seen: Vec<&str> = steps
        .iter()
        .filter(|r| r[0] == "scratch")
        .map(|r| r[3].as_str())
        .collect();
    assert_eq!(images_seen, ["320", "640", "960", "1280"]);

    let (header, summary) = csv_rows(&folder.join("summary.csv"));
    assert_eq!(summary.len(), 2);
    assert!(summary.iter().all(|r| r[5] == "completed"), "{summary:?}");
    // McNemar on the 10 000 test images: the images only one model got right differ by exactly
    // the accuracy gap (in images), and both rows carry the same p-value.
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("summary.csv has {name}: {header:?}"))
    };
    let (against, only, p) = (
        column("mcnemar_against"),
        column("test_images_only_this_model_got_right"),
        column("mcnemar_exact_p_value"),
    );
    let accuracy = column("final_test_accuracy_percent");
    let number = |row: usize, col: usize| summary[row][col].parse::<f64>().expect("a number");
    assert_eq!(
        (&*summary[0][against], &*summary[1][against]),
        ("torchref", "scratch")
    );
    let gap_in_images = (number(0, accuracy) - number(1, accuracy)) * 100.0;
    assert!(
        (number(0, only) - number(1, only) - gap_in_images).abs() < 0.5,
        "{summary:?}"
    );
    assert_eq!(summary[0][p], summary[1][p]);
    assert!((0.0..=1.0).contains(&number(0, p)), "{summary:?}");

    for model in ["scratch", "torchref"] {
        let (header, matrix) = csv_rows(&folder.join(format!("confusion_matrix_{model}.csv")));
        assert_eq!(header.len(), 11);
        let total: u64 = matrix
            .iter()
            .flat_map(|r| r[1..].iter())
            .map(|c| c.parse::<u64>().expect("a count"))
            .sum();
        assert_eq!(total, 10_000, "every test image is counted once");
        let (_, report) = csv_rows(&folder.join(format!("classification_report_{model}.csv")));
        let classes: Vec<&str> = report.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(classes[..3], ["0", "1", "2"]);
        assert_eq!(classes[10..], ["accuracy", "macro avg", "weighted avg"]);
    }
    for plot in ["loss.svg", "accuracy.svg", "steps_loss.svg", "samples.svg"] {
        let svg = std::fs::read_to_string(folder.join(plot)).expect("the plot exists");
        assert!(svg.starts_with("<svg"), "{plot} is an SVG");
    }
    let record = run_json(&folder);
    assert_eq!(record["status"], "completed");
    assert_eq!(record["config"]["epochs"], 2);
    assert_eq!(record["dataset"]["train_images_used"], 640);
    assert_eq!(record["dataset"]["files"].as_array().map(Vec::len), Some(4));
    assert_eq!(record["dataset"]["name"], "mnist");
    assert_eq!(
        record["dataset"]["files"][3]["verified_by"],
        "content_sha256"
    );
    assert_eq!(record["models"].as_array().map(Vec::len), Some(2));
    assert_ne!(
        record["scratch_engine"], "auto",
        "the engine that ran, not the flag"
    );
    let per_step = record["scratch_threads_per_step"]
        .as_array()
        .expect("a list");
    assert_eq!(
        per_step.len(),
        1,
        "640 images in batches of 64: no short batch"
    );
    assert_eq!(per_step[0]["batch_images"], 64);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    assert!(
        per_step[0]["threads"]
            .as_u64()
            .is_some_and(|t| (1..=cores).contains(&t)),
        "{per_step:?}"
    );
    assert!(
        record["pid"].as_u64().is_some_and(|pid| pid > 0),
        "{record}"
    );
    assert!(
        record["host"].as_str().is_some_and(|host| !host.is_empty()),
        "{record}"
    );
    if cfg!(target_arch = "x86_64") {
        assert_eq!(record["subnormals"], "flush-to-zero");
    }

    // report.html, as a parser reads it; the terminal's last line names it.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let page_path = folder.join("report.html");
    assert_eq!(
        stdout.trim_end().lines().last(),
        Some(format!("report: {}", page_path.display()).as_str())
    );
    let html = page::parse(&folder);
    page::assert_self_contained(&html);
    // 10 figures a model (accuracies, best epoch, epochs, losses, time and speed, McNemar's
    // count and p), and the speed ratio.
    let compared = page::assert_summary_matches(&html, &header, &summary);
    assert_eq!(compared, 2 * 10 + 1, "figures compared");
    // The gallery's counts agree with McNemar's in summary.csv (computed apart, in `stats`):
    // an image only torchref gets wrong is one only scratch gets right.
    let kinds = page::texts(&html, "#disagreement-kinds td");
    let count_of = |kind: &str| {
        kinds
            .chunks(2)
            .find(|pair| pair[0] == kind)
            .map_or(0, |pair| pair[1].parse::<usize>().expect("a count"))
    };
    let only_right = |model: &str| {
        let at = column("test_images_only_this_model_got_right");
        let row = summary.iter().find(|r| r[0] == model).expect("the model");
        row[at].parse::<usize>().expect("a count")
    };
    assert_eq!(count_of("only torchref wrong"), only_right("scratch"));
    assert_eq!(count_of("only scratch wrong"), only_right("torchref"));
    let total: usize = kinds.chunks(2).map(|pair| count_of(&pair[0])).sum();
    let counted = page::texts(&html, "#disagreement-count strong");
    assert_eq!(counted, [total.to_string()]);
    let cards = page::texts(&html, "#gallery .card").len();
    assert_eq!(cards, total.min(36));
    assert_eq!(
        page::texts(&html, r#"table.cm[data-model="scratch"] th.truth"#),
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
    );
}

/// The ladder in one run, the scratch model on the engine asked for, recorded in run.json.
#[test]
fn the_textbook_engine_runs_beside_the_fused_one_and_is_recorded() {
    let out = tempfile::tempdir().expect("temp dir");
    let args = [
        "--epochs",
        "1",
        "--limit",
        "320",
        "--models",
        "scratch-textbook,scratch",
        "--scratch-engine",
        "textbook",
    ];
    let output = run(out.path(), &args);
    assert!(output.status.success(), "{}", stderr(&output));
    let record = run_json(&run_folder(out.path()));
    assert_eq!(record["scratch_engine"], "textbook");
    let models: Vec<&str> = record["models"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|m| m["model"].as_str().expect("a name"))
        .collect();
    assert_eq!(models, ["scratch-textbook", "scratch"]);
}

#[test]
fn another_dataset_is_verified_by_its_checksums_and_reported_with_its_class_names() {
    // MNIST's files are not Fashion-MNIST's: refused, naming the dataset and the opt-out.
    let out = tempfile::tempdir().expect("temp dir");
    let args = [
        "--dataset",
        "fashion-mnist",
        "--epochs",
        "1",
        "--limit",
        "640",
    ];
    let output = run(out.path(), &args);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("Fashion-MNIST") && message.contains("--no-checksums"),
        "{message}"
    );

    // With the opt-out (its old name still works) any 28×28, 10-class IDX set runs, and
    // every report names the classes the dataset's way.
    let output = run(out.path(), &[&args[..], &["--no-mnist-checksums"]].concat());
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("Fashion-MNIST test set"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let folder = run_folder(out.path());
    let fashion = mnist::DatasetName::FashionMnist.classes();
    let (header, matrix) = csv_rows(&folder.join("confusion_matrix_scratch.csv"));
    assert_eq!(header[1..], fashion[..]);
    let row_names: Vec<&str> = matrix.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(row_names, fashion[..]);
    let (_, report) = csv_rows(&folder.join("classification_report_torchref.csv"));
    let classes: Vec<&str> = report.iter().map(|r| r[0].as_str()).take(10).collect();
    assert_eq!(classes, fashion[..]);
    let samples = std::fs::read_to_string(folder.join("samples.svg")).expect("the figure");
    // The first training image of the files read is labelled 5: a sandal, in Fashion-MNIST.
    assert!(samples.contains("label: Sandal"), "samples.svg");
    let record = run_json(&folder);
    assert_eq!(record["dataset"]["name"], "fashion-mnist");
    assert_eq!(record["dataset"]["classes"][9], "Ankle boot");
    assert_eq!(record["dataset"]["checksums_verified"], false);
    let first = &record["dataset"]["files"][0];
    assert_eq!(first["verified_by"], "unverified");
    let html = page::parse(&folder);
    assert_eq!(
        page::texts(&html, r#"table.cm[data-model="torchref"] th.truth"#),
        fashion
    );
    assert!(page::texts(&html, "h1")[0].ends_with("on Fashion-MNIST"));
    assert_eq!(
        first["expected_sha256_of_content"],
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
    );
}

/// Exit code 2, as documented, for every command line that cannot run: the values this
/// binary checks (one line naming the flag) and clap's own errors (unknown flag, a value of
/// the wrong type or not among the choices: clap's message, which ends with a usage hint).
#[test]
fn invalid_flags_fail_with_code_2_and_write_nothing() {
    for (args, ours) in [
        (&["--threads", "256"][..], true),
        (&["--batch-size", "0"][..], true),
        (&["--lr", "0"][..], true),
        (&["--lr=-1"][..], true),
        (&["--hidden", "500,0"][..], true),
        (&["--epochs", "0"][..], true),
        (&["--device", "gpu"][..], true),
        (&["--hidden", "100000000"][..], true),
        (&["--limit", "63", "--drop-last"][..], true),
        (&["--models", "torchref,torchref"][..], true),
        (&["--lr", "-1"][..], true),
        (&["--min-accuracy", "-1"][..], true),
        (&["--no-such-flag"][..], false),
        (&["--epochs", "two"][..], false),
        (&["--activation", "softplus"][..], false),
    ] {
        let out = tempfile::tempdir().expect("temp dir");
        let output = run(out.path(), args);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
        let first_line = message.lines().next().unwrap_or_default();
        assert!(
            first_line.starts_with("error: ")
                && first_line.contains(args[0].split('=').next().unwrap_or_default()),
            "{args:?}: {message}"
        );
        if ours {
            assert_eq!(message.trim().lines().count(), 1, "{args:?}: {message}");
        }
        if args[0] == "--threads" {
            assert!(message.contains("255"), "names the limit: {message}");
        }
        assert_eq!(
            std::fs::read_dir(out.path()).map(Iterator::count).ok(),
            Some(0),
            "{args:?} wrote a run"
        );
    }
}

#[test]
fn missing_data_names_the_files_and_writes_no_run() {
    let out = tempfile::tempdir().expect("temp dir");
    let empty = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_compare"))
        .args(["--offline", "--epochs", "1", "--out"])
        .arg(out.path())
        .arg("--data-dir")
        .arg(empty.path())
        .output()
        .expect("starts");
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("train-images-idx3-ubyte"), "{message}");
    assert!(
        message.contains(&empty.path().display().to_string()),
        "{message}"
    );
    assert_eq!(
        std::fs::read_dir(out.path()).map(Iterator::count).ok(),
        Some(0)
    );
}

#[test]
fn an_unwritable_output_folder_is_refused() {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    let output = run(
        &file.path().join("runs"),
        &["--epochs", "1", "--limit", "64"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("--out"), "{}", stderr(&output));
}

#[test]
fn the_parity_gate_has_its_own_exit_code() {
    let out = tempfile::tempdir().expect("temp dir");
    let output = run(
        out.path(),
        &["--epochs", "1", "--limit", "640", "--min-accuracy", "99.9"],
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("below the floor 99.9%"),
        "{}",
        stderr(&output)
    );
    assert_eq!(run_json(&run_folder(out.path()))["status"], "completed");

    // Both on SGD from the same weights and batches: the same model, to rounding.
    let out = tempfile::tempdir().expect("temp dir");
    let args = [
        "--epochs",
        "1",
        "--limit",
        "640",
        "--torch-optimizer",
        "sgd",
        "--max-accuracy-gap",
        "0.2",
    ];
    let output = run(out.path(), &args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn a_diverging_model_is_stopped_and_recorded() {
    let out = tempfile::tempdir().expect("temp dir");
    let output = run(
        out.path(),
        &[
            "--epochs",
            "2",
            "--limit",
            "640",
            "--lr",
            "1e9",
            "--torch-optimizer",
            "sgd",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("diverged"), "{}", stderr(&output));
    let (_, summary) = csv_rows(&run_folder(out.path()).join("summary.csv"));
    for row in summary {
        assert!(row[5].starts_with("diverged at epoch 1 step"), "{row:?}");
    }
}

#[test]
fn seeds_run_the_comparison_per_seed_and_gate_on_the_interval() {
    // Like for like: per seed, both models the same to rounding, so the interval of the
    // difference is within a tenth of a point.
    let out = tempfile::tempdir().expect("temp dir");
    let args = [
        "--seeds",
        "3,5",
        "--epochs",
        "1",
        "--limit",
        "640",
        "--shuffle",
        "--torch-optimizer",
        "sgd",
        "--max-accuracy-gap",
        "0.1",
        "--min-accuracy",
        "10",
    ];
    let output = run(out.path(), &args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("seed 2/2"), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("expected total time"),
        "{}",
        stderr(&output)
    );
    let folder = run_folder(out.path());
    for seed in ["seed-3", "seed-5"] {
        let run = run_json(&folder.join(seed));
        assert_eq!(run["status"], "completed", "{seed}");
        assert_eq!(run["seed"], seed[5..].parse::<u64>().expect("a seed"));
        assert!(folder.join(seed).join("summary.csv").exists());
        page::assert_self_contained(&page::parse(&folder.join(seed)));
    }
    assert!(folder.join("accuracy_over_seeds.svg").exists());
    assert_eq!(run_json(&folder)["status"], "completed");
    // The run's own page links each seed's and shows stats.csv as it is.
    let html = page::parse(&folder);
    page::assert_self_contained(&html);
    let (_, stats) = csv_rows(&folder.join("stats.csv"));
    assert_eq!(page::texts(&html, "#extra tbody tr").len(), stats.len());
    assert_eq!(
        page::texts(&html, "ul.files a")[..2],
        ["seed-3/report.html", "seed-5/report.html"]
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = format!("report: {}", folder.join("report.html").display());
    assert_eq!(stdout.trim_end().lines().last(), Some(last.as_str()));

    let (header, seeds) = csv_rows(&folder.join("seeds.csv"));
    let accuracy = column(&header, "final_test_accuracy_percent");
    let by = |seed: &str, model: &str| {
        seeds
            .iter()
            .find(|r| r[0] == seed && r[1] == model)
            .map(|r| r[accuracy].parse::<f64>().expect("a number"))
            .unwrap_or_else(|| panic!("seed {seed} {model} in {seeds:?}"))
    };
    // The paired difference, worked out from seeds.csv independently of the stats crate.
    let mean_difference = ((by("3", "scratch") - by("3", "torchref"))
        + (by("5", "scratch") - by("5", "torchref")))
        / 2.0;

    let (header, stats) = csv_rows(&folder.join("stats.csv"));
    let quantities: Vec<&str> = stats.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        quantities,
        [
            "scratch final test accuracy",
            "torchref final test accuracy",
            "scratch − torchref final test accuracy"
        ]
    );
    let difference = &stats[2];
    let mean: f64 = difference[column(&header, "mean")]
        .parse()
        .expect("a number");
    // stats.csv rounds to 4 decimals.
    assert!((mean - mean_difference).abs() < 1e-4, "{stats:?}");
    let verdict = &difference[column(&header, "verdict")];
    assert!(
        ["equivalent within ±0.5 points", "not shown equivalent"].contains(&verdict.as_str()),
        "{stats:?}"
    );

    // The assignment's pair (SGD against Adam) after ten steps is far apart: the interval of
    // the difference cannot lie within ±1 point, and neither mean reaches 99%.
    let out = tempfile::tempdir().expect("temp dir");
    let output = run(
        out.path(),
        &[
            "--seeds",
            "2",
            "--epochs",
            "1",
            "--limit",
            "640",
            "--max-accuracy-gap",
            "1",
            "--min-accuracy",
            "99",
        ],
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    for reason in [
        "is not within ±1",
        "scratch mean test accuracy",
        "torchref mean test accuracy",
    ] {
        assert!(stderr(&output).contains(reason), "{}", stderr(&output));
    }
    let folder = run_folder(out.path());
    assert!(folder.join("seed-42").is_dir() && folder.join("seed-43").is_dir());
}

#[test]
fn the_table_over_seeds_gives_intervals_beside_the_assignments_figures() {
    let out = tempfile::tempdir().expect("temp dir");
    let output = run(
        out.path(),
        &[
            "table",
            "--seeds",
            "2",
            "--epochs",
            "1",
            "--limit",
            "640",
            "--shuffle",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let folder = run_folder(out.path());
    let (header, rows) = csv_rows(&folder.join("table.csv"));
    assert_eq!(rows.len(), 5, "{rows:?}");
    let number = |row: &[String], name: &str| -> f64 {
        row[column(&header, name)].parse().expect("a number")
    };
    for row in &rows {
        let (low, high) = (
            number(row, "ci95_low_percent"),
            number(row, "ci95_high_percent"),
        );
        let mean = number(row, "mean_test_accuracy_percent");
        let figure = number(row, "assignment_test_accuracy_percent");
        assert!(low <= mean && mean <= high, "{row:?}");
        let inside = row[column(&header, "assignment_inside_ci95")] == "true";
        assert_eq!(inside, low <= figure && figure <= high, "{row:?}");
        assert!(folder
            .join(format!("accuracy_over_seeds_{}.svg", row[0]))
            .exists());
    }
    assert!(folder.join("seed-42").join("epochs.csv").exists());
    assert!(folder.join("seed-43").join("epochs.csv").exists());
    assert_eq!(run_json(&folder)["seeds"], serde_json::json!([42, 43]));
}

/// `compare parity`: a short check within the bound exits 0 and writes parity.csv (per step
/// one row per layer and tensor for the gradient, then as many for the optimiser step),
/// parity.svg, report.html and run.json; held to libtorch's own accuracy (`--bound 1`, which
/// an f32 engine summing in another order misses somewhere at every step) it names the first
/// step, layer and tensor over it and exits with the gate's code, 3. A bound below 1 (an old
/// relative one, such as 1e-5) is refused with the reason.
#[test]
fn parity_reports_every_tensor_and_fails_over_the_bound() {
    let args = [
        "parity",
        "--steps",
        "3",
        "--hidden",
        "32,16",
        "--limit",
        "640",
        "--activation",
        "sigmoid",
        "--optimizer",
        "sgd",
    ];
    let out = tempfile::tempdir().expect("temporary folder");
    let output = run(out.path(), &args);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{stdout}\n{}", stderr(&output));
    assert!(
        stdout.contains("parity: scratch within 10× libtorch's own float32 error over 3 steps"),
        "{stdout}"
    );
    let folder = run_folder(out.path());
    let (header, rows) = csv_rows(&folder.join("parity.csv"));
    assert_eq!(
        header,
        [
            "step",
            "check",
            "batch_images",
            "layer",
            "tensor",
            "error_ratio",
            "candidate_error",
            "torchref_error",
            "max_abs_diff",
            "max_rel_diff",
            "cosine",
            "torchref_norm",
            "candidate_norm",
            "kink_units",
            "excluded_images",
            "torchref_loss",
            "candidate_loss",
            "loss_error_ratio"
        ]
    );
    assert_eq!(
        rows.len(),
        3 * 2 * 3 * 2,
        "3 steps × gradient and update × 3 layers × weight and bias"
    );
    assert_eq!(rows[0][..5], ["1", "gradient", "64", "1", "weight"]);
    assert_eq!(rows[6][..5], ["1", "update", "64", "1", "weight"]);
    assert_eq!(rows[35][..5], ["3", "update", "64", "3", "bias"]);
    assert!(folder.join("parity.svg").is_file());
    assert!(folder.join("report.html").is_file());
    assert_eq!(run_json(&folder)["status"], "completed");

    let strict = tempfile::tempdir().expect("temporary folder");
    let output = run(strict.path(), &[&args[..], &["--bound", "1"]].concat());
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(
        output.status.code(),
        Some(3),
        "{stdout}\n{}",
        stderr(&output)
    );
    assert!(
        stdout.contains(
            "parity: scratch departs from torchref beyond 1× libtorch's own float32 error: step 1, layer "
        ),
        "{stdout}"
    );

    let old = run(strict.path(), &[&args[..], &["--bound", "1e-5"]].concat());
    assert_eq!(old.status.code(), Some(2), "{}", stderr(&old));
    assert!(
        stderr(&old).contains(
            "a bound relative to the tensor's largest value, such as 1e-5, is no longer used"
        ),
        "{}",
        stderr(&old)
    );
}

#[test]
fn mnist_compare_home_moves_the_data_folder() {
    let home = tempfile::tempdir().expect("temp dir");
    let data = home.path().join("mnist");
    let compare_data = || {
        Command::new(env!("CARGO_BIN_EXE_compare"))
            .args(["data", "--offline"])
            .env("MNIST_COMPARE_HOME", home.path())
            .env_remove("MNIST_DIR")
            .output()
            .expect("starts")
    };
    let output = compare_data();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&data.display().to_string()),
        "{}",
        stderr(&output)
    );

    std::fs::create_dir(&data).expect("create the data folder");
    for file in mnist::MNIST_FILES {
        std::fs::copy(
            testkit::real_mnist_dir().join(file.gz_name()),
            data.join(file.gz_name()),
        )
        .expect("copy a real MNIST file");
    }
    let output = compare_data();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(printed.contains(&data.display().to_string()), "{printed}");
}
