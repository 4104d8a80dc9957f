//! A pooled seed's result checked against its own folder's `epochs.csv`, which training wrote
//! epoch by epoch: a `seed.json` whose figures were edited (and its checksum recomputed) no
//! longer agrees with it, and is refused with one line naming the seed and the file.

use std::path::Path;

use anyhow::{anyhow, Context, Result};

use crate::report::tables::EpochRow;
use crate::seed_stats::SeedResult;

/// Whether two accuracies are the same number written twice: equal, or one ulp apart after
/// serde_json's parse (1.4e-14 at 100 %); an edit moves one by 0.001 at least, the last
/// decimal written.
fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9
}

/// Refuses `result` (of seed `seed`, from `folder`'s `seed.json`) unless each model's test
/// accuracy per epoch is its `epochs.csv`'s, and its final and best accuracies are its last
/// and highest there.
pub fn check_against_epochs(seed: u64, folder: &Path, result: &SeedResult) -> Result<()> {
    let csv = folder.join("epochs.csv");
    let rows: Vec<EpochRow> = csv::Reader::from_path(&csv)
        .and_then(|mut reader| reader.deserialize().collect())
        .with_context(|| format!("seed {seed}: cannot read {}", csv.display()))?;
    let record = folder.join(sweep::RECORD_FILE);
    let refuse = |what: String| anyhow!("seed {seed}: {}: {what}", record.display());
    for model in &result.models {
        let name = &model.model;
        let logged: Vec<f64> = (rows.iter())
            .filter(|row| row.model == *name)
            .map(|row| row.test_accuracy_percent)
            .collect();
        let said = &model.test_accuracy_percent_per_epoch;
        if said.len() != logged.len() {
            return Err(refuse(format!(
                "{name} has {} epochs there, {} in its epochs.csv",
                said.len(),
                logged.len()
            )));
        }
        if let Some(epoch) = (0..said.len()).find(|&e| !same(said[e], logged[e])) {
            return Err(refuse(format!(
                "{name}'s test accuracy after epoch {} is {} % there, {} % in its epochs.csv",
                epoch + 1,
                said[epoch],
                logged[epoch]
            )));
        }
        let (Some(&last), Some(best)) = (logged.last(), logged.iter().copied().reduce(f64::max))
        else {
            continue;
        };
        for (what, said, logged) in [
            ("final", model.final_test_accuracy_percent, last),
            ("best", model.best_test_accuracy_percent, best),
        ] {
            if !same(said, logged) {
                return Err(refuse(format!(
                    "{name}'s {what} test accuracy is {said} % there, {logged} % in its epochs.csv"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tables::CsvLog;
    use crate::seed_stats::ModelResult;

    /// A seed of one model whose epochs scored `per_epoch`, its `epochs.csv` written.
    fn seed(folder: &Path, per_epoch: &[f64]) -> SeedResult {
        let mut log = CsvLog::create(folder.join("epochs.csv")).expect("created");
        for (index, &accuracy) in per_epoch.iter().enumerate() {
            let row = EpochRow {
                model: "scratch".into(),
                epoch: index + 1,
                train_loss: 0.5,
                train_accuracy_percent: None,
                test_loss: 0.4,
                test_accuracy_percent: accuracy,
                train_seconds: 1.0,
                eval_seconds: 0.1,
                images_per_second: 640.0,
            };
            log.append(&row).expect("written");
        }
        log.flush().expect("flushed");
        SeedResult {
            models: vec![ModelResult {
                model: "scratch".into(),
                completed: true,
                status: "completed".into(),
                final_test_accuracy_percent: *per_epoch.last().expect("an epoch"),
                best_test_accuracy_percent: per_epoch.iter().copied().fold(0.0, f64::max),
                final_train_loss: 0.5,
                final_test_loss: 0.4,
                seconds_per_epoch: 1.0,
                mcnemar_exact_p_value: None,
                test_accuracy_percent_per_epoch: per_epoch.to_vec(),
            }],
        }
    }

    #[test]
    fn a_result_unlike_its_epochs_csv_is_refused_naming_the_seed_the_file_and_the_figure() {
        let dir = tempfile::tempdir().expect("temp dir");
        let result = seed(dir.path(), &[69.8, 71.25]);
        check_against_epochs(7, dir.path(), &result).expect("as written");
        let record = dir.path().join("seed.json");
        let refused = |edit: fn(&mut ModelResult)| {
            let mut edited = result.clone();
            edit(&mut edited.models[0]);
            let error = check_against_epochs(7, dir.path(), &edited).expect_err("refused");
            let text = format!("{error:#}");
            let prefix = format!("seed 7: {}: scratch", record.display());
            assert!(text.starts_with(&prefix), "{text}");
            text[prefix.len()..].to_owned()
        };
        // The case: the final accuracy set to 99.99 % beside epochs at 69.8 and 71.25.
        assert_eq!(
            refused(|m| m.final_test_accuracy_percent = 99.99),
            "'s final test accuracy is 99.99 % there, 71.25 % in its epochs.csv"
        );
        assert_eq!(
            refused(|m| m.best_test_accuracy_percent = 69.8),
            "'s best test accuracy is 69.8 % there, 71.25 % in its epochs.csv"
        );
        assert_eq!(
            refused(|m| m.test_accuracy_percent_per_epoch[0] = 69.801),
            "'s test accuracy after epoch 1 is 69.801 % there, 69.8 % in its epochs.csv"
        );
        assert_eq!(
            refused(|m| m.test_accuracy_percent_per_epoch.push(72.0)),
            " has 3 epochs there, 2 in its epochs.csv"
        );
    }
}
