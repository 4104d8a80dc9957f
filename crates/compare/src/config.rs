//! The plain configuration of every job: what its flags mean once `cli.rs` has checked them.
//! It is all the training loop sees, and it is saved as the `config` of `run.json`.
//!
//! The value enums derive `clap::ValueEnum` so that the flags name them directly; the structs
//! know nothing of clap.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use sweep::{SeedList, SeedSpec, ShardSpec};

use crate::parity_checks::ParityChecks;

/// The configuration of whichever job ran, as `run.json` saves it.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum JobConfig {
    Run(RunConfig),
    Table(TableConfig),
    Parity(ParityConfig),
    Aggregate(AggregateConfig),
}

/// One comparison of models trained side by side.
#[derive(Debug, Clone, Serialize)]
pub struct RunConfig {
    #[serde(flatten)]
    pub network: Network,
    pub scratch_optimizer: Optimizer,
    pub torch_optimizer: Optimizer,
    pub models: Vec<Model>,
    /// Percentage points the final test accuracies may differ by (the parity gate).
    pub max_accuracy_gap: Option<f64>,
    /// Percent every model's final test accuracy must reach (the parity gate).
    pub min_accuracy: Option<f64>,
    /// Points of the equivalence test over seeds.
    pub equivalence_margin: f64,
    /// Over seeds: the gate also needs the equivalence test to find the pair equivalent.
    pub require_equivalence: bool,
    #[serde(flatten)]
    pub common: Common,
}

/// The assignment's five experiments.
#[derive(Debug, Clone, Serialize)]
pub struct TableConfig {
    pub preset: &'static str,
    pub hidden: [usize; 3],
    #[serde(flatten)]
    pub common: Common,
}

/// A step-level gradient parity check against libtorch.
#[derive(Debug, Clone, Serialize)]
pub struct ParityConfig {
    #[serde(flatten)]
    pub network: Network,
    /// The libtorch model's optimiser, whose updates set the parameters of every step.
    pub optimizer: Optimizer,
    pub candidate: ParityCandidate,
    /// The longest wait for one answer of an external candidate, in seconds.
    pub candidate_timeout_s: f64,
    pub check_update: UpdateCheck,
    pub steps: usize,
    /// Whether the last step is moved to the epoch's last, smaller batch when no earlier
    /// step reaches one.
    pub short_batch: bool,
    /// The largest error ratio allowed: how many times libtorch's own float32 error.
    pub bound: f64,
    /// The parts whose findings fail the check (`--check`).
    pub checks: ParityChecks,
    #[serde(flatten)]
    pub common: Common,
}

/// Pooling seed folders from many shards or machines into one report over the seeds.
#[derive(Debug, Clone, Serialize)]
pub struct AggregateConfig {
    pub folders: Vec<PathBuf>,
    /// The seeds that must all be there (seeds outside it are left out).
    pub expect: Option<SeedSpec>,
    /// Where a count in `expect` starts.
    pub seed: u64,
    #[serde(flatten)]
    pub gate: SeedsGate,
    pub equivalence_margin: f64,
    pub out: PathBuf,
    /// `--junit`: where to write the gates as JUnit XML (left out of `run.json` when unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub junit: Option<PathBuf>,
    /// What every pooled seed ran with, known once the folders are read.
    #[serde(flatten)]
    pub pooled: Option<SeedSettings>,
}

/// The gate over seeds: `--max-accuracy-gap` on the 95% interval of the paired difference,
/// `--min-accuracy` on each model's mean, `--require-equivalence` on the equivalence test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SeedsGate {
    /// Percentage points the interval of the difference must lie within.
    pub max_accuracy_gap: Option<f64>,
    /// Percent each model's mean final test accuracy must reach.
    pub min_accuracy: Option<f64>,
    /// Whether the equivalence test must find the pair equivalent.
    pub require_equivalence: bool,
}

impl SeedsGate {
    /// Whether a gate was asked for.
    pub fn gated(&self) -> bool {
        self.max_accuracy_gap.is_some() || self.min_accuracy.is_some() || self.require_equivalence
    }
}

/// The model `compare parity` checks against libtorch.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ParityCandidate {
    /// One of the hand-written engines (scratch or scratch-textbook).
    Builtin { model: Model },
    /// A program speaking docs/candidate-protocol.md, run by `sh -c`.
    Command { command_line: String },
    /// A NumPy script run by the NumPy adapter under the venv's Python.
    Python {
        interpreter: PathBuf,
        script: PathBuf,
    },
}

impl ParityCandidate {
    /// The candidate's name in reports: the built-in model's, the command line, or the
    /// script's file name.
    pub fn name(&self) -> String {
        match self {
            ParityCandidate::Builtin { model } => model.name().to_owned(),
            ParityCandidate::Command { command_line } => command_line.clone(),
            ParityCandidate::Python { script, .. } => script.file_name().map_or_else(
                || script.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
        }
    }
}

/// Whether `compare parity` checks the candidate's optimiser step too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UpdateCheck {
    /// When the candidate has an update rule (the built-in ones always do).
    Auto,
    /// Always: a candidate without an update rule is an error.
    On,
    Off,
}

