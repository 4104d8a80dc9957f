//! Command-line flags. One struct backs the flags and is saved as the `config` of `run.json`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;

/// A command line that asks for something impossible, with the fix: exit code 2, like the
/// errors clap reports itself (unknown flags, values of the wrong type).
#[derive(Debug)]
pub struct BadFlag(pub String);

impl std::fmt::Display for BadFlag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadFlag {}

/// Returns a [`BadFlag`] error with the formatted message.
macro_rules! refuse {
    ($($message:tt)*) => {
        return Err(BadFlag(format!($($message)*)))
    };
}

/// Trains a hand-written MLP ("scratch": fused kernels; "scratch-textbook": the same on plain
/// ndarray) and the same MLP in libtorch ("torchref") on identical MNIST batches and reports
/// loss, accuracy and time side by side.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunConfig,
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
    /// trajectory. Exits with code 3 when a gradient differs by more than --bound.
    Parity(ParityArgs),
}

/// Everything that defines a parity check; saved verbatim in `run.json`.
#[derive(Debug, Clone, Args, Serialize)]
pub struct ParityArgs {
    #[command(flatten)]
    #[serde(flatten)]
    pub network: NetworkArgs,
    /// Optimiser of the libtorch model, whose updates set the parameters of every step.
    #[arg(long, value_enum, default_value_t = OptimizerArg::Adam)]
    pub optimizer: OptimizerArg,
    /// The model checked against libtorch.
    #[arg(long, value_enum, default_value_t = ModelArg::Scratch)]
    pub candidate: ModelArg,
    /// Steps to compare (they run on into further epochs if needed; --epochs is not used).
    #[arg(long, default_value_t = 200)]
    pub steps: usize,
    /// Largest gradient difference allowed, relative to the largest |gradient| of the same
    /// tensor (and the largest relative difference of the loss).
    #[arg(long, default_value_t = parity::DEFAULT_BOUND)]
    pub bound: f64,
    #[command(flatten)]
    #[serde(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Args, Serialize)]
pub struct DataArgs {
    /// Which dataset: MNIST's handwritten digits, Zalando's Fashion-MNIST clothes, or
    /// Kuzushiji-MNIST's cursive hiragana (all 28×28, ten classes, 60 000 + 10 000 images).
    #[arg(long, value_enum, default_value_t = DatasetArg::Mnist)]
    pub dataset: DatasetArg,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
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
#[derive(Debug, Clone, Args, Serialize)]
pub struct NetworkArgs {
    /// Hidden-layer activation of both models.
    #[arg(long, value_enum, default_value_t = ActivationArg::Relu)]
    pub activation: ActivationArg,
    /// Hidden-layer widths, comma-separated (input 784 and output 10 are fixed).
    #[arg(long, value_delimiter = ',', default_value = "500,250,100")]
    pub hidden: Vec<usize>,
    /// L2 strength λ (cost + λ/(2m)·Σ‖W‖², m the batch size; biases not regularised); 0 = off.
    #[arg(long, default_value_t = 0.0)]
    pub l2: f32,
}

/// Everything that defines a comparison run; saved verbatim in `run.json`.
#[derive(Debug, Clone, Args, Serialize)]
pub struct RunConfig {
    #[command(flatten)]
    #[serde(flatten)]
    pub network: NetworkArgs,
    /// Optimiser of the scratch model.
    #[arg(long, value_enum, default_value_t = OptimizerArg::Sgd)]
    pub scratch_optimizer: OptimizerArg,
    /// Optimiser of the torch model.
    #[arg(long, value_enum, default_value_t = OptimizerArg::Adam)]
    pub torch_optimizer: OptimizerArg,
    /// Which models to train, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "scratch,torchref"
    )]
    pub models: Vec<ModelArg>,
    /// Parity gate: exit with code 3 if the final test accuracies of the two models differ by
    /// more than this many percentage points. With --seeds: unless the whole 95% confidence
    /// interval of the paired difference (scratch − torchref) lies within ±POINTS.
    #[arg(long, value_name = "POINTS")]
    pub max_accuracy_gap: Option<f64>,
    /// Parity gate: exit with code 3 if any model's final test accuracy is below this percent.
    /// With --seeds: if any model's mean final test accuracy over the seeds is below it.
    #[arg(long, value_name = "PERCENT")]
    pub min_accuracy: Option<f64>,
    /// With --seeds: the margin of the equivalence test (two one-sided t tests at 5%) on the
    /// paired difference of final test accuracy, scratch − torchref.
    #[arg(long, default_value_t = 0.5, value_name = "POINTS")]
    pub equivalence_margin: f64,
    #[command(flatten)]
    #[serde(flatten)]
    pub common: CommonArgs,
}

