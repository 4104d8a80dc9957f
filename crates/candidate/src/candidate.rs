//! [`Candidate`]: a model in another process, as [`Differentiable`] and [`UpdateRule`].

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use contract::{
    AdamState, Batch, Derivatives, Differentiable, ModelConfig, Parameters, UpdateRequest,
    UpdateRule, Updated,
};
use ndarray::Array2;

use crate::arrays::{pre_activation_name, Answered, Entry, Files};
use crate::frame::{self, Answer, Request, PROTOCOL};
use crate::process::Process;
use crate::{CandidateError, Fault, When};

/// How long one answer may take by default: far above what a NumPy step of the default
/// network takes (milliseconds) or its start (NumPy's import, a second on a loaded machine),
/// short enough that a hung candidate is noticed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The thread counts of the numerical libraries a candidate may use (OpenBLAS, which NumPy
/// bundles; OpenMP; MKL), each set to 1 for the candidate's process unless the user set it.
/// The candidate and libtorch compute at the same time, libtorch on one thread, so a second
/// thread here would only contend with it, and BLAS threads spinning against libtorch's on a
/// busy machine made NumPy's `loss_and_grads` 16× slower (median 146 ms against 9 ms a step,
/// measured).
const ONE_THREAD: [&str; 3] = ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"];

/// The NumPy adapter (`adapters/numpy_adapter.py`), run by [`Candidate::python`].
const NUMPY_ADAPTER: &str = include_str!("../../../adapters/numpy_adapter.py");

/// Runs the adapter's source, its first argument, under its own file name, with its lines
/// where tracebacks look for them: the adapter's frames then read `File
/// "adapters/numpy_adapter.py", line N, in answer` with the source line, not `<string>`.
const ADAPTER_UNDER_ITS_NAME: &str = r#"import linecache, sys
source, name = sys.argv.pop(1), "adapters/numpy_adapter.py"
linecache.cache[name] = (len(source), None, source.splitlines(True), name)
exec(compile(source, name, "exec"), {"__name__": "__main__"})"#;

/// The Python of the venv `scripts/setup` keeps (PyTorch and NumPy) in the
/// project's home (`project_home::dir`), for [`Candidate::python`].
pub fn default_python() -> PathBuf {
    project_home::dir().join("torch-2.13.0/bin/python")
}

/// [`default_python`] when it is there.
pub fn installed_python() -> Result<PathBuf, MissingPython> {
    let python = default_python();
    if python.exists() {
        Ok(python)
    } else {
        Err(MissingPython(python))
    }
}

/// The venv's Python is not where `scripts/setup` puts it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{} is missing: run scripts/setup (it installs PyTorch and NumPy there)", .0.display())]
pub struct MissingPython(pub PathBuf);

/// How a candidate is run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The longest wait for any one answer; the process is killed after it.
    pub timeout: Duration,
    /// Whether the candidate's stderr is passed through to ours as it comes (its last lines
    /// are kept for the error either way).
    pub echo_stderr: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: DEFAULT_TIMEOUT,
            echo_stderr: true,
        }
    }
}

/// A model in another process that speaks docs/candidate-protocol.md. Started once; every
/// [`Differentiable::differentiate`] and [`UpdateRule::update`] is one request and its answer.
///
/// Those traits cannot fail, so a fault is kept ([`Candidate::fault`]), the process is
/// stopped, and this and every later call answers an empty gradient (and no parameters),
/// which [`parity::compare_step`](../parity/fn.compare_step.html) refuses as incomparable:
/// the caller then reports the fault. [`Candidate::try_differentiate`] and
/// [`Candidate::try_update`] return it directly.
pub struct Candidate {
    name: String,
    process: Option<Process>,
    has_update_rule: bool,
    timeout: Duration,
    step: usize,
    fault: Option<CandidateError>,
    /// The files the arrays go through.
    files: Files,
    /// The most bytes an answer's arrays may take in the answers file.
    max_answer: u64,
}

