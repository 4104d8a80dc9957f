//! A network's parameters as plain buffers: the exchange format between the models.

/// One dense layer's parameters as plain row-major buffers, torch `Linear` layout: `f32` as
/// the models compute, `f64` for the exact reference that the parity verdict measures
/// rounding against.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerParameters<T = f32> {
    /// `(out, in)`, row-major.
    pub weight: Vec<T>,
    pub out_features: usize,
    pub in_features: usize,
    /// `(out)`.
    pub bias: Vec<T>,
}

/// All parameters of a network, first layer first: the exchange format that lets the two
/// implementations start from exactly the same point.
pub type Parameters<T = f32> = Vec<LayerParameters<T>>;
