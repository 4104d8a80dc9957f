//! The IDX reader on small files made here, raw and gzip; every malformed case has its own
//! error, and none panics.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use mnist::format::{IMAGES_MAGIC, LABELS_MAGIC};
use mnist::idx::{read_images, read_labels};
use mnist::{Dataset, Error};
use tempfile::TempDir;
use testkit::assert_close;

/// An IDX images file: magic, count, rows, cols (big-endian u32), then the pixels.
fn images_file(count: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for field in [IMAGES_MAGIC, count, rows, cols] {
        bytes.extend_from_slice(&field.to_be_bytes());
    }
    bytes.extend_from_slice(pixels);
    bytes
}

/// An IDX labels file: magic, count, then the labels.
fn labels_file(count: u32, labels: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for field in [LABELS_MAGIC, count] {
        bytes.extend_from_slice(&field.to_be_bytes());
    }
    bytes.extend_from_slice(labels);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).expect("in-memory write");
    encoder.finish().expect("in-memory write")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write a test file");
    path
}

/// Three images; image 0 has pixel 0 = 255, pixel 1 = 51 and pixel 783 = 128; image 2 has
/// pixel 0 = 1; everything else is 0.
fn three_images() -> Vec<u8> {
    let mut pixels = vec![0_u8; 3 * 784];
    pixels[0] = 255;
    pixels[1] = 51;
    pixels[783] = 128;
    pixels[2 * 784] = 1;
    images_file(3, 28, 28, &pixels)
}

/// Pixel values expected from `three_images`, by value / 255.
fn check_three_images(data: &Dataset) {
    assert_eq!(data.images.dim(), (3, 784));
    let got = [
        data.images[[0, 0]],
        data.images[[0, 1]],
        data.images[[0, 783]],
        data.images[[1, 0]],
        data.images[[2, 0]],
    ];
    // 255/255 = 1, 51/255 = 0.2, 128/255 = 0.50196…, 1/255 = 0.0039215…
    let want = [1.0, 0.2, 0.501_960_8, 0.0, 0.003_921_569];
    assert_close("pixels", &got, &want, 1e-6, 0.0);
    let sum: f32 = data.images.sum();
    assert_close(
        "sum of all pixels",
        &[sum],
        &[(255.0 + 51.0 + 128.0 + 1.0) / 255.0],
        1e-6,
        0.0,
    );
    assert_eq!(data.labels.to_vec(), vec![7, 0, 9]);
}

#[test]
fn raw_files_parse_into_scaled_pixels_and_labels() {
    let dir = TempDir::new().expect("temp dir");
    let images = write(dir.path(), "images", &three_images());
    let labels = write(dir.path(), "labels", &labels_file(3, &[7, 0, 9]));
    check_three_images(&Dataset::read(&images, &labels).expect("valid files"));
}

#[test]
fn gzip_is_recognised_by_its_magic_bytes_not_its_name() {
    let dir = TempDir::new().expect("temp dir");
    // Gzip content under a plain name, and a raw file under a .gz name: both must read.
    let images = write(dir.path(), "images.idx", &gzip(&three_images()));
    let labels = write(dir.path(), "labels.gz", &labels_file(3, &[7, 0, 9]));
    check_three_images(&Dataset::read(&images, &labels).expect("valid files"));
    let labels = write(dir.path(), "labels", &gzip(&labels_file(3, &[7, 0, 9])));
    assert_eq!(
        read_labels(&labels).expect("valid gzip").to_vec(),
        vec![7, 0, 9]
    );
}

#[test]
fn bad_magic_names_both_numbers() {
    let dir = TempDir::new().expect("temp dir");
    // A labels file where images are expected, the usual mix-up.
    let path = write(dir.path(), "swapped", &labels_file(3, &[7, 0, 9]));
    match read_images(&path) {
        Err(Error::BadMagic {
            path: p,
            expected,
            found,
        }) => {
            assert_eq!((p, expected, found), (path.clone(), 2051, 2049));
        }
        other => panic!("expected BadMagic, got {other:?}"),
    }
    let message = read_images(&path).expect_err("bad magic").to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(
        message.contains("expected 2051") && message.contains("found 2049"),
        "{message}"
    );
}

