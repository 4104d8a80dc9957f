//! What several test files share: where the real MNIST files are.

use std::path::PathBuf;

/// `$MNIST_DIR`, else the read-only shared copy beside the clone (the four `.gz` files).
pub fn mnist_dir() -> PathBuf {
    std::env::var_os("MNIST_DIR")
        .filter(|dir| !dir.is_empty())
        .map_or_else(
            || {
                PathBuf::from(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../../shared/data/mnist"
                ))
            },
            PathBuf::from,
        )
}
