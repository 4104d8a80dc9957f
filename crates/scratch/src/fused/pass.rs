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
//! backward phase, of the first layer, needs no barrier). Each thread computes its part of the
//! backward product from its rows of `W_l` before it updates them, so the gradient uses the
//! weights of the forward pass.

use std::ops::Range;

use contract::{Activation, ModelConfig, Optimizer, CLASSES, INPUT_SIZE};
use ndarray::{ArrayView1, ArrayView2};

use super::adam::{AdamState, AdamStep};
use super::buffer::{batch_stride, padded, Buffer};
use super::kernels::{Epilogue, Kernels, Lhs, Mat, MatMut, Update};
use super::layout::{first_row, Dense};
use super::softmax::softmax_cross_entropy;
use crate::pool::{self, Ctx, Disjoint};

/// Rows of a kernel tile: threads split layers on multiples of this.
const TILE_ROWS: usize = 6;
/// Multiply-adds of a forward pass below which one thread does it all: the few microseconds
/// of barriers would cost more than a second core saves. The default network's batch of 1
/// (543 000) is above it: on two cores each streams half the weights, and a step took 0.13 ms
/// against 0.20 ms on one (2-core AMD EPYC Zen 3, AVX2, wall time, median of 7 alternating
/// runs of each, load average about 1.4).
const PARALLEL_WORK: usize = 1 << 19;

/// What a pass does.
#[derive(Debug, Clone, Copy)]
pub(super) enum Task {
    /// The logits only.
    Logits,
    /// The loss, no gradient.
    Loss,
    /// The loss and the gradient, written to the workspace; the parameters stay.
    Gradient,
    /// The loss, then one SGD step `w −= lr·g`.
    Sgd { lr: f32 },
    /// The loss, then one Adam step.
    Adam(AdamStep),
}

impl Task {
    /// Training step number `t` (1 for the first update) of `optimizer`.
    pub(super) fn train(optimizer: &Optimizer, t: u64) -> Task {
        match *optimizer {
            Optimizer::Sgd { lr } => Task::Sgd { lr },
            Optimizer::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => Task::Adam(AdamStep::new(
                f64::from(lr),
                f64::from(beta1),
                f64::from(beta2),
                f64::from(eps),
                t,
            )),
        }
    }

    /// Whether the pass goes backward (and so changes the weights or stores the gradient).
    fn backward(self) -> bool {
        !matches!(self, Task::Logits | Task::Loss)
    }
}

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

/// The buffers of a pass, allocated for the largest batch and thread count seen so far. The
/// buffers marked "per thread" hold one region of [`Regions`] size for each thread.
#[derive(Debug, Clone)]
pub(super) struct Workspace {
    /// Per thread: the images batch-major, `(batch, 784)`, for the first weight gradient.
    inputs: Buffer<f32>,
    /// Per thread: the images transposed, `(784, batch)`.
    inputs_t: Buffer<f32>,
    /// Each layer's output `Aᵀ` `(outputs, batch)`, one after another.
    pub(super) outputs: Buffer<f32>,
    /// Per thread: each hidden layer's output batch-major, `(batch, padded(outputs))`.
    hidden_rows: Buffer<f32>,
    /// Per thread: each layer's `ΔZᵀ`, shaped like `outputs` (a thread fills its own rows).
    deltas: Buffer<f32>,
    /// Per thread: its part of each backward product `Wᵀ·ΔZᵀ`, shaped like `outputs`.
    parts: Buffer<f32>,
    pub(super) weight_gradient: Buffer<f32>,
    pub(super) bias_gradient: Vec<f32>,
    /// Per thread: its part of the loss sum and of `Σ‖W‖²`.
    sums: Vec<[f64; 2]>,
}

/// Elements of one thread's region of each per-thread buffer, for a batch whose rows are `ldm` apart.
#[derive(Debug, Clone, Copy)]
struct Regions {
    inputs: usize,
    inputs_t: usize,
    hidden_rows: usize,
    /// Also the size of `outputs`.
    deltas: usize,
}