/// The network both models share.
#[derive(Debug, Clone, Serialize)]
pub struct Network {
    pub activation: contract::Activation,
    pub hidden: Vec<usize>,
    /// λ of cost + λ/(2m)·Σ‖W‖²; 0 is off.
    pub l2: f32,
}

/// What every job that trains shares: the loop's settings, the data and where reports go.
#[derive(Debug, Clone, Serialize)]
pub struct Common {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f32,
    /// Every Adam optimiser's other settings.
    pub adam: AdamSettings,
    pub seed: u64,
    pub seeds: Option<SeedSpec>,
    /// This process's share of `seeds` (`I/N` or from a Slurm array); the seeds go directly
    /// into `out`.
    pub shard: Option<ShardSpec>,
    /// Seeds go directly into `out`, and those already complete there are skipped.
    pub resume: bool,
    pub shuffle: bool,
    pub drop_last: bool,
    pub threads: usize,
    /// The torch model's device: cpu, cuda or cuda:N.
    pub device: String,
    pub scratch_engine: Engine,
    #[serde(flatten)]
    pub data: DataConfig,
    pub out: PathBuf,
    pub limit: Option<usize>,
    pub log_every: usize,
    /// Whether each epoch measures accuracy over the whole training set too
    /// (`--no-train-accuracy` turns it off).
    pub train_accuracy: bool,
    /// `--junit`: where to write the gates as JUnit XML (left out of `run.json` when unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub junit: Option<PathBuf>,
}

impl Common {
    /// `optimizer` with this run's learning rate and Adam settings.
    pub fn optimizer(&self, optimizer: Optimizer) -> contract::Optimizer {
        let lr = self.lr;
        match optimizer {
            Optimizer::Sgd => contract::Optimizer::Sgd { lr },
            Optimizer::Adam => contract::Optimizer::Adam {
                lr,
                beta1: self.adam.beta1,
                beta2: self.adam.beta2,
                eps: self.adam.eps,
            },
        }
    }

    /// The seeds of a multi-seed run (`--seeds`), in order; `None` for a single run. The flags
    /// were refused where a count from `--seed` would pass the largest seed.
    pub fn seed_list(&self) -> Option<SeedList> {
        self.seeds
            .as_ref()
            .and_then(|seeds| seeds.seeds(self.seed).ok())
    }

    /// Whether the seeds go directly into `--out` (a shard, or `--resume`) rather than into a
    /// new run folder under it.
    pub fn seeds_into_out(&self) -> bool {
        self.shard.is_some() || self.resume
    }
}

/// Which dataset, and where and how to find it.
#[derive(Debug, Clone, Serialize)]
pub struct DataConfig {
    pub dataset: mnist::DatasetName,
    pub data_dir: Option<PathBuf>,
    pub no_checksums: bool,
    pub offline: bool,
}

/// A model to train in a run: its name in the reports, which implementation, and how.
#[derive(Debug, Clone)]
pub struct Spec {
    pub label: String,
    pub implementation: Model,
    pub config: contract::ModelConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Optimizer {
    /// Plain SGD (the assignment's scratch optimiser).
    Sgd,
    /// Adam, by default with torch's β1 0.9, β2 0.999, ε 1e-8 (the assignment's torch
    /// optimiser; `--adam-beta1`, `--adam-beta2`, `--adam-eps` set them).
    Adam,
}

/// Adam's settings besides the learning rate (`--adam-beta1`, `--adam-beta2`, `--adam-eps`);
/// torch's defaults unless set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AdamSettings {
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// AVX-512 kernels where the CPU has them, else AVX2, else textbook.
    Auto,
    /// One ndarray function per formula.
    Textbook,
    /// Fused kernels for AVX2 with FMA.
    Avx2,
    /// Fused kernels for AVX-512F.
    Avx512,
}

impl From<Engine> for scratch::Engine {
    fn from(e: Engine) -> Self {
        match e {
            Engine::Auto => scratch::Engine::Auto,
            Engine::Textbook => scratch::Engine::Textbook,
            Engine::Avx2 => scratch::Engine::Avx2,
            Engine::Avx512 => scratch::Engine::Avx512,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// The hand-written MLP on its fast engine (fused kernels where the CPU has them).
    Scratch,
    /// The hand-written MLP's textbook engine: one ndarray function per formula.
    #[serde(rename = "scratch-textbook")]
    ScratchTextbook,
    /// The libtorch MLP.
    Torchref,
}

impl Model {
    /// The model's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Model::Scratch => "scratch",
            Model::ScratchTextbook => "scratch-textbook",
            Model::Torchref => "torchref",
        }
    }
}

