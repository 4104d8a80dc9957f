//! The sweep's table as CSV (one row per batch size and thread count, units in the headers)
//! and as a log–log plot of milliseconds per step against batch size, one panel per thread
//! count, one line per engine, the floor dashed.

use std::path::Path;

use plotters::prelude::*;

/// One cell of the sweep: a batch size on a number of threads.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Cell {
    #[serde(rename = "batch size (images)")]
    pub batch: usize,
    pub threads: usize,
    /// The fused engine's kernel set (`avx2`, `avx512`), or `textbook` where the CPU has none.
    #[serde(rename = "fused engine")]
    pub fused_engine: String,
    /// Threads the fused engine chose for a training step of this batch size.
    #[serde(rename = "fused engine threads used")]
    pub fused_threads: usize,
    /// The engines' times are their fastest steps, and so are the ratios of times (see the
    /// sweep's module docs); the medians follow the floor's columns.
    #[serde(rename = "fused (ms/step, fastest step)")]
    pub fused_ms: f64,
    #[serde(rename = "textbook (ms/step, fastest step)")]
    pub textbook_ms: f64,
    #[serde(rename = "libtorch (ms/step, fastest step)")]
    pub libtorch_ms: f64,
    #[serde(rename = "floor (ms/step)")]
    pub floor_ms: f64,
    #[serde(rename = "fused / libtorch")]
    pub fused_over_libtorch: f64,
    #[serde(rename = "fused / floor")]
    pub fused_over_floor: f64,
    #[serde(rename = "textbook / libtorch")]
    pub textbook_over_libtorch: f64,
    #[serde(rename = "FLOPs floor (ms/step)")]
    pub flops_floor_ms: f64,
    #[serde(rename = "memory floor (ms/step)")]
    pub memory_floor_ms: f64,
    #[serde(rename = "step FLOPs (MFLOP)")]
    pub mflop: f64,
    #[serde(rename = "step traffic (MB)")]
    pub traffic_mb: f64,
    #[serde(rename = "working set (MB)")]
    pub working_set_mb: f64,
    #[serde(rename = "FMA peak (GFLOP/s)")]
    pub peak_gflops: f64,
    #[serde(rename = "bandwidth at this working set (GB/s)")]
    pub bandwidth_gbs: f64,
    #[serde(rename = "fused (ms/step, median step)")]
    pub fused_median_ms: f64,
    #[serde(rename = "textbook (ms/step, median step)")]
    pub textbook_median_ms: f64,
    #[serde(rename = "libtorch (ms/step, median step)")]
    pub libtorch_median_ms: f64,
    #[serde(rename = "fused / libtorch (median steps)")]
    pub median_fused_over_libtorch: f64,
}

/// Writes `cells` to `path` as CSV.
pub fn write_csv(path: &Path, cells: &[Cell]) -> Result<(), Box<dyn std::error::Error>> {
    let mut writer = csv::Writer::from_path(path)?;
    for cell in cells {
        writer.serialize(cell)?;
    }
    writer.flush()?;
    Ok(())
}

/// Writes the log–log plot of `cells` to `path` as SVG; `title` names the machine.
pub fn write_svg(
    path: &Path,
    cells: &[Cell],
    title: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut thread_counts: Vec<usize> = cells.iter().map(|c| c.threads).collect();
    thread_counts.dedup();
    let times = cells
        .iter()
        .flat_map(|c| [c.fused_ms, c.textbook_ms, c.libtorch_ms, c.floor_ms])
        .filter(|t| t.is_finite() && *t > 0.0);
    let (low, high) = times.fold((f64::MAX, f64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
    let largest = cells.iter().map(|c| c.batch).max().unwrap_or(2) as f64;
    let root = SVGBackend::new(path, (1200, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 20))?;
    let panels = root.split_evenly((1, thread_counts.len().max(1)));
    type Value = fn(&Cell) -> f64;
    let lines: [(&str, RGBColor, bool, Value); 4] = [
        ("fused", RGBColor(0, 90, 200), false, |c| c.fused_ms),
        ("textbook", RGBColor(0, 150, 70), false, |c| c.textbook_ms),
        ("libtorch", RGBColor(220, 60, 20), false, |c| c.libtorch_ms),
        ("floor", BLACK, true, |c| c.floor_ms),
    ];
    for (panel, &threads) in panels.iter().zip(&thread_counts) {
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("{threads} thread(s)"), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(
                (1.0..largest.max(2.0)).log_scale(),
                (low / 1.5..high * 1.5).log_scale(),
            )?;
        chart
            .configure_mesh()
            .x_desc("batch size (images)")
            .y_desc("time per training step (ms)")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y}"))
            .draw()?;
        for (name, color, dashed, value) in lines {
            let points: Vec<(f64, f64)> = cells
                .iter()
                .filter(|c| c.threads == threads)
                .map(|c| (c.batch as f64, value(c)))
                .filter(|(_, t)| t.is_finite() && *t > 0.0)
                .collect();
            let style = color.stroke_width(2);
            let drawn = if dashed {
                chart.draw_series(DashedLineSeries::new(points, 8, 5, style))?
            } else {
                chart.draw_series(LineSeries::new(points, style))?
            };
            let label = if dashed {
                format!("{name} (dashed)")
            } else {
                name.to_owned()
            };
            drawn
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
    }
    root.present()?;
    Ok(())
}
