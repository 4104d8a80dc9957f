//! `seed.json`: what pooling needs from one seed (the seed, its fingerprint, its result) and
//! the SHA-256 of its result, so that a result edited after it was written is refused.
//!
//! The checksum is taken over the result as JSON with its keys sorted, read back from the
//! text written (`serde_json::Value`), so that writer and reader hash the same numbers
//! whatever the last bit serde_json's parse gives them.

use std::fs;
use std::io;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::fingerprint::Fingerprint;
use crate::folder_error::{io_error, FolderError, RECORD_FILE};

/// What pooling needs from one seed.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedRecord<C, R> {
    pub seed: u64,
    pub fingerprint: Fingerprint<C>,
    pub result: R,
    /// SHA-256 (hex) of the result as written.
    pub result_sha256: String,
}

/// [`SeedRecord`] as written, by reference.
#[derive(Serialize)]
struct RecordToWrite<'a, C, R> {
    seed: u64,
    fingerprint: &'a Fingerprint<C>,
    result: &'a R,
    result_sha256: String,
}

/// [`SeedRecord`] as read, its result not yet typed, so that it can be hashed as written.
#[derive(Deserialize)]
struct RecordAsRead<C> {
    seed: u64,
    fingerprint: Fingerprint<C>,
    result: serde_json::Value,
    result_sha256: String,
}

/// The checksum of a result read back as JSON.
fn checksum(result: &serde_json::Value) -> String {
    let digest = Sha256::digest(result.to_string().as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The text of `seed.json` for `seed`.
pub(crate) fn record_text<C: Serialize, R: Serialize>(
    seed: u64,
    fingerprint: &Fingerprint<C>,
    result: &R,
) -> serde_json::Result<String> {
    let written: serde_json::Value = serde_json::from_str(&serde_json::to_string(result)?)?;
    serde_json::to_string_pretty(&RecordToWrite {
        seed,
        fingerprint,
        result,
        result_sha256: checksum(&written),
    })
}

/// Reads `seed.json` of the complete folder `dir` of seed `seed`, refusing a result that
/// does not match its checksum.
pub(crate) fn read_record<C: DeserializeOwned, R: DeserializeOwned>(
    dir: &Path,
    seed: u64,
) -> Result<SeedRecord<C, R>, FolderError> {
    let path = dir.join(RECORD_FILE);
    let text = match fs::read_to_string(&path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(FolderError::NotASeedFolder {
                path: dir.to_owned(),
            })
        }
        other => other.map_err(io_error(&path))?,
    };
    let unreadable = |e: serde_json::Error| FolderError::Unreadable {
        path: path.clone(),
        reason: e.to_string(),
    };
    let read: RecordAsRead<C> = serde_json::from_str(&text).map_err(unreadable)?;
    if read.seed != seed {
        return Err(FolderError::WrongSeed {
            path: dir.to_owned(),
            expected: seed,
            found: read.seed,
        });
    }
    if checksum(&read.result) != read.result_sha256 {
        return Err(FolderError::Checksum { seed, path });
    }
    Ok(SeedRecord {
        seed,
        fingerprint: read.fingerprint,
        result: R::deserialize(read.result).map_err(unreadable)?,
        result_sha256: read.result_sha256,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::tests::{fingerprint, Config};

    #[test]
    fn a_result_reads_back_with_its_checksum_and_an_edited_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        // 0.1 + 0.2 has a 17-digit shortest form: the checksum survives its parse.
        let result = vec![0.1 + 0.2, 69.8, 1e-300];
        let text = record_text(3, &fingerprint(), &result).unwrap();
        fs::write(dir.path().join(RECORD_FILE), &text).unwrap();
        let record: SeedRecord<Config, Vec<f64>> = read_record(dir.path(), 3).unwrap();
        assert_eq!(record.result, result);
        assert_eq!(record.result_sha256.len(), 64);

        let edited = text.replace("69.8", "99.99");
        assert_ne!(edited, text);
        fs::write(dir.path().join(RECORD_FILE), &edited).unwrap();
        let refused = read_record::<Config, Vec<f64>>(dir.path(), 3).unwrap_err();
        assert!(matches!(refused, FolderError::Checksum { seed: 3, .. }));
        assert_eq!(
            refused.to_string(),
            format!(
                "seed 3: {}: its result does not match its result_sha256 (edited after it was written)",
                dir.path().join(RECORD_FILE).display()
            )
        );
    }
}
