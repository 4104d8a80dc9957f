//! What the tests and benchmarks of every crate share, used only as a dev-dependency: the one
//! float comparison ([`assert_close`], which fails on the element furthest outside
//! `atol + rtol·|want|` and says which one it is) and, with the `real-mnist` feature, where
//! the real MNIST files are (`real_mnist_dir`) and loading them (`real_mnist`).

mod close;
#[cfg(feature = "real-mnist")]
mod real_mnist;

pub use close::{assert_close, worst_deviation, Deviation};
#[cfg(feature = "real-mnist")]
pub use real_mnist::{real_mnist, real_mnist_dir};
