//! MNIST and the datasets in its format (Fashion-MNIST, KMNIST) for both models: the
//! [`DatasetName`] catalogue (mirrors, checksums, class names), reading the IDX files (raw or
//! gzip) with typed errors, finding, downloading and verifying them, batching them without
//! copies, scoring logits, and the [`Trainer`] contract that the `compare` binary drives.
//!
//! Main entry points: [`load`] (find, download if missing, verify, parse) returning
//! [`Mnist`]; [`Batcher`] with [`EpochOrder`] for the batches of an epoch; [`metrics`] for
//! accuracy, cross-entropy, the confusion matrix and the classification report.
//!
//! Where this departs from PyTorch / torchvision, on purpose:
//! - Local files are verified by the SHA-256 of their decompressed content (torchvision
//!   checks only the MD5 of the `.gz`), so an unpacked or recompressed copy is accepted and
//!   a corrupt one refused. A download is accepted by the published MD5 of its `.gz` or, for
//!   a recompressed copy, by that content checksum. KMNIST's content checksums are not known:
//!   its files are held to the MD5 of the published `.gz`, as torchvision does.
//! - The shuffle is ChaCha8 keyed by the seed on stream `epoch`, not torch's generator:
//!   both models get the same batches because they share one order, not one RNG.
//! - The classification report follows scikit-learn (torch has none), always listing all
//!   ten classes (`labels=range(10)`).

pub mod batch;
mod catalog;
mod checksum;
mod dataset;
mod download;
mod error;
mod fetch;
pub mod idx;
pub mod metrics;
pub mod testing;
pub mod trainer;

pub use batch::{steps, Batch, Batcher, EpochOrder};
pub use catalog::{DatasetName, UnknownDataset, FASHION_MNIST_FILES, KMNIST_FILES, MNIST_FILES};
pub use checksum::{KnownFile, Verification};
pub use dataset::{load, Dataset, FileRecord, Mnist};
pub use error::{Error, MirrorFailure};
pub use fetch::{default_dir, ensure_files, project_home, resolve_dir, DataSource};
pub use trainer::{
    Activation, Derivatives, Differentiable, LayerParameters, ModelConfig, Optimizer, Parameters,
    Trainer, CLASSES, INPUT_SIZE,
};
pub use trainer::{AdamState, UpdateRequest, UpdateRule, Updated};
