//! The project's home: the one folder where `scripts/setup` keeps the PyTorch venv and the
//! datasets, shared by every clone on the machine. The `compare` binary looks for data there
//! by default and the tests fall back to it, so both read it from here.

use std::path::PathBuf;

/// `$MNIST_COMPARE_HOME` if set and non-empty, else `mnist-scratch-vs-torch` in
/// `$XDG_CACHE_HOME` (if absolute) or `$HOME/.cache`: the same rule as `scripts/setup`.
pub fn dir() -> PathBuf {
    std::env::var_os("MNIST_COMPARE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
                .unwrap_or_else(|| PathBuf::from(".cache"))
                .join("mnist-scratch-vs-torch")
        })
}
