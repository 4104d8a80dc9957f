//! Stopping on request: the first SIGINT, SIGTERM or SIGHUP asks the run to stop at the next
//! step boundary and write its reports; a second one marks `run.json` `aborted` and ends the
//! process at once. The signals are read on a thread of their own (`signal-hook`), so this
//! code runs outside the signal handler.
//!
//! "At once" is `_exit`: the main thread may be inside a libtorch operation, and
//! `std::process::exit` would run the C++ static destructors (libtorch's dispatcher, its
//! thread pools) under it, which ended in a segfault or a libtorch panic with a backtrace
//! ("Invalid (backend, op) pair") after the record was written. `tests/signals.rs` sends two
//! signals at 24 delays during torchref training.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;

use anyhow::{Context, Result};
use signal_hook::iterator::Signals;

use crate::status::Signal;

/// The number of the first signal received, 0 before any; the loops stop after their current
/// step once it is set.
static STOP: AtomicI32 = AtomicI32::new(0);

/// The signal that asked for a stop, if one has (once [`install`] has installed the handler).
pub fn requested() -> Option<Signal> {
    Signal::from_number(STOP.load(Ordering::SeqCst))
}

/// Installs the handler of SIGINT, SIGTERM and SIGHUP, once per process (later calls do
/// nothing), before the first run.
pub fn install() -> Result<()> {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    if INSTALLED.get().is_some() {
        return Ok(());
    }
    let mut signals = Signals::new(Signal::ALL.map(Signal::number))
        .context("cannot install the handler of SIGINT, SIGTERM and SIGHUP")?;
    std::thread::Builder::new()
        .name("signals".to_owned())
        .spawn(move || {
            for number in signals.forever() {
                let Some(signal) = Signal::from_number(number) else {
                    continue;
                };
                on_signal(signal);
            }
        })
        .context("cannot start the thread that handles signals")?;
    let _ = INSTALLED.set(());
    Ok(())
}

fn on_signal(signal: Signal) {
    let first = STOP
        .compare_exchange(0, signal.number(), Ordering::SeqCst, Ordering::SeqCst)
        .is_ok();
    if first {
        crate::terminal::print_stopping(signal);
        return;
    }
    crate::record::abort_live(signal, |marked| {
        match marked {
            Ok(found) => crate::terminal::print_aborted(signal, &found),
            Err(error) => eprintln!("\nerror: {error:#}"),
        }
        exit_now(signal.exit_code());
    });
}

/// Ends the process with `code` without running atexit handlers, static destructors or any
/// other thread's teardown; what was printed is flushed first (stderr is unbuffered).
fn exit_now(code: u8) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    // SAFETY: `_exit` takes no pointer and never returns; skipping destructors is its point.
    unsafe { libc::_exit(i32::from(code)) }
}
