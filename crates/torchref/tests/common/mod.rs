//! Real MNIST for the integration tests, loaded once per test binary.

use std::sync::OnceLock;

use mnist::Mnist;

/// The four MNIST files from `$MNIST_DIR`, else from `shared/data/mnist` beside the
/// workspace; verified, never downloaded.
pub fn mnist() -> &'static Mnist {
    static DATA: OnceLock<Mnist> = OnceLock::new();
    DATA.get_or_init(testkit::real_mnist)
}
