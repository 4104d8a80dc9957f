//! SVG figures: loss and accuracy per epoch, per-step loss, sample images, over several seeds
//! the test accuracy per epoch as a mean line in a min–max band, and `compare parity`'s
//! differences per step. Each figure's file draws on the shared chart in `chart`.

mod chart;
mod epochs;
mod parity;
mod samples;
mod seeds;

pub use epochs::{epoch_charts, step_chart};
pub use parity::parity_chart;
pub use samples::sample_images;
pub use seeds::{seed_band_chart, SeedCurves};
