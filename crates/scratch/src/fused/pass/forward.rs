//! The forward phases of a pass: `Aᵀ_l = f(W_l·Aᵀ_{l−1} + b_l)` for a chunk's rows of each
//! layer, the loss with the deltas of the logits, and the copies each thread makes for itself
//! (the images, the batch-major activations, the softmax).

use contract::{CLASSES, INPUT_SIZE};

use super::{Made, Pass};
use crate::fused::buffer::padded;
use crate::fused::kernels::{Epilogue, Lhs, Mat, MatMut};
use crate::fused::softmax::softmax_cross_entropy;
use crate::pool::Chunk;

// SAFETY: see the note on `impl Pass` in `mod.rs`, which every `Disjoint::get`/`get_mut` here
// follows.
impl Pass<'_> {
    /// Thread `worker`'s copy of the images, batch-major (`(m, 784)` padded), made if it is
    /// not yet, and with it, for a wide batch, the images transposed.
    pub(super) fn images(&self, worker: usize) -> &[f32] {
        let ld = padded(INPUT_SIZE);
        let start = worker * self.regions.inputs;
        let block = start..start + self.m * ld;
        if self.first_time(worker, Made::Images) {
            let rows = unsafe { self.inputs.get_mut(block.clone()) };
            for (row, src) in rows.chunks_mut(ld).zip(self.images.chunks(INPUT_SIZE)) {
                row[..INPUT_SIZE].copy_from_slice(src);
            }
            if !self.narrow {
                let dst = unsafe { self.inputs_t.get_mut(self.images_t_block(worker)) };
                self.kernels.transpose(
                    Mat::new(rows, self.m, INPUT_SIZE, ld),
                    MatMut::new(dst, INPUT_SIZE, self.ldm, self.ldm),
                );
            }
        }
        unsafe { self.inputs.get(block) }
    }

    fn images_t_block(&self, worker: usize) -> std::ops::Range<usize> {
        let start = worker * self.regions.inputs_t;
        start..start + INPUT_SIZE * self.ldm
    }

    /// Thread `worker`'s batch-major copy of hidden layer `l`'s output, made if it is not yet:
    /// the weight gradient reads it, and so does the forward product when the batch is narrow.
    pub(super) fn hidden(&self, worker: usize, l: usize) -> &[f32] {
        let block = self.hidden_block(worker, l);
        if self.first_time(worker, Made::Hidden(l)) {
            let layer = &self.layers[l];
            let output = unsafe { self.outputs.get(self.block(0, l, 0..layer.outputs)) };
            let src = Mat::new(output, layer.outputs, self.m, self.ldm);
            let ld = padded(layer.outputs);
            let dst = unsafe { self.hidden_rows.get_mut(block.clone()) };
            self.kernels
                .transpose(src, MatMut::new(dst, self.m, ld, ld));
        }
        unsafe { self.hidden_rows.get(block) }
    }

    /// `Aᵀ_l = f(W_l·Aᵀ_{l−1} + b_l)` for the chunk's rows.
    pub(super) fn forward(&self, chunk: Chunk, l: usize) {
        let layer = &self.layers[l];
        let rows = self.rows(l, chunk.index);
        let ldm = self.ldm;
        let weights = unsafe { self.weights.get(layer.weight_rows(rows.clone())) };
        let out = unsafe { self.outputs.get_mut(self.block(0, l, rows.clone())) };
        let out = MatMut::new(out, rows.len(), self.cols, ldm);
        let epilogue = Epilogue::Bias {
            bias: unsafe { self.biases.get(layer.bias_rows(rows.clone())) },
            activation: (l + 1 < self.layers.len()).then_some(self.activation),
        };
        if self.narrow {
            let input = match l {
                0 => self.images(chunk.worker),
                _ => self.hidden(chunk.worker, l - 1),
            };
            let input = Mat::new(input, self.m, layer.inputs, layer.ld());
            let weights = Mat::new(weights, rows.len(), layer.inputs, layer.ld());
            self.kernels.dot_product(weights, input, out, epilogue);
        } else {
            let input = if l == 0 {
                self.images(chunk.worker);
                unsafe { self.inputs_t.get(self.images_t_block(chunk.worker)) }
            } else {
                unsafe { self.outputs.get(self.block(0, l - 1, 0..layer.inputs)) }
            };
            let input = Mat::new(input, layer.inputs, self.cols, ldm);
            let lhs = Lhs::new(weights, rows.len(), layer.inputs, layer.ld(), 1);
            self.kernels.product(lhs, input, out, epilogue);
        }
    }

    /// The chunk's part of the loss sum, in its `sums` entry (the loss goes to chunk 0's, the
    /// others start at zero); a pass that goes backward needs the thread's softmax too.
    pub(super) fn loss(&self, chunk: Chunk) {
        let loss = if chunk.index == 0 || self.task.backward() {
            self.softmax(chunk.worker)
        } else {
            0.0
        };
        let counted = if chunk.index == 0 { loss } else { 0.0 };
        unsafe { self.sums.get_mut(chunk.index..chunk.index + 1)[0] = [counted, 0.0] };
    }

    /// The loss, and `ΔZᵀ = (softmax − onehot)/m` of the logits into thread `worker`'s
    /// `deltas`, worked out once per thread (it is tiny) rather than shared at the cost of
    /// one more phase.
    fn softmax(&self, worker: usize) -> f64 {
        let loss = unsafe { &mut self.softmax_loss.get_mut(worker..worker + 1)[0] };
        if self.first_time(worker, Made::Softmax) {
            let last = self.layers.len() - 1;
            let logits: [&[f32]; CLASSES] =
                std::array::from_fn(|k| unsafe { self.outputs.get(self.block(0, last, k..k + 1)) });
            let delta: [&mut [f32]; CLASSES] = std::array::from_fn(|k| unsafe {
                self.deltas.get_mut(self.block(worker, last, k..k + 1))
            });
            let scale = 1.0 / self.m as f32;
            *loss = softmax_cross_entropy(logits, self.labels, scale, delta);
        }
        *loss
    }
}
