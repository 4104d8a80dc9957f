//! The model `compare parity` checks against libtorch behind one interface: a scratch engine
//! in this process, or an external program over the candidate protocol (the `candidate`
//! crate), whose faults end the check.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use candidate::{Candidate, CandidateError, Options};
use contract::{Batch, Derivatives, Differentiable, ModelConfig, Parameters, UpdateRule};

use crate::config::{Model, ParityCandidate};
use crate::kinks::PreActivations;

/// A model whose gradient and optimiser step can be checked (on a second thread, for an
/// external one: [`parity::Schedule::Concurrent`]).
pub trait Checked: Differentiable + UpdateRule + Send {
    /// Names the step (from 1) that the next requests belong to.
    fn begin_step(&mut self, _step: usize) {}
    /// What stopped an external candidate; after it, its answers are empty.
    fn fault(&self) -> Option<&CandidateError> {
        None
    }
    fn has_update_rule(&self) -> bool {
        true
    }
}

impl Checked for scratch::Mlp {}

impl Checked for scratch::Textbook<f32> {}

impl Checked for Candidate {
    fn begin_step(&mut self, step: usize) {
        Candidate::begin_step(self, step);
    }
    fn fault(&self) -> Option<&CandidateError> {
        Candidate::fault(self)
    }
    fn has_update_rule(&self) -> bool {
        Candidate::has_update_rule(self)
    }
}

/// A candidate as [`parity::compare_step`] asks it for gradients, noting whether its last
/// answer carried its hidden pre-activations, which decide what the kinks of the step say
/// ([`crate::kinks`]).
pub struct Watched<'a> {
    candidate: &'a mut dyn Checked,
    pre_activations: PreActivations,
}

impl<'a> Watched<'a> {
    pub fn new(candidate: &'a mut dyn Checked) -> Self {
        Watched {
            candidate,
            pre_activations: PreActivations::Missing,
        }
    }

    /// Whether the last answer carried `Z`.
    pub fn pre_activations(&self) -> PreActivations {
        self.pre_activations
    }
}

impl Differentiable for Watched<'_> {
    fn name(&self) -> &str {
        Differentiable::name(self.candidate)
    }

    fn differentiate(&mut self, parameters: &Parameters, batch: &Batch<'_>) -> Derivatives {
        let derivatives = self.candidate.differentiate(parameters, batch);
        self.pre_activations = PreActivations::of(&derivatives.pre_activations);
        derivatives
    }
}

/// Builds or starts the candidate at `initial` (the built-in ones hold parameters; an
/// external one is handed them at every step).
pub fn start(
    which: &ParityCandidate,
    config: &ModelConfig,
    initial: &Parameters,
    scratch_engine: Option<scratch::Engine>,
    timeout: Duration,
) -> Result<Box<dyn Checked>> {
    let options = Options {
        timeout,
        echo_stderr: true,
    };
    Ok(match which {
        ParityCandidate::Builtin {
            model: Model::Scratch,
        } => {
            let engine = scratch_engine.context("scratch needs an engine")?;
            Box::new(
                scratch::Mlp::from_parameters(config, initial)
                    .with_engine(engine)
                    .context("--scratch-engine")?,
            )
        }
        ParityCandidate::Builtin {
            model: Model::ScratchTextbook,
        } => Box::new(scratch::Textbook::<f32>::from_parameters(config, initial)),
        ParityCandidate::Builtin {
            model: Model::Torchref,
        } => bail!("torchref cannot be checked against itself"),
        ParityCandidate::Command { command_line } => Box::new(Candidate::from_command_line(
            command_line,
            config,
            &options,
        )?),
        ParityCandidate::Python {
            interpreter,
            script,
        } => {
            check_python(interpreter, script)?;
            Box::new(Candidate::python(interpreter, script, config, &options)?)
        }
    })
}

/// The two files a NumPy candidate needs, each with what to do when it is missing.
fn check_python(interpreter: &Path, script: &Path) -> Result<()> {
    if !interpreter.exists() {
        return Err(candidate::MissingPython(interpreter.to_owned()).into());
    }
    if !script.is_file() {
        bail!("--candidate-python {}: no such file", script.display());
    }
    Ok(())
}