impl Candidate {
    /// Starts `command` and greets it (the version handshake), within `options.timeout`.
    pub fn start(
        name: &str,
        mut command: Command,
        config: &ModelConfig,
        options: &Options,
    ) -> Result<Self, CandidateError> {
        let parameters: usize = config
            .layer_sizes()
            .windows(2)
            .map(|pair| (pair[0] + 1) * pair[1])
            .sum();
        // An answer holds at most the parameters and a batch's pre-activations in float64.
        let max_answer = (64 << 20) + 16 * parameters as u64;
        command.env("PYTHONUNBUFFERED", "1");
        for variable in ONE_THREAD {
            if std::env::var_os(variable).is_none() {
                command.env(variable, "1");
            }
        }
        let files = Files::create().map_err(|e| CandidateError {
            when: When::Start,
            fault: Fault::ArrayFiles(e.to_string()),
            stderr: Vec::new(),
        })?;
        let mut candidate = Candidate {
            name: name.to_owned(),
            process: None,
            has_update_rule: false,
            timeout: options.timeout,
            step: 0,
            fault: None,
            files,
            max_answer,
        };
        let process = Process::start(command, options.echo_stderr)
            .map_err(|fault| candidate.error(When::Start, fault))?;
        candidate.process = Some(process);
        let hello = frame::encode(&Request::Hello {
            protocol: PROTOCOL,
            hidden: &config.hidden,
            activation: config.activation,
            l2: config.l2.into(),
            optimizer: (&config.optimizer).into(),
            files: &candidate.files,
        });
        let answer = candidate.exchange(When::Start, hello)?;
        match answer {
            Answer::Hello { protocol, update } if protocol == PROTOCOL => {
                candidate.has_update_rule = update;
                Ok(candidate)
            }
            Answer::Hello { protocol, .. } => Err(candidate.fail(
                When::Start,
                Fault::VersionMismatch {
                    ours: PROTOCOL,
                    theirs: protocol,
                },
            )),
            other => Err(candidate.unexpected(When::Start, "hello", &other)),
        }
    }

    /// `command_line` run by `sh -c` (so it may hold arguments and quotes).
    pub fn from_command_line(
        command_line: &str,
        config: &ModelConfig,
        options: &Options,
    ) -> Result<Self, CandidateError> {
        let mut command = Command::new("sh");
        command.arg("-c").arg(command_line);
        Candidate::start(command_line, command, config, options)
    }

    /// The NumPy adapter under `interpreter` (which must have NumPy), loading `script`: the
    /// user's `loss_and_grads(params, x, y)` and optional `update(params, grads, state,
    /// config)` and `configure(config)`.
    pub fn python(
        interpreter: &Path,
        script: &Path,
        config: &ModelConfig,
        options: &Options,
    ) -> Result<Self, CandidateError> {
        let mut command = Command::new(interpreter);
        (command.arg("-c").arg(ADAPTER_UNDER_ITS_NAME))
            .arg(NUMPY_ADAPTER)
            .arg(script);
        let name = script.file_stem().map_or_else(
            || script.display().to_string(),
            |stem| stem.to_string_lossy().into_owned(),
        );
        Candidate::start(&name, command, config, options)
    }

    /// Whether the candidate's hello said it has an update rule.
    pub fn has_update_rule(&self) -> bool {
        self.has_update_rule
    }

    /// Names the step (from 1) that the next requests belong to, for requests and errors.
    pub fn begin_step(&mut self, step: usize) {
        self.step = step;
    }

    /// The fault that stopped the candidate, if one did.
    pub fn fault(&self) -> Option<&CandidateError> {
        self.fault.as_ref()
    }

    /// The loss, gradients and (if it sends them) hidden pre-activations at `parameters`.
    pub fn try_differentiate(
        &mut self,
        parameters: &Parameters,
        batch: &Batch<'_>,
    ) -> Result<Derivatives, CandidateError> {
        let when = When::Gradients(self.step);
        let mut arrays = self.files.request();
        arrays.add_parameters("", parameters);
        arrays.add_images("x".to_owned(), &batch.images);
        arrays.add_i64("y".to_owned(), batch.labels.iter().map(|&l| i64::from(l)));
        let written = arrays.finish();
        let entries = self.written(when, written)?;
        let step = self.step;
        let request = frame::encode(&Request::LossAndGrads {
            step,
            arrays: &entries,
        });
        let answer = self.exchange(when, request)?;
        let Answer::Gradients { arrays } = answer else {
            return Err(self.unexpected(when, "gradients", &answer));
        };
        let m = batch.labels.len();
        let read = |arrays: &mut Answered| -> Result<Derivatives, Fault> {
            let loss = arrays.take_scalar("loss")?;
            let gradient = arrays.take_parameters(parameters)?;
            let mut pre_activations = Vec::new();
            if arrays.has(&pre_activation_name(0)) {
                for (l, p) in parameters.iter().take(parameters.len() - 1).enumerate() {
                    let shape = (m, p.out_features);
                    let z = arrays.take(&pre_activation_name(l), &[shape.0, shape.1])?;
                    pre_activations.push(Array2::from_shape_vec(shape, z).expect("shape checked"));
                }
            }
            Ok(Derivatives {
                loss,
                gradient,
                pre_activations,
            })
        };
        self.read(when, arrays, read)
    }

