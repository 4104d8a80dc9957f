//! Milliseconds per SGD training step of the default network (784-500-250-100-10, ReLU,
//! lr 0.01) against batch size, 1 to 1024, on 1 and 2 threads: the fused engine (the kernel
//! set `Engine::Auto` picks), the textbook engine, and libtorch through `torchref` (the
//! reference `compare` trains, libtorch's own SGD, on the same threads), beside the machine's
//! floor for that step: the larger of its FLOPs at the FMA peak and its memory traffic at the
//! bandwidth measured for its working set (`sweep/floor.rs`). All measured in this one
//! process.
//!
//! Run with `cargo bench -p scratch --bench sweep [-- FOLDER]`; it writes `sweep.csv` and
//! `sweep.svg` to FOLDER, else `$SCRATCH_SWEEP_OUT`, else `target/sweep/`.
//!
//! Timing: the three engines take turns, in blocks of steps (at least 3, about 25 ms), nine
//! blocks each per cell, in a rotating order and with a pause between blocks so that neither
//! engine's spinning threads (scratch's pool, libtorch's OpenMP) linger into another's block.
//! Each step is timed: a cell gives each engine's fastest step and its median step. The ratios
//! are of fastest steps: the floor is a best case (the best of three measurements of the peak
//! and of the bandwidth), so the engines are measured at their best too. On a shared machine
//! the median also measures the neighbours: on this project's 2-core VM (AMD EPYC, Zen 3),
//! 300 steps at batch 64 on one thread had a fastest step of 2.05 ms and a median of 2.9 to
//! 3.5 ms with nothing else running. (Batches 128 and 512 still come out 13-19% slower per
//! image than 256 and 1024 here, fastest steps too, where `examples/steps.rs` has the fused
//! engine at 32-35 µs an image from 64 to 1024; the cause is not known.) Pixels and labels
//! are uniform random (the arithmetic is the same whatever the pixels), from a pool of 16 384
//! images that batches walk through.

mod floor;
mod report;
#[path = "../shared/workload.rs"]
mod workload;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use contract::{Batch, Trainer};
use ndarray::s;
use scratch::{Engine, Mlp, Textbook};
use torchref::TorchMlp;

use floor::StepCost;
use report::Cell;

