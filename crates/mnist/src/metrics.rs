//! Scores computed once, from the logits either model returns: predictions, accuracy, mean
//! cross-entropy, the confusion matrix and scikit-learn's classification report.

use std::fmt;

use contract::CLASSES;
use ndarray::{Array1, ArrayView1, ArrayView2};
use serde::Serialize;

/// The predicted class of each row: the index of the largest logit, the first one on a tie,
/// and a NaN counts as the largest (as `torch.argmax`). Panics unless `logits` is `(n, 10)`.
pub fn predictions(logits: ArrayView2<'_, f32>) -> Array1<u8> {
    assert_eq!(logits.ncols(), CLASSES, "logits must be (n, 10)");
    logits
        .rows()
        .into_iter()
        .map(|row| {
            let mut best = 0;
            for (class, &value) in row.iter().enumerate() {
                if row[best].is_nan() {
                    break;
                }
                if value.is_nan() || value > row[best] {
                    best = class;
                }
            }
            best as u8
        })
        .collect()
}

/// Fraction of rows whose prediction is the label. Panics on a shape mismatch or no rows.
pub fn accuracy(logits: ArrayView2<'_, f32>, labels: ArrayView1<'_, u8>) -> f64 {
    ConfusionMatrix::from_logits(logits, labels).accuracy()
}

/// Mean over rows of `−log softmax(row)[label]`, with a max-shifted log-sum-exp and f64
/// sums so that large logits neither overflow nor lose digits. Panics on a shape mismatch,
/// no rows, or a label ≥ 10.
pub fn mean_cross_entropy(logits: ArrayView2<'_, f32>, labels: ArrayView1<'_, u8>) -> f64 {
    check_shapes(logits, labels);
    let total: f64 = logits
        .rows()
        .into_iter()
        .zip(labels)
        .map(|(row, &label)| {
            let max = row
                .iter()
                .fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
            let sum: f64 = row.iter().map(|&v| (f64::from(v) - max).exp()).sum();
            max + sum.ln() - f64::from(row[usize::from(label)])
        })
        .sum();
    total / labels.len() as f64
}

fn check_shapes(logits: ArrayView2<'_, f32>, labels: ArrayView1<'_, u8>) {
    assert_eq!(
        logits.dim(),
        (labels.len(), CLASSES),
        "logits must be (labels, 10)"
    );
    assert!(!labels.is_empty(), "no examples to score");
    assert!(
        labels.iter().all(|&l| usize::from(l) < CLASSES),
        "labels must be below 10"
    );
}

/// Counts of (true class, predicted class): rows true, columns predicted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfusionMatrix {
    pub counts: [[u64; CLASSES]; CLASSES],
}

impl ConfusionMatrix {
    /// Panics unless both have the same, nonzero length and every class is below 10.
    pub fn new(labels: ArrayView1<'_, u8>, predictions: ArrayView1<'_, u8>) -> Self {
        assert_eq!(labels.len(), predictions.len(), "one prediction per label");
        assert!(!labels.is_empty(), "no examples to score");
        let mut counts = [[0; CLASSES]; CLASSES];
        for (&truth, &predicted) in labels.iter().zip(predictions) {
            assert!(
                usize::from(truth) < CLASSES && usize::from(predicted) < CLASSES,
                "classes must be below 10"
            );
            counts[usize::from(truth)][usize::from(predicted)] += 1;
        }
        ConfusionMatrix { counts }
    }

