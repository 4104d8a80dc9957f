//! One pass of the fused engine over a batch, on all threads: what it does is a [`Task`].
//!
//! Inside a pass the batch runs along the rows: activations and deltas are held transposed,
//! `(features, batch)`, each row padded to a whole number of vectors, so that the forward
//! product `Aᵀ = f(W·Xᵀ + b)` and the backward one `Wᵀ·ΔZᵀ` vectorise along the batch. The
//! weight gradient `ΔZᵀ·A` needs each layer's input batch-major as well.
//!
//! The threads split every layer by output features (rows of `W`) and each thread only ever
//! touches its own rows of the weights, forward, backward and in the update, so they stay in
//! its core's cache: the backward product is split by those rows too, each thread summing
//! over its own rows into a part of `Wᵀ·ΔZᵀ`, and the parts are added up by the thread that
//! owns the rows of the result. What a thread can cheaply do alone it does alone rather than
//! share and synchronise: each converts and transposes the whole batch of images, makes its
//! own batch-major copies of the activations, and works out the softmax of all the logits. A
//! training pass is then these phases, with a barrier after each:
//!
//! | phase | reads | writes (each thread) |
//! | --- | --- | --- |
//! | forward `l` | its rows of `W_l`, all of `Aᵀ_{l−1}` | its rows of `Aᵀ_l`; its copy of `A_{l−1}` |
//! | loss and last layer | all logits | `ΔZᵀ` of the logits; its part of `W_Lᵀ·ΔZᵀ_L`; its rows of `W_L` |
//! | backward `l` | every part of `W_{l+1}ᵀ·ΔZᵀ_{l+1}` for its rows | its `ΔZᵀ_l` rows; its part of `W_lᵀ·ΔZᵀ_l`; its rows of `W_l` |
//!
//! (the first forward phase also makes the thread's copies of the images, and the last
//! backward phase, of the first layer, needs no barrier). Each thread's weight step computes
//! its part of the backward product from its rows of `W_l` as they were before it updates
//! them, so the gradient uses the weights of the forward pass; for a batch narrower than a
//! vector, in the same pass over those rows.

use std::ops::Range;

use contract::{Activation, ModelConfig, INPUT_SIZE};
use ndarray::{ArrayView1, ArrayView2};

use super::adam::AdamState;
use super::buffer::{batch_stride, padded, Buffer};
use super::kernels::Kernels;
use super::layout::{first_row, Dense};
use crate::pool::{self, Ctx, Disjoint};

mod backward;
mod forward;
mod task;
mod workspace;

pub(super) use task::Task;
use workspace::Regions;
pub(super) use workspace::Workspace;

/// Rows of a kernel tile: threads split layers on multiples of this.
const TILE_ROWS: usize = 6;
/// Multiply-adds of a forward pass below which one thread does it all: the default network's
/// batch of 1 (543 000), not its batch of 2 (1 086 000). Measured on a 2-core AMD EPYC Zen 3
/// (AVX2), fastest step of 1 500–4 000, the machine loaded by two compiles (load about 5):
/// when both cores are free, two threads win at every batch (batch 1: 0.12 ms against 0.20 on
/// one; batch 2: 0.13 against 0.21; batch 4: 0.16 against 0.28), but when the second core is
/// taken both threads share one, each of the pass's ten or so waits spins its 100 µs before
/// yielding (see `pool`), and a step takes about 1.05 ms whatever the batch (in 4 of 6 runs
/// at batch 1, 3 of 6 at batch 2, 2 of 6 at batch 8 here). At batch 1 the second thread saves
/// least, 0.08 ms, and there the previous quiet sweep (median of 5 blocks) also lost: 0.73 ms
/// on two threads against 0.29 on one; from batch 2 on it won (batch 2: 0.20 against 0.30;
/// batch 4: 0.20 against 0.37).
const PARALLEL_WORK: usize = 1 << 20;

/// The parts of the network a pass reads and updates.
pub(super) struct Model<'n> {
    pub config: &'n ModelConfig,
    pub layers: &'n [Dense],
    pub weights: &'n mut Buffer<f32>,
    pub biases: &'n mut [f32],
    pub adam: Option<&'n mut AdamState>,
    pub kernels: &'static dyn Kernels<f32>,
}

