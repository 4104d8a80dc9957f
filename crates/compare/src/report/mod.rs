//! The files of a run: CSV tables, the SVG plots, `report.html`, and the folder they go in.

pub mod files;
pub mod junit;
pub mod leftovers;
pub mod outputs;
pub mod page;
pub mod parity_csv;
pub mod plots;
pub mod tables;

/// `x` rounded to `decimals` places: the reports carry what a reader can use, not float noise
/// (nor a "-0" where a small negative number rounds to zero).
pub fn round(x: f64, decimals: i32) -> f64 {
    let scale = 10_f64.powi(decimals);
    (x * scale).round() / scale + 0.0
}

/// `x` to `digits` significant digits: for p-values, which span many orders of magnitude.
pub fn significant(x: f64, digits: usize) -> f64 {
    format!("{x:.*e}", digits.saturating_sub(1))
        .parse()
        .unwrap_or(x)
}
