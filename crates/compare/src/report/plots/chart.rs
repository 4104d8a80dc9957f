//! The chart every figure of a run draws on: lines (solid or dashed) over optional min–max
//! bands, a palette, and the one-line error a failed plot gives.

use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::prelude::*;
use plotters_backend::DrawingErrorKind;

/// One line on a chart.
pub(super) struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub color: RGBColor,
    pub dashed: bool,
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
pub(super) struct Band {
    pub points: Vec<(f64, f64, f64)>,
    pub color: RGBColor,
}

pub(super) fn color(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// The one line a failed plot says: the file, and the system's reason when writing it failed
/// ("No space left on device"), not plotters' nested error.
pub(super) fn plot_error(
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
pub(super) enum XAxis {
    Epochs,
    Count,
}

pub(super) fn line_chart(
    path: &Path,
    title: &str,
    axes: (&str, XAxis),
    y_label: &str,
    legend: SeriesLabelPosition,
    series: &[Series],
) -> Result<()> {
    chart_with_bands(path, title, axes, y_label, legend, series, &[])
}

pub(super) fn chart_with_bands(
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
