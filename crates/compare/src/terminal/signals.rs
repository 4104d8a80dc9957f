//! What the terminal says when a stop signal arrives.

use crate::status::Signal;

/// A first stop signal: the run stops after its current step and writes its reports.
pub fn print_stopping(signal: Signal) {
    eprintln!(
        "\n{}: stopping after this step and finishing the reports (a second signal, or Ctrl-C again, quits at once)",
        signal.name()
    );
}

/// A second stop signal: the process ends at once.
pub fn print_aborted(signal: Signal) {
    eprintln!(
        "\naborted by a second signal ({}): run.json says so; the reports of this run are incomplete",
        signal.name()
    );
}
