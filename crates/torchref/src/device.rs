//! Choosing where the model runs, how many threads libtorch uses, and which libtorch it is.

use tch::Device;

use crate::Error;

/// Parses `"cpu"`, `"cuda"` (device 0) or `"cuda:N"`, and checks that a CUDA device asked for
/// exists.
pub fn parse_device(s: &str) -> Result<Device, Error> {
    let device = match s {
        "cpu" => Device::Cpu,
        "cuda" => Device::Cuda(0),
        _ => {
            let index = s.strip_prefix("cuda:").and_then(|n| n.parse().ok());
            Device::Cuda(index.ok_or_else(|| Error::BadDevice(s.to_owned()))?)
        }
    };
    check_device(device)?;
    Ok(device)
}

/// Fails with [`Error::CudaUnavailable`] if `device` is a CUDA device libtorch cannot see.
pub(crate) fn check_device(device: Device) -> Result<(), Error> {
    if let Device::Cuda(requested) = device {
        let available = usize::try_from(tch::Cuda::device_count()).unwrap_or(0);
        if requested >= available {
            return Err(Error::CudaUnavailable {
                requested,
                available,
            });
        }
    }
    Ok(())
}

/// Sets the number of threads libtorch's intra-op parallelism (matrix products, element-wise
/// kernels, the optimisers' updates) uses. Process-wide.
pub fn set_threads(n: usize) {
    assert!(n > 0, "thread count must be positive");
    tch::set_num_threads(i32::try_from(n).unwrap_or(i32::MAX));
}

/// The version of the libtorch this crate was built against, e.g. `2.13.0+cu130`, as its
/// install records it (`build-version` or `version.py`), or `unknown`.
pub fn libtorch_version() -> String {
    env!("TORCHREF_LIBTORCH_VERSION").to_owned()
}