impl Network {
    /// The model configuration of this network trained by `optimizer`.
    pub fn model_config(&self, optimizer: contract::Optimizer) -> contract::ModelConfig {
        contract::ModelConfig {
            hidden: self.hidden.clone(),
            activation: self.activation,
            optimizer,
            l2: self.l2,
        }
    }
}

impl RunConfig {
    /// The model configuration of one side of the comparison.
    pub fn model_config(&self, optimizer: Optimizer) -> contract::ModelConfig {
        self.network.model_config(self.common.optimizer(optimizer))
    }

    /// The models `--models` asks for, each with its optimiser.
    pub fn specs(&self) -> Vec<Spec> {
        self.models
            .iter()
            .map(|&implementation| {
                let optimizer = match implementation {
                    Model::Scratch | Model::ScratchTextbook => self.scratch_optimizer,
                    Model::Torchref => self.torch_optimizer,
                };
                Spec {
                    label: implementation.name().to_owned(),
                    implementation,
                    config: self.model_config(optimizer),
                }
            })
            .collect()
    }

    /// Whether a parity gate was asked for.
    pub fn gated(&self) -> bool {
        self.gate().gated()
    }

    /// Its gate, as it applies over seeds.
    pub fn gate(&self) -> SeedsGate {
        SeedsGate {
            max_accuracy_gap: self.max_accuracy_gap,
            min_accuracy: self.min_accuracy,
            require_equivalence: self.require_equivalence,
        }
    }
}

impl ParityConfig {
    /// The model configuration of both models.
    pub fn model_config(&self) -> contract::ModelConfig {
        self.network
            .model_config(self.common.optimizer(self.optimizer))
    }
}

impl JobConfig {
    /// The settings every job that trains shares; `None` for `aggregate`, which trains
    /// nothing.
    pub fn common(&self) -> Option<&Common> {
        match self {
            JobConfig::Run(config) => Some(&config.common),
            JobConfig::Table(config) => Some(&config.common),
            JobConfig::Parity(config) => Some(&config.common),
            JobConfig::Aggregate(_) => None,
        }
    }

    /// The dataset it ran on; `None` for an `aggregate` before its folders are read.
    pub fn dataset(&self) -> Option<mnist::DatasetName> {
        match self {
            JobConfig::Aggregate(config) => config.pooled.as_ref().map(|p| p.dataset),
            other => other.common().map(|common| common.data.dataset),
        }
    }

    /// Every setting that has a value, by name in alphabetical order, as text: what the
    /// page's configuration table lists. The text is the value as `run.json` has it (an f32
    /// reads 0.01, not 0.009999999776482582), lists joined by ", ".
    pub fn settings(&self) -> Vec<(String, String)> {
        let written = serde_json::to_string(self)
            .and_then(|json| serde_json::from_str::<BTreeMap<String, serde_json::Value>>(&json));
        written
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, value)| !value.is_null())
            .map(|(name, value)| (name, setting_text(&value)))
            .collect()
    }

    /// The same job for one seed of a multi-seed run.
    pub fn for_seed(&self, seed: u64) -> JobConfig {
        let mut config = self.clone();
        let common = match &mut config {
            JobConfig::Run(config) => &mut config.common,
            JobConfig::Table(config) => &mut config.common,
            JobConfig::Parity(config) => &mut config.common,
            JobConfig::Aggregate(_) => return config,
        };
        common.seed = seed;
        common.seeds = None;
        common.shard = None;
        common.resume = false;
        config
    }
}

/// A setting's value as a person reads it.
fn setting_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "–".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items
            .iter()
            .map(setting_text)
            .collect::<Vec<_>>()
            .join(", "),
        // A tagged enum such as the parity candidate: "kind python, interpreter …, script …".
        serde_json::Value::Object(fields) => fields
            .iter()
            .map(|(name, value)| format!("{} {}", name.replace('_', " "), setting_text(value)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// Everything in a run's configuration that decides what a seed computes. The seed, the
/// threads, where the reports go, logging, the data folder and the gates are left out: they
/// change where and how fast a seed runs, or what is concluded from it, not its result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedSettings {
    /// In run order (the order decides the compared pair when scratch and torchref are not
    /// both there).
    pub models: Vec<ModelSettings>,
    pub epochs: usize,
    pub batch_size: usize,
    pub shuffle: bool,
    pub drop_last: bool,
    pub dataset: mnist::DatasetName,
    /// Training images used (`--limit`, or the whole set): `--limit 100000` and no limit train
    /// alike.
    pub train_images: usize,
}

/// One model of the run: its name in the reports, which implementation, and its network and
/// optimiser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSettings {
    pub label: String,
    pub implementation: Model,
    pub config: contract::ModelConfig,
}
