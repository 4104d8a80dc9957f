//! The summary of a sample (n, mean, sample standard deviation, range) and the Student-t
//! confidence interval of its mean.

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::Error;

/// The confidence level of every interval this crate reports.
pub const CONFIDENCE: f64 = 0.95;

/// A closed interval `[low, high]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }

    /// Whether the whole interval lies within `[−margin, +margin]`.
    pub fn within(&self, margin: f64) -> bool {
        -margin <= self.low && self.high <= margin
    }
}

/// A sample of finite values, summarised.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (divisor n − 1); `None` for a single value.
    pub sd: Option<f64>,
    pub min: f64,
    pub max: f64,
    /// The [`CONFIDENCE`] Student-t interval of the mean; `None` for a single value. When all
    /// values are equal it is the single point `[mean, mean]`.
    pub interval: Option<Interval>,
}

impl Summary {
    /// Summarises `values`, refusing an empty sample or one with a NaN or an infinity.
    pub fn of(values: &[f64]) -> Result<Summary, Error> {
        check(values)?;
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = (n > 1).then(|| {
            let squares: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
            (squares / (n - 1) as f64).sqrt()
        });
        let (min, max) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let interval = sd.map(|sd| {
            let half = t_quantile(0.5 + CONFIDENCE / 2.0, n - 1) * standard_error(sd, n);
            Interval {
                low: mean - half,
                high: mean + half,
            }
        });
        Ok(Summary {
            n,
            mean,
            sd,
            min,
            max,
            interval,
        })
    }
}

/// `first[i] − second[i]` for every run `i`.
pub fn paired_differences(first: &[f64], second: &[f64]) -> Result<Vec<f64>, Error> {
    if first.len() != second.len() {
        return Err(Error::Unpaired {
            first: first.len(),
            second: second.len(),
        });
    }
    Ok(first.iter().zip(second).map(|(a, b)| a - b).collect())
}

fn check(values: &[f64]) -> Result<(), Error> {
    if values.is_empty() {
        return Err(Error::Empty);
    }
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(Error::NotFinite {
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

pub(crate) fn standard_error(sd: f64, n: usize) -> f64 {
    sd / (n as f64).sqrt()
}

/// The standard Student-t distribution with `freedom` ≥ 1 degrees of freedom.
pub(crate) fn student_t(freedom: usize) -> StudentsT {
    StudentsT::new(0.0, 1.0, freedom as f64).expect("location 0, scale 1, freedom ≥ 1 are valid")
}

/// The `p` quantile of the standard t distribution; `p` is one of this crate's constants.
fn t_quantile(p: f64, freedom: usize) -> f64 {
    student_t(freedom).inverse_cdf(p)
}

#[cfg(test)]
mod tests {
    use testkit::assert_close;

    use super::*;

    #[test]
    fn refuses_empty_and_non_finite_samples() {
        assert_eq!(Summary::of(&[]), Err(Error::Empty));
        assert!(matches!(
            Summary::of(&[1.0, f64::NAN]),
            Err(Error::NotFinite { index: 1, .. })
        ));
        assert!(matches!(
            Summary::of(&[f64::INFINITY]),
            Err(Error::NotFinite { index: 0, .. })
        ));
        assert_eq!(
            paired_differences(&[1.0], &[1.0, 2.0]),
            Err(Error::Unpaired {
                first: 1,
                second: 2
            })
        );
    }

    #[test]
    fn one_value_has_no_spread_and_no_interval() {
        let s = Summary::of(&[97.0]).expect("one finite value");
        assert_eq!((s.n, s.sd, s.interval), (1, None, None));
        // Exact: the mean, min and max of one value are that value.
        assert_close(
            "mean, min, max",
            &[s.mean, s.min, s.max],
            &[97.0; 3],
            0.0,
            0.0,
        );
    }

    #[test]
    fn equal_values_give_a_point_interval() {
        let s = Summary::of(&[0.25; 4]).expect("finite values");
        let interval = s.interval.expect("four values");
        // Exact: 0.25 is a power of two, so its sums and the mean carry no rounding.
        assert_close(
            "sd, interval",
            &[s.sd.expect("four values"), interval.low, interval.high],
            &[0.0, 0.25, 0.25],
            0.0,
            0.0,
        );
    }

    #[test]
    fn interval_tests_are_closed() {
        let i = Interval {
            low: -0.5,
            high: 0.2,
        };
        assert!(i.contains(-0.5) && i.contains(0.2) && !i.contains(0.21));
        assert!(i.within(0.5) && !i.within(0.49));
    }
}
