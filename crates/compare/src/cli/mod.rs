//! Command-line flags; `into_config.rs` turns each job's flags into its plain configuration
//! (`config.rs`) in one step, refusing values that make no run.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use sweep::{SeedSpec, ShardSpec};

use crate::config::{Engine, Model, Optimizer};
use crate::parity_checks::ParityChecks;

/// Returns a [`BadFlag`](crate::bad_flag::BadFlag) error with the formatted message.
macro_rules! refuse {
    ($($message:tt)*) => {
        return Err($crate::bad_flag::BadFlag(format!($($message)*)))
    };
}

mod into_config;

/// Trains a hand-written MLP ("scratch": fused kernels; "scratch-textbook": the same on plain
/// ndarray) and the same MLP in libtorch ("torchref") on identical MNIST batches and reports
/// loss, accuracy and time side by side.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
    /// Keep subnormal floats (IEEE 754, PyTorch's default) instead of flushing them to zero
    /// on every thread of both models; much slower for Adam on Intel CPUs.
    #[arg(long, global = true)]
    pub keep_subnormals: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find, download if missing, and verify the dataset's four files, then print where they
    /// are and its classes.
    Data(DataArgs),
    /// Reproduce the assignment's five experiments and write table.csv beside their reports
    /// (scratch sigmoid/tanh/ReLU with SGD, torch ReLU with Adam, scratch ReLU SGD with L2 0.8);
    /// with --seeds, each as mean ± sd and 95% interval, and whether the assignment's figure
    /// falls inside.
    Table(CommonArgs),
    /// Step-by-step gradient parity (teacher forcing): at each of --steps steps both models
    /// get libtorch's current parameters and the same batch, and every layer's weight and bias
    /// gradients are compared (parity.csv, parity.svg); libtorch's optimiser then advances the
    /// trajectory. Each tensor's error is measured against libtorch's own: its distance from
    /// the same step in float64, over libtorch's float32 distance from it. Exits with code 3
    /// when a gradient, the loss or an optimiser step (those --check names) is more than
    /// --bound times as far; with 1 when the candidate fails, after reporting the steps before.
    Parity(ParityArgs),
    /// Pool seed folders from any number of shards or machines (`compare --seeds ... --shard
    /// I/N --out DIR`) into one report over the seeds: seeds.csv, stats.csv, the equivalence
    /// verdict, accuracy_over_seeds.svg, report.html, and the gate with its exit code. Refuses
    /// folders made with other settings, and one seed found with two different results.
    Aggregate(AggregateArgs),
}

