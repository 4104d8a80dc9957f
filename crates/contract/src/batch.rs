//! The batch a model trains on: views, so that both models see the same memory.

use ndarray::{ArrayView1, ArrayView2};

/// A batch: images `(b, 784)` in [0, 1] and labels `(b,)` in 0..10.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    pub images: ArrayView2<'a, f32>,
    pub labels: ArrayView1<'a, u8>,
}