#[test]
fn truncated_header_says_how_many_bytes() {
    let dir = TempDir::new().expect("temp dir");
    // The right magic, then 6 of the 12 header bytes that must follow it.
    let path = write(dir.path(), "short", &three_images()[..10]);
    assert!(matches!(
        read_images(&path),
        Err(Error::TruncatedHeader {
            expected_bytes: 16,
            found_bytes: 10,
            ..
        })
    ));
    // Too short even for the magic number.
    let path = write(dir.path(), "tiny", &[0, 0]);
    assert!(matches!(
        read_labels(&path),
        Err(Error::TruncatedHeader {
            expected_bytes: 8,
            found_bytes: 2,
            ..
        })
    ));
}

#[test]
fn truncated_body_says_how_many_bytes() {
    let dir = TempDir::new().expect("temp dir");
    // The header counts 3 images (3·784 = 2352 bytes); 1668 follow.
    let mut bytes = three_images();
    bytes.truncate(16 + 1668);
    let path = write(dir.path(), "cut", &bytes);
    assert!(matches!(
        read_images(&path),
        Err(Error::TruncatedBody {
            expected_bytes: 2352,
            found_bytes: 1668,
            ..
        })
    ));
    let path = write(dir.path(), "cut-labels", &labels_file(3, &[7, 0]));
    assert!(matches!(
        read_labels(&path),
        Err(Error::TruncatedBody {
            expected_bytes: 3,
            found_bytes: 2,
            ..
        })
    ));
}

#[test]
fn bytes_beyond_the_counted_items_are_refused() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(dir.path(), "long", &labels_file(2, &[7, 0, 9]));
    assert!(matches!(
        read_labels(&path),
        Err(Error::TrailingBytes {
            expected_bytes: 2,
            found_bytes: 3,
            ..
        })
    ));
}

#[test]
fn count_mismatch_names_both_files_and_counts() {
    let dir = TempDir::new().expect("temp dir");
    let images = write(dir.path(), "images", &three_images());
    let labels = write(dir.path(), "labels", &labels_file(2, &[7, 0]));
    match Dataset::read(&images, &labels) {
        Err(Error::CountMismatch {
            images_path,
            images: 3,
            labels_path,
            labels: 2,
        }) => assert_eq!((images_path, labels_path), (images, labels)),
        other => panic!("expected CountMismatch, got {other:?}"),
    }
}

#[test]
fn label_ten_is_refused_with_its_index() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(dir.path(), "labels", &labels_file(3, &[7, 0, 10]));
    assert!(matches!(
        read_labels(&path),
        Err(Error::BadLabel {
            index: 2,
            label: 10,
            ..
        })
    ));
}

#[test]
fn images_that_are_not_28_by_28_are_refused() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(dir.path(), "narrow", &images_file(1, 28, 27, &[0; 28 * 27]));
    assert!(matches!(
        read_images(&path),
        Err(Error::WrongDimensions {
            expected: (28, 28),
            found: (28, 27),
            ..
        })
    ));
}

#[test]
fn empty_files_and_zero_counts_are_refused() {
    let dir = TempDir::new().expect("temp dir");
    let empty = write(dir.path(), "empty", &[]);
    assert!(matches!(read_images(&empty), Err(Error::Empty { .. })));
    let empty_gzip = write(dir.path(), "empty.gz", &gzip(&[]));
    assert!(matches!(read_labels(&empty_gzip), Err(Error::Empty { .. })));
    let no_items = write(dir.path(), "none", &images_file(0, 28, 28, &[]));
    assert!(matches!(read_images(&no_items), Err(Error::Empty { .. })));
}

#[test]
fn corrupt_gzip_and_missing_files_are_errors() {
    let dir = TempDir::new().expect("temp dir");
    let mut bytes = gzip(&three_images());
    bytes.truncate(bytes.len() / 2);
    let cut = write(dir.path(), "cut.gz", &bytes);
    assert!(matches!(read_images(&cut), Err(Error::Gzip { .. })));
    let missing = dir.path().join("missing");
    match read_images(&missing) {
        Err(Error::Io { path, source }) => {
            assert_eq!(path, missing);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected Io, got {other:?}"),
    }
}
