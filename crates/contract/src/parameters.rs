//! A network's parameters as plain buffers: the exchange format between the models.

/// One dense layer's parameters as plain row-major buffers, torch `Linear` layout.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerParameters {
    /// `(out, in)`, row-major.
    pub weight: Vec<f32>,
    pub out_features: usize,
    pub in_features: usize,
    /// `(out)`.
    pub bias: Vec<f32>,
}

/// All parameters of a network, first layer first: the exchange format that lets the two
/// implementations start from exactly the same point.
pub type Parameters = Vec<LayerParameters>;
