//! SVG figures of a run: loss and accuracy per epoch, per-step loss, sample images, and over
//! several seeds the test accuracy per epoch as a mean line in a min–max band.

use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::prelude::*;
use plotters_backend::DrawingErrorKind;

use crate::report::tables::{EpochRow, StepRow};

/// One line on a chart.
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
    color: RGBColor,
    dashed: bool,
}

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// A shaded area between `low` and `high` at each `x`, drawn under the lines.
struct Band {
    points: Vec<(f64, f64, f64)>,
    color: RGBColor,
}

fn color(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// The one line a failed plot says: the file, and the system's reason when writing it failed
/// ("No space left on device"), not plotters' nested error.
fn plot_error(
    path: &Path,
) -> impl FnOnce(DrawingAreaErrorKind<std::io::Error>) -> anyhow::Error + '_ {
    move |error| {
        let reason = match &error {
            DrawingAreaErrorKind::BackendError(DrawingErrorKind::DrawingError(io)) => {
                io.to_string()
            }
            other => other.to_string(),
        };
        anyhow!("cannot write {}: {reason}", path.display())
    }
}

/// Labels on the x axis: whole epochs, or a plain count.
#[derive(Clone, Copy)]
enum XAxis {
    Epochs,
    Count,
}

fn line_chart(
    path: &Path,
    title: &str,
    axes: (&str, XAxis),
    y_label: &str,
    legend: SeriesLabelPosition,
    series: &[Series],
) -> Result<()> {
    chart_with_bands(path, title, axes, y_label, legend, series, &[])
}

fn chart_with_bands(
    path: &Path,
    title: &str,
    (x_label, x_axis): (&str, XAxis),
    y_label: &str,
    legend: SeriesLabelPosition,
    series: &[Series],
    bands: &[Band],
) -> Result<()> {
    let band_edges: Vec<(f64, f64)> = bands
        .iter()
        .flat_map(|b| b.points.iter())
        .flat_map(|&(x, low, high)| [(x, low), (x, high)])
        .collect();
    let all = series
        .iter()
        .flat_map(|s| s.points.iter())
        .chain(&band_edges);
    let finite: Vec<&(f64, f64)> = all
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if finite.is_empty() {
        return Ok(());
    }
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &&(x, y) in &finite {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x1 <= x0 {
        (x0, x1) = (x0 - 0.5, x1 + 0.5);
    }
    let pad = ((y1 - y0) * 0.05).max(1e-3);
    let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
    let fail = || plot_error(path);
    root.fill(&WHITE).map_err(fail())?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))
        .map_err(fail())?;
    let whole = |x: &f64| format!("{x:.0}");
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&whole);
    if let XAxis::Epochs = x_axis {
        mesh.x_labels((x1 - x0) as usize + 1);
    }
    mesh.draw().map_err(fail())?;
    for band in bands {
        let outline: Vec<(f64, f64)> = band
            .points
            .iter()
            .map(|&(x, _, high)| (x, high))
            .chain(band.points.iter().rev().map(|&(x, low, _)| (x, low)))
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(
                outline,
                band.color.mix(0.2).filled(),
            )))
            .map_err(fail())?;
    }
    for s in series {
        let style = s.color.stroke_width(2);
        let points = s
            .points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite());
        // A line needs two points: after a single epoch, mark the one there is.
        if let [point] = points.clone().collect::<Vec<_>>()[..] {
            chart
                .draw_series(std::iter::once(Circle::new(point, 5, s.color.filled())))
                .map_err(fail())?;
        }
        let drawn = if s.dashed {
            chart.draw_series(DashedLineSeries::new(points, 8, 5, style))
        } else {
            chart.draw_series(LineSeries::new(points, style))
        };
        let color = s.color;
        let name = if s.dashed {
            format!("{} (dashed)", s.name)
        } else {
            s.name.clone()
        };
        drawn.map_err(fail())?.label(name).legend(move |(x, y)| {
            PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
        });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(legend)
        .draw()
        .map_err(fail())?;
    root.present().map_err(fail())?;
    Ok(())
}

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

