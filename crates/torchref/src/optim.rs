//! The update rules, applied under `no_grad` to the gradients autograd returns: SGD, and Adam
//! as `torch.optim.Adam` computes it on the CPU (`_single_tensor_adam`; no weight decay, no
//! amsgrad: the L2 term is in the loss).
//!
//! Adam has two implementations of one arithmetic. [`Adam::update_tensors`] is libtorch
//! operations, one per line of `torch.optim.Adam`, and runs on any device. On the CPU,
//! [`Adam::update_fused`] does the same per-element arithmetic in one pass: the
//! operation-per-line form (like libtorch's own C++ Adam) streams the 543 k-element buffers
//! some twenty times a step, which cost ~0.5 ms a step and made an Adam epoch 1.4–1.5× an SGD
//! epoch here; fused, it costs ~0.1 ms (`benches/epoch.rs`). Tests hold both to libtorch's
//! own Adam.

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
                    // p − lr·g (`torch.optim.SGD`'s `add_(g, alpha = −lr)` fuses the
                    // multiply-add: the two differ in the last bit at most).
                    let _ = p.g_sub_(&(g * *lr));
                }
            }
            Update::Adam(adam) => {
                if params.iter().all(|p| p.device() == Device::Cpu) {
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
        // Python's `beta ** step`: the C library's pow, as powf.
        let step = f64::from(self.step);
        let bias_correction1 = 1.0 - self.beta1.powf(step);
        let bias_correction2 = 1.0 - self.beta2.powf(step);
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

    /// The arithmetic of [`Adam::update_tensors`], element by element in f32 (as libtorch's
    /// CPU kernels compute `float`), in one pass; CPU tensors only. It can differ from the
    /// tensor form in the last bit where libtorch's vectorised `lerp_` uses a fused
    /// multiply-add.
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
                assert_eq!(
                    t.size(),
                    p.size(),
                    "Adam buffers must match their parameter"
                );
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
struct Coefficients {
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
    bias_correction2_sqrt: f32,
    eps: f32,
    neg_step_size: f32,
}

/// One Adam step on a slice, with the widest vectors the CPU has: on this crate's reference
/// machine (Zen 5) 0.36 ms a step with SSE2, 0.19 ms with AVX2, 0.11 ms with AVX-512.
/// Division and square root are correctly rounded at any width and nothing is contracted
/// into fused multiply-adds, so every path gives the same bits.
fn adam_kernel(k: &Coefficients, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked on the line above).
            return unsafe { adam_avx512(k, p, g, m, v) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked on the line above).
            return unsafe { adam_avx2(k, p, g, m, v) };
        }
    }
    adam_elements(k, p, g, m, v);
}

/// [`adam_elements`] compiled for AVX-512F.
///
/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn adam_avx512(k: &Coefficients, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    adam_elements(k, p, g, m, v);
}

/// [`adam_elements`] compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn adam_avx2(k: &Coefficients, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    adam_elements(k, p, g, m, v);
}

/// The arithmetic, in the order libtorch's kernels evaluate it:
/// `m += (1 − β1)·(g − m)` (lerp), `v = v·β2 + ((1 − β2)·g)·g` (mul, addcmul),
/// `d = √v / √(1 − β2ᵗ) + ε`, `p += (−lr/(1 − β1ᵗ))·(m / d)` (addcdiv).
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

#[cfg(test)]
mod tests {
    use mnist::testing::assert_close;
    use tch::COptimizer;

    use super::*;

    const SHAPES: [&[i64]; 4] = [&[40, 37], &[40], &[10, 40], &[10]];
    const LR: f32 = 0.01;

    /// Deterministic, irregular values without libtorch's (process-wide) generator:
    /// `scale·sin(0.7·i + phase)`, every fifth element zero (a gradient that vanishes).
    fn wave(shape: &[i64], phase: f64, scale: f64) -> Tensor {
        let n: i64 = shape.iter().product();
        let i = Tensor::arange(n, (Kind::Float, Device::Cpu));
        let keep = i.remainder(5).ne(0).to_kind(Kind::Float);
        ((i * 0.7 + phase).sin() * scale * keep).view(shape)
    }

    fn params() -> Vec<Tensor> {
        SHAPES
            .iter()
            .enumerate()
            .map(|(i, s)| wave(s, i as f64, 0.05))
            .collect()
    }

    fn grads(step: usize) -> Vec<Tensor> {
        let phase = |i: usize| 1.3 * step as f64 + 0.5 * i as f64;
        SHAPES
            .iter()
            .enumerate()
            .map(|(i, s)| wave(s, phase(i), 0.01))
            .collect()
    }

    /// libtorch's own optimiser (`torch::optim`, C++) over copies of `params()`.
    fn libtorch(optimizer: COptimizer) -> (COptimizer, Vec<Tensor>) {
        let mut optimizer = optimizer;
        let params: Vec<Tensor> = params().iter().map(|p| p.set_requires_grad(true)).collect();
        for p in &params {
            optimizer.add_parameters(p, 0).expect("add parameter");
        }
        (optimizer, params)
    }

