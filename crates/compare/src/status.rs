//! How a run stands, and each model in it: the one enum of how a run ended (the `status` of
//! `run.json`), and a model's own status in the summary.

use serde::Serialize;

/// A signal that asks a run to stop: each is handled the same way, and named in `run.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Ctrl-C, `timeout -s INT`.
    Int,
    /// CI cancelling a job, a scheduler's time limit, `docker stop`, `kill`.
    Term,
    /// The terminal or ssh session closing.
    Hup,
}

impl Signal {
    pub const ALL: [Signal; 3] = [Signal::Int, Signal::Term, Signal::Hup];

    /// Its number on this system.
    pub fn number(self) -> i32 {
        match self {
            Signal::Int => signal_hook::consts::SIGINT,
            Signal::Term => signal_hook::consts::SIGTERM,
            Signal::Hup => signal_hook::consts::SIGHUP,
        }
    }

    pub fn from_number(number: i32) -> Option<Signal> {
        Signal::ALL.into_iter().find(|s| s.number() == number)
    }

    /// As `run.json` and the terminal name it.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
            Signal::Hup => "SIGHUP",
        }
    }

    /// The exit code of a process it ended, as a shell reports it: 128 + its number.
    pub fn exit_code(self) -> u8 {
        128 + self.number() as u8
    }
}

impl Serialize for Signal {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// How a run ended, or that it has not yet: the `status` of `run.json`, spelled by
/// [`RunEnd::name`] alone, and beside it the `signal` that stopped it, if one did. Flattened
/// into its record (`#[serde(flatten)]`), it writes those two fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// Still going, or left so by a process that no longer exists (`pid` on `host`).
    Running,
    Completed,
    /// Stopped at a step boundary on request (SIGINT, SIGTERM or SIGHUP): the reports are
    /// complete up to the last finished epoch.
    Interrupted(Signal),
    /// Ended at once by a second signal, without the reports a first one writes.
    Aborted(Signal),
    /// Ended by an error or a panic while training (`error` says which).
    Failed,
}

impl RunEnd {
    /// The status as `run.json` spells it.
    pub fn name(self) -> &'static str {
        match self {
            RunEnd::Running => "running",
            RunEnd::Completed => "completed",
            RunEnd::Interrupted(_) => "interrupted",
            RunEnd::Aborted(_) => "aborted",
            RunEnd::Failed => "failed",
        }
    }

    /// The signal that ended the run, if one did.
    pub fn signal(self) -> Option<Signal> {
        match self {
            RunEnd::Interrupted(signal) | RunEnd::Aborted(signal) => Some(signal),
            _ => None,
        }
    }

    pub fn is_interrupted(self) -> bool {
        matches!(self, RunEnd::Interrupted(_))
    }

    /// The signal that stopped the run at a step boundary, if one did.
    pub fn interrupted_by(self) -> Option<Signal> {
        match self {
            RunEnd::Interrupted(signal) => Some(signal),
            _ => None,
        }
    }
}

impl Serialize for RunEnd {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let signal = self.signal();
        let mut map = serializer.serialize_map(Some(1 + usize::from(signal.is_some())))?;
        map.serialize_entry("status", self.name())?;
        if let Some(signal) = signal {
            map.serialize_entry("signal", &signal)?;
        }
        map.end()
    }
}

/// Where a model stands in its run.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelStatus {
    Training,
    Completed,
    Diverged {
        epoch: usize,
        step: usize,
        loss: f32,
    },
    Interrupted,
    /// The run ended on an error or a panic while this model was training.
    Failed,
}

/// As the summary and `run.json` say it: a model still training when the run ended was
/// interrupted.
impl std::fmt::Display for ModelStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelStatus::Training | ModelStatus::Interrupted => f.write_str("interrupted"),
            ModelStatus::Completed => f.write_str("completed"),
            ModelStatus::Failed => f.write_str("failed"),
            ModelStatus::Diverged { epoch, step, loss } => {
                write!(f, "diverged at epoch {epoch} step {step} (loss {loss})")
            }
        }
    }
}

impl Serialize for ModelStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Record {
        #[serde(flatten)]
        status: RunEnd,
        error: Option<String>,
    }

    #[test]
    fn run_json_spells_every_end_as_it_always_has_and_names_the_signal() {
        for (end, spelled) in [
            (RunEnd::Running, r#"{"status":"running","error":null}"#),
            (RunEnd::Completed, r#"{"status":"completed","error":null}"#),
            (
                RunEnd::Interrupted(Signal::Int),
                r#"{"status":"interrupted","signal":"SIGINT","error":null}"#,
            ),
            (
                RunEnd::Interrupted(Signal::Term),
                r#"{"status":"interrupted","signal":"SIGTERM","error":null}"#,
            ),
            (
                RunEnd::Aborted(Signal::Hup),
                r#"{"status":"aborted","signal":"SIGHUP","error":null}"#,
            ),
            (RunEnd::Failed, r#"{"status":"failed","error":null}"#),
        ] {
            let json = serde_json::to_string(&Record {
                status: end,
                error: None,
            })
            .expect("serialisable");
            assert_eq!(json, spelled);
            assert!(
                spelled.contains(end.name()),
                "the page shows what run.json says"
            );
        }
    }

    #[test]
    fn a_signal_exits_as_a_shell_reports_it() {
        let codes: Vec<(&str, u8)> = Signal::ALL.map(|s| (s.name(), s.exit_code())).to_vec();
        assert_eq!(codes, [("SIGINT", 130), ("SIGTERM", 143), ("SIGHUP", 129)]);
        for signal in Signal::ALL {
            assert_eq!(Signal::from_number(signal.number()), Some(signal));
        }
        assert_eq!(Signal::from_number(9), None);
    }

    #[test]
    fn a_diverged_model_says_where_and_with_what_loss() {
        let status = ModelStatus::Diverged {
            epoch: 1,
            step: 3,
            loss: f32::NAN,
        };
        assert_eq!(
            serde_json::to_string(&status).expect("serialisable"),
            "\"diverged at epoch 1 step 3 (loss NaN)\""
        );
        assert_eq!(ModelStatus::Training.to_string(), "interrupted");
    }
}
