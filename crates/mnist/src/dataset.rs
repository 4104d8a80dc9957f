//! The data held in memory: one split (`Dataset`) and the four files of a named dataset
//! loaded and verified (`Mnist`).

use std::path::{Path, PathBuf};

use contract::{CLASSES, INPUT_SIZE};
use ndarray::{s, Array1, Array2};

use crate::catalog::DatasetName;
use crate::checksum::{KnownFile, Verification};
use crate::error::Error;
use crate::fetch::{locate, read_verified, DataSource};
use crate::idx;

/// One split: images `(n, 784)` in [0, 1], row-major, and labels `(n,)` in 0..10.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub images: Array2<f32>,
    pub labels: Array1<u8>,
}

impl Dataset {
    /// Pairs images with labels. Panics unless `images` is `(labels.len(), 784)` and in
    /// standard (row-major) layout: a shape mistake is a bug.
    pub fn new(images: Array2<f32>, labels: Array1<u8>) -> Self {
        assert_eq!(
            images.dim(),
            (labels.len(), INPUT_SIZE),
            "images must be (labels, 784)"
        );
        assert!(images.is_standard_layout(), "images must be row-major");
        Dataset { images, labels }
    }

    /// Reads an images file and a labels file (raw or gzip), with no checksum: for any
    /// 28×28, 10-class IDX pair.
    pub fn read(images_path: &Path, labels_path: &Path) -> Result<Self, Error> {
        let images = idx::read_decompressed(images_path)?;
        let labels = idx::read_decompressed(labels_path)?;
        Self::parse(images_path, &images, labels_path, &labels)
    }

    /// Parses decompressed IDX content; the paths only name the files in errors.
    fn parse(
        images_path: &Path,
        images: &[u8],
        labels_path: &Path,
        labels: &[u8],
    ) -> Result<Self, Error> {
        let images = idx::parse_images(images_path, images)?;
        let labels = idx::parse_labels(labels_path, labels)?;
        if images.nrows() != labels.len() {
            return Err(Error::CountMismatch {
                images_path: images_path.to_owned(),
                images: images.nrows(),
                labels_path: labels_path.to_owned(),
                labels: labels.len(),
            });
        }
        Ok(Dataset { images, labels })
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// A copy of the first `n` examples (all of them if there are fewer).
    pub fn head(&self, n: usize) -> Dataset {
        let n = n.min(self.len());
        Dataset {
            images: self.images.slice(s![..n, ..]).to_owned(),
            labels: self.labels.slice(s![..n]).to_owned(),
        }
    }
}

/// Where a loaded file came from and how it was verified, for provenance in reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    /// The dataset's name for it, without `.gz` (`train-images-idx3-ubyte`, ...).
    pub name: String,
    /// The file actually read (raw or `.gz`).
    pub path: PathBuf,
    /// SHA-256 of its decompressed content, lower-case hex, as measured.
    pub sha256: String,
    /// The checksums the dataset publishes for it.
    pub known: KnownFile,
    pub verification: Verification,
}

/// Both splits of a dataset, which one it is, the folder it came from, and a record of
/// each file read.
#[derive(Debug, Clone)]
pub struct Mnist {
    /// The named dataset: its class names, and the checksums the files were held to (when
    /// checksums were on).
    pub dataset: DatasetName,
    pub train: Dataset,
    pub test: Dataset,
    pub dir: PathBuf,
    /// Train images, train labels, test images, test labels.
    pub files: Vec<FileRecord>,
}

impl Mnist {
    /// The name of each class 0 to 9.
    pub fn classes(&self) -> &'static [&'static str; CLASSES] {
        self.dataset.classes()
    }
}

/// Finds `source.dataset`'s four files (downloading any that are missing, if allowed),
/// verifies them unless `source.verify_checksums` is false, and parses them.
pub fn load(source: &DataSource) -> Result<Mnist, Error> {
    let (dir, paths) = locate(source)?;
    let known = source.dataset.files();
    let read = known
        .iter()
        .zip(&paths)
        .map(|(file, path)| read_verified(source.dataset, file, path, source.verify_checksums))
        .collect::<Result<Vec<_>, _>>()?;
    let content = |i: usize| read[i].content.as_slice();
    let train = Dataset::parse(&paths[0], content(0), &paths[1], content(1))?;
    let test = Dataset::parse(&paths[2], content(2), &paths[3], content(3))?;
    let files = known
        .iter()
        .zip(paths)
        .zip(read)
        .map(|((file, path), verified)| FileRecord {
            name: file.name.to_owned(),
            path,
            sha256: verified.sha256,
            known: *file,
            verification: verified.verification,
        })
        .collect();
    Ok(Mnist {
        dataset: source.dataset,
        train,
        test,
        dir,
        files,
    })
}
