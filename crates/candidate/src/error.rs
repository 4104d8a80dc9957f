//! What can go wrong with a candidate: [`CandidateError`] names where (at the start or which
//! step, which request) and the [`Fault`].

use std::fmt;
use std::time::Duration;

/// Where in the run a fault happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Starting the process or its `hello`.
    Start,
    /// Step `n` (from 1), asking for the loss and gradients.
    Gradients(usize),
    /// Step `n` (from 1), asking for the optimiser's update.
    Update(usize),
}

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            When::Start => f.write_str("at start"),
            When::Gradients(step) => write!(f, "step {step}, loss_and_grads"),
            When::Update(step) => write!(f, "step {step}, update"),
        }
    }
}

/// A candidate that failed, and where. Its process is stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("candidate {when}: {fault}{}", stderr_tail(.stderr))]
pub struct CandidateError {
    pub when: When,
    pub fault: Fault,
    /// The last lines the candidate wrote to stderr before the fault (also passed through as
    /// they came, unless the candidate was started quiet).
    pub stderr: Vec<String>,
}

fn stderr_tail(lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    format!("\n  its stderr ended with:\n    {}", lines.join("\n    "))
}

/// What the candidate did wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Fault {
    #[error("cannot start {command:?}: {reason}")]
    Spawn { command: String, reason: String },
    #[error("the process crashed ({status})")]
    Crashed { status: String },
    #[error("the process exited (status 0) before answering")]
    ExitedEarly,
    #[error("it wrote text to stdout, where only protocol frames may go: {text:?} (print to stderr instead)")]
    TextOnStdout { text: String },
    #[error("no answer within {0:?}; the process was stopped")]
    Timeout(Duration),
    #[error("it speaks protocol version {theirs}, this harness version {ours}")]
    VersionMismatch { ours: u32, theirs: u32 },
    #[error("it answered {got:?} where {expected:?} was expected")]
    UnexpectedAnswer { expected: &'static str, got: String },
    #[error("it reported an error: {0}")]
    Reported(String),
    #[error("the answer has no array {name:?} (it has {got:?})")]
    MissingArray { name: String, got: Vec<String> },
    #[error("the answer has an array {name:?} that the protocol does not define")]
    UnknownArray { name: String },
    #[error("array {name:?} has shape {got:?}, expected {expected:?}")]
    WrongShape {
        name: String,
        expected: Vec<usize>,
        got: Vec<usize>,
    },
    #[error("array {name:?} has dtype {dtype}, expected float32 or float64 (little-endian)")]
    WrongDtype { name: String, dtype: String },
    #[error("array {name:?} holds {value} at flat index {index}")]
    NotFinite {
        name: String,
        index: usize,
        value: f64,
    },
    #[error("an update was asked of a candidate whose hello said it has no update rule")]
    NoUpdateRule,
    #[error("malformed frame: {0}")]
    Malformed(String),
    #[error("the files the arrays go through: {0}")]
    ArrayFiles(String),
}