impl Regions {
    fn new(layers: &[Dense], ldm: usize) -> Self {
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
    pub(super) fn new() -> Self {
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
    fn reserve(&mut self, regions: Regions, threads: usize) {
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

/// Everything one pass reads and writes, shared by its threads.
struct Pass<'a> {
    layers: &'a [Dense],
    activation: Activation,
    m: usize,
    /// The row stride of every `(features, batch)` buffer ([`batch_stride`]).
    ldm: usize,
    /// Whether the batch is narrower than a vector, so that the products vectorise along the
    /// depth (forward) or the rows (backward) rather than along the batch.
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
            if l >= 1 {
                self.backward(ctx, l);
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

    /// This thread's copy of the images in `f32`, batch-major and transposed.
    fn input(&self, ctx: &Ctx<'_>) {
        let ld = padded(INPUT_SIZE);
        let start = ctx.tid * self.regions.inputs;
        let rows = unsafe { self.inputs.get_mut(start..start + self.m * ld) };
        for (row, src) in rows.chunks_mut(ld).zip(self.images.chunks(INPUT_SIZE)) {
            for (x, &pixel) in row.iter_mut().zip(src) {
                *x = pixel;
            }
        }
        if self.narrow {
            return;
        }
        let start = ctx.tid * self.regions.inputs_t;
        let dst = unsafe { self.inputs_t.get_mut(start..start + INPUT_SIZE * self.ldm) };
        self.kernels.transpose(
            Mat::new(rows, self.m, INPUT_SIZE, ld),
            MatMut::new(dst, INPUT_SIZE, self.ldm, self.ldm),
        );
    }

    /// `Aᵀ_l = f(W_l·Aᵀ_{l−1} + b_l)` for this thread's rows; before it, this thread's
    /// batch-major copy of `A_{l−1}`, which the weight gradient needs, and so does the forward
    /// product itself when the batch is narrow.
    fn forward(&self, ctx: &Ctx<'_>, l: usize) {
        let layer = &self.layers[l];
        let rows = ctx.share(layer.outputs, TILE_ROWS);
        let ldm = self.ldm;
        let below = if l == 0 {
            let start = ctx.tid * self.regions.inputs;
            start..start + self.m * layer.ld()
        } else {
            self.hidden_block(ctx.tid, l - 1)
        };
        if l >= 1 && (self.narrow || self.task.backward()) {
            let input = unsafe { self.outputs.get(self.block(0, l - 1, 0..layer.inputs)) };
            let src = Mat::new(input, layer.inputs, self.m, ldm);
            let dst = unsafe { self.hidden_rows.get_mut(below.clone()) };
            let ld = layer.ld();
            self.kernels
                .transpose(src, MatMut::new(dst, self.m, ld, ld));
        }
        let weights = unsafe { self.weights.get(layer.weight_rows(rows.clone())) };
        let out = unsafe { self.outputs.get_mut(self.block(0, l, rows.clone())) };
        let out = MatMut::new(out, rows.len(), self.cols, ldm);
        let epilogue = Epilogue::Bias {
            bias: unsafe { self.biases.get(layer.bias_rows(rows.clone())) },
            activation: (l + 1 < self.layers.len()).then_some(self.activation),
        };
        if self.narrow {
            let input = match l {
                0 => unsafe { self.inputs.get(below) },
                _ => unsafe { self.hidden_rows.get(below) },
            };
            let input = Mat::new(input, self.m, layer.inputs, layer.ld());
            let weights = Mat::new(weights, rows.len(), layer.inputs, layer.ld());
            self.kernels.dot_product(weights, input, out, epilogue);
        } else {
            let input = if l == 0 {
                let start = ctx.tid * self.regions.inputs_t;
                unsafe { self.inputs_t.get(start..start + INPUT_SIZE * ldm) }
            } else {
                unsafe { self.outputs.get(self.block(0, l - 1, 0..layer.inputs)) }
            };
            let input = Mat::new(input, layer.inputs, self.cols, ldm);
            let lhs = Lhs::new(weights, rows.len(), layer.inputs, layer.ld(), 1);
            self.kernels.product(lhs, input, out, epilogue);
        }
    }

    /// The loss, and `ΔZᵀ = (softmax − onehot)/m` of the logits into this thread's `deltas`.
    /// Every thread works out all of it (it is tiny) rather than wait at one more barrier;
    /// the loss is counted from thread 0. Without a backward part only thread 0 works.
    fn loss(&self, ctx: &Ctx<'_>) {
        if !self.task.backward() && ctx.tid > 0 {
            unsafe { self.sums.get_mut(ctx.tid..ctx.tid + 1)[0] = [0.0; 2] };
            return;
        }
        let last = self.layers.len() - 1;
        let logits: [&[f32]; CLASSES] =
            std::array::from_fn(|k| unsafe { self.outputs.get(self.block(0, last, k..k + 1)) });
        let delta: [&mut [f32]; CLASSES] = std::array::from_fn(|k| unsafe {
            self.deltas.get_mut(self.block(ctx.tid, last, k..k + 1))
        });
        let scale = 1.0 / self.m as f32;
        let loss = softmax_cross_entropy(logits, self.labels, scale, delta);
        let counted = if ctx.tid == 0 { loss } else { 0.0 };
        unsafe { self.sums.get_mut(ctx.tid..ctx.tid + 1)[0] = [counted, 0.0] };
    }

    /// `ΔZᵀ` of this thread's rows of layer `l`: the sum of every thread's part of
    /// `W_{l+1}ᵀ·ΔZᵀ_{l+1}`, times `f′(Z_l)`.
    fn gather(&self, ctx: &Ctx<'_>, l: usize) {
        let rows = ctx.share(self.layers[l].outputs, TILE_ROWS);
        let (n, ldm, cols) = (rows.len(), self.ldm, self.cols);
        let output = unsafe { self.outputs.get(self.block(0, l, rows.clone())) };
        let output = Mat::new(output, n, cols, ldm);
        for t in 0..ctx.threads {
            let dst = unsafe { self.deltas.get_mut(self.block(ctx.tid, l, rows.clone())) };
            let src = unsafe { self.parts.get(self.block(t, l, rows.clone())) };
            let derivative = (t + 1 == ctx.threads).then_some((self.activation, output));
            self.kernels.accumulate(
                MatMut::new(dst, n, cols, ldm),
                Mat::new(src, n, cols, ldm),
                t == 0,
                derivative,
            );
        }
    }

    /// This thread's part of `W_lᵀ·ΔZᵀ_l`, the sum over its own rows of layer `l`, into its
    /// region of `parts`; with one thread that is all of it, and it goes straight on to
    /// `ΔZᵀ_{l−1} = (W_lᵀ·ΔZᵀ_l) ⊙ f′(Z_{l−1})`.
    fn backward(&self, ctx: &Ctx<'_>, l: usize) {
        let layer = &self.layers[l];
        let rows = ctx.share(layer.outputs, TILE_ROWS);
        let ldm = self.ldm;
        let weights = unsafe { self.weights.get(layer.weight_rows(rows.clone())) };
        // Wᵀ without a copy: element (r, p) of Wᵀ is W[p, r].
        let lhs = Lhs::new(weights, layer.inputs, rows.len(), 1, layer.ld());
        let delta = unsafe { self.deltas.get(self.block(ctx.tid, l, rows.clone())) };
        let delta = Mat::new(delta, rows.len(), self.cols, ldm);
        let below = self.block(ctx.tid, l - 1, 0..layer.inputs);
        let (out, epilogue) = if ctx.threads == 1 {
            let output = unsafe { self.outputs.get(self.block(0, l - 1, 0..layer.inputs)) };
            let epilogue = Epilogue::Derivative {
                activation: self.activation,
                output: Mat::new(output, layer.inputs, self.cols, ldm),
            };
            (unsafe { self.deltas.get_mut(below) }, epilogue)
        } else {
            (unsafe { self.parts.get_mut(below) }, Epilogue::Store)
        };
        let out = MatMut::new(out, layer.inputs, self.cols, ldm);
        self.kernels.product(lhs, delta, out, epilogue);
    }

    /// The update (or the stored gradient) of this thread's rows of layer `l`.
    fn update_layer(&self, ctx: &Ctx<'_>, l: usize) {
        if !self.task.backward() {
            return;
        }
        let layer = &self.layers[l];
        let rows = ctx.share(layer.outputs, TILE_ROWS);
        if rows.is_empty() {
            return;
        }
        let (n, ld) = (rows.len(), layer.ld());
        let shaped = |data| MatMut::new(data, n, layer.inputs, ld);
        let weight_rows = layer.weight_rows(rows.clone());
        let weights = shaped(unsafe { self.weights.get_mut(weight_rows.clone()) });
        let deltas = unsafe { self.deltas.get(self.block(ctx.tid, l, rows.clone())) };
        let input = if l == 0 {
            let start = ctx.tid * self.regions.inputs;
            unsafe { self.inputs.get(start..start + self.m * ld) }
        } else {
            unsafe { self.hidden_rows.get(self.hidden_block(ctx.tid, l - 1)) }
        };
        let weight_update = match self.task {
            Task::Logits | Task::Loss => unreachable!("a pass without a backward part"),
            Task::Gradient => Update::Store {
                out: shaped(unsafe { self.weight_gradient.get_mut(weight_rows) }),
            },
            Task::Sgd { lr } => Update::Sgd { lr },
            Task::Adam(step) => Update::Adam {
                step,
                m: shaped(unsafe { moment(&self.weight_m, weight_rows.clone()) }),
                v: shaped(unsafe { moment(&self.weight_v, weight_rows) }),
            },
        };
        let squares = self.kernels.weight_step(
            weights,
            Mat::new(deltas, n, self.m, self.ldm),
            Mat::new(input, self.m, layer.inputs, ld),
            self.decay,
            weight_update,
            self.sum_squares,
        );
        unsafe { self.sums.get_mut(ctx.tid..ctx.tid + 1)[0][1] += squares };

        let biases = unsafe { self.biases.get_mut(layer.bias_rows(rows.clone())) };
        for (r, (b, delta)) in biases.iter_mut().zip(deltas.chunks(self.ldm)).enumerate() {
            let g = lane_sum(&delta[..self.m]);
            let j = layer.bias_offset + rows.start + r;
            match self.task {
                Task::Logits | Task::Loss => unreachable!("a pass without a backward part"),
                Task::Gradient => unsafe { self.bias_gradient.get_mut(j..j + 1)[0] = g },
                Task::Sgd { lr } => *b -= lr * g,
                Task::Adam(step) => {
                    let m = unsafe { &mut moment(&self.bias_m, j..j + 1)[0] };
                    let v = unsafe { &mut moment(&self.bias_v, j..j + 1)[0] };
                    step.apply(b, g, m, v);
                }
            }
        }
    }
}

/// Elements `range` of one of Adam's moment buffers, to write.
///
/// # Safety
/// As [`Disjoint::get_mut`].
#[allow(clippy::mut_from_ref)]
unsafe fn moment<'b>(
    buffer: &'b Option<Disjoint<'_, f32>>,
    range: std::ops::Range<usize>,
) -> &'b mut [f32] {
    buffer
        .as_ref()
        .expect("Adam's moments exist when training with Adam")
        .get_mut(range)
}

/// `Σ x` in 16 independent lanes, which the compiler vectorises.
fn lane_sum(x: &[f32]) -> f32 {
    let mut lanes = [0.0; 16];
    let mut chunks = x.chunks_exact(16);
    for chunk in &mut chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += v;
        }
    }
    for (lane, &v) in lanes.iter_mut().zip(chunks.remainder()) {
        *lane += v;
    }
    lanes.iter().copied().sum()
}
