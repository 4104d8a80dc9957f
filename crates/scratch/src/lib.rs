//! A multilayer perceptron written by hand: forward pass, backpropagation, SGD and Adam, with
//! no autograd and no torch.
//!
//! Start with [`textbook`]: the whole network on ndarray, one function per formula
//! ([`textbook::forward`], [`textbook::loss`], [`textbook::output_delta`],
//! [`textbook::backward`], [`textbook::sgd`], [`textbook::adam`]), products by `.dot()`, in
//! `f32` or `f64`. [`Textbook`] trains with them (name `"scratch-textbook"`). It is what the
//! model computes, the oracle the fast engine is tested against, and the gradient checks'
//! `f64` network.
//!
//! [`Mlp`] (name `"scratch"`) is the model `compare` trains, on an [`Engine`]: by default
//! the fused engine (`fused/`: hand-vectorised kernels for AVX-512 or AVX2 that fold bias,
//! activation, derivative and optimiser update into the matrix products, on a pool of
//! spinning threads), or the textbook engine on a CPU with neither; [`Mlp::with_engine`]
//! forces one. Both [`Mlp`] and [`Textbook`] implement [`contract::Trainer`], so the `compare`
//! binary can train them beside the libtorch reference on identical batches, and
//! [`contract::Differentiable`], so tests can check their gradients at any parameters;
//! [`set_threads`] sets how many threads they use.
//!
//! The maths, for a batch of `m` images (shapes as torch `Linear`: `W` is `(out, in)`):
//! - forward: `Z_l = A_{l−1}·W_lᵀ + b_l`, `A_l = f(Z_l)` (sigmoid, tanh or ReLU) on hidden
//!   layers, logits `Z_L` on the last;
//! - loss: mean softmax cross-entropy, computed as `logsumexp(z) − z_y` with the max
//!   subtracted, plus the L2 term `λ/(2m)·Σ‖W‖²` (biases not regularised);
//! - backward: `ΔZ_L = (softmax(Z_L) − onehot(y))/m`, `ΔA_{l−1} = ΔZ_l·W_l`,
//!   `ΔZ_{l−1} = ΔA_{l−1} ⊙ f′(Z_{l−1})`, `∇W_l = ΔZ_lᵀ·A_{l−1} + (λ/m)·W_l`, `∇b_l = Σ_i ΔZ_l`;
//! - updates: SGD `w −= lr·∇w`; Adam exactly as `torch.optim.Adam` (bias-corrected, with the
//!   L2 term in the gradient, so it acts as weight decay λ/m on the weights).
//!
//! Where this departs from the assignment it reproduces (and agrees with PyTorch instead):
//! - The activation's derivative is taken at the pre-activation `Z` (evaluated from `A = f(Z)`
//!   in exact forms such as σ′(z) = a(1 − a)); the assignment applied it to `A` itself,
//!   which is wrong for sigmoid and tanh.
//! - The loss is categorical cross-entropy of a max-subtracted softmax; the assignment summed
//!   a binary cross-entropy over the outputs and its softmax overflowed for large logits.
//! - The L2 term is added to the reported loss; the assignment computed it and then returned
//!   the cost without it.
//!
//! Where it departs from PyTorch (torch's semantics are otherwise followed exactly, so that
//! the `torchref` crate can check parity step by step):
//! - L2 is the assignment's, `λ/(2m)·Σ‖W‖²` in the loss, i.e. weight decay `λ/m` added to
//!   the weights' gradient (for Adam too, as torch's coupled `weight_decay`), not torch's
//!   `weight_decay = λ`.
//! - Sums are taken in another order (ndarray's products in the textbook engine; the fused
//!   kernels, and with several threads each sums the backward product over its share of the
//!   rows), so results agree with libtorch to rounding, not bit for bit; the fused engine's
//!   vectorised exponential and tanh are polynomial approximations within 4e-7 relative.
//!
//! Training is in `f32`, as in libtorch; the textbook engine also runs in `f64`, for the
//! gradient checks. Inside the fused engine, activations are held transposed,
//! `(features, batch)`, in 64-byte-aligned padded buffers, and each step runs as one pass
//! across the threads; ndarray is its interface at the edges ([`contract::Batch`] in, `Array2`
//! logits out). The crate's README has the measurements behind these choices.

mod engine;
mod fused;
mod init;
mod mlp;
mod pool;
pub mod textbook;

#[cfg(test)]
mod tests;

pub use engine::{Engine, EngineError};
pub use mlp::Mlp;
pub use pool::{set_threads, MAX_THREADS};
pub use textbook::Textbook;
