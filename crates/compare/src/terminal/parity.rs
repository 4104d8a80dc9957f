//! `compare parity`'s output: the worst error ratio per layer, what the check can see, and the
//! verdict against the bound.

use crate::parity_verdict::{times, ParityVerdict};

/// Per layer, the smallest error of its weight's and its bias's gradient (relative to the
/// tensor's norm) that the check caught at every step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SmallestCaught {
    pub weight: f64,
    pub bias: f64,
}

/// What `compare parity` found: per layer the worst error ratio (`layers`: name and (step,
/// ratio) points) and the smallest error it catches (`caught`, one per layer), the kinks, and
/// the verdict against the bound.
pub fn print_parity(
    layers: &[(String, Vec<(f64, f64)>)],
    caught: &[SmallestCaught],
    verdict: &ParityVerdict,
    candidate: &str,
) {
    println!();
    println!(
        "worst gradient error per layer over {} steps, as a multiple of libtorch's own float32 error (each one's distance from the same step in float64), and the smallest error of the whole tensor the check caught at every step:",
        verdict.steps_compared
    );
    for ((name, points), caught) in layers.iter().zip(caught) {
        let (step, worst) = worst_point(points);
        println!(
            "  {name}: {} (step {step:.0}); catches weight errors from {:.1e}, bias errors from {:.1e} of the tensor's norm",
            times(worst),
            caught.weight,
            caught.bias
        );
    }
    println!(
        "worst loss error: {} libtorch's own",
        times(verdict.worst_loss_error_ratio)
    );
    for line in verdict.kinks.lines() {
        println!("{line}");
    }
    if let Some(worst) = verdict.worst_update_error_ratio {
        println!(
            "worst parameter error after the optimiser step: {} libtorch's own",
            times(worst)
        );
    }
    for line in verdict.lines(candidate) {
        println!("{line}");
    }
}

/// The (step, value) point of a layer's largest value.
pub(super) fn worst_point(points: &[(f64, f64)]) -> (f64, f64) {
    (points.iter().copied()).fold((0.0, 0.0), |best, p| if p.1 > best.1 { p } else { best })
}
