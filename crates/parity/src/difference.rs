//! How far one tensor's gradient is from another's.

/// The distance between a candidate's gradient of one tensor and the reference's, in `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Difference {
    /// `max |candidate − reference|`.
    pub max_abs: f64,
    /// `max_abs / max |reference|`: relative to the tensor's largest gradient, so that
    /// elements whose gradient is near zero are not magnified. 0 when both are all zero,
    /// infinite when only the reference is.
    pub max_rel: f64,
    /// `⟨candidate, reference⟩ / (‖candidate‖·‖reference‖)`; 1 when both are zero, 0 when one
    /// is.
    pub cosine: f64,
    /// `‖reference‖₂`.
    pub reference_norm: f64,
    /// `‖candidate‖₂`.
    pub candidate_norm: f64,
}

impl Difference {
    /// Compares element by element; tensors of different lengths are infinitely apart (their
    /// norms are still reported, the cosine is NaN).
    pub fn between(reference: &[f32], candidate: &[f32]) -> Difference {
        let norm = |v: &[f32]| v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
        let (reference_norm, candidate_norm) = (norm(reference), norm(candidate));
        if reference.len() != candidate.len() {
            return Difference {
                max_abs: f64::INFINITY,
                max_rel: f64::INFINITY,
                cosine: f64::NAN,
                reference_norm,
                candidate_norm,
            };
        }
        let (mut max_abs, mut largest, mut dot) = (0.0_f64, 0.0_f64, 0.0_f64);
        for (&r, &c) in reference.iter().zip(candidate) {
            let (r, c) = (f64::from(r), f64::from(c));
            // NaN fails every comparison below, so it would be skipped: make it infinite.
            let d = (c - r).abs();
            max_abs = if d.is_nan() {
                f64::INFINITY
            } else {
                max_abs.max(d)
            };
            largest = largest.max(r.abs());
            dot += r * c;
        }
        let max_rel = if max_abs == 0.0 {
            0.0
        } else if largest == 0.0 {
            f64::INFINITY
        } else {
            max_abs / largest
        };
        let cosine = match (reference_norm == 0.0, candidate_norm == 0.0) {
            (true, true) => 1.0,
            (true, false) | (false, true) => 0.0,
            (false, false) => dot / (reference_norm * candidate_norm),
        };
        Difference {
            max_abs,
            max_rel,
            cosine,
            reference_norm,
            candidate_norm,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// By hand: differences 0, 0.5, −0.25 → max 0.5; largest |reference| 4 → 0.125;
    /// ⟨r, c⟩ = 1·1 + 2·2.5 + 4·3.75 = 21, ‖r‖ = √21, ‖c‖ = √(1 + 6.25 + 14.0625).
    #[test]
    fn worked_example() {
        let d = Difference::between(&[1.0, 2.0, 4.0], &[1.0, 2.5, 3.75]);
        let candidate_norm = 21.3125_f64.sqrt();
        testkit::assert_close(
            "max_abs, max_rel, cosine, norms",
            &[
                d.max_abs,
                d.max_rel,
                d.cosine,
                d.reference_norm,
                d.candidate_norm,
            ],
            &[
                0.5,
                0.125,
                21.0 / (21.0_f64.sqrt() * candidate_norm),
                21.0_f64.sqrt(),
                candidate_norm,
            ],
            1e-12,
            0.0,
        );
    }

    #[test]
    fn zero_gradients() {
        let both = Difference::between(&[0.0, 0.0], &[0.0, 0.0]);
        assert!(both.max_rel == 0.0 && both.cosine == 1.0, "{both:?}");
        let one = Difference::between(&[0.0, 0.0], &[0.0, 1e-3]);
        assert!(one.max_rel.is_infinite() && one.cosine == 0.0, "{one:?}");
    }

    #[test]
    fn nan_and_length_mismatch_are_infinitely_apart() {
        let nan = Difference::between(&[1.0, 2.0], &[1.0, f32::NAN]);
        assert!(
            nan.max_abs.is_infinite() && nan.max_rel.is_infinite(),
            "{nan:?}"
        );
        let short = Difference::between(&[1.0, 2.0], &[1.0]);
        assert!(
            short.max_rel.is_infinite() && short.cosine.is_nan(),
            "{short:?}"
        );
    }
}
