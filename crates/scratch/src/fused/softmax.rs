//! Softmax with mean categorical cross-entropy, on logits laid out class-major (one row per
//! class, one column per image), as the network holds them.
//!
//! For image `i` with logits `z` and label `y`: `loss_i = logsumexp(z) − z_y`, computed as
//! `ln Σ_k e^(z_k − max(z)) − (z_y − max(z))`, which cannot overflow and is rounded relative
//! to the shifted logits (adding `max(z)` first would round to its spacing, 1e-6 at 15,
//! most of a confident image's loss); the batch loss is the
//! mean over the `m` images. Its gradient at the logits is `(softmax(z) − onehot(y)) / m`.
//! The assignment summed a binary cross-entropy over the ten outputs instead, and its softmax
//! had no max-subtraction, so large logits overflowed.

/// For each column `i < labels.len()` of `logits` (row `k` holds class `k`'s logits): adds
/// the image's loss to the returned sum and writes `(softmax − onehot) · scale` into `delta`.
/// Columns from `labels.len()` on are padding: their `delta` is zero.
///
/// # Panics
/// If the rows differ in length, there are fewer of them than `labels.len()`, or a label is
/// not below `N`.
pub(crate) fn softmax_cross_entropy<const N: usize>(
    logits: [&[f32]; N],
    labels: &[u8],
    scale: f32,
    mut delta: [&mut [f32]; N],
) -> f64 {
    let cols = logits[0].len();
    assert!(labels.len() <= cols, "more labels than images");
    assert!(
        logits.iter().all(|row| row.len() == cols) && delta.iter().all(|row| row.len() == cols)
    );
    let mut total = 0.0;
    for (i, &label) in labels.iter().enumerate() {
        let label = usize::from(label);
        assert!(label < N, "label {label} is not a class below {N}");
        let max = logits.iter().map(|row| row[i]).fold(logits[0][i], f32::max);
        let mut sum = 0.0;
        for (row, out) in logits.iter().zip(delta.iter_mut()) {
            out[i] = (row[i] - max).exp();
            sum += out[i];
        }
        let log_sum = sum.ln();
        total += f64::from(log_sum - (logits[label][i] - max));
        for (k, out) in delta.iter_mut().enumerate() {
            let onehot = if k == label { 1.0 } else { 0.0 };
            out[i] = (out[i] / sum - onehot) * scale;
        }
    }
    for out in delta.iter_mut() {
        out[labels.len()..].fill(0.0);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use testkit::assert_close;

    fn evaluate(logits: [&[f32]; 3], labels: &[u8], scale: f32) -> (f64, [Vec<f64>; 3]) {
        let cols = logits[0].len();
        let mut delta = [
            vec![f32::NAN; cols],
            vec![f32::NAN; cols],
            vec![f32::NAN; cols],
        ];
        let [d0, d1, d2] = &mut delta;
        let total = softmax_cross_entropy(logits, labels, scale, [d0, d1, d2]);
        (total, delta.map(|d| d.into_iter().map(f64::from).collect()))
    }

    /// Logits (1, 2, 3): logsumexp = 3 + ln(1 + e⁻¹ + e⁻²) = 3.4076059644443806, softmax =
    /// (0.09003057317038046, 0.24472847105479767, 0.6652409557748219). Computed in `f32`: to
    /// within a few of its roundings (2e-7 relative).
    #[test]
    fn small_logits_give_the_hand_computed_loss_and_gradient() {
        let lse = 3.4076059644443806;
        let p = [0.09003057317038046, 0.24472847105479767, 0.6652409557748219];
        // Two images, both with logits (1, 2, 3), labels 0 and 2; a padding column after.
        let logits: [&[f32]; 3] = [&[1.0, 1.0, 7.0], &[2.0, 2.0, 7.0], &[3.0, 3.0, 7.0]];
        let (total, delta) = evaluate(logits, &[0, 2], 0.5);
        let (rtol, atol) = (1e-6, 1e-7);
        assert_close(
            "loss sum",
            &[total],
            &[(lse - 1.0) + (lse - 3.0)],
            rtol,
            0.0,
        );
        assert_close(
            "class 0",
            &delta[0],
            &[(p[0] - 1.0) / 2.0, p[0] / 2.0, 0.0],
            rtol,
            atol,
        );
        assert_close(
            "class 1",
            &delta[1],
            &[p[1] / 2.0, p[1] / 2.0, 0.0],
            rtol,
            atol,
        );
        assert_close(
            "class 2",
            &delta[2],
            &[p[2] / 2.0, (p[2] - 1.0) / 2.0, 0.0],
            rtol,
            atol,
        );
    }

    /// Logits (1000, −1000, 0): e^1000 overflows, but logsumexp = 1000 + ln(1 + e⁻²⁰⁰⁰ +
    /// e⁻¹⁰⁰⁰) = 1000 exactly in floating point, so the losses for labels 0, 1, 2 are 0, 2000,
    /// 1000 and the softmax is (1, 0, 0).
    #[test]
    fn huge_logits_stay_finite_and_exact() {
        let logits: [&[f32]; 3] = [&[1000.0; 3], &[-1000.0; 3], &[0.0; 3]];
        for (label, want) in [(0u8, 0.0), (1, 2000.0), (2, 1000.0)] {
            let mut delta = [[f32::NAN; 3]; 3];
            let [d0, d1, d2] = &mut delta;
            let total = softmax_cross_entropy(
                logits,
                &[label],
                1.0,
                [&mut d0[..], &mut d1[..], &mut d2[..]],
            );
            assert_close(
                &format!("loss for label {label}"),
                &[total],
                &[want],
                0.0,
                0.0,
            );
            let mut onehot = [0.0f32; 3];
            onehot[usize::from(label)] = 1.0;
            let got = [delta[0][0], delta[1][0], delta[2][0]];
            let want = [1.0 - onehot[0], -onehot[1], -onehot[2]];
            assert_close("softmax − onehot", &got, &want, 0.0, 0.0);
        }
    }
}
