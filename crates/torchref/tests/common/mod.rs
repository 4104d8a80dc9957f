//! Real MNIST for the integration tests, loaded once per test binary.

use std::path::PathBuf;
use std::sync::OnceLock;

use mnist::{DataSource, Mnist};

/// The four MNIST files from `$MNIST_DIR`, else from `shared/data/mnist` beside the
/// workspace; verified, never downloaded.
pub fn mnist() -> &'static Mnist {
    static DATA: OnceLock<Mnist> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = std::env::var_os("MNIST_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/mnist").into()
            });
        let source = DataSource {
            dir: Some(dir),
            download: false,
            ..DataSource::default()
        };
        mnist::load(&source)
            .unwrap_or_else(|e| panic!("MNIST for the tests (set MNIST_DIR): {e:#}"))
    })
}
