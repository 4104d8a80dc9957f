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

impl TableLine<'_> {
    /// The table's header where it has room for units (the page, the step summary).
    pub const HEADER: [&'static str; 4] = [
        "experiment",
        "ours (%)",
        "assignment (%)",
        "difference (points)",
    ];

    /// The row's cells under [`Self::HEADER`].
    pub fn cells(&self) -> [String; 4] {
        [
            self.experiment.to_owned(),
            format!("{:.2}", self.ours_percent),
            format!("{:.2}", self.assignment_percent),
            format!("{:+.2}", self.difference_points),
        ]
    }
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
        let [experiment, ours, assignment, difference] = line.cells();
        println!("{experiment:<22} {ours:>12} {assignment:>12} {difference:>10}");
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

impl SeedsTableLine<'_> {
    /// The table's header.
    pub const HEADER: [&'static str; 5] = [
        "experiment",
        "mean ± sd (%)",
        "95% interval",
        "assignment",
        "inside",
    ];

    /// The row's cells under [`Self::HEADER`].
    pub fn cells(&self) -> [String; 5] {
        [
            self.experiment.to_owned(),
            format!(
                "{:.2} ± {:.2}",
                self.mean_percent,
                self.sd_points.unwrap_or(f64::NAN)
            ),
            match self.interval {
                Some((low, high)) => format!("[{low:.2}, {high:.2}]"),
                None => "-".to_owned(),
            },
            format!("{:.2}", self.assignment_percent),
            match self.assignment_inside {
                Some(true) => "yes",
                Some(false) => "no",
                None => "-",
            }
            .to_owned(),
        ]
    }
}

/// The assignment's table over seeds, and where `table.csv` is.
pub fn print_table_over_seeds(lines: &[SeedsTableLine<'_>], csv: &Path) {
    println!();
    let [a, b, c, d, e] = SeedsTableLine::HEADER;
    println!("{a:<22} {b:>16} {c:>18} {d:>11} {e:>8}");
    for line in lines {
        let [a, b, c, d, e] = line.cells();
        println!("{a:<22} {b:>16} {c:>18} {d:>11} {e:>8}");
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