    /// One libtorch step with gradients `grads`: d/dp Σ p·g = g.
    fn libtorch_step(optimizer: &COptimizer, params: &[Tensor], grads: &[Tensor]) {
        optimizer.zero_grad().expect("zero_grad");
        let terms = params
            .iter()
            .zip(grads)
            .map(|(p, g)| (p * g).sum(Kind::Float));
        terms.reduce(|a, b| a + b).expect("parameters").backward();
        optimizer.step().expect("step");
    }

    fn values(t: &Tensor) -> Vec<f32> {
        Vec::try_from(&t.detach().flatten(0, -1)).expect("f32")
    }

    fn assert_params_close(what: &str, got: &[Tensor], want: &[Tensor], atol: f64) {
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert_close(
                &format!("{what}, parameter {i}"),
                &values(g),
                &values(w),
                0.0,
                atol,
            );
        }
    }

    /// libtorch computes p + (−lr)·g as one fused multiply-add, this crate rounds lr·g first:
    /// one ulp (≤ 3.7e-9 at these magnitudes) a step at most.
    #[test]
    fn sgd_matches_libtorch_sgd() {
        let (reference, want) = libtorch(COptimizer::sgd(LR.into(), 0.0, 0.0, 0.0, false).unwrap());
        let mut got = params();
        let mut sgd = Update::Sgd { lr: LR.into() };
        for step in 0..20 {
            let g = grads(step);
            libtorch_step(&reference, &want, &g);
            sgd.apply(&mut got, &g);
            assert_params_close(&format!("SGD step {step}"), &got, &want, 1e-7);
        }
    }

    /// Both Adam forms against libtorch's C++ Adam, which computes the first moment as
    /// `mul_(β1).add_(g, 1 − β1)` rather than `lerp_`: the forms differ in rounding only.
    /// Parameters start within ±0.05 and move up to 0.01 a step; the worst deviation seen over
    /// the 20 steps is 1.8e-8 (five ulps), against a bound of 1e-7.
    #[test]
    fn adam_matches_libtorch_adam() {
        let adam = COptimizer::adam(LR.into(), 0.9, 0.999, 0.0, 1e-8, false).unwrap();
        let (reference, want) = libtorch(adam);
        let mut fused_params = params();
        let mut tensor_params = params();
        let mut fused = Update::Adam(Adam::new(LR, 0.9, 0.999, 1e-8, &fused_params));
        let mut tensors = Adam::new(LR, 0.9, 0.999, 1e-8, &tensor_params);
        for step in 0..20 {
            let g = grads(step);
            libtorch_step(&reference, &want, &g);
            fused.apply(&mut fused_params, &g);
            tch::no_grad(|| tensors.update_tensors(&mut tensor_params, &g));
            assert_params_close(
                &format!("fused Adam step {step}"),
                &fused_params,
                &want,
                1e-7,
            );
            assert_params_close(
                &format!("tensor Adam step {step}"),
                &tensor_params,
                &want,
                1e-7,
            );
        }
    }

    /// An Adam step on `(p, g, m, v)`.
    type Kernel<'a> = &'a dyn Fn(&mut [f32], &[f32], &mut [f32], &mut [f32]);

    #[test]
    fn every_instruction_set_gives_the_same_bits() {
        let k = Coefficients {
            one_minus_beta1: 0.1,
            beta2: 0.999,
            one_minus_beta2: 0.001,
            bias_correction2_sqrt: 0.05,
            eps: 1e-8,
            neg_step_size: -0.1,
        };
        // 1000 elements: whole vectors of every width and a remainder.
        let run = |kernel: Kernel<'_>| {
            let mut p = values(&wave(&[1000], 0.0, 0.05));
            let g = values(&wave(&[1000], 1.0, 0.01));
            let mut m = values(&wave(&[1000], 2.0, 0.001));
            let mut v = values(&wave(&[1000], 3.0, 1e-6))
                .iter()
                .map(|x| x.abs())
                .collect::<Vec<_>>();
            kernel(&mut p, &g, &mut m, &mut v);
            [p, m, v].concat()
        };
        let portable = run(&|p, g, m, v| adam_elements(&k, p, g, m, v));
        let dispatched = run(&|p, g, m, v| adam_kernel(&k, p, g, m, v));
        assert_close("dispatched kernel", &dispatched, &portable, 0.0, 0.0);
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2.
                let avx2 = run(&|p, g, m, v| unsafe { adam_avx2(&k, p, g, m, v) });
                assert_close("AVX2 kernel", &avx2, &portable, 0.0, 0.0);
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has AVX-512F.
                let avx512 = run(&|p, g, m, v| unsafe { adam_avx512(&k, p, g, m, v) });
                assert_close("AVX-512 kernel", &avx512, &portable, 0.0, 0.0);
            }
        }
    }
}
