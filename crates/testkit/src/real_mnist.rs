//! Where tests and benchmarks find real MNIST, and loading it.

use std::path::PathBuf;

use mnist::{DataSource, DatasetName, Mnist};

/// Where tests and benchmarks find real MNIST: `$MNIST_DIR`, else `shared/data/mnist` beside
/// the workspace (where CI lays it out) if it is there, else the folder `scripts/setup`
/// downloads MNIST to (`mnist` in [`project_home::dir`]).
pub fn real_mnist_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MNIST_DIR").filter(|dir| !dir.is_empty()) {
        return PathBuf::from(dir);
    }
    let shared = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/mnist"
    ));
    if shared.is_dir() {
        shared
    } else {
        project_home::dir().join(DatasetName::Mnist.id())
    }
}

/// Real MNIST for tests and benchmarks: verified against the published checksums, never
/// downloaded. Panics, saying how to fix it, when the files are not there.
pub fn real_mnist() -> Mnist {
    let source = DataSource {
        download: false,
        ..DataSource::new(DatasetName::Mnist, real_mnist_dir())
    };
    mnist::load(&source).unwrap_or_else(|e| panic!("real MNIST (set MNIST_DIR): {e}"))
}
