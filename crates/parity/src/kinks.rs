//! ReLU units on in one model and off in the other although both hold the same parameters.
//!
//! Two f32 sums of hundreds of products, taken in different orders, differ by ~1e-7, so a
//! pre-activation that close to 0 can be positive in one model and not in the other (one
//! traced case: z = −5e-8). The unit then passes the gradient in one model and blocks it in
//! the other, and the gradients of that layer and every layer before it legitimately differ
//! through that image. Only units within rounding of 0 in both models count: a unit on in one
//! model and off in the other with a pre-activation well away from 0 is a real disagreement
//! and is left for the bound to catch.

use std::collections::BTreeSet;

use ndarray::{Array2, Zip};

use crate::Error;

/// "Within rounding of 0": `|z| ≤ ROUNDING · max |Z|` of the layer, in both models. f32 has
/// 24 bits (6e-8 relative); a sum of a few hundred terms keeps ~1e-7 of its largest terms'
/// scale, so 1e-5 of the layer's largest pre-activation is a hundred times that, and still
/// far inside the spread of ordinary pre-activations (the largest |Z| of a hidden layer of
/// the default network is 5–20).
pub const ROUNDING: f64 = 1e-5;

/// The kinks of one step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kinks {
    /// Per hidden layer (first first), the `(image, unit)` pairs on in one model, off in the
    /// other, and within rounding of 0 in both.
    pub per_layer: Vec<usize>,
    /// The images (rows of the batch) holding at least one, ascending.
    pub images: Vec<usize>,
}

impl Kinks {
    /// Finds the kinks from both models' pre-activations of the same batch (`(batch, units)`
    /// per hidden layer, as [`contract::Derivatives::pre_activations`]). A candidate that
    /// reports none (an external one may not) cannot say which units it has on: then every
    /// unit of the reference within rounding of 0 counts.
    pub fn find(reference: &[Array2<f32>], candidate: &[Array2<f32>]) -> Result<Kinks, Error> {
        if candidate.is_empty() {
            return Ok(Kinks::near_zero(reference));
        }
        let layers = reference.len().max(candidate.len());
        let mut per_layer = Vec::with_capacity(layers);
        let mut images = BTreeSet::new();
        for layer in 0..layers {
            let (r, c) = match (reference.get(layer), candidate.get(layer)) {
                (Some(r), Some(c)) if r.dim() == c.dim() => (r, c),
                (r, c) => {
                    return Err(Error::PreActivations {
                        layer,
                        reference: r.map(Array2::dim),
                        candidate: c.map(Array2::dim),
                    })
                }
            };
            let largest = r.iter().chain(c).fold(0.0_f32, |m, z| m.max(z.abs()));
            let rounding = ROUNDING * f64::from(largest);
            let near_zero = |z: f32| f64::from(z.abs()) <= rounding;
            let mut count = 0;
            Zip::indexed(r).and(c).for_each(|(image, _), &zr, &zc| {
                if (zr > 0.0) != (zc > 0.0) && near_zero(zr) && near_zero(zc) {
                    count += 1;
                    images.insert(image);
                }
            });
            per_layer.push(count);
        }
        Ok(Kinks {
            per_layer,
            images: images.into_iter().collect(),
        })
    }

    /// The units of `pre_activations` within rounding of 0, `0 < |z|` or not.
    fn near_zero(pre_activations: &[Array2<f32>]) -> Kinks {
        let mut images = BTreeSet::new();
        let per_layer = pre_activations
            .iter()
            .map(|z| {
                let largest = z.iter().fold(0.0_f32, |m, z| m.max(z.abs()));
                let rounding = ROUNDING * f64::from(largest);
                let mut count = 0;
                for ((image, _), &z) in z.indexed_iter() {
                    if f64::from(z.abs()) <= rounding {
                        count += 1;
                        images.insert(image);
                    }
                }
                count
            })
            .collect();
        Kinks {
            per_layer,
            images: images.into_iter().collect(),
        }
    }

    /// Whether there are none.
    /// The images that hold these kinks or `other`'s, in order.
    pub fn images_with(&self, other: &Kinks) -> Vec<usize> {
        let images: BTreeSet<usize> = self.images.iter().chain(&other.images).copied().collect();
        images.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    /// Layer 0's largest |z| is 10, so rounding is 1e-4: image 1 unit 0 (+5e-8 against −5e-8)
    /// is a kink; image 0 unit 1 (on against off, but 0.5 from 0) is a real disagreement;
    /// image 2 unit 1 (both off) is nothing. Layer 1: image 2 (0 against 1e-9) is a kink.
    #[test]
    fn counts_units_on_in_one_model_only_within_rounding() {
        let reference = [
            array![[10.0, 0.5], [5e-8, -3.0], [1.0, -1e-9]],
            array![[1.0], [1.0], [0.0]],
        ];
        let candidate = [
            array![[10.0, -0.5], [-5e-8, -3.0], [1.0, -2e-9]],
            array![[1.0], [1.0], [1e-9]],
        ];
        let kinks = Kinks::find(&reference, &candidate).expect("same shapes");
        assert_eq!(kinks.per_layer, vec![1, 1]);
        assert_eq!(kinks.images, vec![1, 2]);
    }

    /// Without the candidate's pre-activations: layer 0's largest |z| is 10 (rounding 1e-4),
    /// so image 1's 5e-8 counts and image 0's 0.5 does not; layer 1's largest is 1e-9
    /// (rounding 1e-14), so only image 1's exact 0 counts.
    #[test]
    fn without_the_candidates_every_unit_near_zero_counts() {
        let reference = [array![[10.0, 0.5], [5e-8, -3.0]], array![[1e-9], [0.0]]];
        let kinks = Kinks::find(&reference, &[]).expect("allowed");
        assert_eq!(kinks.per_layer, vec![1, 1]);
        assert_eq!(kinks.images, vec![1]);
    }

    #[test]
    fn shapes_must_match() {
        let err = Kinks::find(&[Array2::zeros((2, 3))], &[Array2::zeros((2, 4))]);
        assert_eq!(
            err,
            Err(Error::PreActivations {
                layer: 0,
                reference: Some((2, 3)),
                candidate: Some((2, 4))
            })
        );
        let missing = Kinks::find(
            &[Array2::zeros((2, 3)), Array2::zeros((2, 1))],
            &[Array2::zeros((2, 3))],
        );
        assert!(matches!(
            missing,
            Err(Error::PreActivations {
                layer: 1,
                candidate: None,
                ..
            })
        ));
    }
}
