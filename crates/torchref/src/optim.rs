//! The update rules, applied under `no_grad` to the gradients autograd returns: SGD, and Adam
//! exactly as `torch.optim.Adam` (`_single_tensor_adam`, no weight decay, no amsgrad).
//!
//! Adam has two implementations of the same arithmetic. [`Adam::update_tensors`] is written with
//! libtorch operations, one per line of `torch.optim.Adam`, and runs on any device. On the CPU,
//! [`Adam::update_fused`] does the same per-element arithmetic in one pass over the buffers:
//! the operation-per-line form reads and writes each of the four 543 k-element buffers about
//! twenty times a step, which made an Adam epoch ~2.6× an SGD epoch here (`benches/epoch.rs`).
//! A test holds the two to each other and to libtorch's own Adam.

use tch::{Device, Kind, Tensor};

/// The optimiser state of one model.
#[derive(Debug)]
pub(crate) enum Update {
    Sgd { lr: f64 },
    Adam(Adam),
}

impl Update {
    /// Applies one step to `params` given their gradients `grads` (same order and shapes).
    pub(crate) fn apply(&mut self, params: &mut [Tensor], grads: &[Tensor]) {
        assert_eq!(params.len(), grads.len(), "one gradient per parameter");
        tch::no_grad(|| match self {
            Update::Sgd { lr } => {
                for (p, g) in params.iter_mut().zip(grads) {
                    // p − lr·g; `torch.optim.SGD` computes p + (−lr)·g, the same bits.
                    let _ = p.g_sub_(&(g * *lr));
                }
            }
            Update::Adam(adam) => {
                if params.iter().all(|p| p.device() == Device::Cpu) && std::env::var("XADAM_TENSORS").is_err() {
                    adam.update_fused(params, grads);
                } else {
                    adam.update_tensors(params, grads);
                }
            }
        });
    }
}

/// Adam's hyperparameters, step count and moment estimates (one pair per parameter).
#[derive(Debug)]
pub(crate) struct Adam {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    step: i32,
    exp_avg: Vec<Tensor>,
    exp_avg_sq: Vec<Tensor>,
}

/// The scalars of one Adam step, as `torch.optim.Adam` derives them in double precision.
struct StepScalars {
    one_minus_beta1: f64,
    one_minus_beta2: f64,
    bias_correction2_sqrt: f64,
    step_size: f64,
}

impl Adam {
    pub(crate) fn new(lr: f32, beta1: f32, beta2: f32, eps: f32, params: &[Tensor]) -> Self {
        let zeros = || params.iter().map(Tensor::zeros_like).collect();
        Adam {
            lr: lr.into(),
            beta1: beta1.into(),
            beta2: beta2.into(),
            eps: eps.into(),
            step: 0,
            exp_avg: zeros(),
            exp_avg_sq: zeros(),
        }
    }

    fn next_step(&mut self) -> StepScalars {
        self.step += 1;
        let bias_correction1 = 1.0 - self.beta1.powi(self.step);
        let bias_correction2 = 1.0 - self.beta2.powi(self.step);
        StepScalars {
            one_minus_beta1: 1.0 - self.beta1,
            one_minus_beta2: 1.0 - self.beta2,
            bias_correction2_sqrt: bias_correction2.sqrt(),
            step_size: self.lr / bias_correction1,
        }
    }

    /// `torch.optim.Adam`'s step, one libtorch operation per line of its source; any device.
    pub(crate) fn update_tensors(&mut self, params: &mut [Tensor], grads: &[Tensor]) {
        let s = self.next_step();
        let state = self.exp_avg.iter_mut().zip(&mut self.exp_avg_sq);
        for ((p, g), (m, v)) in params.iter_mut().zip(grads).zip(state) {
            // exp_avg.lerp_(grad, 1 − β1)
            let _ = m.lerp_(g, s.one_minus_beta1);
            // exp_avg_sq.mul_(β2).addcmul_(grad, grad, value = 1 − β2); the kernel computes
            // v + (value·t1)·t2, so pre-scaling t1 gives the same bits.
            let _ = v.g_mul_scalar_(self.beta2);
            let _ = v.addcmul_(&(g * s.one_minus_beta2), g);
            // denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
            let mut denom = v.sqrt();
            let _ = denom.g_div_scalar_(s.bias_correction2_sqrt);
            let _ = denom.g_add_scalar_(self.eps);
            // param.addcdiv_(exp_avg, denom, value = −step_size): p + (−s)·(m/d) == p − s·(m/d)
            let mut ratio = &*m / &denom;
            let _ = p.g_sub_(&ratio.g_mul_scalar_(s.step_size));
        }
    }

