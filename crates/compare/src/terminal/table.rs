//! `compare table`'s output: the assignment's table, once or over seeds.

use std::path::Path;

use super::machine_line;

/// One experiment of the assignment's table in one run.
pub struct TableLine<'a> {
    pub experiment: &'a str,
    pub ours_percent: f64,
    pub assignment_percent: f64,
    pub difference_points: f64,
}

/// The assignment's table of one run, and where `table.csv` is.
pub fn print_table(threads: usize, lines: &[TableLine<'_>], csv: &Path) {
    println!();
    println!("{}", machine_line(threads));
    println!(
        "{:<22} {:>12} {:>12} {:>10}",
        "experiment", "ours (%)", "assignment", "difference"
    );
    for line in lines {
        println!(
            "{:<22} {:>12.2} {:>12.2} {:>+10.2}",
            line.experiment, line.ours_percent, line.assignment_percent, line.difference_points
        );
    }
    println!("table: {}", csv.display());
}

/// One experiment of the assignment's table over seeds.
pub struct SeedsTableLine<'a> {
    pub experiment: &'a str,
    pub mean_percent: f64,
    pub sd_points: Option<f64>,
    pub interval: Option<(f64, f64)>,
    pub assignment_percent: f64,
    pub assignment_inside: Option<bool>,
}

/// The assignment's table over seeds, and where `table.csv` is.
pub fn print_table_over_seeds(lines: &[SeedsTableLine<'_>], csv: &Path) {
    println!();
    println!(
        "{:<22} {:>16} {:>18} {:>11} {:>8}",
        "experiment", "mean ± sd (%)", "95% interval", "assignment", "inside"
    );
    for line in lines {
        let interval = match line.interval {
            Some((low, high)) => format!("[{low:.2}, {high:.2}]"),
            None => "-".to_owned(),
        };
        println!(
            "{:<22} {:>16} {:>18} {:>11.2} {:>8}",
            line.experiment,
            format!(
                "{:.2} ± {:.2}",
                line.mean_percent,
                line.sd_points.unwrap_or(f64::NAN)
            ),
            interval,
            line.assignment_percent,
            match line.assignment_inside {
                Some(true) => "yes",
                Some(false) => "no",
                None => "-",
            }
        );
    }
    println!("table: {}", csv.display());
}

/// An experiment of the table that completed no seed, or not all of them.
pub fn print_experiment_incomplete(experiment: &str, incomplete: &[u64], completed_none: bool) {
    if completed_none {
        eprintln!("{experiment}: completed no seed");
    } else {
        eprintln!("{experiment} did not complete seeds {incomplete:?}");
    }
}
