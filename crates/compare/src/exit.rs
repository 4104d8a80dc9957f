//! The exit codes, and how a job's end maps to one.

use std::process::ExitCode;

use crate::report::outputs::OutputErrors;
use crate::status::RunEnd;

/// Exit code when a flag's value is impossible (as clap's own exit code for unknown flags
/// and values of the wrong type).
pub const EXIT_BAD_FLAG: u8 = 2;
/// Exit code when a gate fails (`--max-accuracy-gap`, `--min-accuracy`, or `compare parity`'s
/// bound): distinct from 1, a crash or bad input.
pub const EXIT_GATE_FAILED: u8 = 3;

/// How a job ended: how its run ended, whether a gate it applied failed, and whether an
/// output for CI (`--junit`, `$GITHUB_STEP_SUMMARY`) could not be written.
#[derive(Debug, Clone, Copy)]
pub struct JobEnd {
    pub run: RunEnd,
    pub gate_failed: bool,
    pub outputs_failed: bool,
}

impl JobEnd {
    /// A job without a gate.
    pub fn ungated(run: RunEnd, outputs: &OutputErrors) -> Self {
        JobEnd {
            run,
            gate_failed: false,
            outputs_failed: outputs.failed(),
        }
    }

    /// A failed gate wins over the rest: what was compared already failed, and CI must see
    /// it whatever else went wrong. Then an output that could not be written: the job
    /// failed (1). A run stopped by a signal exits as a shell reports a process that signal
    /// ended: 128 + its number (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP).
    pub fn exit_code(self) -> ExitCode {
        if self.gate_failed {
            ExitCode::from(EXIT_GATE_FAILED)
        } else if self.outputs_failed {
            ExitCode::FAILURE
        } else if let RunEnd::Interrupted(signal) = self.run {
            ExitCode::from(signal.exit_code())
        } else {
            ExitCode::SUCCESS
        }
    }
}
