//! Whether two models run on the same seeds are equivalent: the two one-sided tests (TOST) of
//! the paired differences against a margin, and the two-sided t test of "no difference".

use std::fmt;

use statrs::distribution::ContinuousCDF;

use crate::summary::{standard_error, student_t};
use crate::{Error, Summary, CONFIDENCE};

/// What the paired differences show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Both one-sided tests reject a difference of ±margin or beyond (TOST at 1 − [`CONFIDENCE`]).
    Equivalent,
    /// Not shown equivalent, yet the [`CONFIDENCE`] interval of the difference excludes 0.
    Different,
    /// Neither: too few runs, too much spread, or a difference near the margin.
    NotShownEquivalent,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Equivalent => "equivalent",
            Verdict::Different => "different",
            Verdict::NotShownEquivalent => "not shown equivalent",
        })
    }
}

/// The tests on a sample of paired differences.
#[derive(Debug, Clone, PartialEq)]
pub struct Equivalence {
    /// The margin, in the differences' unit.
    pub margin: f64,
    /// TOST: the larger p-value of H0 "mean ≤ −margin" and H0 "mean ≥ +margin" (one-sided
    /// t tests). `None` for a single difference.
    pub tost_p_value: Option<f64>,
    /// Two-sided one-sample t test of H0 "mean = 0". `None` for a single difference.
    pub difference_p_value: Option<f64>,
    /// Equivalence first: a difference that is real but within the margin is a parity claim,
    /// and `difference_p_value` still tells that it is not zero.
    pub verdict: Verdict,
}

/// Tests the paired differences `differences` (one per seed) for equivalence within
/// `±margin`, each test at level 1 − [`CONFIDENCE`].
pub fn equivalence(differences: &[f64], margin: f64) -> Result<Equivalence, Error> {
    if !(margin.is_finite() && margin > 0.0) {
        return Err(Error::Margin(margin));
    }
    let summary = Summary::of(differences)?;
    let (Some(sd), Some(interval)) = (summary.sd, summary.interval) else {
        return Ok(Equivalence {
            margin,
            tost_p_value: None,
            difference_p_value: None,
            verdict: Verdict::NotShownEquivalent,
        });
    };
    let t = student_t(summary.n - 1);
    let se = standard_error(sd, summary.n);
    let above_lower = t.sf(ratio(summary.mean + margin, se));
    let below_upper = t.cdf(ratio(summary.mean - margin, se));
    let tost_p_value = above_lower.max(below_upper);
    let difference_p_value = (2.0 * t.sf(ratio(summary.mean.abs(), se))).min(1.0);
    let alpha = 1.0 - CONFIDENCE;
    let verdict = if tost_p_value < alpha {
        Verdict::Equivalent
    } else if !interval.contains(0.0) {
        Verdict::Different
    } else {
        Verdict::NotShownEquivalent
    };
    Ok(Equivalence {
        margin,
        tost_p_value: Some(tost_p_value),
        difference_p_value: Some(difference_p_value),
        verdict,
    })
}

/// `numerator / se`, where a zero standard error (all differences equal) makes the statistic
/// infinite with the numerator's sign, or 0 when the numerator is 0 too.
fn ratio(numerator: f64, se: f64) -> f64 {
    if se > 0.0 {
        numerator / se
    } else if numerator == 0.0 {
        0.0
    } else {
        numerator.signum() * f64::INFINITY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_margin_that_is_not_positive() {
        for margin in [0.0, -0.5, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                equivalence(&[0.1, 0.2], margin),
                Err(Error::Margin(_))
            ));
        }
    }

    #[test]
    fn one_difference_shows_nothing() {
        let e = equivalence(&[0.0], 0.5).expect("valid input");
        assert_eq!(e.verdict, Verdict::NotShownEquivalent);
        assert_eq!((e.tost_p_value, e.difference_p_value), (None, None));
    }

    #[test]
    fn equal_differences_decide_by_where_they_lie() {
        // No spread: the mean is known exactly, so the tests are certain either way.
        let inside = equivalence(&[0.2; 3], 0.5).expect("valid input");
        assert_eq!(inside.verdict, Verdict::Equivalent);
        let outside = equivalence(&[0.7; 3], 0.5).expect("valid input");
        assert_eq!(outside.verdict, Verdict::Different);
        let zero = equivalence(&[0.0; 3], 0.5).expect("valid input");
        assert_eq!(zero.verdict, Verdict::Equivalent);
        let p = zero.difference_p_value.expect("three differences");
        // Exact: t = 0 and the t distribution is symmetric, so 2·P(T > 0) = 1.
        testkit::assert_close("p-value", &[p], &[1.0], 0.0, 0.0);
    }

    #[test]
    fn verdicts_read_as_words() {
        assert_eq!(
            Verdict::NotShownEquivalent.to_string(),
            "not shown equivalent"
        );
    }
}
