//! The exact values the parity verdict measures rounding against: [`TorchMlp`]'s loss,
//! gradient and optimiser step in `f64`, through the same libtorch operations as its `f32`
//! ones (`linear`, the activation, `cross_entropy_for_logits`, the L2 term, autograd), from the
//! same `f32` parameters and images widened exactly.

use contract::{
    Batch, ExactDerivatives, ExactDifferentiable, ExactUpdateRule, Parameters, UpdateRequest,
};
use tch::{Kind, Tensor};

use crate::mlp::{activate, layer_parameters, loss, tensors, to_array2, values};
use crate::update::step;
use crate::TorchMlp;

impl ExactDifferentiable for TorchMlp {
    fn exact_derivatives(
        &mut self,
        parameters: &Parameters,
        batch: &Batch<'_>,
    ) -> ExactDerivatives {
        let device = self.device();
        let variables: Vec<Tensor> = tensors(parameters)
            .expect("libtorch builds the parameter tensors")
            .iter()
            .map(|t| {
                t.to_device(device)
                    .to_kind(Kind::Double)
                    .set_requires_grad(true)
            })
            .collect();
        let (images, labels) = self.batch_tensors(batch);
        let mut x = images.to_kind(Kind::Double);
        let layers = variables.len() / 2;
        let mut pre_activations = Vec::with_capacity(layers - 1);
        for (layer, pair) in variables.chunks(2).enumerate() {
            let z = x.linear(&pair[0], Some(&pair[1]));
            if layer + 1 == layers {
                x = z;
            } else {
                x = activate(self.activation, &z);
                pre_activations.push(to_array2(&z));
            }
        }
        let loss = loss(&x, &labels, variables.iter().step_by(2), self.l2);
        loss.backward();
        ExactDerivatives {
            loss: loss.double_value(&[]),
            gradient: layer_parameters(&variables, |v| values(&v.grad())),
            pre_activations,
        }
    }
}

impl ExactUpdateRule for TorchMlp {
    fn exact_update(&mut self, request: &UpdateRequest<'_>) -> Parameters<f64> {
        let stepped =
            step(request, self.device(), Kind::Double).expect("libtorch takes the optimiser step");
        layer_parameters(&stepped.parameters, values)
    }
}
