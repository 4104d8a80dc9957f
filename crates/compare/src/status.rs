//! How a run stands, and each model in it: the one enum of how a run ended (the `status` of
//! `run.json`), and a model's own status in the summary.

use serde::Serialize;

/// How a run ended, or that it has not yet: the `status` of `run.json`, spelled by
/// [`RunEnd::name`] alone, so that a variant may carry data (the signal that interrupted a
/// run, say) and still be written as the same word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// Still going, or left so by a process that no longer exists (`pid` on `host`).
    Running,
    Completed,
    /// Stopped at a step boundary on request (Ctrl-C): the reports are complete up to the
    /// last finished epoch.
    Interrupted,
    /// Ended at once by a second Ctrl-C, without the reports a first one writes.
    Aborted,
    /// Ended by an error or a panic while training (`error` says which).
    Failed,
}

impl RunEnd {
    /// The status as `run.json` spells it.
    pub fn name(self) -> &'static str {
        match self {
            RunEnd::Running => "running",
            RunEnd::Completed => "completed",
            RunEnd::Interrupted => "interrupted",
            RunEnd::Aborted => "aborted",
            RunEnd::Failed => "failed",
        }
    }
}

impl Serialize for RunEnd {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
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

    #[test]
    fn run_json_spells_every_end_as_it_always_has() {
        for (end, spelled) in [
            (RunEnd::Running, "running"),
            (RunEnd::Completed, "completed"),
            (RunEnd::Interrupted, "interrupted"),
            (RunEnd::Aborted, "aborted"),
            (RunEnd::Failed, "failed"),
        ] {
            let json = serde_json::to_string(&end).expect("serialisable");
            assert_eq!(json, format!("\"{spelled}\""));
            assert_eq!(end.name(), spelled, "the page shows what run.json says");
        }
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
