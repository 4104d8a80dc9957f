//! `--no-train-accuracy`: what it leaves out (each epoch's pass over the training set), and
//! what it must not change (training, and everything measured on the test set).

mod common;

use common::{column, csv_rows, run, run_folder, stderr};

/// One epoch of 640 images, into a fresh folder: `epochs.csv`'s header and rows, the
/// accuracy chart and what the run printed.
fn one_epoch(extra: &[&str]) -> (Vec<String>, Vec<Vec<String>>, String, String) {
    let out = tempfile::tempdir().expect("temp dir");
    let args = [
        &["--epochs", "1", "--limit", "640", "--threads", "1"],
        extra,
    ]
    .concat();
    let output = run(out.path(), &args);
    assert!(output.status.success(), "{}", stderr(&output));
    let folder = run_folder(out.path());
    let (header, rows) = csv_rows(&folder.join("epochs.csv"));
    let chart = std::fs::read_to_string(folder.join("accuracy.svg")).expect("accuracy.svg");
    (header, rows, chart, stderr(&output))
}

#[test]
fn no_train_accuracy_leaves_the_column_empty_and_the_test_results_as_they_were() {
    let (header, with, chart_with, _) = one_epoch(&[]);
    let (_, without, chart_without, printed) = one_epoch(&["--no-train-accuracy"]);
    let train = column(&header, "train_accuracy_percent");
    assert_eq!(with.len(), 2);
    assert_eq!(without.len(), 2);
    for (with, without) in with.iter().zip(&without) {
        let measured: f64 = with[train].parse().expect("a train accuracy");
        assert!((0.0..=100.0).contains(&measured), "{with:?}");
        assert_eq!(without[train], "", "{without:?}");
        // The same training and the same test-set figures: only the extra pass is gone.
        for name in ["model", "train_loss", "test_loss", "test_accuracy_percent"] {
            let i = column(&header, name);
            assert_eq!(with[i], without[i], "{name}");
        }
    }
    assert!(chart_with.contains("scratch train"), "{chart_with}");
    assert!(!chart_without.contains("scratch train"), "{chart_without}");
    assert!(chart_without.contains("scratch test"), "{chart_without}");
    assert!(!printed.contains("train acc"), "{printed}");
    assert!(printed.contains("test acc"), "{printed}");
}