/// What a pass found: the sum of the images' cross-entropies (zero for [`Task::Logits`]) and,
/// after an update under L2, the new `Σ‖W‖²`.
pub(super) struct Sums {
    pub loss: f64,
    pub sum_squares: Option<f64>,
}

/// Threads a pass over `m` images of `layers` runs on: all of [`crate::set_threads`], or one
/// where the pass is too small for a second thread to pay for its barriers.
pub(super) fn threads_for_batch(layers: &[Dense], m: usize) -> usize {
    let multiply_adds = m * layers.iter().map(|l| l.inputs * l.outputs).sum::<usize>();
    if multiply_adds < PARALLEL_WORK {
        1
    } else {
        pool::threads()
    }
}

impl Workspace {
    /// One pass of `model` over a batch, in these buffers.
    pub(super) fn pass(
        &mut self,
        model: Model<'_>,
        images: ArrayView2<'_, f32>,
        labels: Option<ArrayView1<'_, u8>>,
        task: Task,
    ) -> Sums {
        let m = images.nrows();
        assert!(m > 0, "an empty batch");
        assert_eq!(images.ncols(), INPUT_SIZE, "images of {INPUT_SIZE} pixels");
        match &labels {
            Some(labels) => assert_eq!(labels.len(), m, "one label per image"),
            None => assert!(matches!(task, Task::Logits), "a loss needs labels"),
        }
        let threads = threads_for_batch(model.layers, m);
        let ldm = batch_stride(m);
        let narrow = m <= model.kernels.narrow_batch();
        let regions = Regions::new(model.layers, ldm);
        self.reserve(regions, threads);
        let store_gradient = matches!(task, Task::Gradient);
        if store_gradient && self.weight_gradient.len() != model.weights.len() {
            self.weight_gradient = Buffer::zeros(model.weights.len());
            self.bias_gradient = vec![0.0; model.biases.len()];
        }
        // Borrowed as-is when already row-major and contiguous, as batches of a loaded set are.
        let images = images.as_standard_layout();
        let copied_labels;
        let labels: &[u8] = match labels.map(|l| l.to_slice().ok_or(l)) {
            None => &[],
            Some(Ok(labels)) => labels,
            Some(Err(strided)) => {
                copied_labels = strided.to_vec();
                &copied_labels
            }
        };
        let l2 = f64::from(model.config.l2);
        let sum_squares = l2 > 0.0 && matches!(task, Task::Sgd { .. } | Task::Adam(_));
        let adam = model.adam;
        let (weight_m, weight_v, bias_m, bias_v) = match adam {
            Some(a) => (
                Some(&mut a.weight_m),
                Some(&mut a.weight_v),
                Some(&mut a.bias_m),
                Some(&mut a.bias_v),
            ),
            None => (None, None, None, None),
        };
        {
            let pass = Pass {
                layers: model.layers,
                activation: model.config.activation,
                m,
                ldm,
                narrow,
                cols: if narrow { m } else { padded(m) },
                images: images
                    .as_slice()
                    .expect("a standard-layout array is contiguous"),
                labels,
                task,
                decay: (l2 / m as f64) as f32,
                sum_squares,
                weights: Disjoint::new(model.weights.as_mut_slice()),
                biases: Disjoint::new(model.biases),
                weight_m: weight_m.map(|b| Disjoint::new(b.as_mut_slice())),
                weight_v: weight_v.map(|b| Disjoint::new(b.as_mut_slice())),
                bias_m: bias_m.map(|b| Disjoint::new(b)),
                bias_v: bias_v.map(|b| Disjoint::new(b)),
                weight_gradient: Disjoint::new(self.weight_gradient.as_mut_slice()),
                bias_gradient: Disjoint::new(&mut self.bias_gradient),
                inputs: Disjoint::new(self.inputs.as_mut_slice()),
                inputs_t: Disjoint::new(self.inputs_t.as_mut_slice()),
                outputs: Disjoint::new(self.outputs.as_mut_slice()),
                hidden_rows: Disjoint::new(self.hidden_rows.as_mut_slice()),
                deltas: Disjoint::new(self.deltas.as_mut_slice()),
                parts: Disjoint::new(self.parts.as_mut_slice()),
                sums: Disjoint::new(&mut self.sums),
                regions,
                kernels: model.kernels,
            };
            pool::run(threads, |ctx| pass.run(ctx));
        }
        let sums = &self.sums[..threads];
        Sums {
            loss: sums.iter().map(|p| p[0]).sum(),
            sum_squares: sum_squares.then(|| sums.iter().map(|p| p[1]).sum()),
        }
    }
}

