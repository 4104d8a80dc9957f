//! MNIST for both models: reading the IDX files (raw or gzip) with typed errors, finding,
//! downloading and verifying them, batching them without copies, scoring logits, and the
//! [`Trainer`] contract that the `compare` binary drives.

pub mod batch;
pub mod testing;
pub mod trainer;

pub use batch::Batch;
pub use trainer::{
    Activation, LayerParameters, ModelConfig, Optimizer, Parameters, Trainer, CLASSES, INPUT_SIZE,
};
