//! The statistics against SciPy: intervals, the two one-sided tests, the t test and McNemar's
//! exact test (fixtures/scipy_reference.py writes fixtures/scipy_reference.json).

use serde::Deserialize;
use stats::{equivalence, McNemar, Summary};
use testkit::assert_close;

#[derive(Deserialize)]
struct Reference {
    samples: Vec<Sample>,
    mcnemar: Vec<McNemarCase>,
}

#[derive(Deserialize)]
struct Sample {
    name: String,
    values: Vec<f64>,
    mean: f64,
    sd: f64,
    min: f64,
    max: f64,
    interval_low: f64,
    interval_high: f64,
    margin: f64,
    tost_p_value: f64,
    difference_p_value: f64,
    verdict: String,
}

#[derive(Deserialize)]
struct McNemarCase {
    only_first_correct: u64,
    only_second_correct: u64,
    p_value: f64,
}

fn reference() -> Reference {
    let text = include_str!("fixtures/scipy_reference.json");
    serde_json::from_str(text).expect("the committed fixture parses")
}

#[test]
fn summaries_and_intervals_match_scipy() {
    for sample in reference().samples {
        let s = Summary::of(&sample.values).expect("finite values");
        let interval = s.interval.expect("every sample has two values or more");
        assert_eq!(s.n, sample.values.len());
        // Worst measured: 1.0e-15 relative (the t quantile through statrs' inverse regularised
        // beta); 1e-12 leaves room for another libm and still catches a wrong quantile or an
        // n instead of n − 1, which move the interval by 1e-3 relative or more.
        assert_close(
            &sample.name,
            &[
                s.mean,
                s.sd.expect("two values or more"),
                s.min,
                s.max,
                interval.low,
                interval.high,
            ],
            &[
                sample.mean,
                sample.sd,
                sample.min,
                sample.max,
                sample.interval_low,
                sample.interval_high,
            ],
            1e-12,
            0.0,
        );
    }
}

#[test]
fn equivalence_tests_match_scipy() {
    for sample in reference().samples {
        let e = equivalence(&sample.values, sample.margin).expect("valid input");
        // Worst measured: 1.0e-14 relative, on the smallest p-value (6.5e-14, deep in the
        // tail, where the incomplete beta functions of both libraries lose digits); 1e-11
        // leaves room for that and still catches a one-sided p taken for a two-sided one.
        assert_close(
            &sample.name,
            &[
                e.tost_p_value.expect("two values or more"),
                e.difference_p_value.expect("two values or more"),
            ],
            &[sample.tost_p_value, sample.difference_p_value],
            1e-11,
            0.0,
        );
        assert_eq!(e.verdict.to_string(), sample.verdict, "{}", sample.name);
    }
}

#[test]
fn mcnemar_matches_scipy_binomtest() {
    for case in reference().mcnemar {
        let test = McNemar::from_counts(case.only_first_correct, case.only_second_correct);
        // Worst measured: 4.5e-13 relative (the binomial CDF of 1000 discordant images through
        // the regularised beta); 1e-10 leaves room for that and still catches a one-sided p
        // (off by a factor 2) or an off-by-one in the tail (off by 10 % or more here).
        assert_close(
            &format!(
                "McNemar ({}, {})",
                case.only_first_correct, case.only_second_correct
            ),
            &[test.p_value],
            &[case.p_value],
            1e-10,
            0.0,
        );
    }
}
