//! Scores against values worked out by hand, and against scikit-learn's text report
//! (fixtures/classification_report.py writes fixtures/classification_report.txt).

use mnist::metrics::{accuracy, mean_cross_entropy, predictions, ConfusionMatrix};
use ndarray::{arr1, Array1, Array2};
use testkit::assert_close;

// Must match Y_TRUE and Y_PRED in fixtures/classification_report.py.
const Y_TRUE: [u8; 8] = [0, 0, 0, 1, 1, 1, 2, 2];
const Y_PRED: [u8; 8] = [0, 0, 1, 1, 1, 3, 0, 1];

/// One-hot logits that predict `Y_PRED`.
fn one_hot(classes: &[u8]) -> Array2<f32> {
    Array2::from_shape_fn((classes.len(), 10), |(i, c)| {
        f32::from(u8::from(c == usize::from(classes[i])))
    })
}

#[test]
fn confusion_matrix_counts_rows_true_columns_predicted() {
    let matrix = ConfusionMatrix::new(arr1(&Y_TRUE).view(), arr1(&Y_PRED).view());
    let mut want = [[0_u64; 10]; 10];
    want[0][..2].copy_from_slice(&[2, 1]); // true 0: predicted 0, 0, 1
    want[1][1] = 2; // true 1: predicted 1, 1, 3
    want[1][3] = 1;
    want[2][..2].copy_from_slice(&[1, 1]); // true 2: predicted 0, 1
    assert_eq!(matrix.counts, want);
    assert_eq!((matrix.total(), matrix.correct()), (8, 4));
    assert_eq!((matrix.count(1, 3), matrix.count(3, 1)), (1, 0));
    assert_eq!(
        ConfusionMatrix::from_logits(one_hot(&Y_PRED).view(), arr1(&Y_TRUE).view()),
        matrix
    );
}

#[test]
fn classification_report_matches_scikit_learn() {
    let report = ConfusionMatrix::new(arr1(&Y_TRUE).view(), arr1(&Y_PRED).view()).report();
    // Columns of the confusion matrix give how often each class is predicted (3, 4, 0, 1,
    // then 0), rows its support (3, 3, 2, 0, then 0). All ten classes are listed.
    //   class 0: P = 2/3, R = 2/3, F1 = 2·2/(3+3) = 2/3
    //   class 1: P = 2/4, R = 2/3, F1 = 2·2/(4+3) = 4/7
    //   class 2: never predicted: P = 0 (0/0), R = 0/2, F1 = 0
    //   class 3: never true: P = 0/1, R = 0 (0/0), F1 = 0
    //   classes 4–9: occur nowhere: all 0
    //   macro:    P = (2/3 + 1/2)/10 = 7/60, R = (4/3)/10 = 2/15, F1 = (2/3 + 4/7)/10 = 13/105
    //   weighted: P = (3·2/3 + 3·1/2)/8 = 7/16, R = 4/8, F1 = (3·2/3 + 3·4/7)/8 = 13/28
    let classes: Vec<u8> = report.classes.iter().map(|c| c.class).collect();
    assert_eq!(classes, (0..10).collect::<Vec<u8>>());
    let field = |f: fn(&mnist::metrics::ClassMetrics) -> f64| {
        report.classes.iter().map(f).collect::<Vec<_>>()
    };
    let padded = |head: &[f64]| {
        let mut all = [0.0; 10];
        all[..head.len()].copy_from_slice(head);
        all
    };
    let precision = padded(&[2.0 / 3.0, 0.5]);
    assert_close("precision", &field(|c| c.precision), &precision, 1e-12, 0.0);
    let recall = padded(&[2.0 / 3.0, 2.0 / 3.0]);
    assert_close("recall", &field(|c| c.recall), &recall, 1e-12, 0.0);
    let f1 = padded(&[2.0 / 3.0, 4.0 / 7.0]);
    assert_close("f1", &field(|c| c.f1), &f1, 1e-12, 0.0);
    let supports: Vec<usize> = report.classes.iter().map(|c| c.support).collect();
    assert_eq!(supports, [3, 3, 2, 0, 0, 0, 0, 0, 0, 0]);
    assert_close("accuracy", &[report.accuracy], &[0.5], 1e-12, 0.0);
    let m = &report.macro_avg;
    let macro_want = [7.0 / 60.0, 2.0 / 15.0, 13.0 / 105.0];
    assert_close(
        "macro avg",
        &[m.precision, m.recall, m.f1],
        &macro_want,
        1e-12,
        0.0,
    );
    let w = &report.weighted_avg;
    let weighted_want = [7.0 / 16.0, 0.5, 13.0 / 28.0];
    assert_close(
        "weighted avg",
        &[w.precision, w.recall, w.f1],
        &weighted_want,
        1e-12,
        0.0,
    );
    assert_eq!((report.support, m.support, w.support), (8, 8, 8));

    assert_eq!(
        report.to_string(),
        include_str!("fixtures/classification_report.txt")
    );
}

