//! What the terminal says when a stop signal arrives.

use crate::record::Abort;
use crate::status::Signal;

/// A first stop signal: the run stops after its current step and writes its reports.
pub fn print_stopping(signal: Signal) {
    eprintln!(
        "\n{}: stopping after this step and finishing the reports (a second signal, or Ctrl-C again, quits at once)",
        signal.name()
    );
}

/// A second stop signal: the process ends at once, `found` what it marked.
pub fn print_aborted(signal: Signal, found: &Abort) {
    let what = match found {
        Abort::Marked => "run.json says so; the reports of this run are incomplete",
        Abort::NothingLive => {
            "run.json already said how the run ended; what was still to write (the page, the CI files) may be missing"
        }
    };
    eprintln!("\naborted by a second signal ({}): {what}", signal.name());
}
