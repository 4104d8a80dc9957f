//! `parity.svg`: `compare parity`'s gradient error ratio per layer against the step.

use std::path::Path;

use anyhow::Result;
use plotters::prelude::*;

use super::chart::{color, plot_error};

/// `parity.svg`: per layer, the worst gradient error ratio of the step (weight or bias: the
/// candidate's distance from the exact gradient over libtorch's own) against the step, on a
/// log scale, with the bound as a dashed line. A ratio of exactly 0 is drawn at the floor of
/// the axis; an infinite one (a tensor of the wrong shape) at its top.
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
            "Gradient error per layer, step by step (same parameters, same batch)",
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
        .y_desc("error / libtorch's own float32 error (worst tensor of the layer)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.1e}"))
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
        .label(format!("bound {bound}× (dashed)"))
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
