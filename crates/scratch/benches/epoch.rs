//! The SGD epoch of every engine this CPU runs, next to libtorch's on the same threads, as
//! ratios: the default network (784-500-250-100-10, ReLU, batch 64) on 60 000 images of
//! MNIST's shape (uniform random pixels and labels: the products cost the same whatever the
//! pixels are). Run with `cargo bench -p scratch`; `-- 1` runs on one thread instead of all.
//!
//! scratch: the median of five epochs after a warm-up one. libtorch: `benches/torch_epoch.py`
//! run by the PyTorch 2.13 that `scripts/setup` installs (or `$TORCH_PYTHON`), the median of
//! its three epochs after a warm-up, one process at a time (never beside scratch's threads).
//! For the AVX2 row libtorch is limited to AVX2 as well (`ATEN_CPU_CAPABILITY=avx2`,
//! `MKL_ENABLE_INSTRUCTIONS=AVX2`), so that both sides use the same instructions.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use contract::{Batch, Trainer};
use ndarray::s;
use scratch::{set_threads, Engine, Mlp};

#[path = "shared/workload.rs"]
mod workload;

const IMAGES: usize = 60_000;
const BATCH: usize = 64;
const EPOCHS: usize = 5;

fn main() {
    let threads = match std::env::args().skip(1).find(|a| !a.starts_with("--")) {
        Some(n) => n.parse().expect("the argument is a thread count"),
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let (images, labels) = workload::random_images(IMAGES);
    let config = workload::sgd_config();
    println!(
        "SGD epoch of 784-500-250-100-10, batch {BATCH}, {IMAGES} images, {threads} threads \
         (scratch: median of {EPOCHS}; libtorch 2.13: median of 3)"
    );
    println!(
        "{:<10} {:>10} {:>11} {:>15} {:>8}",
        "engine", "scratch s", "libtorch s", "libtorch uses", "ratio"
    );
    set_threads(threads);
    for engine in Engine::CONCRETE {
        let Ok(mut mlp) = Mlp::new(&config, 1).with_engine(engine) else {
            println!("{engine:<10} SKIPPED: this CPU cannot run it");
            continue;
        };
        let mut epoch = || {
            let start = Instant::now();
            for first in (0..IMAGES).step_by(BATCH) {
                let rows = first..(first + BATCH).min(IMAGES);
                let loss = mlp.train_step(&Batch {
                    images: images.slice(s![rows.clone(), ..]),
                    labels: labels.slice(s![rows]),
                });
                assert!(loss.is_finite());
            }
            start.elapsed().as_secs_f64()
        };
        epoch();
        let scratch = median((0..EPOCHS).map(|_| epoch()).collect());
        let limit = (engine == Engine::Avx2).then_some("AVX2");
        // The scratch figure first: libtorch's epochs take a while.
        print!("{engine:<10} {scratch:>10.3}");
        std::io::stdout().flush().expect("stdout");
        match torch_epoch(threads, limit) {
            Ok(torch) => println!(
                " {torch:>11.3} {:>15} {:>8.2}",
                limit.unwrap_or("its best"),
                scratch / torch
            ),
            Err(why) => println!("  libtorch SKIPPED: {why}"),
        }
    }
    set_threads(0);
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// libtorch's SGD epoch on `threads` threads, limited to the instruction set `limit` if any.
fn torch_epoch(threads: usize, limit: Option<&str>) -> Result<f64, String> {
    let python = std::env::var_os("TORCH_PYTHON").map_or_else(
        || {
            let home = std::env::var_os("HOME").unwrap_or_default();
            PathBuf::from(home).join(".cache/mnist-scratch-vs-torch/torch-2.13.0/bin/python")
        },
        PathBuf::from,
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/torch_epoch.py");
    let mut command = Command::new(&python);
    command.args([script, &threads.to_string(), "sgd"]);
    if let Some(limit) = limit {
        command
            .env("ATEN_CPU_CAPABILITY", limit.to_lowercase())
            .env("MKL_ENABLE_INSTRUCTIONS", limit);
    }
    let output = command
        .output()
        .map_err(|e| format!("cannot run {} ({e}); set TORCH_PYTHON", python.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} failed: {}",
            python.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    // Lines such as "torch sgd threads=2 epoch 1.234 s".
    let times: Vec<f64> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            line.split(" epoch ")
                .nth(1)?
                .trim_end_matches(" s")
                .parse()
                .ok()
        })
        .collect();
    if times.is_empty() {
        return Err("torch_epoch.py printed no epoch times".into());
    }
    Ok(median(times))
}
