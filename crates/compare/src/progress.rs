//! What the terminal shows while training: a progress bar per model and epoch on a terminal,
//! plain lines every `--log-every` steps and one per epoch otherwise (CI logs).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    bars: bool,
    log_every: usize,
}

impl Progress {
    pub fn new(log_every: usize) -> Self {
        Progress {
            bars: std::io::stderr().is_terminal(),
            log_every,
        }
    }

    pub fn epoch(&self, model: &str, epoch: usize, epochs: usize, steps: usize) -> EpochProgress {
        let prefix = format!("{model:<10} epoch {epoch:>2}/{epochs}");
        let bar = self.bars.then(|| {
            let bar = ProgressBar::new(steps as u64);
            let style = ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos:>4}/{len} steps  {msg}  {elapsed_precise} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(prefix.clone());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        EpochProgress {
            bar,
            prefix,
            steps,
            log_every: self.log_every,
        }
    }
}

pub struct EpochProgress {
    bar: Option<ProgressBar>,
    prefix: String,
    steps: usize,
    log_every: usize,
}

impl EpochProgress {
    /// `step` counts from 1; `mean_loss` is the running mean over the epoch so far.
    pub fn step(&self, step: usize, mean_loss: f64, train_seconds: f64) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(step as u64);
                if step.is_multiple_of(16) || step == self.steps {
                    bar.set_message(format!("loss {mean_loss:.4}"));
                }
            }
            None if step.is_multiple_of(self.log_every) => eprintln!(
                "{}  step {step:>4}/{}  mean loss {mean_loss:.4}  {train_seconds:.1} s",
                self.prefix, self.steps
            ),
            None => {}
        }
    }

    /// Replaces the bar with the epoch's summary line.
    pub fn finish(&self, summary: &str) {
        match &self.bar {
            Some(bar) => {
                // The finished line keeps only what a reader needs: which epoch, and how it went.
                if let Ok(style) = ProgressStyle::with_template("{prefix}  {msg}") {
                    bar.set_style(style);
                }
                bar.finish_with_message(summary.to_owned());
            }
            None => eprintln!("{}  {summary}", self.prefix),
        }
    }

    /// Leaves the bar where it stopped (interrupted or diverged).
    pub fn abandon(&self, why: &str) {
        match &self.bar {
            Some(bar) => bar.abandon_with_message(why.to_owned()),
            None => eprintln!("{}  {why}", self.prefix),
        }
    }
}
