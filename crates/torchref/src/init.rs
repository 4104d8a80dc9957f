//! Xavier/Glorot uniform weights and zero biases, written out: tch's default `Linear` init is
//! Kaiming-uniform with nonzero biases, which would start the two models from different
//! distributions.

use std::sync::{Mutex, PoisonError};

use tch::nn::{self, Init};
use tch::{Device, Kind, TchError, Tensor};

/// libtorch's default generator is process-wide: hold this while seeding and drawing, so two
/// models built at once (parallel tests) cannot interleave their draws.
static TORCH_RNG: Mutex<()> = Mutex::new(());

/// `[w0, b0, w1, b1, ..]` on the CPU for layer widths `sizes`: weights `(out, in)` uniform on
/// `[-a, a)`, `a = √(6 / (fan_in + fan_out))`, biases zero, drawn after
/// `tch::manual_seed(seed)`. Drawn on the CPU whatever the device, so a seed means the same
/// weights everywhere.
pub(crate) fn xavier_uniform(sizes: &[usize], seed: u64) -> Result<Vec<Tensor>, TchError> {
    let _rng = TORCH_RNG.lock().unwrap_or_else(PoisonError::into_inner);
    // The seed's bits pass through unchanged: libtorch reads them back as an unsigned integer.
    tch::manual_seed(seed as i64);
    let mut tensors = Vec::with_capacity(2 * sizes.len());
    for pair in sizes.windows(2) {
        let (fan_in, fan_out) = (pair[0], pair[1]);
        let a = (6.0 / (fan_in + fan_out) as f64).sqrt();
        let dims = [fan_out as i64, fan_in as i64];
        tensors.push(nn::f_init(
            Init::Uniform { lo: -a, up: a },
            &dims,
            Device::Cpu,
            Kind::Float,
        )?);
        tensors.push(nn::f_init(
            Init::Const(0.0),
            &dims[..1],
            Device::Cpu,
            Kind::Float,
        )?);
    }
    Ok(tensors)
}
