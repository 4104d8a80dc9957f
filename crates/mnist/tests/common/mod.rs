//! What several test files share: where the real MNIST files are.

pub use mnist::testing::real_mnist_dir as mnist_dir;
