//! Statistics for comparing models over repeated runs, so that a claim of parity rests on more
//! than one run: the mean of a few runs with its Student-t confidence interval, the paired
//! difference of two models run on the same seeds, the two one-sided tests (TOST) that show two
//! models equivalent within a margin, and McNemar's exact test on the test images that exactly
//! one of two models classifies correctly.
//!
//! The t and binomial distributions come from `statrs`; nothing here approximates a quantile.
//! Every figure is checked against SciPy (`tests/fixtures/scipy_reference.py`).

mod equivalence;
mod error;
mod mcnemar;
mod summary;

pub use equivalence::{equivalence, Equivalence, Verdict};
pub use error::Error;
pub use mcnemar::McNemar;
pub use summary::{paired_differences, Interval, Summary, CONFIDENCE};
