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

/// Elements handled side by side: four SSE2 registers of `f64` per sum (x86_64's baseline),
/// so that the adds of one sum do not wait for each other (4 lanes took 1.5–2× as long).
const LANES: usize = 8;

impl Difference {
    /// Compares element by element; tensors of different lengths are infinitely apart (their
    /// norms are still reported, the cosine is NaN).
    pub fn between(reference: &[f32], candidate: &[f32]) -> Difference {
        if reference.len() != candidate.len() {
            let norm = |v: &[f32]| v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
            return Difference {
                max_abs: f64::INFINITY,
                max_rel: f64::INFINITY,
                cosine: f64::NAN,
                reference_norm: norm(reference),
                candidate_norm: norm(candidate),
            };
        }
        let s = Sums::over(reference, candidate);
        let (reference_norm, candidate_norm) = (s.reference_sq.sqrt(), s.candidate_sq.sqrt());
        // A NaN difference is skipped by the maximum but not by the sum: it is infinitely far.
        let max_abs = if s.abs_diff_sum.is_nan() {
            f64::INFINITY
        } else {
            s.max_abs
        };
        let max_rel = if max_abs == 0.0 {
            0.0
        } else if s.largest == 0.0 {
            f64::INFINITY
        } else {
            max_abs / s.largest
        };
        let cosine = match (reference_norm == 0.0, candidate_norm == 0.0) {
            (true, true) => 1.0,
            (true, false) | (false, true) => 0.0,
            (false, false) => s.dot / (reference_norm * candidate_norm),
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

/// What [`Difference::between`] needs of two tensors of the same length, in one pass.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Sums {
    reference_sq: f64,
    candidate_sq: f64,
    dot: f64,
    /// Σ |c − r|: NaN exactly when some difference is.
    abs_diff_sum: f64,
    /// max |c − r| over the differences that are not NaN.
    max_abs: f64,
    /// max |r| over the elements that are not NaN.
    largest: f64,
}

impl Sums {
    fn over(reference: &[f32], candidate: &[f32]) -> Sums {
        let mut lanes = Lanes::default();
        let (r_chunks, c_chunks) = (reference.chunks_exact(LANES), candidate.chunks_exact(LANES));
        let (r_rest, c_rest) = (r_chunks.remainder(), c_chunks.remainder());
        for (r, c) in r_chunks.zip(c_chunks) {
            for lane in 0..LANES {
                lanes.add(lane, r[lane], c[lane]);
            }
        }
        for (&r, &c) in r_rest.iter().zip(c_rest) {
            lanes.add(0, r, c);
        }
        lanes.total()
    }
}

/// [`Sums`] kept per lane, one array per sum, and added up at the end, so that the compiler
/// vectorises the loop: a single running sum is a chain of dependent adds (it took 4.5% of a
/// whole external check's samples, 8× this one).
#[derive(Default)]
struct Lanes {
    reference_sq: [f64; LANES],
    candidate_sq: [f64; LANES],
    dot: [f64; LANES],
    abs_diff_sum: [f64; LANES],
    max_abs: [f64; LANES],
    largest: [f64; LANES],
}

impl Lanes {
    #[inline(always)]
    fn add(&mut self, lane: usize, r: f32, c: f32) {
        let (r, c) = (f64::from(r), f64::from(c));
        let d = (c - r).abs();
        self.reference_sq[lane] += r * r;
        self.candidate_sq[lane] += c * c;
        self.dot[lane] += r * c;
        self.abs_diff_sum[lane] += d;
        self.max_abs[lane] = larger(self.max_abs[lane], d);
        self.largest[lane] = larger(self.largest[lane], r.abs());
    }

    fn total(&self) -> Sums {
        let sum = |lanes: &[f64; LANES]| lanes.iter().sum();
        let max = |lanes: &[f64; LANES]| lanes.iter().copied().fold(0.0, larger);
        Sums {
            reference_sq: sum(&self.reference_sq),
            candidate_sq: sum(&self.candidate_sq),
            dot: sum(&self.dot),
            abs_diff_sum: sum(&self.abs_diff_sum),
            max_abs: max(&self.max_abs),
            largest: max(&self.largest),
        }
    }
}

/// `b` when it is larger, else `a` (a NaN `b` is skipped): one `maxpd`, which `f64::max`'s
/// NaN rules are not.
#[inline(always)]
fn larger(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
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

    /// The definitions written out, one element after another, in f64.
    fn naive(reference: &[f32], candidate: &[f32]) -> [f64; 5] {
        let wide = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
        let (r, c) = (wide(reference), wide(candidate));
        let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let max_abs = r
            .iter()
            .zip(&c)
            .map(|(r, c)| (c - r).abs())
            .fold(0.0, f64::max);
        let largest = r.iter().map(|r| r.abs()).fold(0.0, f64::max);
        let dot: f64 = r.iter().zip(&c).map(|(r, c)| r * c).sum();
        let cosine = dot / (norm(&r) * norm(&c));
        [max_abs, max_abs / largest, cosine, norm(&r), norm(&c)]
    }

    /// The default network's first weight (500 × 784) and a length that leaves a remainder
    /// after the lanes, against [`naive`]: the maxima are exact, the sums are added in
    /// another order, so they agree to f64 rounding: worst measured relative 6.8e-14 (the
    /// cosine), about √n·ε for n = 392 000 terms; the bound 1e-12 leaves 15×.
    #[test]
    fn large_tensors_agree_with_the_definitions() {
        for len in [500 * 784, 1003] {
            let reference: Vec<f32> = (0..len).map(|i| (i as f32 * 0.618).sin() * 1e-2).collect();
            let candidate: Vec<f32> = reference
                .iter()
                .enumerate()
                .map(|(i, r)| r + (i as f32 * 1.7).cos() * 1e-8)
                .collect();
            let d = Difference::between(&reference, &candidate);
            testkit::assert_close(
                &format!("length {len}: max_abs, max_rel, cosine, norms"),
                &[
                    d.max_abs,
                    d.max_rel,
                    d.cosine,
                    d.reference_norm,
                    d.candidate_norm,
                ],
                &naive(&reference, &candidate),
                1e-12,
                0.0,
            );
        }
    }

    /// A NaN in the lanes' part or in the remainder, in either tensor, and infinities of the
    /// same sign (whose difference is NaN).
    #[test]
    fn a_nan_anywhere_is_infinitely_apart() {
        let clean = vec![1.0_f32; 19];
        for at in [0, 7, 8, 15, 16, 18] {
            let mut dirty = clean.clone();
            dirty[at] = f32::NAN;
            for (r, c) in [(&clean, &dirty), (&dirty, &clean)] {
                let d = Difference::between(r, c);
                assert!(
                    d.max_abs.is_infinite() && d.max_rel.is_infinite(),
                    "at {at}: {d:?}"
                );
            }
        }
        let mut infinite = clean.clone();
        infinite[17] = f32::INFINITY;
        let d = Difference::between(&infinite, &infinite);
        assert!(d.max_abs.is_infinite(), "{d:?}");
    }
}
