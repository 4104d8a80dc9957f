//! Where each dense layer's parameters sit in the network's flat, padded buffers.

use std::ops::Range;

use super::buffer::padded;

/// A dense layer `z = W·a + b`, `W` `(outputs, inputs)` as in torch `Linear`. Its weights
/// are rows of [`Dense::ld`] elements (the inputs, then zeros that no update touches) from
/// `weight_offset` in the network's weight buffer; its biases start at `bias_offset`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dense {
    pub inputs: usize,
    pub outputs: usize,
    pub weight_offset: usize,
    pub bias_offset: usize,
}

impl Dense {
    /// The layers for widths `sizes` (input first), packed one after another.
    pub(crate) fn stack(sizes: &[usize]) -> Vec<Dense> {
        let (mut weight_offset, mut bias_offset) = (0, 0);
        sizes
            .windows(2)
            .map(|pair| {
                let layer = Dense {
                    inputs: pair[0],
                    outputs: pair[1],
                    weight_offset,
                    bias_offset,
                };
                weight_offset += layer.outputs * layer.ld();
                bias_offset += layer.outputs;
                layer
            })
            .collect()
    }

    /// Row stride of the weights and of everything shaped like them.
    pub(crate) fn ld(&self) -> usize {
        padded(self.inputs)
    }

    /// The weights of rows `rows` (all of them: `0..outputs`).
    pub(crate) fn weight_rows(&self, rows: Range<usize>) -> Range<usize> {
        self.weight_offset + rows.start * self.ld()..self.weight_offset + rows.end * self.ld()
    }

    /// The biases of rows `rows`.
    pub(crate) fn bias_rows(&self, rows: Range<usize>) -> Range<usize> {
        self.bias_offset + rows.start..self.bias_offset + rows.end
    }
}

/// Elements of all the layers' weights, padding included.
pub(crate) fn weight_len(layers: &[Dense]) -> usize {
    layers
        .last()
        .map_or(0, |l| l.weight_offset + l.outputs * l.ld())
}

/// Elements of all the layers' biases.
pub(crate) fn bias_len(layers: &[Dense]) -> usize {
    layers.last().map_or(0, |l| l.bias_offset + l.outputs)
}

/// Layer `l`'s first row in `outputs` of a pass (and everything shaped like it: one row per output of each layer, layer after layer).
pub(super) fn first_row(layers: &[Dense], l: usize) -> usize {
    layers[..l].iter().map(|l| l.outputs).sum()
}
