//! Xavier/Glorot-uniform initialisation, from a seeded, portable RNG.

use contract::{LayerParameters, Parameters};
use rand::distributions::{Distribution, Uniform};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The Xavier bound `a = √(6 / (fan_in + fan_out))`: weights are drawn from U(−a, a), whose
/// variance a²/3 = 2 / (fan_in + fan_out) keeps activations and gradients at the same scale
/// through the layers.
pub(crate) fn xavier_bound(fan_in: usize, fan_out: usize) -> f32 {
    (6.0 / (fan_in + fan_out) as f64).sqrt() as f32
}

/// Parameters for layer widths `sizes` (input first): weights from U(−a, a) drawn in order,
/// first layer first, each `(out, in)` row-major; biases zero. ChaCha8 and rand's `Uniform`
/// give the same numbers for a seed on every platform.
pub(crate) fn xavier(sizes: &[usize], seed: u64) -> Parameters {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    sizes
        .windows(2)
        .map(|pair| {
            let (in_features, out_features) = (pair[0], pair[1]);
            let a = xavier_bound(in_features, out_features);
            let uniform = Uniform::new(-a, a);
            LayerParameters {
                weight: (0..out_features * in_features)
                    .map(|_| uniform.sample(&mut rng))
                    .collect(),
                out_features,
                in_features,
                bias: vec![0.0; out_features],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use testkit::assert_close;

    /// A 500×784 layer: a = √(6/1284) = 0.068359…; every weight within ±a, and the sample
    /// variance within 5% of a²/3 (with 392 000 draws its standard error is about 0.2%).
    #[test]
    fn weights_lie_within_the_bound_with_the_uniform_variance() {
        let layer = &xavier(&[784, 500], 42)[0];
        let a = xavier_bound(784, 500);
        assert_close("a", &[a], &[(6.0f32 / 1284.0).sqrt()], 1e-7, 0.0);
        assert_eq!(layer.weight.len(), 500 * 784);
        assert!(layer.weight.iter().all(|w| w.abs() <= a));
        let n = layer.weight.len() as f64;
        let mean = layer.weight.iter().map(|&w| f64::from(w)).sum::<f64>() / n;
        let variance = layer
            .weight
            .iter()
            .map(|&w| (f64::from(w) - mean).powi(2))
            .sum::<f64>()
            / (n - 1.0);
        let a = f64::from(a);
        assert_close("variance", &[variance], &[a * a / 3.0], 0.05, 0.0);
        assert_close("mean", &[mean], &[0.0], 0.0, 0.01 * a);
        assert_close("biases", &layer.bias, &[0.0; 500], 0.0, 0.0);
    }

    #[test]
    fn the_same_seed_gives_the_same_weights_and_another_seed_does_not() {
        let sizes = [784, 30, 10];
        let (first, again, other) = (xavier(&sizes, 1), xavier(&sizes, 1), xavier(&sizes, 2));
        for l in 0..2 {
            assert_close("same seed", &again[l].weight, &first[l].weight, 0.0, 0.0);
            assert!(
                testkit::worst_deviation(&other[l].weight, &first[l].weight, 0.0, 1e-3).is_some()
            );
        }
        // Pinned: the first weights for seed 1 as this code drew them when it was written
        // (x86-64), so that a change of RNG, distribution or draw order is noticed.
        assert_close(
            "first draws",
            &first[0].weight[..3],
            &[0.008478679, -0.016744114, 0.083209746],
            0.0,
            0.0,
        );
    }
}
