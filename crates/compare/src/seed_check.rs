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
