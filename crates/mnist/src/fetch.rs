//! Where a dataset lives, and making sure its four files are there and are what they should
//! be: find them (raw or `.gz`), download what is missing, verify each by the SHA-256 of its
//! decompressed content (or, where that is not known, by the MD5 of the published `.gz`).

use std::path::{Path, PathBuf};

use crate::catalog::DatasetName;
use crate::checksum::{md5_hex, sha256_hex, KnownFile, Verification};
use crate::download::download;
use crate::error::Error;
use crate::idx;

/// Which dataset, where to look for it, and what to do when it is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSource {
    pub dataset: DatasetName,
    /// The folder the caller chose; `None` means [`resolve_dir`]'s fallbacks.
    pub dir: Option<PathBuf>,
    /// Refuse files that are not the dataset's published ones. Turn off only to use another
    /// 28×28, 10-class dataset in IDX format.
    pub verify_checksums: bool,
    /// Download missing files from the mirrors.
    pub download: bool,
    /// Base URLs, tried in order, the file name appended; `None` means the dataset's own
    /// ([`DatasetName::mirrors`]).
    pub mirrors: Option<Vec<String>>,
}

impl Default for DataSource {
    /// MNIST from [`resolve_dir`]'s folder, verified, downloaded from its mirrors if missing.
    fn default() -> Self {
        DataSource {
            dataset: DatasetName::Mnist,
            dir: None,
            verify_checksums: true,
            download: true,
            mirrors: None,
        }
    }
}

impl DataSource {
    fn mirrors(&self) -> Vec<String> {
        self.mirrors.clone().unwrap_or_else(|| {
            let own = self.dataset.mirrors().iter();
            own.map(|m| m.to_string()).collect()
        })
    }
}

/// The project's home: `$MNIST_COMPARE_HOME` if set and non-empty (where `scripts/setup`
/// keeps the PyTorch venv and the datasets), else `mnist-scratch-vs-torch` in
/// `$XDG_CACHE_HOME` (if absolute) or `$HOME/.cache`.
pub fn project_home() -> PathBuf {
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

/// The default folder of `dataset`, `<dataset>` (`mnist`, `fashion-mnist`, `kmnist`) in the
/// [`project_home`].
pub fn default_dir(dataset: DatasetName) -> PathBuf {
    project_home().join(dataset.id())
}

/// The folder to use: `explicit` (the caller's choice), else for MNIST `$MNIST_DIR` if set
/// and non-empty, else [`default_dir`].
pub fn resolve_dir(explicit: Option<&Path>, dataset: DatasetName) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| {
            std::env::var_os("MNIST_DIR")
                .filter(|dir| !dir.is_empty() && dataset == DatasetName::Mnist)
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| default_dir(dataset))
}

/// Makes sure the four files are in the folder (downloading any that are missing, if
/// allowed) and, unless the opt-out is set, that they are the dataset's. Returns the folder.
pub fn ensure_files(source: &DataSource) -> Result<PathBuf, Error> {
    let (dir, paths) = locate(source)?;
    if source.verify_checksums {
        for (file, path) in source.dataset.files().iter().zip(&paths) {
            read_verified(source.dataset, file, path, true)?;
        }
    }
    Ok(dir)
}

