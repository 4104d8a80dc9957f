//! Where the data lives, and making sure the four files are there and are MNIST: find them
//! (raw or `.gz`), download what is missing, verify by SHA-256 of the decompressed content.

use std::path::{Path, PathBuf};

use crate::checksum::{sha256_hex, KnownFile, MNIST_FILES};
use crate::download::download;
use crate::error::Error;
use crate::idx;

/// The mirrors torchvision uses, tried in this order.
pub const DEFAULT_MIRRORS: [&str; 2] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
];

/// Where to look for the data and what to do when it is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSource {
    /// The folder (`--data-dir`); `None` means [`resolve_dir`]'s fallbacks.
    pub dir: Option<PathBuf>,
    /// Refuse files whose content is not MNIST's (SHA-256). Turn off only to use another
    /// 28×28, 10-class dataset in IDX format.
    pub verify_mnist_checksums: bool,
    /// Download missing files from `mirrors`.
    pub download: bool,
    /// Base URLs, tried in order; the file name is appended.
    pub mirrors: Vec<String>,
}

impl Default for DataSource {
    fn default() -> Self {
        DataSource {
            dir: None,
            verify_mnist_checksums: true,
            download: true,
            mirrors: DEFAULT_MIRRORS.iter().map(|m| m.to_string()).collect(),
        }
    }
}

/// The default folder: `$XDG_CACHE_HOME` (if absolute) or `$HOME/.cache`, then
/// `mnist-scratch-vs-torch/mnist`.
pub fn default_dir() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("mnist-scratch-vs-torch").join("mnist")
}

/// The folder to use: `explicit` (`--data-dir`), else `$MNIST_DIR` if set and non-empty,
/// else [`default_dir`].
pub fn resolve_dir(explicit: Option<&Path>) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| {
            std::env::var_os("MNIST_DIR")
                .filter(|dir| !dir.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(default_dir)
}

/// Makes sure the four files are in the folder (downloading any that are missing, if
/// allowed) and, unless the opt-out is set, that they are MNIST. Returns the folder.
pub fn ensure_files(source: &DataSource) -> Result<PathBuf, Error> {
    let (dir, paths) = locate(source)?;
    if source.verify_mnist_checksums {
        for (file, path) in MNIST_FILES.iter().zip(&paths) {
            read_verified(file, path, true)?;
        }
    }
    Ok(dir)
}

/// The folder and the path of each of [`MNIST_FILES`], downloading the missing ones.
pub(crate) fn locate(source: &DataSource) -> Result<(PathBuf, Vec<PathBuf>), Error> {
    let dir = resolve_dir(source.dir.as_deref());
    let found: Vec<Option<PathBuf>> = MNIST_FILES.iter().map(|f| find(&dir, f)).collect();
    let missing: Vec<String> = MNIST_FILES
        .iter()
        .zip(&found)
        .filter(|(_, path)| path.is_none())
        .map(|(file, _)| file.gz_name())
        .collect();
    if missing.is_empty() {
        return Ok((dir, found.into_iter().flatten().collect()));
    }
    if !source.download {
        let how_to_fix = format!("downloading is off: {}", place_by_hand(&dir));
        return Err(Error::NotFound {
            dir,
            files: missing,
            how_to_fix,
        });
    }
    if !source.verify_mnist_checksums && missing.len() < MNIST_FILES.len() {
        // The folder may hold another dataset: completing it with MNIST files would mix two.
        let how_to_fix = format!(
            "MNIST checksums are off, so the folder may hold another dataset and its missing files are not downloaded from MNIST's mirrors: {}",
            place_by_hand(&dir)
        );
        return Err(Error::NotFound {
            dir,
            files: missing,
            how_to_fix,
        });
    }
    std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
        path: dir.clone(),
        source,
    })?;
    let paths = MNIST_FILES
        .iter()
        .zip(found)
        .map(|(file, path)| match path {
            Some(path) => Ok(path),
            None => download(file, &dir, &source.mirrors),
        })
        .collect::<Result<_, _>>()?;
    Ok((dir, paths))
}

/// `NAME` (raw) or else `NAME.gz` in `dir`.
fn find(dir: &Path, file: &KnownFile) -> Option<PathBuf> {
    [file.name.to_owned(), file.gz_name()]
        .into_iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
}

/// The decompressed content of `path` and its SHA-256; with `verify`, refuses content that
/// is not `file`'s.
pub(crate) fn read_verified(
    file: &KnownFile,
    path: &Path,
    verify: bool,
) -> Result<(Vec<u8>, String), Error> {
    let content = idx::read_decompressed(path)?;
    let found = sha256_hex(&content);
    if verify && found != file.sha256 {
        return Err(Error::ChecksumMismatch {
            path: path.to_owned(),
            expected: file.sha256.to_owned(),
            found,
            fix: format!(
                "it is not MNIST's {}. Delete it so that a good copy is downloaded, or, if it is a different 28×28, 10-class IDX dataset on purpose, pass --no-mnist-checksums",
                file.name
            ),
        });
    }
    Ok((content, found))
}

/// How to provide the files without the network.
pub(crate) fn place_by_hand(dir: &Path) -> String {
    let names: Vec<String> = MNIST_FILES.iter().map(KnownFile::gz_name).collect();
    format!(
        "place {} (gzip or unpacked) in {}, or point --data-dir or $MNIST_DIR at a folder that holds them",
        names.join(", "),
        dir.display()
    )
}
