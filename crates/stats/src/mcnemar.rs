//! McNemar's exact test: do two models scored on the same examples have the same accuracy?
//! Only the discordant examples count, those that exactly one of the two classifies correctly.

use statrs::distribution::{Binomial, DiscreteCDF};

use crate::Error;

/// McNemar's exact (binomial) test on the discordant examples of two models.
#[derive(Debug, Clone, PartialEq)]
pub struct McNemar {
    /// Examples the first model classifies correctly and the second does not.
    pub only_first_correct: u64,
    /// Examples the second model classifies correctly and the first does not.
    pub only_second_correct: u64,
    /// Two-sided exact p-value of H0 "both models are equally accurate": under H0 each
    /// discordant example is a fair coin, so it is min(1, 2·P(X ≤ min(b, c))) with
    /// X ~ Binomial(b + c, ½); 1 when there are none.
    pub p_value: f64,
}

impl McNemar {
    pub fn from_counts(only_first_correct: u64, only_second_correct: u64) -> McNemar {
        let discordant = only_first_correct + only_second_correct;
        let p_value = if discordant == 0 {
            1.0
        } else {
            let coin = Binomial::new(0.5, discordant).expect("½ is a valid probability");
            let smaller = only_first_correct.min(only_second_correct);
            (2.0 * coin.cdf(smaller)).min(1.0)
        };
        McNemar {
            only_first_correct,
            only_second_correct,
            p_value,
        }
    }

    /// Counts the discordant examples from each model's predictions and the true labels.
    pub fn from_predictions<T: PartialEq>(
        labels: &[T],
        first: &[T],
        second: &[T],
    ) -> Result<McNemar, Error> {
        if first.len() != labels.len() || second.len() != labels.len() {
            return Err(Error::PredictionCount {
                labels: labels.len(),
                first: first.len(),
                second: second.len(),
            });
        }
        let (mut only_first, mut only_second) = (0, 0);
        for ((label, a), b) in labels.iter().zip(first).zip(second) {
            match (a == label, b == label) {
                (true, false) => only_first += 1,
                (false, true) => only_second += 1,
                _ => {}
            }
        }
        Ok(McNemar::from_counts(only_first, only_second))
    }
}

#[cfg(test)]
mod tests {
    use testkit::assert_close;

    use super::*;

    #[test]
    fn counts_only_the_examples_exactly_one_model_gets_right() {
        let labels = [0, 1, 2, 3, 4, 5];
        // Both right, only first right (twice), only second right, both wrong (differently).
        let first = [0, 1, 2, 0, 4, 9];
        let second = [0, 7, 7, 3, 9, 8];
        let test = McNemar::from_predictions(&labels, &first, &second).expect("same lengths");
        assert_eq!((test.only_first_correct, test.only_second_correct), (3, 1));
        // By hand: 2·P(X ≤ 1), X ~ Binomial(4, ½) = 2·(1 + 4)/16 = 0.625.
        assert_close("p-value", &[test.p_value], &[0.625], 1e-12, 0.0);
    }

    #[test]
    fn no_discordant_examples_is_no_evidence() {
        let test = McNemar::from_counts(0, 0);
        assert_close("p-value", &[test.p_value], &[1.0], 0.0, 0.0);
    }

    #[test]
    fn refuses_predictions_that_do_not_pair_with_the_labels() {
        assert_eq!(
            McNemar::from_predictions(&[1, 2], &[1], &[1, 2]),
            Err(Error::PredictionCount {
                labels: 2,
                first: 1,
                second: 2
            })
        );
    }
}
