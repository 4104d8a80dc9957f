//! Where `compare` keeps a dataset when `--data-dir` does not say: for MNIST `$MNIST_DIR` if
//! set, else one folder per dataset in the project's home, where `scripts/setup` downloads.

use std::path::{Path, PathBuf};

use mnist::DatasetName;

/// The folder of `dataset`: `explicit` (`--data-dir`), else for MNIST `$MNIST_DIR` if set
/// and non-empty, else `<dataset>` (`mnist`, `fashion-mnist`, `kmnist`: all use the same file
/// names) in [`project_home::dir`].
pub fn data_dir(explicit: Option<&Path>, dataset: DatasetName) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| {
            std::env::var_os("MNIST_DIR")
                .filter(|dir| !dir.is_empty() && dataset == DatasetName::Mnist)
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| project_home::dir().join(dataset.id()))
}

/// What `$MNIST_DIR` adds to the advice of `error`: MNIST files that are missing or did not
/// download may be in a folder it names. The library's message ends by saying where to place
/// the files, which this continues.
pub fn env_advice(error: &mnist::Error, dataset: DatasetName) -> &'static str {
    match error {
        mnist::Error::NotFound { .. } | mnist::Error::Download { .. }
            if dataset == DatasetName::Mnist =>
        {
            ", or point $MNIST_DIR at a folder that holds them"
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dataset_has_its_own_default_folder_and_mnist_dir_is_mnists_only() {
        let home = project_home::dir();
        for name in DatasetName::ALL {
            let folder = data_dir(None, name);
            assert!(folder.ends_with(name.id()), "{}", folder.display());
        }
        // $MNIST_DIR, which this test does not set, names MNIST's folder only, and an
        // explicit folder wins for every dataset.
        let explicit = Path::new("/some/where");
        for name in DatasetName::ALL {
            assert_eq!(data_dir(Some(explicit), name), explicit);
        }
        assert_eq!(
            data_dir(None, DatasetName::FashionMnist),
            home.join("fashion-mnist")
        );
    }
}
