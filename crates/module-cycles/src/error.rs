//! What can stop the search: a file that cannot be read, parsed or placed in the module tree.

/// A failure to read the crate's source.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not Rust that syn can parse: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: not a module file (expected a path relative to src/ ending in .rs)")]
    NotAModule { path: String },
}
