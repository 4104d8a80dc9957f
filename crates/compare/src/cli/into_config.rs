//! The one step from each job's flags to its plain configuration: every value that would make
//! a meaningless run is refused here, with the fix in the message.

use super::{AggregateArgs, CommonArgs, DataArgs, GateArgs, NetworkArgs, ParityArgs, RunArgs};
use crate::bad_flag::BadFlag;
use crate::config::{
    AdamSettings, AggregateConfig, Common, DataConfig, Model, Network, ParityCandidate,
    ParityConfig, RunConfig, SeedsGate, UpdateCheck,
};

impl DataArgs {
    /// The data flags as configuration (every combination is valid).
    pub fn into_config(self) -> DataConfig {
        DataConfig {
            dataset: self.dataset.into(),
            data_dir: self.data_dir,
            no_checksums: self.no_checksums,
            offline: self.offline,
        }
    }
}

impl CommonArgs {
    /// The shared settings, or why they would make a meaningless run (with the fix).
    pub fn into_config(self) -> Result<Common, BadFlag> {
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
        for (flag, beta) in [
            ("--adam-beta1", self.adam_beta1),
            ("--adam-beta2", self.adam_beta2),
        ] {
            if !(0.0..1.0).contains(&beta) {
                refuse!("{flag} must be at least 0 and below 1, got {beta} (torch's default is 0.9 for β1, 0.999 for β2)");
            }
        }
        if !(self.adam_eps.is_finite() && self.adam_eps >= 0.0) {
            refuse!(
                "--adam-eps must be 0 or a positive number, got {} (torch's default is 1e-8)",
                self.adam_eps
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
        match &self.seeds {
            Some(spec) => match spec.seeds(self.seed) {
                Err(sweep::SeedListError::Overflow { .. }) => {
                    refuse!("--seed plus --seeds passes the largest seed: choose a smaller --seed")
                }
                Err(error) => refuse!("--seeds: {error}"),
                Ok(list) if list.len() < 2 && self.shard.is_none() => refuse!(
                    "--seeds needs 2 seeds or more for a spread (for a single run use --seed; a --shard may hold one)"
                ),
                Ok(_) => {}
            },
            None if self.shard.is_some() => {
                refuse!("--shard splits the seeds of --seeds: add --seeds, e.g. --seeds 0..100")
            }
            None if self.resume => {
                refuse!("--resume goes on with the seeds of --seeds: add --seeds, e.g. --seeds 0..100")
            }
            None => {}
        }
        Ok(Common {
            epochs: self.epochs,
            batch_size: self.batch_size,
            lr: self.lr,
            adam: AdamSettings {
                beta1: self.adam_beta1,
                beta2: self.adam_beta2,
                eps: self.adam_eps,
            },
            seed: self.seed,
            seeds: self.seeds,
            shard: self.shard,
            resume: self.resume,
            shuffle: self.shuffle,
            drop_last: self.drop_last,
            threads: self.threads,
            device: self.device,
            scratch_engine: self.scratch_engine,
            data: self.data.into_config(),
            out: self.out,
            limit: self.limit,
            log_every: self.log_every,
            train_accuracy: !self.no_train_accuracy,
            junit: self.junit,
        })
    }
}

impl CommonArgs {
    /// The settings of `compare table`, which pools no shards.
    pub fn into_table_config(self) -> Result<Common, BadFlag> {
        if self.shard.is_some() {
            refuse!("--shard applies to compare --seeds (pooled by compare aggregate), not to table: use --resume to go on with a stopped table --seeds");
        }
        self.into_config()
    }
}

impl RunArgs {
    /// The comparison's configuration, or why it would make a meaningless run (with the fix).
    pub fn into_config(self) -> Result<RunConfig, BadFlag> {
        let common = self.common.into_config()?;
        let network = self.network.into_config(self.models.len())?;
        if self.models.is_empty() {
            refuse!("--models needs at least one of scratch, scratch-textbook, torchref");
        }
        if let Some(twice) = (self.models.iter().enumerate())
            .find_map(|(i, model)| self.models[..i].contains(model).then_some(model))
        {
            refuse!(
                "--models lists {} twice: name each model once",
                twice.name()
            );
        }
        let (gate, equivalence_margin) = self.gate.into_config()?;
        if gate.max_accuracy_gap.is_some() && self.models.len() < 2 {
            refuse!("--max-accuracy-gap compares two models: use --models scratch,torchref");
        }
        if gate.require_equivalence && (self.models.len() < 2 || common.seeds.is_none()) {
            refuse!("--require-equivalence tests two models over seeds: use --models scratch,torchref and --seeds N (2 or more)");
        }
        Ok(RunConfig {
            network,
            scratch_optimizer: self.scratch_optimizer,
            torch_optimizer: self.torch_optimizer,
            models: self.models,
            max_accuracy_gap: gate.max_accuracy_gap,
            min_accuracy: gate.min_accuracy,
            equivalence_margin,
            require_equivalence: gate.require_equivalence,
            common,
        })
    }
}

impl GateArgs {
    /// The gate and the equivalence margin, or why they make no test.
    fn into_config(self) -> Result<(SeedsGate, f64), BadFlag> {
        if let Some(gap) = self.max_accuracy_gap {
            if !(gap.is_finite() && gap >= 0.0) {
                refuse!("--max-accuracy-gap must be 0 or more percentage points");
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
        let gate = SeedsGate {
            max_accuracy_gap: self.max_accuracy_gap,
            min_accuracy: self.min_accuracy,
            require_equivalence: self.require_equivalence,
        };
        Ok((gate, self.equivalence_margin))
    }
}

impl AggregateArgs {
    /// What to pool and how to gate it, or why it makes no sense.
    pub fn into_config(self) -> Result<AggregateConfig, BadFlag> {
        if let Some(spec) = &self.expect {
            if let Err(error) = spec.seeds(self.seed) {
                refuse!("--expect: {error}");
            }
        }
        let (gate, equivalence_margin) = self.gate.into_config()?;
        Ok(AggregateConfig {
            folders: self.folders,
            expect: self.expect,
            seed: self.seed,
            gate,
            equivalence_margin,
            out: self.out,
            junit: self.junit,
            pooled: None,
        })
    }
}

impl NetworkArgs {
    /// The network of `models` models, or why `--hidden` or `--l2` makes none: widths whose
    /// weights would not fit in this machine's memory are refused before anything is allocated.
    fn into_config(self, models: usize) -> Result<Network, BadFlag> {
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            refuse!("--l2 must be 0 (off) or positive, got {}", self.l2);
        }
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            refuse!("--hidden needs one or more widths above 0, e.g. --hidden 500,250,100");
        }
        let needed = weight_bytes(&self.hidden, models);
        if let Some(memory) = memory_bytes().filter(|&memory| needed > memory) {
            refuse!(
                "--hidden {}: the weights and gradients of {models} model(s) alone need {:.1} GB, \
                 more than this machine's {:.1} GB of memory: choose smaller widths",
                self.hidden
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                needed as f64 / 1e9,
                memory as f64 / 1e9
            );
        }
        Ok(Network {
            activation: self.activation.into(),
            hidden: self.hidden,
            l2: self.l2,
        })
    }
}

/// A lower bound of the memory `models` models of these hidden widths take: per model, its
/// weights and their gradients in f32, plus the one shared copy of the initial weights
/// (saturating, so that any width gives a number).
fn weight_bytes(hidden: &[usize], models: usize) -> u128 {
    let widths: Vec<u128> = std::iter::once(contract::INPUT_SIZE)
        .chain(hidden.iter().copied())
        .chain(std::iter::once(contract::CLASSES))
        .map(|w| w as u128)
        .collect();
    let parameters = (widths.windows(2))
        .map(|w| (w[0] + 1).saturating_mul(w[1]))
        .fold(0_u128, u128::saturating_add);
    let copies = 2 * models as u128 + 1;
    parameters.saturating_mul(4 * copies)
}

/// This machine's memory (`MemTotal` of `/proc/meminfo`), where it can be read.
fn memory_bytes() -> Option<u128> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find_map(|l| l.strip_prefix("MemTotal:"))?;
    let kib: u128 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kib * 1024)
}

