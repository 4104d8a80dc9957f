//! Everything a job tells the person at the terminal, apart from the progress of training
//! (`progress.rs`): results on stdout, notes and what was written on stderr; and the same
//! results as GitHub Actions' step summary shows them. One file per job's output; this one
//! holds what they share.

mod data;
mod parity;
mod run;
mod seeds;
mod signals;
mod step_summary;
mod table;

use std::path::Path;

use crate::record::{cpu_model, subnormal_mode};

pub use data::print_data;
pub use parity::{print_parity, SmallestCaught};
pub use run::{print_gate, print_side_by_side};
pub use seeds::{
    print_no_seed_complete, print_pool_notes, print_seed_completed_meanwhile, print_seed_done,
    print_seed_plan, print_seed_taken, print_shard_done, print_shard_empty, print_stats,
    print_unshuffled_seeds_note,
};
pub use signals::{print_aborted, print_stopping};
pub use step_summary::{
    append_step_summary, parity_step_summary, seeds_step_summary, step_summary, table_step_summary,
};
pub use table::{
    print_experiment_incomplete, print_table, print_table_over_seeds, SeedsTableLine, TableLine,
};

/// A p-value as a reader scans it: three decimals, or two significant digits below 0.001
/// (so that a tiny p never reads as 0; an exact 0, from differences without spread, stays 0).
pub fn p_value_text(p: f64) -> String {
    if p > 0.0 && p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

/// Where the run times come from: the CPU, the threads, and the subnormal mode.
fn machine_line(threads: usize) -> String {
    format!(
        "CPU: {}, {threads} threads; subnormal floats {}",
        cpu_model(),
        match subnormal_mode() {
            subnormals::Mode::FlushToZero => "flushed to zero (--keep-subnormals keeps them)",
            subnormals::Mode::Keep => "kept (IEEE 754)",
        }
    )
}

/// A run's reports are complete in `folder`.
pub fn print_reports_written(folder: &Path) {
    eprintln!("reports written to {}", folder.display());
}

/// What killed runs had left in `folder` (`removed`: names and owners), now removed.
pub fn print_stale_removed(folder: &Path, removed: &[String]) {
    eprintln!(
        "note: removed from {} what runs killed before they ended had left: {} (a run.json there that says running is theirs)",
        folder.display(),
        removed.join(", ")
    );
}

/// The terminal's last line: where to look.
pub fn print_page(page: &Path) {
    println!("report: {}", page.display());
}

/// Where a multi-seed run's reports are.
pub fn print_reports(folder: &Path) {
    println!("reports: {}", folder.display());
}

#[cfg(test)]
mod tests {
    use super::p_value_text;

    #[test]
    fn small_p_values_keep_their_digits() {
        assert_eq!(p_value_text(0.04321), "0.043");
        assert_eq!(p_value_text(0.000_123_4), "1.2e-4");
        assert_eq!(p_value_text(0.0), "0.000");
    }
}
