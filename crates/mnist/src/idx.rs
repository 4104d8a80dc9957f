//! The IDX format (LeCun's MNIST files): a big-endian header, then unsigned bytes. Files may
//! be raw or gzip; gzip is recognised by its magic bytes, not by the file name.

use std::io::Read;
use std::path::Path;

use contract::{CLASSES, INPUT_SIZE};
use flate2::read::MultiGzDecoder;
use ndarray::{Array1, Array2};

use crate::error::Error;
use crate::format::{COLS, IMAGES_MAGIC, LABELS_MAGIC, ROWS};

const IMAGES_HEADER_BYTES: usize = 16;
const LABELS_HEADER_BYTES: usize = 8;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Deflate cannot expand data by more than about 1032:1, so a gzip trailer that claims more
/// is corrupt and must not size an allocation.
const MAX_DEFLATE_RATIO: usize = 1032;

/// Whether `bytes` start with the gzip magic bytes.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// The content of the file at `path`, decompressed if it is gzip.
pub fn read_decompressed(path: &Path) -> Result<Vec<u8>, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    if !is_gzip(&bytes) {
        return Ok(bytes);
    }
    gunzip(&bytes).map_err(|source| Error::Gzip {
        path: path.to_owned(),
        source,
    })
}

/// Decompresses gzip data (one or more members).
pub fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    // The gzip trailer holds the decompressed size (mod 2³²): reserve it once.
    let claimed = bytes.len().checked_sub(4).map_or(0, |at| {
        u32::from_le_bytes(bytes[at..].try_into().expect("4 bytes")) as usize
    });
    let mut content = Vec::with_capacity(claimed.min(bytes.len() * MAX_DEFLATE_RATIO));
    MultiGzDecoder::new(bytes).read_to_end(&mut content)?;
    Ok(content)
}

/// Reads an IDX images file (raw or gzip): `(n, 784)` pixels as value / 255.
pub fn read_images(path: &Path) -> Result<Array2<f32>, Error> {
    parse_images(path, &read_decompressed(path)?)
}

/// Reads an IDX labels file (raw or gzip).
pub fn read_labels(path: &Path) -> Result<Array1<u8>, Error> {
    parse_labels(path, &read_decompressed(path)?)
}

/// Parses the decompressed content of an images file; `path` only names it in errors.
/// Pixels become `value / 255` in f32, as torchvision's `ToTensor`.
pub fn parse_images(path: &Path, bytes: &[u8]) -> Result<Array2<f32>, Error> {
    let (header, body) = split_header(path, bytes, IMAGES_MAGIC, IMAGES_HEADER_BYTES)?;
    let count = be_u32(&header[0..4]);
    let found = (be_u32(&header[4..8]), be_u32(&header[8..12]));
    if found != (ROWS, COLS) {
        return Err(Error::WrongDimensions {
            path: path.to_owned(),
            expected: (ROWS, COLS),
            found,
        });
    }
    let n = check_body(path, body, count, INPUT_SIZE)?;
    let pixels = body.iter().map(|&b| f32::from(b) / 255.0).collect();
    Ok(Array2::from_shape_vec((n, INPUT_SIZE), pixels).expect("length checked against the header"))
}

/// Parses the decompressed content of a labels file; `path` only names it in errors.
pub fn parse_labels(path: &Path, bytes: &[u8]) -> Result<Array1<u8>, Error> {
    let (header, body) = split_header(path, bytes, LABELS_MAGIC, LABELS_HEADER_BYTES)?;
    check_body(path, body, be_u32(header), 1)?;
    if let Some((index, &label)) = body
        .iter()
        .enumerate()
        .find(|(_, &label)| usize::from(label) >= CLASSES)
    {
        return Err(Error::BadLabel {
            path: path.to_owned(),
            index,
            label,
        });
    }
    Ok(Array1::from(body.to_vec()))
}

/// Checks the magic number and splits `bytes` into the header after the magic, and the body.
fn split_header<'b>(
    path: &Path,
    bytes: &'b [u8],
    magic: u32,
    header_bytes: usize,
) -> Result<(&'b [u8], &'b [u8]), Error> {
    let truncated = || Error::TruncatedHeader {
        path: path.to_owned(),
        expected_bytes: header_bytes,
        found_bytes: bytes.len(),
    };
    if bytes.is_empty() {
        return Err(Error::Empty {
            path: path.to_owned(),
        });
    }
    let found = be_u32(bytes.get(..4).ok_or_else(truncated)?);
    if found != magic {
        return Err(Error::BadMagic {
            path: path.to_owned(),
            expected: magic,
            found,
        });
    }
    let header = bytes.get(4..header_bytes).ok_or_else(truncated)?;
    Ok((header, &bytes[header_bytes..]))
}

/// Checks that `body` holds exactly `count` items of `item_bytes` each; returns `count`.
fn check_body(path: &Path, body: &[u8], count: u32, item_bytes: usize) -> Result<usize, Error> {
    if count == 0 {
        return Err(Error::Empty {
            path: path.to_owned(),
        });
    }
    let count = count as usize;
    let expected_bytes = count * item_bytes;
    let found_bytes = body.len();
    if found_bytes < expected_bytes {
        return Err(Error::TruncatedBody {
            path: path.to_owned(),
            expected_bytes,
            found_bytes,
        });
    }
    if found_bytes > expected_bytes {
        return Err(Error::TrailingBytes {
            path: path.to_owned(),
            expected_bytes,
            found_bytes,
        });
    }
    Ok(count)
}

fn be_u32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes(bytes.try_into().expect("4 bytes"))
}