/// What to pool, and the gate over the pooled seeds.
#[derive(Debug, Clone, Args)]
pub struct AggregateArgs {
    /// Seed folders (seed-N) or folders holding them, in any order.
    #[arg(required = true, value_name = "DIR")]
    pub folders: Vec<PathBuf>,
    /// The seeds that must all be there (an error names those missing): a count from --seed,
    /// A..B (B excluded), a list, or a mix; seeds outside it are left out.
    #[arg(long, value_name = "SEEDS")]
    pub expect: Option<SeedSpec>,
    /// Where a count in --expect starts.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[command(flatten)]
    pub gate: GateArgs,
    /// Folder under which the pooled report gets a new subfolder (never overwritten).
    #[arg(long, default_value = "results", value_name = "DIR")]
    pub out: PathBuf,
    /// Also write the gates as JUnit XML to FILE, for CI: one test case per gate.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// Everything that defines a parity check.
#[derive(Debug, Clone, Args)]
pub struct ParityArgs {
    #[command(flatten)]
    pub network: NetworkArgs,
    /// Optimiser of the libtorch model, whose updates set the parameters of every step.
    #[arg(long, value_enum, default_value_t = Optimizer::Adam)]
    pub optimizer: Optimizer,
    /// The model checked against libtorch, one of the hand-written engines.
    #[arg(long, value_enum, default_value_t = Model::Scratch)]
    pub candidate: Model,
    /// Check instead an external program that speaks docs/candidate-protocol.md over its
    /// stdin and stdout, started once by `sh -c 'CMD'`.
    #[arg(long, value_name = "CMD", conflicts_with_all = ["candidate", "candidate_python"])]
    pub candidate_cmd: Option<String>,
    /// Check instead a NumPy model: FILE.py defines loss_and_grads(params, x, y) (and
    /// optionally update(params, grads, state, config)), run by the NumPy adapter under the
    /// Python of the venv scripts/setup keeps.
    #[arg(long, value_name = "FILE.py", conflicts_with = "candidate")]
    pub candidate_python: Option<PathBuf>,
    /// Seconds an external candidate may take for one answer before it is stopped.
    #[arg(long, value_name = "SECONDS", default_value_t = candidate::DEFAULT_TIMEOUT.as_secs_f64())]
    pub candidate_timeout: f64,
    /// Check the candidate's optimiser step too: from the same parameters, gradient and Adam
    /// state as libtorch's, its parameters out are judged at --bound. On by default when the
    /// candidate has an update rule (scratch and scratch-textbook do); --check-update=false
    /// turns it off, --check-update requires it.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub check_update: Option<bool>,
    /// Steps to compare (they run on into further epochs if needed; --epochs is not used).
    /// Unless a step reaches an epoch's last batch, the last step takes that batch (smaller
    /// when the training set is not a multiple of --batch-size).
    #[arg(long, default_value_t = 200)]
    pub steps: usize,
    /// Keep the last step on the next batch in order instead of the epoch's last one.
    #[arg(long)]
    pub no_short_batch: bool,
    /// Largest error ratio allowed: how many times libtorch's own float32 error (its
    /// distance from the same computation in float64) a tensor's gradient, the loss or the
    /// parameters after the optimiser step may be from the exact value. The default was the
    /// worst a correct float32 candidate reached, with room to spare, over
    /// scripts/parity-matrix; what it still catches is printed with the verdict and listed in
    /// crates/parity/README.md.
    #[arg(long, default_value_t = parity::DEFAULT_MAX_RATIO, allow_negative_numbers = true)]
    pub bound: f64,
    /// Which parts of a step decide the exit code, comma-separated: gradients, update (the
    /// parameters after the optimiser step), loss. Each part gets its own verdict line
    /// whatever this says; `--check gradients,update` passes a model whose loss alone is
    /// computed another way (such as from clipped probabilities).
    #[arg(long, value_name = "PARTS", default_value_t = ParityChecks::default())]
    pub check: ParityChecks,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Which dataset: MNIST's handwritten digits, Zalando's Fashion-MNIST clothes, or
    /// Kuzushiji-MNIST's cursive hiragana (all 28×28, ten classes, 60 000 + 10 000 images).
    #[arg(long, value_enum, default_value_t = DatasetArg::Mnist)]
    pub dataset: DatasetArg,
    // The placeholder <dataset> is help text for the terminal, not HTML.
    #[allow(rustdoc::invalid_html_tags)]
    /// Folder holding the dataset's four IDX files (raw or .gz) [default: for mnist
    /// $MNIST_DIR, else ~/.cache/mnist-scratch-vs-torch/<dataset>]; missing files are
    /// downloaded there.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Accept IDX files that are not the dataset's published ones (any 28×28, 10-class
    /// dataset in the same format); missing files are then not downloaded.
    #[arg(long, alias = "no-mnist-checksums")]
    pub no_checksums: bool,
    /// Never download: fail with instructions if the files are not in the data folder.
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DatasetArg {
    Mnist,
    FashionMnist,
    Kmnist,
}

impl From<DatasetArg> for mnist::DatasetName {
    fn from(d: DatasetArg) -> Self {
        match d {
            DatasetArg::Mnist => mnist::DatasetName::Mnist,
            DatasetArg::FashionMnist => mnist::DatasetName::FashionMnist,
            DatasetArg::Kmnist => mnist::DatasetName::Kmnist,
        }
    }
}

/// The network both models share.
#[derive(Debug, Clone, Args)]
pub struct NetworkArgs {
    /// Hidden-layer activation of both models.
    #[arg(long, value_enum, default_value_t = ActivationArg::Relu)]
    pub activation: ActivationArg,
    /// Hidden-layer widths, comma-separated (input 784 and output 10 are fixed).
    #[arg(long, value_delimiter = ',', default_value = "500,250,100")]
    pub hidden: Vec<usize>,
    /// L2 strength λ (cost + λ/(2m)·Σ‖W‖², m the batch size; biases not regularised); 0 = off.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub l2: f32,
}

/// Everything that defines a comparison run.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub network: NetworkArgs,
    /// Optimiser of the scratch model.
    #[arg(long, value_enum, default_value_t = Optimizer::Sgd)]
    pub scratch_optimizer: Optimizer,
    /// Optimiser of the torch model.
    #[arg(long, value_enum, default_value_t = Optimizer::Adam)]
    pub torch_optimizer: Optimizer,
    /// Which models to train, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "scratch,torchref"
    )]
    pub models: Vec<Model>,
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// The parity gate, and the equivalence test over seeds.
#[derive(Debug, Clone, Args)]
pub struct GateArgs {
    /// Parity gate: exit with code 3 if the final test accuracies of the two models differ by
    /// more than this many percentage points. Over seeds: unless the whole 95% confidence
    /// interval of the paired difference (scratch − torchref) lies within ±POINTS.
    #[arg(long, value_name = "POINTS", allow_negative_numbers = true)]
    pub max_accuracy_gap: Option<f64>,
    /// Parity gate: exit with code 3 if any model's final test accuracy is below this percent.
    /// Over seeds: if any model's mean final test accuracy over the seeds is below it.
    #[arg(long, value_name = "PERCENT", allow_negative_numbers = true)]
    pub min_accuracy: Option<f64>,
    /// Over seeds: the margin of the equivalence test (two one-sided t tests at 5%) on the
    /// paired difference of final test accuracy, scratch − torchref.
    #[arg(
        long,
        default_value_t = 0.5,
        value_name = "POINTS",
        allow_negative_numbers = true
    )]
    pub equivalence_margin: f64,
    /// Over seeds: exit with code 3 also unless the equivalence test finds the paired
    /// difference (scratch − torchref) equivalent within ±--equivalence-margin.
    #[arg(long)]
    pub require_equivalence: bool,
}