    /// The same arithmetic as [`Adam::update_tensors`], element by element in f32 (the type
    /// libtorch's CPU kernels compute `float` in), in one pass; CPU tensors only.
    pub(crate) fn update_fused(&mut self, params: &mut [Tensor], grads: &[Tensor]) {
        let s = self.next_step();
        let k = Coefficients {
            one_minus_beta1: s.one_minus_beta1 as f32,
            beta2: self.beta2 as f32,
            one_minus_beta2: s.one_minus_beta2 as f32,
            bias_correction2_sqrt: s.bias_correction2_sqrt as f32,
            eps: self.eps as f32,
            neg_step_size: -s.step_size as f32,
        };
        let grads: Vec<Tensor> = grads.iter().map(Tensor::contiguous).collect();
        let state = self.exp_avg.iter().zip(&self.exp_avg_sq);
        for ((p, g), (m, v)) in params.iter().zip(&grads).zip(state) {
            for t in [g, m, v] {
                assert_eq!(t.size(), p.size(), "Adam buffers must match their parameter");
            }
            // SAFETY: p, m and v are separate allocations this model owns and never hands out;
            // g is a fresh gradient from autograd (or its contiguous copy), only read. Nothing
            // else touches any of them until this function returns, and the slices borrow the
            // tensors, so they cannot outlive them.
            let (p, g, m, v) = unsafe { (f32_mut(p), f32_ref(g), f32_mut(m), f32_mut(v)) };
            adam_kernel(&k, p, g, m, v);
        }
    }
}

/// The per-element constants of one fused step.
#[derive(Clone, Copy)]
pub(crate) struct Coefficients {
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
    bias_correction2_sqrt: f32,
    eps: f32,
    neg_step_size: f32,
}

/// One Adam step on a slice, with the widest vectors the CPU has. Division and square root
/// are correctly rounded at any width, so every path gives the same bits.
fn adam_kernel(k: &Coefficients, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    let isa = std::env::var("XADAM_ISA").unwrap_or_default();
    #[cfg(target_arch = "x86_64")]
    {
        if isa != "sse" && isa != "avx2" && std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked on the line above).
            return unsafe { adam_avx512(k, p, g, m, v) };
        }
        if isa != "sse" && std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked on the line above).
            return unsafe { adam_avx2(k, p, g, m, v) };
        }
    }
    adam_elements(k, p, g, m, v);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn adam_avx512(k: &Coefficients, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    adam_elements(k, p, g, m, v);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn adam_avx2(k: &Coefficients, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    adam_elements(k, p, g, m, v);
}

/// The arithmetic, in the order libtorch's kernels evaluate it.
#[inline(always)]
fn adam_elements(k: &Coefficients, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    let n = p.len();
    assert!(g.len() == n && m.len() == n && v.len() == n);
    for i in 0..n {
        let grad = g[i];
        m[i] += k.one_minus_beta1 * (grad - m[i]);
        v[i] = v[i] * k.beta2 + k.one_minus_beta2 * grad * grad;
        let denom = v[i].sqrt() / k.bias_correction2_sqrt + k.eps;
        p[i] += k.neg_step_size * (m[i] / denom);
    }
}

/// A contiguous f32 CPU tensor's elements, read-only.
///
/// # Safety
/// Nothing may write to the tensor's buffer while the slice lives.
unsafe fn f32_ref(t: &Tensor) -> &[f32] {
    std::slice::from_raw_parts(f32_ptr(t), t.numel())
}

/// A contiguous f32 CPU tensor's elements, writable through a shared handle (tch's tensors are
/// reference-counted handles, so the borrow checker cannot see exclusivity).
///
/// # Safety
/// Nothing else may read or write the tensor's buffer while the slice lives.
#[allow(clippy::mut_from_ref)]
unsafe fn f32_mut(t: &Tensor) -> &mut [f32] {
    std::slice::from_raw_parts_mut(f32_ptr(t), t.numel())
}

fn f32_ptr(t: &Tensor) -> *mut f32 {
    assert!(
        t.device() == Device::Cpu && t.kind() == Kind::Float && t.is_contiguous(),
        "the fused Adam needs contiguous f32 CPU tensors"
    );
    assert!(t.numel() > 0, "an empty tensor has no buffer to point at");
    t.data_ptr().cast()
}
