//! What can be wrong with the numbers handed to this crate.

/// Input the statistics cannot be computed on. Every variant says what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("no values to summarise: at least one is needed")]
    Empty,

    #[error("value {index} is {value}: only finite numbers can be summarised")]
    NotFinite { index: usize, value: f64 },

    #[error("paired values differ in number: {first} against {second} (one of each per run)")]
    Unpaired { first: usize, second: usize },

    #[error("the equivalence margin must be a positive, finite number, got {0}")]
    Margin(f64),

    #[error(
        "McNemar's test needs one prediction per label from each model: {labels} labels, {first} and {second} predictions"
    )]
    PredictionCount {
        labels: usize,
        first: usize,
        second: usize,
    },
}
