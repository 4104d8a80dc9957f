//! One file of a dataset and its checksums: the MD5 of the published `.gz`, and (where known)
//! the SHA-256 of the decompressed content, so that an unpacked or recompressed copy is
//! recognised too. Which checksum verified a file is recorded with it.

use md5::Md5;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// One of the four files of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownFile {
    /// Name of the raw file; the mirrors serve `{name}.gz`.
    pub name: &'static str,
    /// MD5 of the `.gz` the mirrors serve.
    pub gz_md5: &'static str,
    /// SHA-256 of the decompressed content, where it is known. Without it only the
    /// published `.gz` itself (by its MD5) can be verified, not an unpacked or recompressed
    /// copy.
    pub sha256: Option<&'static str>,
}

impl KnownFile {
    /// The name the mirrors serve it under.
    pub fn gz_name(&self) -> String {
        format!("{}.gz", self.name)
    }
}

/// How a file was found to be the one it should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verification {
    /// The SHA-256 of its decompressed content is the known one.
    ContentSha256,
    /// It is the published `.gz`, by its MD5.
    GzMd5,
    /// Checksums were turned off: any 28×28, 10-class IDX content is accepted.
    Unverified,
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex MD5 of `bytes`.
pub fn md5_hex(bytes: &[u8]) -> String {
    hex(&Md5::digest(bytes))
}

/// Lower-case hex of a digest.
fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