    pub fn from_logits(logits: ArrayView2<'_, f32>, labels: ArrayView1<'_, u8>) -> Self {
        check_shapes(logits, labels);
        Self::new(labels, predictions(logits).view())
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// The diagonal's sum.
    pub fn correct(&self) -> u64 {
        (0..CLASSES).map(|c| self.counts[c][c]).sum()
    }

    pub fn accuracy(&self) -> f64 {
        self.correct() as f64 / self.total() as f64
    }

    /// How many examples of class `truth` were predicted as `predicted`. Panics unless both
    /// are below 10.
    pub fn count(&self, truth: usize, predicted: usize) -> u64 {
        self.counts[truth][predicted]
    }

    /// How often class `c` is the truth (row sum).
    fn support(&self, c: usize) -> u64 {
        self.counts[c].iter().sum()
    }

    /// How often class `c` is predicted (column sum).
    fn predicted(&self, c: usize) -> u64 {
        self.counts.iter().map(|row| row[c]).sum()
    }

    /// Per-class precision, recall, F1 and support, as scikit-learn's
    /// `classification_report(y_true, y_pred, labels=range(10))`.
    pub fn report(&self) -> ClassificationReport {
        ClassificationReport::new(self)
    }
}

/// One class's line of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassMetrics {
    pub class: u8,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// How many examples truly are this class.
    pub support: usize,
}

/// An average line of the report; `support` is the number of examples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Averages {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

/// scikit-learn's `classification_report(y_true, y_pred, labels=range(10))`: one line per
/// digit, all ten even when one never occurs (the default call would drop such a class and
/// average over fewer); a ratio whose denominator is 0 counts as 0 (a never-predicted class
/// has precision 0); F1 is `2·tp / (2·tp + fp + fn)`; the macro average is the plain mean
/// over the ten classes and the weighted average weighs each by its support.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassificationReport {
    /// Classes 0 to 9, in order.
    pub classes: Vec<ClassMetrics>,
    pub accuracy: f64,
    /// Number of examples.
    pub support: usize,
    pub macro_avg: Averages,
    pub weighted_avg: Averages,
}

impl ClassificationReport {
    fn new(matrix: &ConfusionMatrix) -> Self {
        let ratio = |num: u64, den: u64| {
            if den == 0 {
                0.0
            } else {
                num as f64 / den as f64
            }
        };
        let classes: Vec<ClassMetrics> = (0..CLASSES)
            .map(|c| {
                let (tp, support, predicted) =
                    (matrix.counts[c][c], matrix.support(c), matrix.predicted(c));
                ClassMetrics {
                    class: c as u8,
                    precision: ratio(tp, predicted),
                    recall: ratio(tp, support),
                    f1: ratio(2 * tp, support + predicted),
                    support: support as usize,
                }
            })
            .collect();
        let total = matrix.total() as usize;
        let average = |weight: &dyn Fn(&ClassMetrics) -> f64, norm: f64| {
            let mean = |metric: fn(&ClassMetrics) -> f64| {
                classes.iter().map(|c| weight(c) * metric(c)).sum::<f64>() / norm
            };
            Averages {
                precision: mean(|c| c.precision),
                recall: mean(|c| c.recall),
                f1: mean(|c| c.f1),
                support: total,
            }
        };
        let macro_avg = average(&|_| 1.0, CLASSES as f64);
        let weighted_avg = average(&|c| c.support as f64, total as f64);
        ClassificationReport {
            accuracy: matrix.accuracy(),
            support: total,
            classes,
            macro_avg,
            weighted_avg,
        }
    }
}

/// The text of scikit-learn's `classification_report(..., digits=4)`.
impl fmt::Display for ClassificationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>12}  {:>9} {:>9} {:>9} {:>9}\n",
            "", "precision", "recall", "f1-score", "support"
        )?;
        for c in &self.classes {
            writeln!(
                f,
                "{:>12}  {:>9.4} {:>9.4} {:>9.4} {:>9}",
                c.class, c.precision, c.recall, c.f1, c.support
            )?;
        }
        writeln!(
            f,
            "\n{:>12}  {:>9} {:>9} {:>9.4} {:>9}",
            "accuracy", "", "", self.accuracy, self.support
        )?;
        for (name, avg) in [
            ("macro avg", &self.macro_avg),
            ("weighted avg", &self.weighted_avg),
        ] {
            writeln!(
                f,
                "{:>12}  {:>9.4} {:>9.4} {:>9.4} {:>9}",
                name, avg.precision, avg.recall, avg.f1, avg.support
            )?;
        }
        Ok(())
    }
}
