//! The fused engine: the network's state (weights, biases, Adam's moments, in 64-byte-aligned
//! padded buffers) and what it offers [`crate::Mlp`]; each call runs one pass (`pass.rs`) on
//! all threads, whose arithmetic is the hand-vectorised kernels of `kernels/` for AVX-512 or
//! AVX2. It computes what `crate::textbook` computes, and `tests/oracle.rs` checks that it
//! does, step by step.

pub(crate) mod adam;
mod buffer;
pub(crate) mod kernels;
mod layout;
mod pass;
mod softmax;
pub(crate) mod update;

use contract::{ModelConfig, Parameters, CLASSES};
use ndarray::{Array2, ArrayView1, ArrayView2, Axis};

use adam::AdamState;
use buffer::{batch_stride, Buffer};
use kernels::Kernels;
use layout::{bias_len, first_row, weight_len, Dense};
use pass::{Model, Task, Workspace};

/// Images per pass when computing logits for many images.
const EVAL_BLOCK: usize = 256;

/// The multilayer perceptron in `f32`.
#[derive(Debug, Clone)]
pub(crate) struct Network {
    config: ModelConfig,
    layers: Vec<Dense>,
    weights: Buffer<f32>,
    biases: Vec<f32>,
    adam: Option<AdamState>,
    /// Optimiser steps taken (Adam's t).
    steps: u64,
    /// `Σ‖W‖²` over all layers at the current weights, for the L2 term of the loss.
    sum_squares: f64,
    work: Workspace,
    kernels: &'static dyn Kernels<f32>,
}

/// The gradient of the cost at one batch, unpadded, `(out, in)` row-major per layer.
#[derive(Debug, Clone)]
pub(crate) struct Gradient {
    pub weights: Vec<Vec<f32>>,
    pub biases: Vec<Vec<f32>>,
}

impl Network {
    /// Threads a pass over `m` images runs on (see [`pass::threads_for_batch`]).
    pub(crate) fn threads_for_batch(&self, m: usize) -> usize {
        pass::threads_for_batch(&self.layers, m)
    }

    /// The network of `config` holding `params`.
    ///
    /// # Panics
    /// If `params` does not have the shapes of `config`'s layers.
    pub(crate) fn new(
        config: &ModelConfig,
        params: &Parameters,
        kernels: &'static dyn Kernels<f32>,
    ) -> Self {
        let sizes = config.layer_sizes();
        let layers = Dense::stack(&sizes);
        assert_eq!(
            params.len(),
            layers.len(),
            "{} layers of parameters for {} layers",
            params.len(),
            layers.len()
        );
        let mut weights = Buffer::zeros(weight_len(&layers));
        let mut biases = vec![0.0; bias_len(&layers)];
        for (l, (layer, p)) in layers.iter().zip(params).enumerate() {
            assert_eq!(
                (p.out_features, p.in_features, p.weight.len(), p.bias.len()),
                (
                    layer.outputs,
                    layer.inputs,
                    layer.outputs * layer.inputs,
                    layer.outputs
                ),
                "layer {l}: (out, in, weights, biases) of the parameters against the config"
            );
            let dst = &mut weights.as_mut_slice()[layer.weight_rows(0..layer.outputs)];
            for (row, src) in dst
                .chunks_mut(layer.ld())
                .zip(p.weight.chunks(layer.inputs))
            {
                for (w, &x) in row.iter_mut().zip(src) {
                    *w = x;
                }
            }
            for (b, &x) in biases[layer.bias_rows(0..layer.outputs)]
                .iter_mut()
                .zip(&p.bias)
            {
                *b = x;
            }
        }
        let adam =
            matches!(config.optimizer, contract::Optimizer::Adam { .. }).then(|| AdamState {
                weight_m: Buffer::zeros(weights.len()),
                weight_v: Buffer::zeros(weights.len()),
                bias_m: vec![0.0; biases.len()],
                bias_v: vec![0.0; biases.len()],
            });
        let sum_squares = sum_squares(&weights);
        Network {
            config: config.clone(),
            work: Workspace::new(),
            layers,
            weights,
            biases,
            adam,
            steps: 0,
            sum_squares,
            kernels,
        }
    }

    pub(crate) fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// All parameters as plain `f32` buffers, torch `Linear` layout.
    /// Adam's `m` and `v`, every element (the zero padding of the weight rows too); nothing
    /// for SGD.
    pub(crate) fn optimizer_state(&self) -> Vec<f32> {
        self.adam.iter().fold(Vec::new(), |mut all, adam| {
            all.extend_from_slice(adam.weight_m.as_slice());
            all.extend_from_slice(adam.weight_v.as_slice());
            all.extend_from_slice(&adam.bias_m);
            all.extend_from_slice(&adam.bias_v);
            all
        })
    }

    pub(crate) fn parameters(&self) -> Parameters {
        self.layers
            .iter()
            .map(|layer| contract::LayerParameters {
                weight: self.layer_weights(layer, &self.weights),
                out_features: layer.outputs,
                in_features: layer.inputs,
                bias: self.biases[layer.bias_rows(0..layer.outputs)].to_vec(),
            })
            .collect()
    }

