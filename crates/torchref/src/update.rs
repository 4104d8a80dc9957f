//! libtorch's update rules on their own, for the parity check of an optimiser: SGD and Adam
//! from parameters, gradient and state handed in, in libtorch's tensor operations in the
//! order of libtorch's C++ `torch::optim::Adam::step` (the optimiser `nn::Adam` runs):
//! `m.mul_(β1).add_(g, 1−β1)`, `v.mul_(β2).addcmul_(g, g, 1−β2)`,
//! `denom = (√v / √(1−β2ᵗ)).add_(ε)`, `p.addcdiv_(m, denom, −lr/(1−β1ᵗ))`, the step's
//! constants in `f64`. tch cannot hand `nn::Optimizer` a state, so the step is written out;
//! `tests/update_rule.rs` checks it against `nn::Adam` and `nn::Sgd` step by step. The same
//! operations in `f64` are the exact step the parity verdict measures rounding against.

use contract::{AdamState, Parameters, UpdateRequest, UpdateRule, Updated};
use tch::{Device, Kind, TchError, Tensor};

use crate::mlp::{layer_parameters, tensors, to_vec};
use crate::TorchMlp;

impl UpdateRule for TorchMlp {
    fn name(&self) -> &str {
        "torchref"
    }

    /// On the model's device; the model itself is left as it was.
    fn update(&mut self, request: &UpdateRequest<'_>) -> Updated {
        let stepped =
            step(request, self.device(), Kind::Float).expect("libtorch takes the optimiser step");
        let adam = stepped.adam.map(|(m, v, steps)| AdamState {
            m: layer_parameters(&m, to_vec),
            v: layer_parameters(&v, to_vec),
            steps,
        });
        Updated {
            parameters: layer_parameters(&stepped.parameters, to_vec),
            adam,
        }
    }
}

/// One step's tensors `[w0, b0, ..]`: the parameters, and Adam's moments and step count.
pub(crate) struct Stepped {
    pub(crate) parameters: Vec<Tensor>,
    pub(crate) adam: Option<(Vec<Tensor>, Vec<Tensor>, u64)>,
}

/// One step of `request.optimizer` on `device`, computed in `kind` (the `f32` inputs widened
/// to it first).
pub(crate) fn step(
    request: &UpdateRequest<'_>,
    device: Device,
    kind: Kind,
) -> Result<Stepped, TchError> {
    let on_device = |p: &Parameters| -> Result<Vec<Tensor>, TchError> {
        (tensors(p)?.iter())
            .map(|t| t.f_to_device(device)?.f_to_kind(kind))
            .collect()
    };
    let mut params = on_device(request.parameters)?;
    let gradient = on_device(request.gradient)?;
    let Some([lr, beta1, beta2, eps]) = request.optimizer.adam_f64() else {
        let lr = f64::from(request.optimizer.lr());
        for (p, g) in params.iter_mut().zip(&gradient) {
            let _ = p.f_sub_(&g.f_mul_scalar(lr)?)?;
        }
        return Ok(Stepped {
            parameters: params,
            adam: None,
        });
    };
    let before = request.adam_before();
    let steps = before.steps + 1;
    let t = i32::try_from(steps).unwrap_or(i32::MAX);
    let step_size = lr / (1.0 - beta1.powi(t));
    let correction2_sqrt = (1.0 - beta2.powi(t)).sqrt();
    let (mut m, mut v) = (on_device(&before.m)?, on_device(&before.v)?);
    // The in-place operations return another handle on the tensor they change.
    for (((p, g), m), v) in params.iter_mut().zip(&gradient).zip(&mut m).zip(&mut v) {
        let _ = m
            .f_mul_scalar_(beta1)?
            .f_add_(&g.f_mul_scalar(1.0 - beta1)?)?;
        let _ = v
            .f_mul_scalar_(beta2)?
            .f_addcmul_(g, &g.f_mul_scalar(1.0 - beta2)?)?;
        let mut denom = v.f_sqrt()?.f_div_scalar(correction2_sqrt)?;
        let _ = denom.f_add_scalar_(eps)?;
        let _ = p.f_addcdiv_(&m.f_mul_scalar(-step_size)?, &denom)?;
    }
    Ok(Stepped {
        parameters: params,
        adam: Some((m, v, steps)),
    })
}
