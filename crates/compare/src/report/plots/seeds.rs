//! Over several seeds: the test accuracy per epoch, a mean line in a min–max band per model.

use std::path::Path;

use anyhow::Result;
use plotters::prelude::{RGBColor, SeriesLabelPosition};

use super::chart::{chart_with_bands, color, Band, Series, XAxis};

/// The test accuracy per epoch of one model over several seeds.
pub struct SeedCurves {
    pub model: String,
    /// Per epoch, the test accuracy (%) of every seed that reached it.
    pub per_epoch: Vec<(usize, Vec<f64>)>,
}

/// Test accuracy per epoch over seeds: per model the mean as a line and the range from the
/// lowest to the highest seed as a shaded band; `reference` adds a dashed level (a published
/// figure).
pub fn seed_band_chart(
    path: &Path,
    title: &str,
    curves: &[SeedCurves],
    reference: Option<(&str, f64)>,
) -> Result<()> {
    let mut series = Vec::new();
    let mut bands = Vec::new();
    for (index, curve) in curves.iter().enumerate() {
        let summaries: Vec<(f64, stats::Summary)> = curve
            .per_epoch
            .iter()
            .filter_map(|(epoch, values)| {
                stats::Summary::of(values).ok().map(|s| (*epoch as f64, s))
            })
            .collect();
        series.push(Series {
            name: format!("{} mean of {} seeds", curve.model, seeds(curve)),
            points: summaries.iter().map(|(x, s)| (*x, s.mean)).collect(),
            color: color(index),
            dashed: false,
        });
        bands.push(Band {
            points: summaries.iter().map(|(x, s)| (*x, s.min, s.max)).collect(),
            color: color(index),
        });
    }
    if let Some((name, level)) = reference {
        let epochs = curves
            .iter()
            .flat_map(|c| c.per_epoch.iter().map(|(e, _)| *e as f64));
        let (first, last) = epochs.fold((f64::MAX, f64::MIN), |(lo, hi), e| (lo.min(e), hi.max(e)));
        series.push(Series {
            name: name.to_owned(),
            points: vec![(first, level), (last, level)],
            color: RGBColor(0, 0, 0),
            dashed: true,
        });
    }
    chart_with_bands(
        path,
        title,
        ("epoch", XAxis::Epochs),
        "test accuracy (%); band: lowest to highest seed",
        SeriesLabelPosition::LowerRight,
        &series,
        &bands,
    )
}

fn seeds(curve: &SeedCurves) -> usize {
    curve
        .per_epoch
        .first()
        .map_or(0, |(_, values)| values.len())
}
