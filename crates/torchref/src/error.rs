//! The failures a caller of this crate can act on.

/// What can go wrong choosing a device or building a model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A CUDA device was asked for that libtorch cannot see.
    #[error(
        "CUDA device cuda:{requested} was requested, but libtorch sees {available} CUDA device(s) \
         (a CPU-only libtorch, no NVIDIA driver, or CUDA_VISIBLE_DEVICES hiding it)"
    )]
    CudaUnavailable { requested: usize, available: usize },
    /// A device name that is none of `cpu`, `cuda`, `cuda:N`.
    #[error("unknown device {0:?}: expected \"cpu\", \"cuda\" or \"cuda:N\"")]
    BadDevice(String),
    /// libtorch refused an operation (for example, allocating on the device).
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}