/// `loss.svg` (train and test loss per epoch) and `accuracy.svg` (test and train accuracy).
pub fn epoch_charts(folder: &Path, rows: &[EpochRow]) -> Result<()> {
    let groups = per_model(rows, |r| r.model.as_str());
    let mut loss = Vec::new();
    let mut accuracy = Vec::new();
    for (index, (model, rows)) in groups.iter().enumerate() {
        let points =
            |f: fn(&EpochRow) -> f64| rows.iter().map(|r| (r.epoch as f64, f(r))).collect();
        loss.push(Series {
            name: format!("{model} train"),
            points: points(|r| r.train_loss),
            color: color(index),
            dashed: false,
        });
        loss.push(Series {
            name: format!("{model} test"),
            points: points(|r| r.test_loss),
            color: color(index),
            dashed: true,
        });
        accuracy.push(Series {
            name: format!("{model} test"),
            points: points(|r| r.test_accuracy_percent),
            color: color(index),
            dashed: false,
        });
        accuracy.push(Series {
            name: format!("{model} train"),
            points: points(|r| r.train_accuracy_percent),
            color: color(index),
            dashed: true,
        });
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

/// `samples.svg`: the first nine training images in a 3×3 grid with their class names, as
/// the assignment's first figure.
pub fn sample_images(
    folder: &Path,
    train: &mnist::Dataset,
    classes: &[&str; contract::CLASSES],
) -> Result<()> {
    const SIDE: usize = 28;
    const SCALE: i32 = 6;
    const CELL: i32 = SIDE as i32 * SCALE + 36;
    let path = folder.join("samples.svg");
    let fail = || plot_error(&path);
    let root = SVGBackend::new(&path, (3 * CELL as u32, 3 * CELL as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(fail())?;
    for index in 0..9.min(train.len()) {
        let (row, column) = (index as i32 / 3, index as i32 % 3);
        let (left, top) = (column * CELL + 18, row * CELL + 28);
        let label = format!("label: {}", classes[usize::from(train.labels[index])]);
        root.draw(&Text::new(label, (left, top - 22), ("sans-serif", 16)))
            .map_err(fail())?;
        // The background is white: only inked pixels become squares.
        for (pixel, &value) in train.images.row(index).iter().enumerate() {
            if value <= 0.0 {
                continue;
            }
            let (y, x) = ((pixel / SIDE) as i32, (pixel % SIDE) as i32);
            let shade = 255 - (value.clamp(0.0, 1.0) * 255.0).round() as u8;
            let corner = (left + x * SCALE, top + y * SCALE);
            let square = Rectangle::new(
                [corner, (corner.0 + SCALE, corner.1 + SCALE)],
                RGBColor(shade, shade, shade).filled(),
            );
            root.draw(&square).map_err(fail())?;
        }
    }
    root.present().map_err(fail())?;
    Ok(())
}

/// `parity.svg`: per layer, the worst gradient difference of the step (weight or bias,
/// relative to that tensor's largest |gradient|) against the step, on a log scale, with the
/// bound as a dashed line. A difference of exactly 0 is drawn at the floor of the axis; an
/// infinite one (a tensor of the wrong shape) at its top.
pub fn parity_chart(path: &Path, layers: &[(String, Vec<(f64, f64)>)], bound: f64) -> Result<()> {
    let steps = layers
        .iter()
        .flat_map(|(_, points)| points.iter().map(|(x, _)| *x))
        .fold(1.0_f64, f64::max);
    let finite = layers
        .iter()
        .flat_map(|(_, points)| points.iter().map(|(_, y)| *y))
        .filter(|y| y.is_finite() && *y > 0.0);
    let (low, high) = finite.fold((bound, bound), |(lo, hi), y| (lo.min(y), hi.max(y)));
    let (floor, top) = (low / 10.0, high * 10.0);
    let fail = || plot_error(path);
    let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(fail())?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Gradient difference per layer, step by step (same parameters, same batch)",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(1.0..steps.max(2.0), (floor..top).log_scale())
        .map_err(fail())?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc("max |Δ gradient| / max |gradient| (worst tensor of the layer)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0e}"))
        .draw()
        .map_err(fail())?;
    for (index, (name, points)) in layers.iter().enumerate() {
        let style = color(index).stroke_width(2);
        let points = points.iter().map(|&(x, y)| (x, y.clamp(floor, top)));
        let c = color(index);
        chart
            .draw_series(LineSeries::new(points, style))
            .map_err(fail())?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
    }
    chart
        .draw_series(DashedLineSeries::new(
            [(1.0, bound), (steps.max(2.0), bound)],
            8,
            5,
            BLACK.stroke_width(2),
        ))
        .map_err(fail())?
        .label(format!("bound {bound:.0e} (dashed)"))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2)));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(fail())?;
    root.present().map_err(fail())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_said_in_one_plain_line_naming_the_file() {
        let full = std::io::Error::from_raw_os_error(28);
        let error = plot_error(Path::new("run/loss.svg"))(DrawingAreaErrorKind::BackendError(
            DrawingErrorKind::DrawingError(full),
        ));
        assert_eq!(
            format!("{error:#}"),
            "cannot write run/loss.svg: No space left on device (os error 28)"
        );
    }
}
