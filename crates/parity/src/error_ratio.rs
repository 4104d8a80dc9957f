//! How far a candidate's value is from the exact one, against how far libtorch's own `f32`
//! computation of it is: the measure the parity verdict is grounded in.

/// `f32`'s machine epsilon, 2⁻²³, in `f64`.
const F32_EPSILON: f64 = f32::EPSILON as f64;

/// The denominator's floor, in units of `f32` epsilon times the exact tensor's norm: where
/// libtorch happens to be exact (a tensor that every `f32` computation rounds the same way),
/// a candidate's own unavoidable rounding must not count as infinitely worse. Rounding each
/// element of the exact value to `f32` alone leaves a norm of about ε/√12 ≈ 0.29ε of the
/// tensor's: the floor is 3.5 times that.
pub const FLOOR_EPSILONS: f64 = 1.0;

/// One tensor's (or the loss's) errors against the exact value, in `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrorRatio {
    /// `‖candidate − exact‖₂`.
    pub candidate_error: f64,
    /// `‖libtorch f32 − exact‖₂`: the reference's own rounding.
    pub reference_error: f64,
    /// `‖exact‖₂`.
    pub exact_norm: f64,
    /// `candidate_error / max(reference_error, FLOOR_EPSILONS·ε·‖exact‖₂)`: how many times
    /// libtorch's own error the candidate's is. Infinite when the lengths differ or the
    /// candidate's values are not finite; 0 when both are exact.
    pub ratio: f64,
}

impl ErrorRatio {
    /// The candidate's and the reference's `f32` values of one tensor against its `exact`
    /// one (all three in the same layout).
    pub fn of(exact: &[f64], reference: &[f32], candidate: &[f32]) -> ErrorRatio {
        let distance = |values: &[f32]| -> f64 {
            if values.len() != exact.len() {
                return f64::INFINITY;
            }
            let sum: f64 = (values.iter().zip(exact))
                .map(|(&v, &x)| (f64::from(v) - x).powi(2))
                .sum();
            if sum.is_nan() {
                f64::INFINITY
            } else {
                sum.sqrt()
            }
        };
        let exact_norm = exact.iter().map(|x| x * x).sum::<f64>().sqrt();
        ErrorRatio::from_errors(distance(candidate), distance(reference), exact_norm)
    }

    /// The same for one number, the loss.
    pub fn of_scalar(exact: f64, reference: f32, candidate: f32) -> ErrorRatio {
        ErrorRatio::of(&[exact], &[reference], &[candidate])
    }

    fn from_errors(candidate_error: f64, reference_error: f64, exact_norm: f64) -> ErrorRatio {
        let denominator = reference_error.max(FLOOR_EPSILONS * F32_EPSILON * exact_norm);
        let ratio = if candidate_error == 0.0 {
            0.0
        } else if denominator == 0.0 {
            f64::INFINITY
        } else {
            candidate_error / denominator
        };
        ErrorRatio {
            candidate_error,
            reference_error,
            exact_norm,
            ratio,
        }
    }

    /// The smallest error of the whole tensor, relative to its norm, that a check at
    /// `max_ratio` catches: a candidate whose value is the exact one scaled by `1 + ε` is
    /// caught for `ε` above this (its own rounding aside). Infinite for a zero tensor.
    pub fn smallest_caught(&self, max_ratio: f64) -> f64 {
        let denominator = self
            .reference_error
            .max(FLOOR_EPSILONS * F32_EPSILON * self.exact_norm);
        max_ratio * denominator / self.exact_norm
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// By hand: exact [3, 4] (norm 5); libtorch off by (0, 1e-3), the candidate by
    /// (3e-3, 0): the candidate is 3 times as far.
    #[test]
    fn worked_example() {
        let e = ErrorRatio::of(&[3.0, 4.0], &[3.0, 4.001], &[3.003, 4.0]);
        testkit::assert_close(
            "errors and ratio",
            &[e.candidate_error, e.reference_error, e.exact_norm, e.ratio],
            &[3e-3, 1e-3, 5.0, 3.0],
            1e-4,
            0.0,
        );
        testkit::assert_close(
            "smallest caught",
            &[e.smallest_caught(4.0)],
            &[8e-4],
            1e-4,
            0.0,
        );
    }

    /// Where libtorch is exact, the floor (ε of the tensor's norm) stands in for its error: a
    /// candidate one ε away is at ratio 1.
    #[test]
    fn an_exact_reference_is_floored() {
        let one_ulp = 1.0 + f32::EPSILON;
        let e = ErrorRatio::of(&[1.0], &[1.0], &[one_ulp]);
        assert_eq!(e.reference_error, 0.0);
        testkit::assert_close("ratio", &[e.ratio], &[1.0], 1e-12, 0.0);
        let both_exact = ErrorRatio::of(&[0.0, 0.0], &[0.0, 0.0], &[0.0, 0.0]);
        assert_eq!(both_exact.ratio, 0.0);
        let only_candidate_off = ErrorRatio::of(&[0.0], &[0.0], &[1e-30]);
        assert!(only_candidate_off.ratio.is_infinite());
    }

    #[test]
    fn nan_and_length_mismatch_are_infinitely_far() {
        let nan = ErrorRatio::of(&[1.0, 2.0], &[1.0, 2.0], &[1.0, f32::NAN]);
        assert!(nan.ratio.is_infinite(), "{nan:?}");
        let short = ErrorRatio::of(&[1.0, 2.0], &[1.0, 2.0], &[1.0]);
        assert!(short.ratio.is_infinite(), "{short:?}");
        let scalar = ErrorRatio::of_scalar(1.0, 1.0, f32::INFINITY);
        assert!(scalar.ratio.is_infinite(), "{scalar:?}");
    }
}