    /// The parameters after the candidate's own optimiser step on `request`.
    pub fn try_update(
        &mut self,
        request: &UpdateRequest<'_>,
    ) -> Result<Parameters, CandidateError> {
        let when = When::Update(self.step);
        if !self.has_update_rule {
            return Err(self.fail(when, Fault::NoUpdateRule));
        }
        let mut arrays = self.files.request();
        arrays.add_parameters("", request.parameters);
        arrays.add_parameters("grad.", request.gradient);
        let mut t = 1;
        if request.optimizer.adam_f64().is_some() {
            // The state handed over, borrowed: it is megabytes (zeros only before the first step).
            let zeros;
            let state = match request.adam {
                Some(state) => state,
                None => {
                    zeros = AdamState::zeros(request.parameters);
                    &zeros
                }
            };
            arrays.add_parameters("m.", &state.m);
            arrays.add_parameters("v.", &state.v);
            t = state.steps + 1;
        }
        let written = arrays.finish();
        let entries = self.written(when, written)?;
        let header = frame::encode(&Request::Update {
            step: self.step,
            optimizer: request.optimizer.into(),
            t,
            arrays: &entries,
        });
        let answer = self.exchange(when, header)?;
        let Answer::Updated { arrays } = answer else {
            return Err(self.unexpected(when, "updated", &answer));
        };
        self.read(when, arrays, |arrays| {
            arrays.take_parameters(request.parameters)
        })
    }

    /// The entries of a request's arrays written to the requests file, or the fault.
    fn written(
        &mut self,
        when: When,
        written: std::io::Result<Vec<Entry>>,
    ) -> Result<Vec<Entry>, CandidateError> {
        written.map_err(|e| self.fail(when, Fault::ArrayFiles(e.to_string())))
    }

    /// One request (a frame) and its answer's header.
    fn exchange(&mut self, when: When, request: Vec<u8>) -> Result<Answer, CandidateError> {
        if let Some(fault) = &self.fault {
            return Err(fault.clone());
        }
        let Some(process) = self.process.as_mut() else {
            unreachable!("a candidate without a fault has its process")
        };
        let header = match process.exchange(request, self.timeout) {
            Ok(header) => header,
            Err(fault) => return Err(self.fail(when, fault)),
        };
        match serde_json::from_slice::<Answer>(&header) {
            Ok(Answer::Error { message }) => Err(self.fail(when, Fault::Reported(message))),
            Ok(answer) => Ok(answer),
            Err(e) => {
                let header = String::from_utf8_lossy(&header).into_owned();
                Err(self.fail(when, Fault::Malformed(format!("header {header:?}: {e}"))))
            }
        }
    }

    /// Reads the arrays an answer lists with `read`, then refuses any array left over.
    fn read<T>(
        &mut self,
        when: When,
        entries: Vec<Entry>,
        read: impl FnOnce(&mut Answered) -> Result<T, Fault>,
    ) -> Result<T, CandidateError> {
        let result = self
            .files
            .answer(entries, self.max_answer)
            .and_then(|mut arrays| {
                let value = read(&mut arrays)?;
                arrays.finish()?;
                Ok(value)
            });
        result.map_err(|fault| self.fail(when, fault))
    }

    fn unexpected(&mut self, when: When, expected: &'static str, got: &Answer) -> CandidateError {
        let got = got.kind().to_owned();
        self.fail(when, Fault::UnexpectedAnswer { expected, got })
    }

    /// Stops the process and keeps the fault.
    fn fail(&mut self, when: When, fault: Fault) -> CandidateError {
        let error = self.error(when, fault);
        if let Some(mut process) = self.process.take() {
            process.stop();
        }
        self.fault = Some(error.clone());
        error
    }

    fn error(&self, when: When, fault: Fault) -> CandidateError {
        let stderr = self
            .process
            .as_ref()
            .map(Process::stderr_tail)
            .unwrap_or_default();
        CandidateError {
            when,
            fault,
            stderr,
        }
    }
}

impl Drop for Candidate {
    fn drop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.close(frame::encode(&Request::Bye));
        }
    }
}

impl Differentiable for Candidate {
    fn name(&self) -> &str {
        &self.name
    }

    /// After a fault: loss NaN, no gradient, no pre-activations (see [`Candidate`]).
    fn differentiate(&mut self, parameters: &Parameters, batch: &Batch<'_>) -> Derivatives {
        self.try_differentiate(parameters, batch)
            .unwrap_or_else(|_| Derivatives {
                loss: f32::NAN,
                gradient: Vec::new(),
                pre_activations: Vec::new(),
            })
    }
}

impl UpdateRule for Candidate {
    fn name(&self) -> &str {
        &self.name
    }

    /// After a fault: no parameters (see [`Candidate`]).
    fn update(&mut self, request: &UpdateRequest<'_>) -> Updated {
        Updated {
            parameters: self.try_update(request).unwrap_or_default(),
            adam: None,
        }
    }
}
