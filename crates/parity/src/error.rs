//! What makes two models' answers impossible to compare.

/// Two models' [`contract::Derivatives`] that cannot be compared at all (a tensor whose length
/// differs is compared and reported instead, as an infinite difference).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The models return gradients for different numbers of layers.
    #[error("the reference returns gradients of {reference} layers, the candidate of {candidate}")]
    LayerCount { reference: usize, candidate: usize },
    /// A hidden layer's pre-activations differ in shape (or one model reports fewer layers).
    #[error(
        "hidden layer {layer}: the reference's pre-activations are {reference:?}, the candidate's {candidate:?}"
    )]
    PreActivations {
        layer: usize,
        reference: Option<(usize, usize)>,
        candidate: Option<(usize, usize)>,
    },
}
