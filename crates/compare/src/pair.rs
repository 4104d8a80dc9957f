//! Which two models a run compares, and McNemar's exact test on their predictions for the same
//! test images. The pair is scratch and torchref when both ran (the difference reported is
//! always scratch − torchref); otherwise the two models of a two-model run; none otherwise.

use crate::report::significant;
use crate::status::ModelStatus;
use crate::summary::SummaryRow;
use crate::train::Contender;

/// The indices (first, second) of the compared models in `labels`; differences are first −
/// second.
pub fn compared_pair<S: AsRef<str>>(labels: &[S]) -> Option<(usize, usize)> {
    let find = |name: &str| labels.iter().position(|l| l.as_ref() == name);
    match (find("scratch"), find("torchref")) {
        (Some(first), Some(second)) => Some((first, second)),
        _ if labels.len() == 2 => Some((0, 1)),
        _ => None,
    }
}

/// McNemar's exact test between the two compared models, when both completed training (so
/// their test predictions come from the same epoch).
pub fn mcnemar(
    contenders: &[Contender],
    test_labels: &[u8],
) -> Option<(usize, usize, stats::McNemar)> {
    let labels: Vec<&str> = contenders.iter().map(|c| c.label.as_str()).collect();
    let (first, second) = compared_pair(&labels)?;
    let predictions = |c: &Contender| {
        (c.status == ModelStatus::Completed)
            .then_some(c.last_test_logits.as_ref())
            .flatten()
            .map(|logits| mnist::metrics::predictions(logits.view()).to_vec())
    };
    let a = predictions(&contenders[first])?;
    let b = predictions(&contenders[second])?;
    let test = stats::McNemar::from_predictions(test_labels, &a, &b).ok()?;
    Some((first, second, test))
}

/// The summaries of a run, the compared pair's rows carrying McNemar's test.
pub fn summaries(contenders: &[Contender], test_labels: &[u8]) -> Vec<SummaryRow> {
    let mut rows: Vec<SummaryRow> = contenders.iter().map(SummaryRow::of).collect();
    if let Some((first, second, test)) = mcnemar(contenders, test_labels) {
        for (this, other, only_this) in [
            (first, second, test.only_first_correct),
            (second, first, test.only_second_correct),
        ] {
            rows[this].mcnemar_against = Some(rows[other].model.clone());
            rows[this].test_images_only_this_model_got_right = Some(only_this);
            rows[this].mcnemar_exact_p_value = Some(significant(test.p_value, 4));
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_and_torchref_are_the_pair_whatever_else_ran() {
        assert_eq!(compared_pair(&["scratch", "torchref"]), Some((0, 1)));
        assert_eq!(
            compared_pair(&["torchref", "scratch-textbook", "scratch"]),
            Some((2, 0))
        );
        assert_eq!(
            compared_pair(&["scratch", "scratch-textbook"]),
            Some((0, 1))
        );
        assert_eq!(compared_pair(&["scratch"]), None);
        assert_eq!(compared_pair(&["a", "b", "c"]), None);
    }
}
