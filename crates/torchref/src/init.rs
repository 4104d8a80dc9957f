//! Xavier/Glorot-uniform weights and zero biases as a `nn::LinearConfig`: tch's default
//! `Linear` init is Kaiming-uniform with nonzero biases, which would start the two models from
//! different distributions.

use std::sync::{Mutex, MutexGuard, PoisonError};

use tch::nn::{Init, LinearConfig};

/// libtorch's default generator is process-wide: hold this while seeding and drawing, so two
/// models built at once (parallel tests) cannot interleave their draws.
static TORCH_RNG: Mutex<()> = Mutex::new(());

/// Exclusive use of libtorch's generator until the guard drops.
pub(crate) fn lock_rng() -> MutexGuard<'static, ()> {
    TORCH_RNG.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A layer `fan_in → fan_out` with weights uniform on `[−a, a)`, `a = √(6/(fan_in + fan_out))`,
/// and zero biases.
pub(crate) fn xavier_uniform(fan_in: usize, fan_out: usize) -> LinearConfig {
    let a = (6.0 / (fan_in + fan_out) as f64).sqrt();
    LinearConfig {
        ws_init: Init::Uniform { lo: -a, up: a },
        bs_init: Some(Init::Const(0.0)),
        bias: true,
    }
}
