//! The machine's floor for a training step: its FMA throughput and its memory bandwidth,
//! measured here on the bench's threads, and what a step of the network must at least do
//! (its FLOPs, the bytes it must move) to turn them into a time.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// How long each measurement runs (best of three such runs is kept).
const MEASURE: Duration = Duration::from_millis(40);

/// What one training step of a network must compute and move, for `m` images.
#[derive(Debug, Clone, Copy)]
pub struct StepCost {
    /// Floating-point operations of the matrix products: the forward and weight-gradient
    /// products of every layer and the backward products of all but the first (the images'
    /// gradient is not needed); an FMA counts as two.
    pub flops: f64,
    /// Bytes that must cross between the cores and the cache or memory holding them: the
    /// parameters read forward, read again by the backward products (all but the first
    /// layer), read and written by the update; the images read twice (forward, weight
    /// gradient); each activation written forward and read twice backward, and each delta
    /// written once and read once.
    pub bytes: f64,
    /// Bytes the step touches: parameters, images, activations and deltas.
    pub working_set: f64,
}

impl StepCost {
    /// The cost of a step of the dense network of widths `sizes` (input first) on `m` images.
    pub fn new(sizes: &[usize], m: usize) -> StepCost {
        let layers: Vec<(usize, usize)> = sizes.windows(2).map(|w| (w[0], w[1])).collect();
        let macs: usize = layers.iter().map(|(i, o)| i * o).sum();
        let backward_macs: usize = layers[1..].iter().map(|(i, o)| i * o).sum();
        let params: usize = layers.iter().map(|(i, o)| i * o + o).sum();
        let backward_params: usize = layers[1..].iter().map(|(i, o)| i * o + o).sum();
        let activations: usize = sizes[1..].iter().sum();
        let (m, f32_bytes) = (m as f64, 4.0);
        StepCost {
            flops: 2.0 * m * (2 * macs + backward_macs) as f64,
            bytes: f32_bytes
                * ((3 * params + backward_params) as f64
                    + m * (2 * sizes[0] + 5 * activations) as f64),
            working_set: f32_bytes * (params as f64 + m * (sizes[0] + 2 * activations) as f64),
        }
    }
}

/// Floating-point operations per second that `threads` threads reach together with fused
/// multiply-adds on operands held in registers (independent chains, enough to fill every FMA
/// pipe): the most any matrix product can reach on them, so the floor it gives is a true lower
/// bound. AVX-512 where the CPU has it, else AVX2 with FMA, else whatever the compiler makes
/// of plain code.
pub fn fma_peak(threads: usize) -> f64 {
    best_of_three(threads, |reps| fma_chains(reps) as f64)
}

/// Bytes per second that `threads` threads move together streaming `w −= 0.5·g` (two reads
/// and one write per element, as the SGD update does) over `bytes` bytes split among them,
/// again and again: the bandwidth of whichever cache level or memory holds that working set.
pub fn bandwidth(threads: usize, bytes: f64) -> f64 {
    let elements = ((bytes / 8.0) as usize / threads).max(1024);
    let mut buffers: Vec<(Vec<f32>, Vec<f32>)> = (0..threads)
        .map(|_| (vec![1.0; elements], vec![1e-30; elements]))
        .collect();
    best_of_three_with(&mut buffers, |(w, g), reps| {
        for _ in 0..reps {
            stream(w, g);
            black_box(&mut *w);
        }
        (reps * elements * 12) as f64
    })
}

/// The best rate of three runs of `work` (which returns what it did) on `threads` threads,
/// each run sized to take about [`MEASURE`].
fn best_of_three(threads: usize, work: impl Fn(usize) -> f64 + Sync) -> f64 {
    let mut state = vec![(); threads];
    best_of_three_with(&mut state, |(), reps| work(reps))
}

/// [`best_of_three`] with a state of its own for each thread (`state.len()` threads).
fn best_of_three_with<S: Send>(state: &mut [S], work: impl Fn(&mut S, usize) -> f64 + Sync) -> f64 {
    // Calibrate on one thread: repetitions that take about MEASURE.
    let mut reps = 1;
    loop {
        let start = Instant::now();
        work(&mut state[0], reps);
        if start.elapsed() >= MEASURE / 4 {
            break;
        }
        reps *= 2;
    }
    reps *= 4;
    (0..3)
        .map(|_| {
            let start = Instant::now();
            let done: f64 = std::thread::scope(|scope| {
                let handles: Vec<_> = state
                    .iter_mut()
                    .map(|s| scope.spawn(|| work(s, reps)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("a bench thread"))
                    .sum()
            });
            done / start.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max)
}

/// `w −= 0.5·g`, vectorised for the widest instruction set the CPU has.
fn stream(w: &mut [f32], g: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        #[target_feature(enable = "avx2")]
        fn avx2(w: &mut [f32], g: &[f32]) {
            plain_stream(w, g)
        }
        // SAFETY: AVX2 was detected.
        return unsafe { avx2(w, g) };
    }
    plain_stream(w, g)
}

#[inline(always)]
fn plain_stream(w: &mut [f32], g: &[f32]) {
    for (w, g) in w.iter_mut().zip(g) {
        *w -= 0.5 * g;
    }
}

/// `reps` rounds of independent FMA chains; returns the floating-point operations done.
fn fma_chains(reps: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: AVX-512F was detected.
            return unsafe { x86::avx512(reps) };
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: AVX2 and FMA were detected.
            return unsafe { x86::avx2(reps) };
        }
    }
    let mut acc = [1.0f32; 32];
    for _ in 0..reps {
        for a in &mut acc {
            *a = a.mul_add(0.999_999, 1e-7);
        }
    }
    black_box(acc);
    reps * 32 * 2
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;
    use std::hint::black_box;

    /// Chains per vector width: enough to cover the FMA latency (4–5 cycles) on two pipes.
    const CHAINS: usize = 12;

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn avx2(reps: usize) -> usize {
        let (a, b) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
        let mut acc = [_mm256_set1_ps(1.0); CHAINS];
        for _ in 0..reps {
            for x in &mut acc {
                *x = _mm256_fmadd_ps(*x, a, b);
            }
        }
        black_box(acc);
        reps * CHAINS * 8 * 2
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn avx512(reps: usize) -> usize {
        let (a, b) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
        let mut acc = [_mm512_set1_ps(1.0); 2 * CHAINS];
        for _ in 0..reps {
            for x in &mut acc {
                *x = _mm512_fmadd_ps(*x, a, b);
            }
        }
        black_box(acc);
        reps * 2 * CHAINS * 16 * 2
    }
}
