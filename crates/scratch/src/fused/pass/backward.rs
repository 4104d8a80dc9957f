//! The backward phases of a pass: each thread's deltas of its rows of a layer, its part of the
//! product to the layer below, and the update (or the stored gradient) of its rows, the last
//! two in one call of the weight step.

use super::{Pass, Task, TILE_ROWS};
use crate::fused::kernels::{Backward, Epilogue, Mat, MatMut, Update};
use crate::pool::{Ctx, Disjoint};

// SAFETY: see the note on `impl Pass` in `mod.rs`, which every `Disjoint::get`/`get_mut` here
// follows.
impl Pass<'_> {
    /// `ΔZᵀ` of this thread's rows of layer `l`: the sum of every thread's part of
    /// `W_{l+1}ᵀ·ΔZᵀ_{l+1}`, times `f′(Z_l)`.
    pub(super) fn gather(&self, ctx: &Ctx<'_>, l: usize) {
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

    /// Where this thread's part of `W_lᵀ·ΔZᵀ_l` goes, the sum over its own rows of layer
    /// `l`: its region of `parts`; with one thread that is all of it, and it goes straight on
    /// to `ΔZᵀ_{l−1} = (W_lᵀ·ΔZᵀ_l) ⊙ f′(Z_{l−1})`.
    fn backward(&self, ctx: &Ctx<'_>, l: usize) -> Backward<'_, f32> {
        let layer = &self.layers[l];
        let below = self.block(ctx.tid, l - 1, 0..layer.inputs);
        let (out, epilogue) = if ctx.threads == 1 {
            let output = unsafe { self.outputs.get(self.block(0, l - 1, 0..layer.inputs)) };
            let epilogue = Epilogue::Derivative {
                activation: self.activation,
                output: Mat::new(output, layer.inputs, self.cols, self.ldm),
            };
            (unsafe { self.deltas.get_mut(below) }, epilogue)
        } else {
            (unsafe { self.parts.get_mut(below) }, Epilogue::Store)
        };
        Backward {
            out: MatMut::new(out, layer.inputs, self.cols, self.ldm),
            epilogue,
        }
    }

    /// The update (or the stored gradient) of this thread's rows of layer `l`, and, above the
    /// first layer, their part of the backward product to the layer below (see
    /// [`Pass::backward`]), made from the weights before the update.
    pub(super) fn update_layer(&self, ctx: &Ctx<'_>, l: usize) {
        if !self.task.backward() {
            return;
        }
        let layer = &self.layers[l];
        let rows = ctx.share(layer.outputs, TILE_ROWS);
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
            (l >= 1).then(|| self.backward(ctx, l)),
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
    if x.len() <= 16 {
        // One element a lane: the same sum without adding up 16 lanes one after another,
        // which took 13% of a step at batch 1.
        return x.iter().sum();
    }
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
