//! The errors of a sweep folder's files (reading, writing and locking seed folders), and the
//! name of the record that makes a seed folder one.

use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::fingerprint::Difference;

/// The file in a complete seed folder that says what it holds.
pub const RECORD_FILE: &str = "seed.json";

#[derive(Debug, Error)]
pub enum FolderError {
    // The system's reason is in the message, so it is not also the error's source: a chain
    // printed whole (`{:#}`) would say it twice.
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: io::Error },
    #[error("cannot lock {}: {error} (a sweep folder needs a filesystem with file locks)", path.display())]
    Lock { path: PathBuf, error: io::Error },
    #[error("{} is not a seed folder of a sweep: it has no {RECORD_FILE}", path.display())]
    NotASeedFolder { path: PathBuf },
    #[error("{}: unreadable: {reason}", path.display())]
    Unreadable { path: PathBuf, reason: String },
    #[error("seed {seed}: {}: its result does not match its result_sha256 (edited after it was written)", path.display())]
    Checksum { seed: u64, path: PathBuf },
    #[error("{} holds seed {found}, not seed {expected}", path.display())]
    WrongSeed {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    #[error("{} was made with other settings, so this run cannot add to it: {} is {} there, {} in this run", path.display(), .difference.field, .difference.theirs, .difference.ours)]
    Fingerprint {
        path: PathBuf,
        difference: Box<Difference>,
    },
}

pub(crate) fn io_error(path: &Path) -> impl FnOnce(io::Error) -> FolderError + '_ {
    move |error| FolderError::Io {
        path: path.to_owned(),
        error,
    }
}