    /// One optimiser step on the batch; returns the batch's loss before the step.
    pub(crate) fn train_step(
        &mut self,
        images: ArrayView2<'_, f32>,
        labels: ArrayView1<'_, u8>,
    ) -> f32 {
        self.steps += 1;
        let task = Task::train(&self.config.optimizer, self.steps);
        let l2_term = self.l2_term(images.nrows());
        let sum = self.pass(images, Some(labels), task);
        (sum / images.nrows() as f64 + l2_term) as f32
    }

    /// The loss on the batch at the current parameters (mean cross-entropy plus the L2 term
    /// with `m` the number of images), computed [`EVAL_BLOCK`] images at a time.
    pub(crate) fn loss(&mut self, images: ArrayView2<'_, f32>, labels: ArrayView1<'_, u8>) -> f32 {
        assert_eq!(labels.len(), images.nrows(), "one label per image");
        let blocks = images
            .axis_chunks_iter(Axis(0), EVAL_BLOCK)
            .zip(labels.axis_chunks_iter(Axis(0), EVAL_BLOCK));
        let sum: f64 = blocks.map(|(x, y)| self.pass(x, Some(y), Task::Loss)).sum();
        (sum / images.nrows() as f64 + self.l2_term(images.nrows())) as f32
    }

    /// The loss on the batch and the gradient of it, at the current parameters.
    pub(crate) fn gradient(
        &mut self,
        images: ArrayView2<'_, f32>,
        labels: ArrayView1<'_, u8>,
    ) -> (f32, Gradient) {
        let sum = self.pass(images, Some(labels), Task::Gradient);
        let loss = (sum / images.nrows() as f64 + self.l2_term(images.nrows())) as f32;
        let gradient = Gradient {
            weights: self
                .layers
                .iter()
                .map(|layer| self.layer_weights(layer, &self.work.weight_gradient))
                .collect(),
            biases: self
                .layers
                .iter()
                .map(|layer| self.work.bias_gradient[layer.bias_rows(0..layer.outputs)].to_vec())
                .collect(),
        };
        (loss, gradient)
    }

    /// `λ/(2m)·Σ‖W‖²` at the current weights.
    /// One pass over a batch (see [`Workspace::pass`]); returns the sum of the images'
    /// cross-entropies (zero for [`Task::Logits`]).
    fn pass(
        &mut self,
        images: ArrayView2<'_, f32>,
        labels: Option<ArrayView1<'_, u8>>,
        task: Task,
    ) -> f64 {
        let model = Model {
            config: &self.config,
            layers: &self.layers,
            weights: &mut self.weights,
            biases: &mut self.biases,
            adam: self.adam.as_mut(),
            kernels: self.kernels,
        };
        let sums = self.work.pass(model, images, labels, task);
        if let Some(sum_squares) = sums.sum_squares {
            self.sum_squares = sum_squares;
        }
        sums.loss
    }

    fn l2_term(&self, m: usize) -> f64 {
        f64::from(self.config.l2) / (2.0 * m as f64) * self.sum_squares
    }

    /// Logits `(n, 10)` of `images` `(n, 784)`, computed [`EVAL_BLOCK`] images at a time.
    pub(crate) fn logits(&mut self, images: ArrayView2<'_, f32>) -> Array2<f32> {
        let mut logits = Array2::from_elem((images.nrows(), CLASSES), 0.0);
        for (block, mut out) in images
            .axis_chunks_iter(Axis(0), EVAL_BLOCK)
            .zip(logits.axis_chunks_iter_mut(Axis(0), EVAL_BLOCK))
        {
            self.pass(block, None, Task::Logits);
            out.assign(&self.output(self.layers.len() - 1, block.nrows()));
        }
        logits
    }

    /// Layer `l`'s output `(m, outputs)` as the last pass, over `m` images, left it: `A_l`
    /// for a hidden layer, the logits for the last.
    pub(crate) fn output(&self, l: usize, m: usize) -> Array2<f32> {
        let ld = batch_stride(m);
        let first = first_row(&self.layers, l);
        let rows = &self.work.outputs.as_slice()[first * ld..(first + self.layers[l].outputs) * ld];
        Array2::from_shape_fn((m, self.layers[l].outputs), |(i, k)| rows[k * ld + i])
    }

    /// A layer's rows of `buffer` (weights or anything shaped like them), unpadded.
    fn layer_weights(&self, layer: &Dense, buffer: &Buffer<f32>) -> Vec<f32> {
        let rows = &buffer.as_slice()[layer.weight_rows(0..layer.outputs)];
        rows.chunks(layer.ld())
            .flat_map(|row| row[..layer.inputs].iter().copied())
            .collect()
    }
}

/// `Σ w²` over a weight buffer (its padding is zero).
fn sum_squares(weights: &Buffer<f32>) -> f64 {
    weights
        .as_slice()
        .iter()
        .map(|w| f64::from(*w).powi(2))
        .sum()
}
