//! Everything that can go wrong finding, downloading, verifying or reading the data. Each
//! variant names the file and says what was expected, what was found, and what to do.

use std::fmt;
use std::path::PathBuf;

use crate::format::describe_magic;

/// A failure of the data crate. Malformed files are errors, never panics.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file (or folder) could not be read, written or created.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The file starts with the gzip magic bytes but does not decompress.
    #[error(
        "{}: corrupt gzip data ({source}); delete it so that it is downloaded again, or replace it with a good copy",
        path.display()
    )]
    Gzip {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The (decompressed) file holds nothing, or its header counts zero items.
    #[error(
        "{}: holds no data (an empty file, or an IDX header that counts 0 items); delete it so that it is downloaded again, or replace it with a good copy",
        path.display()
    )]
    Empty { path: PathBuf },

    /// The file is shorter than its IDX header.
    #[error(
        "{}: truncated IDX header: expected {expected_bytes} bytes, found {found_bytes}; delete it so that it is downloaded again",
        path.display()
    )]
    TruncatedHeader {
        path: PathBuf,
        expected_bytes: usize,
        found_bytes: usize,
    },

    /// The first four bytes are not the IDX magic number this file should have.
    #[error(
        "{}: bad IDX magic number: expected {expected} ({}), found {found} ({}); is it the right file?",
        path.display(),
        describe_magic(*expected),
        describe_magic(*found)
    )]
    BadMagic {
        path: PathBuf,
        expected: u32,
        found: u32,
    },

    /// Images that are not 28 × 28.
    #[error(
        "{}: images are {}×{} but must be {}×{} (MNIST-format data only)",
        path.display(),
        found.0,
        found.1,
        expected.0,
        expected.1
    )]
    WrongDimensions {
        path: PathBuf,
        expected: (u32, u32),
        found: (u32, u32),
    },

    /// Fewer bytes after the header than the header's counts promise.
    #[error(
        "{}: truncated: the header promises {expected_bytes} bytes of data, found {found_bytes}; delete it so that it is downloaded again",
        path.display()
    )]
    TruncatedBody {
        path: PathBuf,
        expected_bytes: usize,
        found_bytes: usize,
    },

    /// More bytes after the header than the header's counts promise.
    #[error(
        "{}: the header promises {expected_bytes} bytes of data but {found_bytes} follow it; the file is not a valid IDX file",
        path.display()
    )]
    TrailingBytes {
        path: PathBuf,
        expected_bytes: usize,
        found_bytes: usize,
    },

    /// The images file and the labels file disagree on how many items there are.
    #[error(
        "{} holds {images} images but {} holds {labels} labels; they must come from the same set",
        images_path.display(),
        labels_path.display()
    )]
    CountMismatch {
        images_path: PathBuf,
        images: usize,
        labels_path: PathBuf,
        labels: usize,
    },

    /// A label outside 0..10.
    #[error("{}: label {label} at index {index} is not a class 0–9", path.display())]
    BadLabel {
        path: PathBuf,
        index: usize,
        label: u8,
    },

    /// A local file is not the dataset's file its name says it is.
    #[error(
        "{}: {checksum} is {found}, not the expected {expected}; {fix}",
        path.display()
    )]
    ChecksumMismatch {
        path: PathBuf,
        /// Which checksum: of the decompressed content, or of the `.gz`.
        checksum: &'static str,
        expected: String,
        found: String,
        fix: String,
    },

    /// An unpacked file of a dataset whose content checksum is not known: only its
    /// published `.gz` can be verified.
    #[error(
        "{}: is not gzip, and {dataset} is verified by the MD5 of its published {gz_name} only (the SHA-256 of its content is not known); delete it so that the .gz is downloaded, or put the .gz there instead",
        path.display()
    )]
    Unverifiable {
        path: PathBuf,
        dataset: &'static str,
        gz_name: String,
    },

    /// Every mirror failed to deliver a verified copy of `file`.
    #[error(
        "could not download {file} into {}:\n{}\n{how_to_fix}",
        dir.display(),
        MirrorFailures(failures)
    )]
    Download {
        file: String,
        dir: PathBuf,
        failures: Vec<MirrorFailure>,
        how_to_fix: String,
    },

    /// Files are missing and downloading was not allowed.
    #[error(
        "{} lacks {}; {how_to_fix}",
        dir.display(),
        files.join(", ")
    )]
    NotFound {
        dir: PathBuf,
        files: Vec<String>,
        how_to_fix: String,
    },
}

/// Why one mirror did not deliver a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorFailure {
    pub url: String,
    pub reason: String,
}

struct MirrorFailures<'a>(&'a [MirrorFailure]);

impl fmt::Display for MirrorFailures<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, failure) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  {}: {}", failure.url, failure.reason)?;
        }
        Ok(())
    }
}