impl ParityArgs {
    /// The check's configuration, or why it would be meaningless (with the fix).
    pub fn into_config(self) -> Result<ParityConfig, BadFlag> {
        let common = self.common.into_config()?;
        // The candidate and libtorch.
        let network = self.network.into_config(2)?;
        if self.steps == 0 {
            refuse!("--steps must be at least 1 (200 is the default)");
        }
        if !(self.bound.is_finite() && self.bound >= 1.0) {
            refuse!(
                "--bound is how many times libtorch's own float32 error a candidate's error may be, at least 1 (libtorch against itself is 1; the default is {}), got {} (a bound relative to the tensor's largest value, such as 1e-5, is no longer used)",
                parity::DEFAULT_MAX_RATIO,
                self.bound
            );
        }
        if common.seeds.is_some() {
            refuse!("--seeds does not apply to parity: run it once per --seed");
        }
        // Beyond a day is surely a typo; Duration::from_secs_f64 would also refuse a huge one.
        if !(self.candidate_timeout.is_finite()
            && self.candidate_timeout > 0.0
            && self.candidate_timeout <= 86_400.0)
        {
            refuse!(
                "--candidate-timeout must be a positive number of seconds up to 86400, got {}",
                self.candidate_timeout
            );
        }
        let candidate = match (self.candidate_cmd, self.candidate_python) {
            (Some(command_line), _) if command_line.trim().is_empty() => {
                refuse!("--candidate-cmd is empty: give the command that starts your model")
            }
            (Some(command_line), _) => ParityCandidate::Command { command_line },
            (None, Some(script)) => ParityCandidate::Python {
                interpreter: candidate::default_python(),
                script,
            },
            (None, None) if self.candidate == Model::Torchref => refuse!(
                "--candidate torchref would compare libtorch with itself: use scratch or scratch-textbook"
            ),
            (None, None) => ParityCandidate::Builtin {
                model: self.candidate,
            },
        };
        let check_update = match self.check_update {
            None => UpdateCheck::Auto,
            Some(true) => UpdateCheck::On,
            Some(false) => UpdateCheck::Off,
        };
        Ok(ParityConfig {
            network,
            optimizer: self.optimizer,
            candidate,
            candidate_timeout_s: self.candidate_timeout,
            check_update,
            steps: self.steps,
            short_batch: !self.no_short_batch,
            bound: self.bound,
            checks: self.check,
            common,
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::super::Cli;
    use crate::config::{Model, Optimizer, RunConfig};

    fn parse(args: &[&str]) -> anyhow::Result<RunConfig> {
        let cli = Cli::try_parse_from(std::iter::once("compare").chain(args.iter().copied()))?;
        Ok(cli.run.into_config()?)
    }

    #[test]
    fn defaults_are_the_assignments_settings() {
        let run = parse(&[]).expect("defaults are valid");
        assert_eq!(run.common.epochs, 15);
        assert_eq!(run.network.hidden, vec![500, 250, 100]);
        assert_eq!(run.common.batch_size, 64);
        assert_eq!(run.common.lr, 0.01);
        assert_eq!(run.network.l2, 0.0);
        assert_eq!(run.network.activation, contract::Activation::Relu);
        assert_eq!(run.scratch_optimizer, Optimizer::Sgd);
        assert_eq!(run.torch_optimizer, Optimizer::Adam);
        assert_eq!(run.common.seed, 42);
        assert!(!run.common.shuffle);
        assert_eq!(run.models, vec![Model::Scratch, Model::Torchref]);
        assert_eq!(run.common.seeds, None);
    }

    #[test]
    fn adam_settings_reach_every_adam_optimiser_and_default_to_torchs() {
        assert_eq!(
            parse(&[])
                .expect("valid")
                .model_config(Optimizer::Adam)
                .optimizer,
            contract::Optimizer::adam(0.01)
        );
        let run = parse(&[
            "--adam-eps",
            "1e-7",
            "--adam-beta1",
            "0.8",
            "--adam-beta2",
            "0.99",
        ])
        .expect("valid");
        let adam = contract::Optimizer::Adam {
            lr: 0.01,
            beta1: 0.8,
            beta2: 0.99,
            eps: 1e-7,
        };
        assert_eq!(run.model_config(Optimizer::Adam).optimizer, adam);
        assert_eq!(
            run.model_config(Optimizer::Sgd).optimizer,
            contract::Optimizer::Sgd { lr: 0.01 }
        );
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
        assert_eq!(
            seeds.seeds(run.common.seed).expect("in range").as_slice(),
            [7, 8, 9]
        );
        let run = parse(&["--seeds", "5,1,9"]).expect("valid");
        let seeds = run.common.seeds.expect("given");
        assert_eq!(
            seeds.seeds(run.common.seed).expect("a list").as_slice(),
            [5, 1, 9]
        );
        let run = parse(&["--seeds", "0..3,10"]).expect("valid");
        assert_eq!(
            run.common.seed_list().expect("a list").as_slice(),
            [0, 1, 2, 10]
        );
        assert_eq!(run.common.data.dataset, mnist::DatasetName::Mnist);
        assert!(!run.common.data.no_checksums);
    }

    #[test]
    fn a_shard_may_hold_a_single_seed_and_slurm_is_resolved_when_it_runs() {
        let run = parse(&["--seeds", "3..4", "--shard", "0/2"]).expect("valid");
        assert_eq!(run.common.seed_list().expect("a list").as_slice(), [3]);
        assert!(run.common.seeds_into_out());
        let run = parse(&["--seeds", "0..100", "--shard", "slurm"]).expect("valid");
        assert_eq!(run.common.shard, Some(sweep::ShardSpec::Slurm));
        let run = parse(&["--seeds", "0..2", "--resume"]).expect("valid");
        assert!(run.common.seeds_into_out() && run.common.shard.is_none());
        assert!(!parse(&["--seeds", "2"])
            .expect("valid")
            .common
            .seeds_into_out());
    }

    #[test]
    fn every_dataset_is_a_flag_value_and_the_old_opt_out_still_works() {
        for name in mnist::DatasetName::ALL {
            let run = parse(&["--dataset", name.id()]).expect("a known dataset");
            assert_eq!(run.common.data.dataset, name);
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
    fn the_memory_of_a_network_counts_every_weight_and_bias() {
        // 784·3+3 and 3·10+10 parameters, 5 copies (2 models × weights and gradients, and
        // the initial weights) of 4 bytes.
        assert_eq!(super::weight_bytes(&[3], 2), (785 * 3 + 4 * 10) * 4 * 5);
        assert!(super::weight_bytes(&[usize::MAX, usize::MAX], 3) > 1 << 100);
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
            (&["--require-equivalence"][..], "--require-equivalence"),
            (&["--seeds", "1"][..], "--seeds"),
            (&["--hidden", "100000000"][..], "--hidden"),
            (&["--models", "torchref,torchref"][..], "--models"),
            (&["--lr", "-1"][..], "--lr"),
            (&["--adam-beta1", "1"][..], "--adam-beta1"),
            (&["--adam-beta2=-0.1"][..], "--adam-beta2"),
            (&["--adam-eps=-1e-7"][..], "--adam-eps"),
            (&["--adam-eps", "inf"][..], "--adam-eps"),
            (&["--min-accuracy", "-5"][..], "--min-accuracy"),
            (&["--seeds", "3,x"][..], "--seeds"),
            (&["--seeds", "4,5,4"][..], "--seeds"),
            (&["--seeds", "7,"][..], "--seeds"),
            (&["--seeds", "5..5"][..], "--seeds"),
            (&["--seeds", "5000000000"][..], "--seeds"),
            (&["--seeds", "3..4"][..], "--seeds"),
            (&["--shard", "0/2"][..], "--shard"),
            (&["--resume"][..], "--resume"),
            (&["--seeds", "0..4", "--shard", "4/4"][..], "--shard"),
            (&["--seeds", "0..4", "--shard", "one"][..], "--shard"),
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
