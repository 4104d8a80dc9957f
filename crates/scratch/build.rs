//! Decides which hand-written kernel sets this build's tests check: those the CPU has, less
//! any that `SCRATCH_TEST_DISABLE` names (a comma-separated list of `avx2`, `avx512`, to see
//! on this machine what a CPU without them reports). For each set kept it sets
//! `cfg(test_avx2)` or `cfg(test_avx512)`; the tests of a set without it are marked
//! `#[ignore]`, so `cargo test` counts them as ignored, never as passed.
//!
//! `cargo test` runs the tests on the machine that builds them, so the CPU found here is the
//! one they run on. A build copied to another CPU is caught by the test
//! `engine::tests::the_kernel_sets_under_test_are_those_this_cpu_runs`.
//!
//! It also embeds libtorch's `lib` folder as rpath in the benchmarks only (the sweep times
//! libtorch's step through `torchref`, a dev-dependency), so that `cargo bench` runs them
//! without `LD_LIBRARY_PATH`. The library itself links no libtorch.

use std::path::Path;
use std::process::ExitCode;

/// A kernel set whose tests this build may run.
struct KernelSet {
    /// As `Engine::name` spells it.
    name: &'static str,
    /// The cfg its tests are run under.
    cfg: &'static str,
    /// Whether this CPU has what it needs (the detection of `src/fused/kernels/avx2.rs` and
    /// `avx512.rs`).
    detected: fn() -> bool,
}

const SETS: [KernelSet; 2] = [
    KernelSet {
        name: "avx2",
        cfg: "test_avx2",
        detected: has_avx2_and_fma,
    },
    KernelSet {
        name: "avx512",
        cfg: "test_avx512",
        detected: has_avx512f,
    },
];

const DISABLE: &str = "SCRATCH_TEST_DISABLE";

fn main() -> ExitCode {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed={DISABLE}");
    println!("cargo::rerun-if-env-changed=LIBTORCH");
    if let Some(root) = std::env::var_os("LIBTORCH") {
        let lib = Path::new(&root).join("lib");
        println!("cargo::rustc-link-arg-benches=-Wl,-rpath,{}", lib.display());
    }
    let disabled = std::env::var(DISABLE).unwrap_or_default();
    let disabled: Vec<&str> = disabled
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .collect();
    if let Some(unknown) = disabled
        .iter()
        .find(|name| !SETS.iter().any(|set| set.name == **name))
    {
        eprintln!("{DISABLE}: unknown kernel set {unknown:?}: expected a comma-separated list of avx2, avx512");
        return ExitCode::FAILURE;
    }
    // The tests run where they are built only if the build is not a cross-compilation.
    let native = std::env::var("HOST").ok() == std::env::var("TARGET").ok();
    for set in SETS {
        println!("cargo::rustc-check-cfg=cfg({})", set.cfg);
        if native && (set.detected)() && !disabled.contains(&set.name) {
            println!("cargo::rustc-cfg={}", set.cfg);
        }
    }
    // For the test that checks this script's decision against the CPU the tests run on.
    println!("cargo::rustc-env={DISABLE}_AT_BUILD={}", disabled.join(","));
    ExitCode::SUCCESS
}

#[cfg(target_arch = "x86_64")]
fn has_avx2_and_fma() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
}

#[cfg(target_arch = "x86_64")]
fn has_avx512f() -> bool {
    is_x86_feature_detected!("avx512f")
}

#[cfg(not(target_arch = "x86_64"))]
fn has_avx2_and_fma() -> bool {
    false
}

#[cfg(not(target_arch = "x86_64"))]
fn has_avx512f() -> bool {
    false
}
