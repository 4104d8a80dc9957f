//! What the two weight steps share, the wide one (`weight_step.rs`) and the narrow one
//! (`narrow_step.rs`), which the wide one hands batches narrower than a vector: what a step
//! works from ([`Step`]) and where one vector of weights sits ([`At`]).

use super::vector::{Lanes, Vector};
use super::{Backward, Mat};

/// What a weight step works from, besides the weights and the update.
pub(super) struct Step<'a> {
    pub(super) delta: Mat<'a, f32>,
    pub(super) input: Mat<'a, f32>,
    pub(super) decay: f32,
    pub(super) sum_squares: bool,
    pub(super) backward: Option<Backward<'a, f32>>,
}

/// Where one vector of weights sits: its row, its first column, the lanes it keeps.
#[derive(Clone, Copy)]
pub(super) struct At<V: Vector> {
    pub(super) row: usize,
    pub(super) col: usize,
    pub(super) lanes: Lanes<V>,
}