const BATCHES: [usize; 11] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
const THREADS: [usize; 2] = [1, 2];
const POOL: usize = 16_384;
const BLOCKS: usize = 9;
const BLOCK_TIME: Duration = Duration::from_millis(25);
const MIN_STEPS: usize = 3;
/// Between blocks: longer than libtorch's OpenMP threads and scratch's workers spin.
const PAUSE: Duration = Duration::from_millis(5);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let folder = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("SCRATCH_SWEEP_OUT").map(PathBuf::from))
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/sweep"))
        });
    std::fs::create_dir_all(&folder)?;
    let config = workload::sgd_config();
    let sizes = config.layer_sizes();
    let (images, labels) = workload::random_images(POOL);
    let start = scratch::Mlp::new(&config, 1).parameters();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let fused_engine = Engine::Auto.resolve()?;
    println!(
        "ms per SGD step of 784-500-250-100-10 (ReLU); fused = {fused_engine}; \
         fastest (and median) step of {BLOCKS} blocks of >= {MIN_STEPS} steps (~{} ms) each",
        BLOCK_TIME.as_millis()
    );
    println!(
        "{:>5} {:>3} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>9} {:>8} {:>6} {:>9} {:>9}",
        "batch",
        "thr",
        "fused",
        "textbook",
        "libtorch",
        "floor",
        "f/torch",
        "f/floor",
        "f median",
        "f/t med",
        "f thr",
        "GFLOP/s",
        "GB/s"
    );
    let mut cells = Vec::new();
    for threads in THREADS.into_iter().filter(|&t| t <= cpus) {
        scratch::set_threads(threads);
        torchref::set_threads(threads);
        let peak = floor::fma_peak(threads);
        for m in BATCHES {
            // Every cell starts from the same weights, so that none trains for long.
            let mut fused = Mlp::from_parameters(&config, &start).with_engine(fused_engine)?;
            let mut textbook = Textbook::<f32>::from_parameters(&config, &start);
            let mut torch = TorchMlp::from_parameters(&config, &start, torchref::Device::Cpu)?;
            let batch_at = |k: usize| {
                let first = k * m % (POOL - m + 1);
                Batch {
                    images: images.slice(s![first..first + m, ..]),
                    labels: labels.slice(s![first..first + m]),
                }
            };
            let engines: [&mut dyn Trainer; 3] = [&mut fused, &mut textbook, &mut torch];
            let [fused_time, textbook_time, libtorch_time] = time_steps(engines, &batch_at);
            let cost = StepCost::new(&sizes, m);
            let bandwidth = floor::bandwidth(threads, cost.working_set);
            let flops_floor_ms = cost.flops / peak * 1e3;
            let memory_floor_ms = cost.bytes / bandwidth * 1e3;
            let floor_ms = flops_floor_ms.max(memory_floor_ms);
            let cell = Cell {
                batch: m,
                threads,
                fused_engine: fused_engine.name().to_owned(),
                fused_threads: fused.threads_for_batch(m),
                fused_ms: fused_time.fastest_ms,
                textbook_ms: textbook_time.fastest_ms,
                libtorch_ms: libtorch_time.fastest_ms,
                floor_ms,
                fused_over_libtorch: fused_time.fastest_ms / libtorch_time.fastest_ms,
                fused_over_floor: fused_time.fastest_ms / floor_ms,
                textbook_over_libtorch: textbook_time.fastest_ms / libtorch_time.fastest_ms,
                fused_median_ms: fused_time.median_ms,
                textbook_median_ms: textbook_time.median_ms,
                libtorch_median_ms: libtorch_time.median_ms,
                median_fused_over_libtorch: fused_time.median_ms / libtorch_time.median_ms,
                flops_floor_ms,
                memory_floor_ms,
                mflop: cost.flops / 1e6,
                traffic_mb: cost.bytes / 1e6,
                working_set_mb: cost.working_set / 1e6,
                peak_gflops: peak / 1e9,
                bandwidth_gbs: bandwidth / 1e9,
            };
            println!(
                "{:>5} {:>3} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>8.2} {:>8.2} {:>9.4} {:>8.2} {:>6} {:>9.1} {:>9.1}",
                cell.batch,
                cell.threads,
                cell.fused_ms,
                cell.textbook_ms,
                cell.libtorch_ms,
                cell.floor_ms,
                cell.fused_over_libtorch,
                cell.fused_over_floor,
                cell.fused_median_ms,
                cell.median_fused_over_libtorch,
                cell.fused_threads,
                cell.peak_gflops,
                cell.bandwidth_gbs
            );
            cells.push(cell);
        }
    }
    scratch::set_threads(0);
    let worst = |f: fn(&Cell) -> f64| cells.iter().map(f).fold(0.0, f64::max);
    println!(
        "worst cell (fastest steps): fused / libtorch {:.2}, fused / floor {:.2}, textbook / \
         libtorch {:.2}; fused / libtorch on median steps {:.2}",
        worst(|c| c.fused_over_libtorch),
        worst(|c| c.fused_over_floor),
        worst(|c| c.textbook_over_libtorch),
        worst(|c| c.median_fused_over_libtorch)
    );
    let (csv, svg) = (folder.join("sweep.csv"), folder.join("sweep.svg"));
    report::write_csv(&csv, &cells)?;
    let title = format!(
        "SGD step of 784-500-250-100-10 against batch size: fused ({fused_engine}), textbook, \
         libtorch {}, floor",
        torchref::libtorch_version()
    );
    report::write_svg(&svg, &cells, &title)?;
    println!("wrote {} and {}", csv.display(), svg.display());
    Ok(())
}

/// One engine's time per step in a cell, over every step of its [`BLOCKS`] blocks.
struct Timing {
    fastest_ms: f64,
    median_ms: f64,
}

/// Milliseconds per training step of each engine on the batches `batch_at(0)`,
/// `batch_at(1)`, ..: the fastest and the median step of [`BLOCKS`] blocks each, the
/// engines taking turns.
fn time_steps<'a, const N: usize>(
    mut engines: [&mut dyn Trainer; N],
    batch_at: &impl Fn(usize) -> Batch<'a>,
) -> [Timing; N] {
    let mut next = 0;
    let mut step = |engine: &mut dyn Trainer| {
        let loss = engine.train_step(&batch_at(next));
        assert!(loss.is_finite(), "{} diverged", engine.name());
        next += 1;
    };
    // Warm-up (buffers sized for this batch), then steps per block from the second step's time.
    let steps: [usize; N] = std::array::from_fn(|e| {
        step(&mut *engines[e]);
        let start = Instant::now();
        step(&mut *engines[e]);
        let once = start.elapsed().as_secs_f64();
        ((BLOCK_TIME.as_secs_f64() / once) as usize).max(MIN_STEPS)
    });
    let mut per_step: Vec<Vec<f64>> = (0..N)
        .map(|e| Vec::with_capacity(BLOCKS * steps[e]))
        .collect();
    for block in 0..BLOCKS {
        for turn in 0..N {
            let e = (block + turn) % N;
            std::thread::sleep(PAUSE);
            for _ in 0..steps[e] {
                let start = Instant::now();
                step(&mut *engines[e]);
                per_step[e].push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    std::array::from_fn(|e| {
        let times = &mut per_step[e];
        times.sort_by(f64::total_cmp);
        Timing {
            fastest_ms: times[0],
            median_ms: times[times.len() / 2],
        }
    })
}
