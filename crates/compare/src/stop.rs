//! Stopping on request: the first Ctrl-C asks the run to stop at the next step boundary and
//! write its reports; a second one marks `run.json` `aborted` and ends the process at once.

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};

use crate::exit::EXIT_INTERRUPTED;

/// Set by the first Ctrl-C; the training loop stops after the current step.
static STOP: AtomicBool = AtomicBool::new(false);

/// Whether a stop has been asked for (once [`install`] has installed the handler).
pub fn requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Installs the Ctrl-C handler: once per process, before the first run.
pub fn install() -> Result<()> {
    ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            crate::record::abort_live(|marked| {
                if let Err(error) = marked {
                    eprintln!("\nerror: {error:#}");
                }
                eprintln!("\naborted: run.json says so; the reports of this run are incomplete");
                std::process::exit(i32::from(EXIT_INTERRUPTED));
            });
        }
        eprintln!("\ninterrupted: finishing the reports (Ctrl-C again to quit at once)");
    })
    .context("cannot install the Ctrl-C handler")
}
