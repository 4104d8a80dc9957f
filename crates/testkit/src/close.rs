//! The one float comparison of every test: element-wise within `atol + rtol·|want|`, failing
//! on the worst element and naming it.

/// The element of `got` that is furthest outside its tolerance, if any is.
#[derive(Debug, Clone, PartialEq)]
pub struct Deviation {
    pub index: usize,
    pub got: f64,
    pub want: f64,
    /// `|got − want|`.
    pub difference: f64,
    /// `atol + rtol·|want|` at this element.
    pub tolerance: f64,
}

/// Compares element-wise; returns the worst element outside tolerance, or `None` if all are
/// within it. A NaN on either side is always outside. Panics if the lengths differ (a bug).
pub fn worst_deviation<T: Copy + Into<f64>>(
    got: &[T],
    want: &[T],
    rtol: f64,
    atol: f64,
) -> Option<Deviation> {
    assert_eq!(got.len(), want.len(), "compared slices differ in length");
    let mut worst: Option<(f64, Deviation)> = None;
    for (index, (&g, &w)) in got.iter().zip(want).enumerate() {
        let (got, want) = (g.into(), w.into());
        let difference = (got - want).abs();
        let tolerance = atol + rtol * want.abs();
        let excess = if difference.is_nan() {
            f64::INFINITY
        } else {
            difference - tolerance
        };
        if excess > 0.0 && worst.as_ref().is_none_or(|(e, _)| excess > *e) {
            let deviation = Deviation {
                index,
                got,
                want,
                difference,
                tolerance,
            };
            worst = Some((excess, deviation));
        }
    }
    worst.map(|(_, deviation)| deviation)
}

/// Panics, naming `what` and the worst element, unless every element of `got` is within
/// `atol + rtol·|want|` of `want`.
#[track_caller]
pub fn assert_close<T: Copy + Into<f64>>(what: &str, got: &[T], want: &[T], rtol: f64, atol: f64) {
    if let Some(d) = worst_deviation(got, want, rtol, atol) {
        panic!(
            "{what}: element {} is {} but should be {} (|difference| {:.3e} > tolerance {:.3e}; rtol {rtol:e}, atol {atol:e})",
            d.index, d.got, d.want, d.difference, d.tolerance
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_worst_element_outside_tolerance() {
        let want = [1.0_f64, 2.0, 3.0, 4.0];
        let got = [1.0_f64, 2.1, 3.0, 3.5];
        let d = worst_deviation(&got, &want, 0.0, 0.01).expect("two elements are outside");
        assert_eq!(d.index, 3);
        assert!((d.difference - 0.5).abs() < 1e-12);
    }

    #[test]
    fn relative_tolerance_scales_with_the_expected_value() {
        assert!(worst_deviation(&[1000.5_f32], &[1000.0], 1e-3, 0.0).is_none());
        assert!(worst_deviation(&[1.5_f32], &[1.0], 1e-3, 0.0).is_some());
    }

    #[test]
    fn nan_is_never_close() {
        let d = worst_deviation(&[f32::NAN, 0.0], &[0.0, 0.0], 1.0, 1.0).expect("NaN fails");
        assert_eq!(d.index, 0);
    }

    #[test]
    #[should_panic(expected = "weights: element 1 is 5 but should be 2")]
    fn assert_close_names_what_and_where() {
        assert_close("weights", &[1.0_f32, 5.0], &[1.0, 2.0], 1e-6, 1e-6);
    }
}
