//! `report.html`: one page per run folder that a person opens instead of the dozen files
//! beside it. Self-contained: the plots are inline SVG, the images PNG data URIs, there is no
//! script and no web font, and a Content-Security-Policy tells the browser that nothing may
//! be fetched, so the page reads the same offline and prints as it shows. Text is escaped by
//! `maud`.

//!
//! `run.rs` is the page of one run, `seeds.rs` that of a multi-seed run, `parity.rs` that of
//! `compare parity`, `gallery.rs` the test images the models disagree on, `parts.rs` what the
//! pages share.

mod gallery;
mod parity;
mod parts;
mod run;
mod seeds;

pub use parity::{write_parity_page, ParityPage};
pub use parts::ExtraTable;
pub use run::{write_run_page, RunPage};
pub use seeds::{write_seeds_page, SeedsPage};