/// Settings shared by a comparison run and the assignment's table.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Passes over the training set.
    #[arg(long, default_value_t = 15)]
    pub epochs: usize,
    /// Images per training step.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Learning rate of every optimiser.
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true)]
    pub lr: f32,
    /// Adam's β1 (torch.optim.Adam's `betas[0]`), the first moment's decay, for every Adam
    /// optimiser; sent to an external candidate in the hello and with every update request.
    #[arg(
        long,
        value_name = "BETA1",
        default_value_t = 0.9,
        allow_negative_numbers = true
    )]
    pub adam_beta1: f32,
    /// Adam's β2 (torch.optim.Adam's `betas[1]`), the second moment's decay.
    #[arg(
        long,
        value_name = "BETA2",
        default_value_t = 0.999,
        allow_negative_numbers = true
    )]
    pub adam_beta2: f32,
    /// Adam's ε, added to √v̂ (torch.optim.Adam's eps; Keras and some books use 1e-7).
    #[arg(
        long,
        value_name = "EPS",
        default_value_t = 1e-8,
        allow_negative_numbers = true
    )]
    pub adam_eps: f32,
    /// Seed of the shared initial weights and of --shuffle.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Run everything once per seed, one seed after the other, and report mean, spread and 95%
    /// confidence intervals: a count N (seeds --seed, --seed + 1, …), a range A..B (B
    /// excluded), a comma-separated list, or a mix (0..10,20); two seeds or more, unless
    /// --shard. Within a seed all models share the initial weights and the batch order. Use
    /// with --shuffle.
    #[arg(long, value_name = "N|A..B|LIST")]
    pub seeds: Option<SeedSpec>,
    /// With --seeds: run only this shard's seeds (those at positions I, I+N, I+2N, … of the
    /// list), directly into --out, skipping seeds already complete there; `slurm` takes I and
    /// N from the array job's SLURM_ARRAY_TASK_* variables. Pool the shards with `compare
    /// aggregate`.
    #[arg(long, value_name = "I/N|slurm")]
    pub shard: Option<ShardSpec>,
    /// With --seeds: write the seeds directly into --out rather than a new folder under it,
    /// and skip those already complete there with the same settings (a stopped sweep goes on
    /// where it stopped).
    #[arg(long)]
    pub resume: bool,
    /// Shuffle the training set every epoch (seeded); default is the assignment's fixed order.
    /// Recommended with --seeds: without it the seeds vary only the initial weights.
    #[arg(long)]
    pub shuffle: bool,
    /// Drop the last, smaller batch of each epoch (60000 / 64 leaves one of 32).
    #[arg(long)]
    pub drop_last: bool,
    /// Threads for each model (at most 255); the models run one after the other, so each
    /// gets all of them. `compare parity` with an external candidate gives libtorch one
    /// thread, whatever this says: the candidate and libtorch compute at the same time.
    #[arg(long, default_value_t = default_threads())]
    pub threads: usize,
    /// Device of the torch model: cpu, cuda or cuda:N (the scratch model always runs on CPU).
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Engine of the scratch model: the fastest this CPU has, the textbook one (plain
    /// ndarray, any CPU), or the fused kernels for AVX2 or AVX-512 (an error if the CPU lacks
    /// them). run.json records the engine that ran.
    #[arg(long, value_enum, default_value_t = Engine::Auto)]
    pub scratch_engine: Engine,
    #[command(flatten)]
    pub data: DataArgs,
    /// Folder under which each run gets a new subfolder of reports (never overwritten); with
    /// --shard or --resume, the folder the seed folders go in.
    #[arg(long, default_value = "results", value_name = "DIR")]
    pub out: PathBuf,
    /// Train on the first N training images only (a quick run); the test set stays whole.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Without a terminal, print a progress line every N steps (and one per epoch).
    #[arg(long, default_value_t = 200, value_name = "STEPS")]
    pub log_every: usize,
    /// Skip each epoch's accuracy over the whole training set: a forward pass over 60 000
    /// images per model, about a third of an epoch's training. epochs.csv leaves
    /// train_accuracy_percent empty and accuracy.svg draws test accuracy only; the gates and
    /// statistics, which read test accuracy, are unchanged. For CI gates.
    #[arg(long)]
    pub no_train_accuracy: bool,
    /// Also write the gates as JUnit XML to FILE, for CI: one test case per gate
    /// (--min-accuracy, --max-accuracy-gap, --require-equivalence), per layer and tensor with
    /// `parity`, per experiment with `table`.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ActivationArg {
    Sigmoid,
    Tanh,
    Relu,
}

impl From<ActivationArg> for contract::Activation {
    fn from(a: ActivationArg) -> Self {
        match a {
            ActivationArg::Sigmoid => contract::Activation::Sigmoid,
            ActivationArg::Tanh => contract::Activation::Tanh,
            ActivationArg::Relu => contract::Activation::Relu,
        }
    }
}
