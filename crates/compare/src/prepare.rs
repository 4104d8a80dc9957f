//! What every run of a process shares, made once before the first: the torch device and the
//! scratch engine checked, the data read and verified (with advice on the flags that help when
//! it cannot be), the threads set and the handler of stop signals (SIGINT, SIGTERM, SIGHUP) installed.

use std::rc::Rc;

use anyhow::{anyhow, Result};

use crate::bad_flag::BadFlag;
use crate::config::{Common, DataConfig, Model, Spec};
use crate::data_home;

/// The data, read and verified once (and cut to `--limit`), the torch device and the engine.
pub struct Prepared {
    pub data: Rc<mnist::Mnist>,
    pub torch_device: Option<torchref::Device>,
    /// The engine `--scratch-engine` resolves to on this CPU, if a scratch model runs.
    pub scratch_engine: Option<scratch::Engine>,
}

/// Finds, downloads if allowed and verifies the dataset; the error says which flag helps.
pub fn load_data(config: &DataConfig) -> Result<mnist::Mnist> {
    let dataset = config.dataset;
    let source = mnist::DataSource {
        dataset,
        dir: data_home::data_dir(config.data_dir.as_deref(), dataset),
        verify_checksums: !config.no_checksums,
        download: !config.offline,
        mirrors: None,
    };
    mnist::load(&source).map_err(|error| {
        let advice = match error {
            mnist::Error::ChecksumMismatch { .. } => {
                "; to use another 28×28, 10-class IDX dataset on purpose, pass --no-checksums"
            }
            mnist::Error::Unverifiable { .. } => "; or pass --no-checksums to use it unverified",
            mnist::Error::NotFound { .. } | mnist::Error::Download { .. } => {
                "; or choose the folder with --data-dir"
            }
            _ => "",
        };
        let env_advice = data_home::env_advice(&error, dataset);
        anyhow!(
            "cannot load {}: {error}{env_advice}{advice}",
            dataset.title()
        )
    })
}

/// Removes what killed runs left in `out`, and says so.
pub fn remove_stale(out: &std::path::Path) {
    for removed in crate::report::leftovers::remove_stale(out) {
        crate::terminal::print_stale_removed(&removed.folder, &removed.names);
    }
}

/// Checks the device and the engine of the models to run, loads the data, sets the threads,
/// installs the handler of stop signals and removes what killed runs left in `--out`: once
/// per process, before the first run.
pub fn prepare(common: &Common, specs: &[Spec]) -> Result<Prepared> {
    // Checked before the data, which may take a download.
    let runs = |model: Model| specs.iter().any(|s| s.implementation == model);
    let torch_device = runs(Model::Torchref)
        .then(|| torchref::parse_device(&common.device))
        .transpose()
        .map_err(|error| match error {
            torchref::Error::CudaUnavailable { .. } => BadFlag(format!(
                "--device {}: {error}; use --device cpu",
                common.device
            )),
            _ => BadFlag(format!("--device: {error}")),
        })?;
    let scratch_engine = runs(Model::Scratch)
        .then(|| scratch::Engine::from(common.scratch_engine).resolve())
        .transpose()
        .map_err(|error| BadFlag(format!("--scratch-engine: {error}")))?;
    let mut data = load_data(&common.data)?;
    if let Some(n) = common.limit.filter(|&n| n < data.train.len()) {
        data.train = data.train.head(n);
    }
    if common.drop_last && data.train.len() < common.batch_size {
        return Err(BadFlag(format!(
            "--drop-last with --batch-size {} leaves no training step on {} training images: \
             lower --batch-size, raise --limit or leave out --drop-last",
            common.batch_size,
            data.train.len()
        ))
        .into());
    }
    scratch::set_threads(common.threads);
    torchref::set_threads(common.threads);
    crate::stop::install()?;
    remove_stale(&common.out);
    Ok(Prepared {
        data: Rc::new(data),
        torch_device,
        scratch_engine,
    })
}