/// The folder and the path of each of the dataset's files, downloading the missing ones.
pub(crate) fn locate(source: &DataSource) -> Result<(PathBuf, Vec<PathBuf>), Error> {
    let files = source.dataset.files();
    let dir = resolve_dir(source.dir.as_deref(), source.dataset);
    let found: Vec<Option<PathBuf>> = files.iter().map(|f| find(&dir, f)).collect();
    let missing: Vec<String> = files
        .iter()
        .zip(&found)
        .filter(|(_, path)| path.is_none())
        .map(|(file, _)| file.gz_name())
        .collect();
    if missing.is_empty() {
        return Ok((dir, found.into_iter().flatten().collect()));
    }
    if !source.download {
        let how_to_fix = format!(
            "downloading is off: {}",
            place_by_hand(source.dataset, &dir)
        );
        return Err(Error::NotFound {
            dir,
            files: missing,
            how_to_fix,
        });
    }
    if !source.verify_checksums && missing.len() < files.len() {
        // The folder may hold another dataset: completing it from the mirrors would mix two.
        let how_to_fix = format!(
            "checksums are off, so the folder may hold another dataset and its missing files are not downloaded from {}'s mirrors: {}",
            source.dataset.title(),
            place_by_hand(source.dataset, &dir)
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
    let mirrors = source.mirrors();
    let paths = files
        .iter()
        .zip(found)
        .map(|(file, path)| match path {
            Some(path) => Ok(path),
            None => download(file, &dir, &mirrors, place_by_hand(source.dataset, &dir)),
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

/// A file read from disk: its decompressed content, the SHA-256 of that content, and how it
/// was verified.
pub(crate) struct Verified {
    pub content: Vec<u8>,
    pub sha256: String,
    pub verification: Verification,
}

/// Reads `path` (raw or gzip); with `verify`, refuses it unless it is `dataset`'s `file`:
/// by the SHA-256 of its content where that is known, else by the MD5 of the published
/// `.gz` (an unpacked or recompressed copy then cannot be verified).
pub(crate) fn read_verified(
    dataset: DatasetName,
    file: &KnownFile,
    path: &Path,
    verify: bool,
) -> Result<Verified, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let gzip = idx::is_gzip(&bytes);
    let gz_md5 = (verify && gzip && file.sha256.is_none()).then(|| md5_hex(&bytes));
    let content = if gzip {
        idx::gunzip(&bytes).map_err(|source| Error::Gzip {
            path: path.to_owned(),
            source,
        })?
    } else {
        bytes
    };
    let sha256 = sha256_hex(&content);
    let wrong_file =
        |checksum: &'static str, expected: &str, found: String| Error::ChecksumMismatch {
            path: path.to_owned(),
            checksum,
            expected: expected.to_owned(),
            found,
            fix: format!(
                "it is not {}'s {}. Delete it so that a good copy is downloaded",
                dataset.title(),
                file.name
            ),
        };
    let verification = match (verify, file.sha256, gz_md5) {
        (false, _, _) => Verification::Unverified,
        (true, Some(expected), _) if sha256 != expected => {
            return Err(wrong_file(
                "SHA-256 of the decompressed content",
                expected,
                sha256,
            ))
        }
        (true, Some(_), _) => Verification::ContentSha256,
        (true, None, Some(md5)) if md5 != file.gz_md5 => {
            return Err(wrong_file("MD5 of the .gz", file.gz_md5, md5))
        }
        (true, None, Some(_)) => Verification::GzMd5,
        (true, None, None) => {
            return Err(Error::Unverifiable {
                path: path.to_owned(),
                dataset: dataset.title(),
                gz_name: file.gz_name(),
            })
        }
    };
    Ok(Verified {
        content,
        sha256,
        verification,
    })
}

/// How to provide the files without the network.
fn place_by_hand(dataset: DatasetName, dir: &Path) -> String {
    let files = dataset.files();
    let names: Vec<String> = files.iter().map(KnownFile::gz_name).collect();
    let form = if files.iter().all(|f| f.sha256.is_some()) {
        "gzip or unpacked"
    } else {
        "the published .gz files, not unpacked"
    };
    let env = if dataset == DatasetName::Mnist {
        ", or point $MNIST_DIR at a folder that holds them"
    } else {
        ""
    };
    format!(
        "place {}'s {} ({form}) in {}{env}",
        dataset.title(),
        names.join(", "),
        dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::download::tests::{gz, CONTENT};

    /// A file known, as KMNIST's are, by the MD5 of its published `.gz` (`gz(9)`) only.
    fn md5_only() -> KnownFile {
        KnownFile {
            name: "stand-in",
            gz_md5: Box::leak(md5_hex(&gz(9)).into_boxed_str()),
            sha256: None,
        }
    }

    fn written(bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let path = dir.path().join("stand-in.gz");
        std::fs::write(&path, bytes).expect("write");
        (dir, path)
    }

    #[test]
    fn without_a_content_checksum_the_published_gz_is_verified_by_its_md5() {
        let (_dir, path) = written(&gz(9));
        let read = read_verified(DatasetName::Kmnist, &md5_only(), &path, true).expect("verified");
        assert_eq!(read.verification, Verification::GzMd5);
        assert_eq!(read.content, CONTENT);
        assert_eq!(read.sha256, sha256_hex(CONTENT));
    }

    #[test]
    fn without_a_content_checksum_another_gz_is_refused_and_an_unpacked_copy_unverifiable() {
        let (_dir, path) = written(&gz(1));
        match read_verified(DatasetName::Kmnist, &md5_only(), &path, true) {
            Err(Error::ChecksumMismatch {
                checksum, expected, ..
            }) => {
                assert_eq!(checksum, "MD5 of the .gz");
                assert_eq!(expected, md5_only().gz_md5);
            }
            other => panic!("expected ChecksumMismatch, got {:?}", other.err()),
        }
        let (_dir, path) = written(CONTENT);
        let error = read_verified(DatasetName::Kmnist, &md5_only(), &path, true)
            .err()
            .expect("cannot be verified");
        assert!(matches!(error, Error::Unverifiable { .. }), "{error:?}");
        // The fault and the fix with the files; flags are the caller's to suggest.
        let message = error.to_string();
        assert!(
            message.contains("put the .gz there") && !message.contains("--"),
            "{message}"
        );
        let read = read_verified(DatasetName::Kmnist, &md5_only(), &path, false).expect("opt-out");
        assert_eq!(read.verification, Verification::Unverified);
    }

    #[test]
    fn each_dataset_has_its_own_default_folder_and_mnist_dir_is_mnists_only() {
        let folders: Vec<PathBuf> = DatasetName::ALL.into_iter().map(default_dir).collect();
        for (name, folder) in DatasetName::ALL.iter().zip(&folders) {
            assert!(folder.ends_with(name.id()), "{}", folder.display());
        }
        // resolve_dir reads $MNIST_DIR, which this test does not set: an explicit folder wins
        // for every dataset, and other datasets never fall back to MNIST's variable.
        let explicit = Path::new("/some/where");
        for name in DatasetName::ALL {
            assert_eq!(resolve_dir(Some(explicit), name), explicit);
        }
        assert_eq!(
            resolve_dir(None, DatasetName::FashionMnist),
            default_dir(DatasetName::FashionMnist)
        );
    }
}
