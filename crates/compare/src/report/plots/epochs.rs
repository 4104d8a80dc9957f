//! The figures of one run: `loss.svg` and `accuracy.svg` per epoch, `steps_loss.svg` per
//! logged step.

use std::path::Path;

use anyhow::Result;
use plotters::prelude::SeriesLabelPosition;

use super::chart::{color, line_chart, Series, XAxis};
use crate::report::tables::{EpochRow, StepRow};

fn per_model<R>(rows: &[R], model: impl Fn(&R) -> &str) -> Vec<(&str, Vec<&R>)> {
    let mut groups: Vec<(&str, Vec<&R>)> = Vec::new();
    for row in rows {
        let name = model(row);
        match groups.iter_mut().find(|(n, _)| *n == name) {
            Some((_, group)) => group.push(row),
            None => groups.push((name, vec![row])),
        }
    }
    groups
}

/// `loss.svg` (train and test loss per epoch) and `accuracy.svg` (test accuracy, and train
/// accuracy where it was measured).
pub fn epoch_charts(folder: &Path, rows: &[EpochRow]) -> Result<()> {
    let groups = per_model(rows, |r| r.model.as_str());
    let mut loss = Vec::new();
    let mut accuracy = Vec::new();
    for (index, (model, rows)) in groups.iter().enumerate() {
        // Epochs without the value (train accuracy under --no-train-accuracy) have no point.
        let points = |f: fn(&EpochRow) -> Option<f64>| -> Vec<(f64, f64)> {
            rows.iter()
                .filter_map(|r| Some((r.epoch as f64, f(r)?)))
                .collect()
        };
        loss.push(Series {
            name: format!("{model} train"),
            points: points(|r| Some(r.train_loss)),
            color: color(index),
            dashed: false,
        });
        loss.push(Series {
            name: format!("{model} test"),
            points: points(|r| Some(r.test_loss)),
            color: color(index),
            dashed: true,
        });
        accuracy.push(Series {
            name: format!("{model} test"),
            points: points(|r| Some(r.test_accuracy_percent)),
            color: color(index),
            dashed: false,
        });
        let train_accuracy = points(|r| r.train_accuracy_percent);
        if !train_accuracy.is_empty() {
            accuracy.push(Series {
                name: format!("{model} train"),
                points: train_accuracy,
                color: color(index),
                dashed: true,
            });
        }
    }
    line_chart(
        &folder.join("loss.svg"),
        "Cross-entropy loss per epoch",
        ("epoch", XAxis::Epochs),
        "mean loss",
        SeriesLabelPosition::UpperRight,
        &loss,
    )?;
    line_chart(
        &folder.join("accuracy.svg"),
        "Accuracy per epoch",
        ("epoch", XAxis::Epochs),
        "accuracy (%)",
        SeriesLabelPosition::LowerRight,
        &accuracy,
    )
}

/// `steps_loss.svg`: the mean batch loss between logged steps against images seen.
pub fn step_chart(folder: &Path, rows: &[StepRow]) -> Result<()> {
    let series: Vec<Series> = per_model(rows, |r| r.model.as_str())
        .into_iter()
        .enumerate()
        .map(|(index, (model, rows))| Series {
            name: model.to_owned(),
            points: rows
                .iter()
                .map(|r| (r.images_seen as f64, r.mean_loss_since_previous_row))
                .collect(),
            color: color(index),
            dashed: false,
        })
        .collect();
    line_chart(
        &folder.join("steps_loss.svg"),
        "Training loss between logged steps",
        ("training images seen", XAxis::Count),
        "mean batch loss",
        SeriesLabelPosition::UpperRight,
        &series,
    )
}
