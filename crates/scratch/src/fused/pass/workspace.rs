//! The buffers a pass works in, kept from one pass to the next: a [`Workspace`], and the
//! size of each thread's share of them ([`Regions`]).

use contract::INPUT_SIZE;

use crate::fused::buffer::{padded, Buffer};
use crate::fused::layout::Dense;

/// The buffers of a pass, allocated for the largest batch and thread count seen so far. The
/// buffers marked "per thread" hold one region of [`Regions`] size for each thread.
#[derive(Debug, Clone)]
pub(crate) struct Workspace {
    /// Per thread: the images batch-major, `(batch, 784)`, for the first weight gradient.
    pub(super) inputs: Buffer<f32>,
    /// Per thread: the images transposed, `(784, batch)`.
    pub(super) inputs_t: Buffer<f32>,
    /// Each layer's output `Aᵀ` `(outputs, batch)`, one after another.
    pub(crate) outputs: Buffer<f32>,
    /// Per thread: each hidden layer's output batch-major, `(batch, padded(outputs))`.
    pub(super) hidden_rows: Buffer<f32>,
    /// Per thread: each layer's `ΔZᵀ`, shaped like `outputs` (a thread fills its own rows).
    pub(super) deltas: Buffer<f32>,
    /// Per thread: its part of each backward product `Wᵀ·ΔZᵀ`, shaped like `outputs`.
    pub(super) parts: Buffer<f32>,
    pub(crate) weight_gradient: Buffer<f32>,
    pub(crate) bias_gradient: Vec<f32>,
    /// Per thread: its part of the loss sum and of `Σ‖W‖²`.
    pub(super) sums: Vec<[f64; 2]>,
}

/// Elements of one thread's region of each per-thread buffer, for a batch whose rows are `ldm` apart.
#[derive(Debug, Clone, Copy)]
pub(super) struct Regions {
    pub(super) inputs: usize,
    pub(super) inputs_t: usize,
    pub(super) hidden_rows: usize,
    /// Also the size of `outputs`.
    pub(super) deltas: usize,
}

impl Regions {
    pub(super) fn new(layers: &[Dense], ldm: usize) -> Self {
        let hidden = &layers[..layers.len() - 1];
        Regions {
            inputs: ldm * padded(INPUT_SIZE),
            inputs_t: INPUT_SIZE * ldm,
            hidden_rows: ldm * hidden.iter().map(|l| padded(l.outputs)).sum::<usize>(),
            deltas: layers.iter().map(|l| l.outputs).sum::<usize>() * ldm,
        }
    }
}

impl Workspace {
    pub(crate) fn new() -> Self {
        Workspace {
            inputs: Buffer::zeros(0),
            inputs_t: Buffer::zeros(0),
            outputs: Buffer::zeros(0),
            hidden_rows: Buffer::zeros(0),
            deltas: Buffer::zeros(0),
            parts: Buffer::zeros(0),
            weight_gradient: Buffer::zeros(0),
            bias_gradient: Vec::new(),
            sums: Vec::new(),
        }
    }

    /// Makes room for `threads` threads' regions of `regions` size.
    pub(super) fn reserve(&mut self, regions: Regions, threads: usize) {
        let grow = |buffer: &mut Buffer<f32>, len: usize| {
            if buffer.len() < len {
                *buffer = Buffer::zeros(len);
            }
        };
        grow(&mut self.inputs, threads * regions.inputs);
        grow(&mut self.inputs_t, threads * regions.inputs_t);
        grow(&mut self.outputs, regions.deltas);
        grow(&mut self.hidden_rows, threads * regions.hidden_rows);
        grow(&mut self.deltas, threads * regions.deltas);
        grow(&mut self.parts, threads * regions.deltas);
        if self.sums.len() < threads {
            self.sums.resize(threads, [0.0; 2]);
        }
    }
}
