//! The fingerprint a seed's folder records (`seed.json`): what must match for two seeds to be
//! pooled, or for a rerun to skip a seed it finds complete. Built from the configuration of a
//! run without its seed, threads, output and logging settings, beside the dataset checksums,
//! versions, the engine as resolved and the device (`sweep::Fingerprint`).

use crate::config::{Common, ModelSettings, SeedSettings, Spec};
use crate::prepare::Prepared;

pub type Fingerprint = sweep::Fingerprint<SeedSettings>;

/// The fingerprint of every seed that `specs` run with `common` on what `prepared` holds.
pub fn fingerprint(common: &Common, specs: &[Spec], prepared: &Prepared) -> Fingerprint {
    let data = &prepared.data;
    sweep::Fingerprint {
        config: SeedSettings {
            models: specs
                .iter()
                .map(|spec| ModelSettings {
                    label: spec.label.clone(),
                    implementation: spec.implementation,
                    config: spec.config.clone(),
                })
                .collect(),
            epochs: common.epochs,
            batch_size: common.batch_size,
            shuffle: common.shuffle,
            drop_last: common.drop_last,
            dataset: data.dataset,
            train_images: data.train.len(),
        },
        dataset_sha256: data
            .files
            .iter()
            .map(|file| (file.name.clone(), file.sha256.clone()))
            .collect(),
        crate_version: env!("CARGO_PKG_VERSION").to_owned(),
        libtorch_version: torchref::libtorch_version(),
        scratch_engine: prepared
            .scratch_engine
            .map_or("none", scratch::Engine::name)
            .to_owned(),
        // The scratch models always run on the CPU; the device is the torch model's.
        device: match prepared.torch_device {
            Some(_) => common.device.clone(),
            None => "cpu".to_owned(),
        },
    }
}

impl SeedSettings {
    /// The models' labels, in run order.
    pub fn labels(&self) -> Vec<&str> {
        self.models.iter().map(|m| m.label.as_str()).collect()
    }
}
