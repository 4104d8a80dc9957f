//! The input and output widths every model of the comparison has.

/// Number of input features (28 × 28 pixels).
pub const INPUT_SIZE: usize = 784;
/// Number of classes (digits 0–9).
pub const CLASSES: usize = 10;
