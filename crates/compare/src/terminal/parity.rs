//! `compare parity`'s output: the worst gradient difference per layer and the verdict.

use crate::gate::ParityVerdict;

/// What `compare parity` found: per layer the worst relative difference (`layers`: name and
/// (step, difference) points), the kinks, and the verdict against the bound.
pub fn print_parity(
    layers: &[(String, Vec<(f64, f64)>)],
    verdict: &ParityVerdict,
    candidate: &str,
) {
    println!();
    println!("worst gradient difference per layer over {} steps, relative to the tensor's largest |gradient|:", verdict.steps_compared);
    for (name, points) in layers {
        let (step, worst) = worst_point(points);
        println!("  {name}: {worst:.2e} (step {step:.0})");
    }
    for line in verdict.kinks.lines() {
        println!("{line}");
    }
    if let Some(worst) = verdict.worst_update_max_rel_diff {
        println!("worst parameter difference after the optimiser step: {worst:.2e} of the tensor's largest |parameter|");
    }
    for line in verdict.lines(candidate) {
        println!("{line}");
    }
}

/// The (step, difference) point of a layer's largest difference.
pub(super) fn worst_point(points: &[(f64, f64)]) -> (f64, f64) {
    (points.iter().copied()).fold((0.0, 0.0), |best, p| if p.1 > best.1 { p } else { best })
}
