//! The forward phases of a pass: each thread's copy of the images, `Aᵀ_l = f(W_l·Aᵀ_{l−1} + b_l)`
//! for its rows of each layer, and the loss with the deltas of the logits.

use contract::{CLASSES, INPUT_SIZE};

use super::{Pass, TILE_ROWS};
use crate::fused::buffer::padded;
use crate::fused::kernels::{Epilogue, Lhs, Mat, MatMut};
use crate::fused::softmax::softmax_cross_entropy;
use crate::pool::Ctx;

// SAFETY: see the note on `impl Pass` in `mod.rs`, which every `Disjoint::get`/`get_mut` here
// follows.
impl Pass<'_> {
    /// This thread's copy of the images in `f32`, batch-major and transposed.
    pub(super) fn input(&self, ctx: &Ctx<'_>) {
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
    pub(super) fn forward(&self, ctx: &Ctx<'_>, l: usize) {
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
    pub(super) fn loss(&self, ctx: &Ctx<'_>) {
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
}