/// Everything one pass reads and writes, shared by its threads.
struct Pass<'a> {
    layers: &'a [Dense],
    activation: Activation,
    m: usize,
    /// The row stride of every `(features, batch)` buffer ([`batch_stride`]).
    ldm: usize,
    /// Whether the batch is narrower than a vector, so that the forward product vectorises
    /// along the depth rather than along the batch, and the weight step, which makes the
    /// backward product on its way, goes row by row.
    narrow: bool,
    /// Columns the products compute: the batch padded to whole vectors (the padding columns
    /// zero), or, when `narrow`, the `m` images alone (the padding left as it was).
    cols: usize,
    images: &'a [f32],
    labels: &'a [u8],
    task: Task,
    decay: f32,
    sum_squares: bool,
    weights: Disjoint<'a, f32>,
    biases: Disjoint<'a, f32>,
    weight_m: Option<Disjoint<'a, f32>>,
    weight_v: Option<Disjoint<'a, f32>>,
    bias_m: Option<Disjoint<'a, f32>>,
    bias_v: Option<Disjoint<'a, f32>>,
    weight_gradient: Disjoint<'a, f32>,
    bias_gradient: Disjoint<'a, f32>,
    inputs: Disjoint<'a, f32>,
    inputs_t: Disjoint<'a, f32>,
    outputs: Disjoint<'a, f32>,
    hidden_rows: Disjoint<'a, f32>,
    deltas: Disjoint<'a, f32>,
    parts: Disjoint<'a, f32>,
    sums: Disjoint<'a, [f64; 2]>,
    regions: Regions,
    kernels: &'a dyn Kernels<f32>,
}

// The phases below take their pieces of the shared buffers with `Disjoint::get`/`get_mut`.
// SAFETY (for every such call): within a phase, a thread writes only its own rows of the
// shared buffers (`outputs`, the parameters and their state), its own regions of the
// per-thread ones, and its own `sums` entry; it reads only what no thread writes in that
// phase (the table in the module docs); the barriers between phases order the writes before
// the reads.
impl Pass<'_> {
    fn run(&self, ctx: &Ctx<'_>) {
        let last = self.layers.len() - 1;
        self.input(ctx);
        for l in 0..=last {
            self.forward(ctx, l);
            if l < last || !matches!(self.task, Task::Logits) {
                ctx.barrier();
            }
        }
        if matches!(self.task, Task::Logits) {
            return;
        }
        self.loss(ctx);
        if !self.task.backward() {
            return;
        }
        for l in (0..=last).rev() {
            if l < last && ctx.threads > 1 {
                self.gather(ctx, l);
            }
            self.update_layer(ctx, l);
            if l >= 1 {
                ctx.barrier();
            }
        }
    }

    /// Rows `rows` of layer `l`'s block of a `(outputs, batch)` buffer: `outputs`, or
    /// thread `tid`'s region of `deltas` or `parts`.
    fn block(&self, tid: usize, l: usize, rows: Range<usize>) -> Range<usize> {
        let first = first_row(self.layers, l);
        let start = tid * self.regions.deltas + (first + rows.start) * self.ldm;
        start..start + rows.len() * self.ldm
    }

    /// Thread `tid`'s batch-major copy of hidden layer `l`'s output, `(m, padded(outputs))`.
    fn hidden_block(&self, tid: usize, l: usize) -> Range<usize> {
        let first: usize = self.layers[..l].iter().map(|l| padded(l.outputs)).sum();
        let start = tid * self.regions.hidden_rows + first * self.m;
        start..start + self.m * padded(self.layers[l].outputs)
    }
}
