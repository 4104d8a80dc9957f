//! What the terminal shows while training: a progress bar per model and epoch on a terminal,
//! plain lines every `--log-every` steps and one per epoch otherwise (CI logs); with `--seeds`,
//! which seed is running and, after the first epoch, the expected total time.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    bars: bool,
    log_every: usize,
    /// (1-based index, number of seeds) of a multi-seed run.
    seed: Option<(usize, usize)>,
}

impl Progress {
    pub fn new(log_every: usize) -> Self {
        Progress {
            bars: std::io::stderr().is_terminal(),
            log_every,
            seed: None,
        }
    }

    /// The progress of seed `index` (from 1) of `count`.
    pub fn for_seed(log_every: usize, index: usize, count: usize) -> Self {
        Progress {
            seed: Some((index, count)),
            ..Progress::new(log_every)
        }
    }

    /// Called when every model has finished `epoch` (training and evaluation), `seconds` after
    /// the epoch began. After the first epoch of the first seed, prints the expected total.
    pub fn epoch_finished(&self, epoch: usize, epochs: usize, seconds: f64) {
        if let (1, Some((1, seeds))) = (epoch, self.seed) {
            let total = seconds * (epochs * seeds) as f64;
            eprintln!(
                "expected total time: about {} (the first epoch of every model took {seconds:.1} s; × {epochs} epochs × {seeds} seeds)",
                duration(total)
            );
        }
    }

    pub fn epoch(&self, model: &str, epoch: usize, epochs: usize, steps: usize) -> EpochProgress {
        let seed = self.seed.map_or(String::new(), |(index, count)| {
            format!("seed {index}/{count}  ")
        });
        self.steps(
            &format!("{seed}{model:<10} epoch {epoch:>2}/{epochs}"),
            steps,
        )
    }

    /// A bar (or plain lines) over `steps` steps, each line starting with `prefix`.
    pub fn steps(&self, prefix: &str, steps: usize) -> EpochProgress {
        let prefix = prefix.to_owned();
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

/// `seconds` as a person reads a wait: "40 s", "12 min", "2 h 05 min".
fn duration(seconds: f64) -> String {
    let minutes = (seconds / 60.0).round() as u64;
    if seconds < 90.0 {
        format!("{seconds:.0} s")
    } else if minutes < 120 {
        format!("{minutes} min")
    } else {
        format!("{} h {:02} min", minutes / 60, minutes % 60)
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

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn durations_read_in_the_unit_that_fits() {
        assert_eq!(duration(42.4), "42 s");
        assert_eq!(duration(725.0), "12 min");
        assert_eq!(duration(7500.0), "2 h 05 min");
    }
}
