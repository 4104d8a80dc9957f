//! Adam per parameter, exactly as `torch.optim.Adam` computes it (default options), with the
//! step's constants worked out once per step; the kernels fuse it into the weight gradient.

use super::buffer::Buffer;

/// Adam's first and second moments, shaped like the weights and biases.
#[derive(Debug, Clone)]
pub(crate) struct AdamState {
    pub weight_m: Buffer<f32>,
    pub weight_v: Buffer<f32>,
    pub bias_m: Vec<f32>,
    pub bias_v: Vec<f32>,
}

/// Adam's constants for one step, computed in `f64` as torch computes them in Python floats.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AdamStep {
    /// 1 − β1 (the weight of `torch.lerp_`).
    pub one_minus_beta1: f32,
    pub beta2: f32,
    pub one_minus_beta2: f32,
    pub eps: f32,
    /// lr / (1 − β1ᵗ).
    pub step_size: f32,
    /// √(1 − β2ᵗ).
    pub bias_correction2_sqrt: f32,
}

impl AdamStep {
    pub(crate) fn new(lr: f64, beta1: f64, beta2: f64, eps: f64, t: u64) -> Self {
        assert!(t >= 1, "Adam's steps count from 1");
        let t = i32::try_from(t).unwrap_or(i32::MAX);
        AdamStep {
            one_minus_beta1: (1.0 - beta1) as f32,
            beta2: (beta2) as f32,
            one_minus_beta2: (1.0 - beta2) as f32,
            eps: (eps) as f32,
            step_size: (lr / (1.0 - beta1.powi(t))) as f32,
            bias_correction2_sqrt: (1.0 - beta2.powi(t)).sqrt() as f32,
        }
    }

    /// Updates parameter `w` with gradient `g` and its moments `m`, `v`, as `_single_tensor_adam`:
    /// `m.lerp_(g, 1−β1)`, `v.mul_(β2).addcmul_(g, g, 1−β2)`,
    /// `w.addcdiv_(m, √v / √(1−β2ᵗ) + ε, −lr/(1−β1ᵗ))`.
    #[inline]
    pub(crate) fn apply(&self, w: &mut f32, g: f32, m: &mut f32, v: &mut f32) {
        *m += (g - *m) * self.one_minus_beta1;
        *v = *v * self.beta2 + g * g * self.one_minus_beta2;
        let denom = v.sqrt() / self.bias_correction2_sqrt + self.eps;
        *w -= self.step_size * (*m / denom);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use testkit::assert_close;

    /// Three Adam steps (lr 0.1, β 0.9/0.999, ε 1e-8) on w = [1.0, −2.0, 0.5] with loss
    /// Σ wᵢ³/3 + wᵢ (gradient wᵢ² + 1, recomputed at each step). Expected values from
    /// `torch.optim.Adam` in float64, by `tests/fixtures/adam_three_steps.py` (committed);
    /// ours runs in f32, so to within a few of its roundings (1e-6).
    #[test]
    fn three_adam_steps_match_torch() {
        let mut w = [1.0f32, -2.0, 0.5];
        let (mut m, mut v) = ([0.0; 3], [0.0; 3]);
        for t in 1..=3 {
            let step = AdamStep::new(0.1, 0.9, 0.999, 1e-8, t);
            for i in 0..3 {
                let g = w[i] * w[i] + 1.0;
                step.apply(&mut w[i], g, &mut m[i], &mut v[i]);
            }
        }
        let narrow = |want: [f64; 3]| want.map(|x| x as f32);
        assert_close(
            "w after 3 steps",
            &w,
            &narrow(ADAM_THREE_STEPS_W),
            1e-6,
            1e-6,
        );
        assert_close(
            "m after 3 steps",
            &m,
            &narrow(ADAM_THREE_STEPS_M),
            1e-6,
            1e-6,
        );
        assert_close(
            "v after 3 steps",
            &v,
            &narrow(ADAM_THREE_STEPS_V),
            1e-6,
            1e-6,
        );
    }

    // Printed by tests/fixtures/adam_three_steps.py.
    const ADAM_THREE_STEPS_W: [f64; 3] =
        [0.701392564716945, -2.300465532755768, 0.20089498858092414];
    const ADAM_THREE_STEPS_M: [f64; 3] =
        [0.4889614190855959, 1.475956185280808, 0.3146658596918763];
    const ADAM_THREE_STEPS_V: [f64; 3] = [
        0.009956442823834913,
        0.08830101965622827,
        0.004092076729163344,
    ];

    /// The first step moves every weight by lr·g/(|g| + ε) ≈ lr (by hand: m̂ = g, v̂ = g²).
    #[test]
    fn the_first_adam_step_moves_each_weight_by_the_learning_rate() {
        let step = AdamStep::new(0.01, 0.9, 0.999, 1e-8, 1);
        let mut w = [0.3f32, -0.7];
        for (w, g) in w.iter_mut().zip([4.0, -0.02]) {
            step.apply(w, g, &mut 0.0, &mut 0.0);
        }
        assert_close(
            "w",
            &w,
            &[
                0.3 - 0.01 * 4.0 / (4.0 + 1e-8),
                -0.7 + 0.01 * 0.02 / (0.02 + 1e-8),
            ],
            1e-7,
            1e-7,
        );
    }
}