/// Settings shared by a comparison run and the assignment's table.
#[derive(Debug, Clone, Args, Serialize)]
pub struct CommonArgs {
    /// Passes over the training set.
    #[arg(long, default_value_t = 15)]
    pub epochs: usize,
    /// Images per training step.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Learning rate of every optimiser.
    #[arg(long, default_value_t = 0.01)]
    pub lr: f32,
    /// Seed of the shared initial weights and of --shuffle.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Run everything once per seed, one seed after the other, and report mean, spread and 95%
    /// confidence intervals: a count N (seeds --seed, --seed + 1, …) or a comma-separated list
    /// of two or more seeds (then --seed is not used). Within a seed all models share the
    /// initial weights and the batch order. Use with --shuffle.
    #[arg(long, value_name = "N|LIST", value_parser = parse_seeds)]
    pub seeds: Option<SeedsArg>,
    /// Shuffle the training set every epoch (seeded); default is the assignment's fixed order.
    /// Recommended with --seeds: without it the seeds vary only the initial weights.
    #[arg(long)]
    pub shuffle: bool,
    /// Drop the last, smaller batch of each epoch (60000 / 64 leaves one of 32).
    #[arg(long)]
    pub drop_last: bool,
    /// Threads for each model (at most 255); the models run one after the other, so each
    /// gets all of them.
    #[arg(long, default_value_t = default_threads())]
    pub threads: usize,
    /// Device of the torch model: cpu, cuda or cuda:N (the scratch model always runs on CPU).
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Engine of the scratch model: the fastest this CPU has, the textbook one (plain
    /// ndarray, any CPU), or the fused kernels for AVX2 or AVX-512 (an error if the CPU lacks
    /// them). run.json records the engine that ran.
    #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
    pub scratch_engine: EngineArg,
    #[command(flatten)]
    #[serde(flatten)]
    pub data: DataArgs,
    /// Folder under which each run gets a new subfolder of reports (never overwritten).
    #[arg(long, default_value = "results", value_name = "DIR")]
    pub out: PathBuf,
    /// Train on the first N training images only (a quick run); the test set stays whole.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Without a terminal, print a progress line every N steps (and one per epoch).
    #[arg(long, default_value_t = 200, value_name = "STEPS")]
    pub log_every: usize,
}

/// `--seeds`: how many seeds, or which.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum SeedsArg {
    Count(u64),
    List(Vec<u64>),
}

fn parse_seeds(text: &str) -> Result<SeedsArg, String> {
    let number = |part: &str| {
        part.trim()
            .parse::<u64>()
            .map_err(|_| format!("'{part}' is not a whole number ≥ 0"))
    };
    if !text.contains(',') {
        return match number(text)? {
            count if count >= 2 => Ok(SeedsArg::Count(count)),
            _ => Err("needs 2 seeds or more for a spread (for a single run use --seed)".into()),
        };
    }
    let seeds = text
        .split(',')
        .map(number)
        .collect::<Result<Vec<u64>, _>>()?;
    if seeds.len() < 2 {
        return Err("a list needs 2 seeds or more".into());
    }
    if let Some(repeated) = seeds
        .iter()
        .enumerate()
        .find_map(|(i, seed)| seeds[..i].contains(seed).then_some(seed))
    {
        return Err(format!("seed {repeated} is listed twice"));
    }
    Ok(SeedsArg::List(seeds))
}

