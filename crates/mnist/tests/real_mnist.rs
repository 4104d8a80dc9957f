//! The real MNIST files (`$MNIST_DIR` or the shared copy): published counts and statistics,
//! and refusal of a copy with one byte changed.

use std::fs;
use std::path::{Path, PathBuf};

use mnist::{ensure_files, idx, load, DataSource, DatasetName, Error, MNIST_FILES};
use tempfile::TempDir;
use testkit::{assert_close, real_mnist_dir};

fn source(dir: &Path) -> DataSource {
    DataSource {
        download: false,
        ..DataSource::new(DatasetName::Mnist, dir.to_owned())
    }
}

/// A folder with the real `.gz` files, except `unpacked`, which is decompressed, and
/// changed by `edit`.
fn copy_with_one_unpacked(
    unpacked: &str,
    mut edit: impl FnMut(&mut Vec<u8>),
) -> (TempDir, PathBuf) {
    let dir = TempDir::new().expect("temp dir");
    let real = real_mnist_dir();
    for file in MNIST_FILES {
        let gz = real.join(file.gz_name());
        if file.name == unpacked {
            let mut content = idx::read_decompressed(&gz).expect("real file reads");
            edit(&mut content);
            fs::write(dir.path().join(file.name), content).expect("write the copy");
        } else {
            fs::copy(&gz, dir.path().join(file.gz_name())).expect("copy a real file");
        }
    }
    let path = dir.path().join(unpacked);
    (dir, path)
}

#[test]
fn real_mnist_has_the_published_counts_labels_and_statistics() {
    let data = load(&source(&real_mnist_dir())).expect("the real MNIST loads");
    assert_eq!(data.train.images.dim(), (60_000, 784));
    assert_eq!(data.test.images.dim(), (10_000, 784));
    assert_eq!((data.train.labels[0], data.test.labels[0]), (5, 7));

    // Per-class counts as published with the dataset (and listed by torchvision users).
    let histogram = |labels: &ndarray::Array1<u8>| {
        let mut counts = [0_usize; 10];
        labels.iter().for_each(|&l| counts[usize::from(l)] += 1);
        counts
    };
    assert_eq!(
        histogram(&data.train.labels),
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    assert_eq!(
        histogram(&data.test.labels),
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );

    // The mean and standard deviation of every training pixel after value/255 are the
    // well-known normalisation constants 0.1307 and 0.3081 (torchvision's MNIST examples).
    let n = data.train.images.len() as f64;
    let mean = data.train.images.iter().map(|&p| f64::from(p)).sum::<f64>() / n;
    let var = data
        .train
        .images
        .iter()
        .map(|&p| (f64::from(p) - mean).powi(2))
        .sum::<f64>()
        / n;
    assert_close("mean training pixel", &[mean], &[0.1307], 0.0, 1e-4);
    assert_close("pixel std", &[var.sqrt()], &[0.3081], 0.0, 1e-4);
    let (lo, hi) = data
        .train
        .images
        .iter()
        .fold((f32::MAX, f32::MIN), |(lo, hi), &p| (lo.min(p), hi.max(p)));
    assert_close("pixel range", &[lo, hi], &[0.0, 1.0], 0.0, 0.0);

    let names: Vec<&str> = data.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte"
        ]
    );
    for (record, file) in data.files.iter().zip(MNIST_FILES) {
        assert_eq!(Some(record.sha256.as_str()), file.sha256);
        assert_eq!(record.verification, mnist::Verification::ContentSha256);
        assert_eq!(record.path, real_mnist_dir().join(file.gz_name()));
    }
}

#[test]
fn an_unpacked_copy_is_accepted_and_read_alike() {
    let (dir, unpacked) = copy_with_one_unpacked("t10k-labels-idx1-ubyte", |_| {});
    let data = load(&source(dir.path())).expect("an unpacked copy has the same content");
    assert_eq!(data.files[3].path, unpacked);
    assert_eq!(Some(data.files[3].sha256.as_str()), MNIST_FILES[3].sha256);
    let real = load(&source(&real_mnist_dir())).expect("the real MNIST loads");
    assert_eq!(data.test.labels, real.test.labels);
}

#[test]
fn checksum_refuses_a_copy_with_one_flipped_pixel_unless_opted_out() {
    // Byte 16 + 300 is pixel 300 of the first test image (the header is 16 bytes).
    let (dir, flipped) = copy_with_one_unpacked("t10k-images-idx3-ubyte", |content| {
        content[16 + 300] ^= 0xff
    });
    for result in [
        load(&source(dir.path())).map(|_| ()),
        ensure_files(&source(dir.path())).map(|_| ()),
    ] {
        match result {
            Err(Error::ChecksumMismatch {
                path,
                expected,
                found,
                fix,
                ..
            }) => {
                assert_eq!(path, flipped);
                assert_eq!(Some(expected.as_str()), MNIST_FILES[2].sha256);
                assert_ne!(found, expected);
                // The library names the fault; flags are the binary's to suggest.
                assert!(fix.contains("Delete it") && !fix.contains("--"), "{fix}");
            }
            other => panic!("expected ChecksumMismatch, got {other:?}"),
        }
    }

    let opted_out = DataSource {
        verify_checksums: false,
        ..source(dir.path())
    };
    let data = load(&opted_out).expect("the opt-out accepts other content");
    let real = idx::read_images(&real_mnist_dir().join(MNIST_FILES[2].gz_name()))
        .expect("the real test images read");
    let want = f32::from(255 - (real[[0, 300]] * 255.0).round() as u8) / 255.0;
    assert_close(
        "the flipped pixel",
        &[data.test.images[[0, 300]]],
        &[want],
        0.0,
        1e-7,
    );
    assert_ne!(Some(data.files[2].sha256.as_str()), MNIST_FILES[2].sha256);
    assert_eq!(data.files[2].verification, mnist::Verification::Unverified);
}

#[test]
fn missing_files_without_download_name_the_files_and_the_folder() {
    let dir = TempDir::new().expect("temp dir");
    let real = real_mnist_dir().join(MNIST_FILES[3].gz_name());
    fs::copy(real, dir.path().join(MNIST_FILES[3].gz_name())).expect("copy a real file");
    match ensure_files(&source(dir.path())) {
        Err(error @ Error::NotFound { .. }) => {
            let message = error.to_string();
            let Error::NotFound { dir: d, files, .. } = error else {
                unreachable!()
            };
            assert_eq!(d, dir.path());
            assert_eq!(
                files,
                [
                    "train-images-idx3-ubyte.gz",
                    "train-labels-idx1-ubyte.gz",
                    "t10k-images-idx3-ubyte.gz"
                ]
            );
            assert!(
                message.contains(&dir.path().display().to_string()),
                "{message}"
            );
            assert!(message.contains("t10k-labels-idx1-ubyte.gz"), "{message}");
            // The fix with the files; environment variables and flags are the caller's.
            assert!(
                !message.contains("$MNIST_DIR") && !message.contains("--"),
                "{message}"
            );
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
}