#[test]
fn accuracy_counts_argmax_hits() {
    // Y_PRED matches Y_TRUE at positions 0, 1, 3, 4: 4 of 8.
    assert_close(
        "accuracy",
        &[accuracy(one_hot(&Y_PRED).view(), arr1(&Y_TRUE).view())],
        &[0.5],
        1e-12,
        0.0,
    );
}

#[test]
fn predictions_take_the_first_maximum_and_treat_nan_as_largest() {
    let mut logits = Array2::<f32>::zeros((3, 10));
    logits[[0, 4]] = 2.0;
    logits[[0, 7]] = 2.0; // tie: the first wins, as torch.argmax
    logits[[1, 9]] = -1.0; // all others 0: class 0 wins
    logits[[2, 2]] = 5.0;
    logits[[2, 6]] = f32::NAN; // NaN wins, as torch.argmax
    assert_eq!(predictions(logits.view()), Array1::from(vec![4, 0, 6]));
}

#[test]
fn cross_entropy_is_stable_for_large_logits() {
    // Row 0: all zeros, any label: −log(1/10) = ln 10.
    // Row 1: 1000 at the label, 0 elsewhere: −log(1/(1 + 9e−1000)) = 0 (to f64).
    // Row 2: 1000 at class 0, label 1: log(e^1000 + 9) − 0 = 1000 (to f64).
    // A softmax without max-subtraction gives inf or NaN here (e^1000 overflows).
    let mut logits = Array2::<f32>::zeros((3, 10));
    logits[[1, 0]] = 1000.0;
    logits[[2, 0]] = 1000.0;
    let labels = arr1(&[3_u8, 0, 1]);
    let want = (10_f64.ln() + 0.0 + 1000.0) / 3.0;
    assert_close(
        "mean cross-entropy",
        &[mean_cross_entropy(logits.view(), labels.view())],
        &[want],
        1e-12,
        0.0,
    );
}

#[test]
fn cross_entropy_of_a_softmax_that_is_a_known_distribution() {
    // Logits ln(1), ln(2), ln(3), ln(4), and −∞-like −100 elsewhere: softmax ≈ (0.1, 0.2,
    // 0.3, 0.4, ~0…); labels 3 and 0 give −ln 0.4 and −ln 0.1; e^−100 terms shift it by
    // under 1e−42.
    let mut logits = Array2::<f32>::from_elem((2, 10), -100.0);
    for row in 0..2 {
        for c in 0..4 {
            logits[[row, c]] = ((c + 1) as f32).ln();
        }
    }
    let want = (-(0.4_f64.ln()) - 0.1_f64.ln()) / 2.0;
    let got = mean_cross_entropy(logits.view(), arr1(&[3_u8, 0]).view());
    // The logits are f32: ln 2 etc. carry a relative error of about 6e−8.
    assert_close("mean cross-entropy", &[got], &[want], 1e-6, 0.0);
}