impl SeedsArg {
    /// The seeds to run, in order; `first` is `--seed`, where a count starts.
    pub fn seeds(&self, first: u64) -> Result<Vec<u64>, BadFlag> {
        match self {
            SeedsArg::List(seeds) => Ok(seeds.clone()),
            SeedsArg::Count(count) => (0..*count)
                .map(|i| first.checked_add(i))
                .collect::<Option<Vec<u64>>>()
                .ok_or_else(|| {
                    BadFlag(
                        "--seed plus --seeds passes the largest seed: choose a smaller --seed"
                            .to_owned(),
                    )
                }),
        }
    }
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerArg {
    /// Plain SGD (the assignment's scratch optimiser).
    Sgd,
    /// Adam with torch's defaults β1 0.9, β2 0.999, ε 1e-8 (the assignment's torch optimiser).
    Adam,
}

impl OptimizerArg {
    pub fn with_lr(self, lr: f32) -> contract::Optimizer {
        match self {
            OptimizerArg::Sgd => contract::Optimizer::Sgd { lr },
            OptimizerArg::Adam => contract::Optimizer::adam(lr),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineArg {
    /// AVX-512 kernels where the CPU has them, else AVX2, else textbook.
    Auto,
    /// One ndarray function per formula.
    Textbook,
    /// Fused kernels for AVX2 with FMA.
    Avx2,
    /// Fused kernels for AVX-512F.
    Avx512,
}

impl From<EngineArg> for scratch::Engine {
    fn from(e: EngineArg) -> Self {
        match e {
            EngineArg::Auto => scratch::Engine::Auto,
            EngineArg::Textbook => scratch::Engine::Textbook,
            EngineArg::Avx2 => scratch::Engine::Avx2,
            EngineArg::Avx512 => scratch::Engine::Avx512,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelArg {
    /// The hand-written MLP on its fast engine (fused kernels where the CPU has them).
    Scratch,
    /// The hand-written MLP's textbook engine: one ndarray function per formula.
    #[serde(rename = "scratch-textbook")]
    ScratchTextbook,
    /// The libtorch MLP.
    Torchref,
}

impl ModelArg {
    /// The model's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            ModelArg::Scratch => "scratch",
            ModelArg::ScratchTextbook => "scratch-textbook",
            ModelArg::Torchref => "torchref",
        }
    }
}

impl CommonArgs {
    /// Rejects values that would make a meaningless run, each with the fix in the message.
    pub fn validate(&self) -> Result<(), BadFlag> {
        if self.epochs == 0 {
            refuse!("--epochs must be at least 1");
        }
        if self.batch_size == 0 {
            refuse!("--batch-size must be at least 1 (the assignment used 64)");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            refuse!(
                "--lr must be a positive number, got {} (the assignment used 0.01)",
                self.lr
            );
        }
        if !(1..=scratch::MAX_THREADS).contains(&self.threads) {
            refuse!(
                "--threads must be between 1 and {}, got {}",
                scratch::MAX_THREADS,
                self.threads
            );
        }
        if self.log_every == 0 {
            refuse!("--log-every must be at least 1");
        }
        if self.limit == Some(0) {
            refuse!("--limit must be at least 1 image (or left out for the whole training set)");
        }
        if let Some(seeds) = &self.seeds {
            seeds.seeds(self.seed)?;
        }
        Ok(())
    }
}

impl RunConfig {
    /// Rejects values that would make a meaningless run, each with the fix in the message.
    pub fn validate(&self) -> Result<(), BadFlag> {
        self.common.validate()?;
        self.network.validate()?;
        if self.models.is_empty() {
            refuse!("--models needs at least one of scratch, scratch-textbook, torchref");
        }
        if let Some(gap) = self.max_accuracy_gap {
            if !(gap.is_finite() && gap >= 0.0) {
                refuse!("--max-accuracy-gap must be 0 or more percentage points");
            }
            if self.models.len() < 2 {
                refuse!("--max-accuracy-gap compares two models: use --models scratch,torchref");
            }
        }
        if let Some(floor) = self.min_accuracy {
            if !(0.0..=100.0).contains(&floor) {
                refuse!("--min-accuracy is a percentage between 0 and 100, got {floor}");
            }
        }
        if !(self.equivalence_margin.is_finite() && self.equivalence_margin > 0.0) {
            refuse!(
                "--equivalence-margin must be a positive number of points, got {}",
                self.equivalence_margin
            );
        }
        Ok(())
    }

    /// The model configuration of one side of the comparison.
    pub fn model_config(&self, optimizer: OptimizerArg) -> contract::ModelConfig {
        self.network.model_config(optimizer.with_lr(self.common.lr))
    }
}

impl NetworkArgs {
    /// Rejects `--hidden` and `--l2` values that make no network.
    fn validate(&self) -> Result<(), BadFlag> {
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            refuse!("--l2 must be 0 (off) or positive, got {}", self.l2);
        }
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            refuse!("--hidden needs one or more widths above 0, e.g. --hidden 500,250,100");
        }
        Ok(())
    }

    /// The model configuration of this network trained by `optimizer`.
    pub fn model_config(&self, optimizer: contract::Optimizer) -> contract::ModelConfig {
        contract::ModelConfig {
            hidden: self.hidden.clone(),
            activation: self.activation.into(),
            optimizer,
            l2: self.l2,
        }
    }
}

impl ParityArgs {
    /// Rejects values that would make a meaningless check, each with the fix in the message.
    pub fn validate(&self) -> Result<(), BadFlag> {
        self.common.validate()?;
        self.network.validate()?;
        if self.steps == 0 {
            refuse!("--steps must be at least 1 (200 is the default)");
        }
        if !(self.bound.is_finite() && self.bound > 0.0) {
            refuse!("--bound must be a positive number, got {}", self.bound);
        }
        if self.candidate == ModelArg::Torchref {
            refuse!("--candidate torchref would compare libtorch with itself: use scratch or scratch-textbook");
        }
        if self.common.seeds.is_some() {
            refuse!("--seeds does not apply to parity: run it once per --seed");
        }
        Ok(())
    }

    /// The model configuration of both models.
    pub fn model_config(&self) -> contract::ModelConfig {
        self.network
            .model_config(self.optimizer.with_lr(self.common.lr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> anyhow::Result<RunConfig> {
        let cli = Cli::try_parse_from(std::iter::once("compare").chain(args.iter().copied()))?;
        cli.run.validate()?;
        Ok(cli.run)
    }

    #[test]
    fn defaults_are_the_assignments_settings() {
        let run = parse(&[]).expect("defaults are valid");
        assert_eq!(run.common.epochs, 15);
        assert_eq!(run.network.hidden, vec![500, 250, 100]);
        assert_eq!(run.common.batch_size, 64);
        assert_eq!(run.common.lr, 0.01);
        assert_eq!(run.network.l2, 0.0);
        assert_eq!(run.network.activation, ActivationArg::Relu);
        assert_eq!(run.scratch_optimizer, OptimizerArg::Sgd);
        assert_eq!(run.torch_optimizer, OptimizerArg::Adam);
        assert_eq!(run.common.seed, 42);
        assert!(!run.common.shuffle);
        assert_eq!(run.models, vec![ModelArg::Scratch, ModelArg::Torchref]);
        assert_eq!(run.common.seeds, None);
    }

    #[test]
    fn models_name_the_whole_ladder() {
        let run = parse(&["--models", "scratch-textbook,scratch,torchref"]).expect("valid");
        let names: Vec<_> = run.models.iter().map(|m| m.name()).collect();
        assert_eq!(names, ["scratch-textbook", "scratch", "torchref"]);
        let json = serde_json::to_string(&run.models).expect("serialisable");
        assert_eq!(json, r#"["scratch-textbook","scratch","torchref"]"#);
    }

    #[test]
    fn seeds_are_a_count_from_seed_or_a_list() {
        let run = parse(&["--seeds", "3", "--seed", "7"]).expect("valid");
        let seeds = run.common.seeds.expect("given");
        assert_eq!(seeds.seeds(run.common.seed).expect("in range"), [7, 8, 9]);
        let run = parse(&["--seeds", "5,1,9"]).expect("valid");
        let seeds = run.common.seeds.expect("given");
        assert_eq!(seeds.seeds(run.common.seed).expect("a list"), [5, 1, 9]);
        assert_eq!(run.common.data.dataset, DatasetArg::Mnist);
        assert!(!run.common.data.no_checksums);
    }

    #[test]
    fn every_dataset_is_a_flag_value_and_the_old_opt_out_still_works() {
        for name in mnist::DatasetName::ALL {
            let run = parse(&["--dataset", name.id()]).expect("a known dataset");
            assert_eq!(mnist::DatasetName::from(run.common.data.dataset), name);
        }
        for flag in ["--no-checksums", "--no-mnist-checksums"] {
            assert!(
                parse(&[flag]).expect("valid").common.data.no_checksums,
                "{flag}"
            );
        }
        let error = parse(&["--dataset", "emnist"]).expect_err("unknown");
        assert!(error.to_string().contains("fashion-mnist"), "{error}");
    }

    #[test]
    fn each_invalid_flag_is_refused_with_its_name() {
        for (args, flag) in [
            (&["--batch-size", "0"][..], "--batch-size"),
            (&["--lr", "0"][..], "--lr"),
            (&["--lr=-0.5"][..], "--lr"),
            (&["--epochs", "0"][..], "--epochs"),
            (&["--hidden", "500,0"][..], "--hidden"),
            (&["--hidden="][..], "--hidden"),
            (&["--l2=-1"][..], "--l2"),
            (&["--threads", "0"][..], "--threads"),
            (&["--threads", "256"][..], "--threads"),
            (&["--limit", "0"][..], "--limit"),
            (&["--activation", "gelu"][..], "--activation"),
            (&["--scratch-engine", "avx3"][..], "--scratch-engine"),
            (&["--min-accuracy", "120"][..], "--min-accuracy"),
            (&["--equivalence-margin", "0"][..], "--equivalence-margin"),
            (&["--seeds", "1"][..], "--seeds"),
            (&["--seeds", "3,x"][..], "--seeds"),
            (&["--seeds", "4,5,4"][..], "--seeds"),
            (&["--seeds", "7,"][..], "--seeds"),
            (
                &["--seeds", "3", "--seed", "18446744073709551614"][..],
                "--seed",
            ),
        ] {
            let message = format!("{:#}", parse(args).expect_err("must be refused"));
            assert!(message.contains(flag), "{args:?}: {message}");
        }
    }
}
