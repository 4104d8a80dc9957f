//! Downloading one file: try each mirror in turn, stream into a temporary file in the target
//! folder, verify it, and only then rename it to its real name, so that an interrupted or
//! corrupt download never leaves a file that a later run would trust.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::checksum::{md5_hex, sha256_hex, KnownFile};
use crate::error::{Error, MirrorFailure};
use crate::idx;

/// Far more than the largest file of any known dataset (47 MB unpacked): a misbehaving server cannot fill
/// the disk.
const MAX_DOWNLOAD_BYTES: u64 = 128 << 20;

/// Downloads `file` into `dir` from the first mirror that delivers a verified copy;
/// returns its path.
pub(crate) fn download(
    file: &KnownFile,
    dir: &Path,
    mirrors: &[String],
    how_to_place: String,
) -> Result<PathBuf, Error> {
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(15))
        .timeout_read(Duration::from_secs(60))
        .build();
    let mut failures = Vec::new();
    for mirror in mirrors {
        let url = format!("{}/{}", mirror.trim_end_matches('/'), file.gz_name());
        match fetch(&agent, &url, file, dir) {
            Ok(path) => return Ok(path),
            Err(reason) => failures.push(MirrorFailure { url, reason }),
        }
    }
    Err(Error::Download {
        file: file.gz_name(),
        dir: dir.to_owned(),
        failures,
        how_to_fix: format!("Check the network, or download by hand: {how_to_place}"),
    })
}

/// One try from one URL; the error says why this mirror failed. The temporary file is
/// removed on every failure (when `part` drops).
fn fetch(agent: &ureq::Agent, url: &str, file: &KnownFile, dir: &Path) -> Result<PathBuf, String> {
    let response = agent.get(url).call().map_err(|e| match e {
        ureq::Error::Status(code, _) => format!("HTTP status {code}"),
        // Not `t.to_string()`: that repeats the URL the failure is listed under.
        ureq::Error::Transport(t) => match t.message() {
            Some(message) => format!("{}: {message}", t.kind()),
            None => t.kind().to_string(),
        },
    })?;
    let mut part = tempfile::Builder::new()
        .prefix(&format!(".{}.part-", file.gz_name()))
        .tempfile_in(dir)
        .map_err(|e| format!("cannot create a temporary file in {}: {e}", dir.display()))?;
    std::io::copy(
        &mut response.into_reader().take(MAX_DOWNLOAD_BYTES),
        part.as_file_mut(),
    )
    .map_err(|e| format!("download interrupted: {e}"))?;
    part.as_file()
        .sync_all()
        .map_err(|e| format!("cannot write {}: {e}", part.path().display()))?;

    let bytes = std::fs::read(part.path())
        .map_err(|e| format!("cannot read back {}: {e}", part.path().display()))?;
    let name = check(file, &bytes)?;
    let path = dir.join(name);
    part.persist(&path)
        .map_err(|e| format!("cannot rename into {}: {e}", path.display()))?;
    Ok(path)
}

/// The name a download is kept under if it is `file`, or why it is refused. The published
/// `.gz` is recognised by its MD5; where the content SHA-256 is known, a recompressed `.gz`
/// (as some caches hold) is recognised by it too, and so is content a server has already
/// decompressed (Content-Encoding), which is kept unpacked.
fn check(file: &KnownFile, bytes: &[u8]) -> Result<String, String> {
    if !idx::is_gzip(bytes) {
        let Some(expected) = file.sha256 else {
            return Err(
                "not gzip, and only the published .gz can be verified (no SHA-256 of the content is known)"
                    .to_owned(),
            );
        };
        let sha256 = sha256_hex(bytes);
        return if sha256 == expected {
            Ok(file.name.to_owned())
        } else {
            Err(format!(
                "not gzip, and the SHA-256 of the content is {sha256}, not the expected {expected}"
            ))
        };
    }
    let md5 = md5_hex(bytes);
    if md5 == file.gz_md5 {
        return Ok(file.gz_name());
    }
    let not_published = format!("MD5 of the .gz is {md5}, not the published {}", file.gz_md5);
    let Some(expected) = file.sha256 else {
        return Err(format!(
            "{not_published}, and no SHA-256 of the content is known to accept another compression"
        ));
    };
    let content = idx::gunzip(bytes)
        .map_err(|e| format!("{not_published}, and it does not decompress: {e}"))?;
    let sha256 = sha256_hex(&content);
    if sha256 == expected {
        Ok(file.gz_name())
    } else {
        Err(format!(
            "{not_published}, and the SHA-256 of its content is {sha256}, not the expected {expected}"
        ))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    use flate2::write::GzEncoder;
    use flate2::Compression;

    use super::*;

    pub(crate) const CONTENT: &[u8] = b"stand-in content";

    /// `CONTENT` gzipped at `level`: another level gives another archive.
    pub(crate) fn gz(level: u32) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::new(level));
        encoder.write_all(CONTENT).expect("in-memory write");
        encoder.finish().expect("in-memory write")
    }

    /// A file whose published `.gz` is `gz(9)` and whose content is `CONTENT`.
    fn stand_in() -> KnownFile {
        KnownFile {
            name: "stand-in",
            gz_md5: Box::leak(md5_hex(&gz(9)).into_boxed_str()),
            sha256: Some(Box::leak(sha256_hex(CONTENT).into_boxed_str())),
        }
    }

    #[test]
    fn the_published_gz_is_recognised_by_its_md5() {
        let file = KnownFile {
            sha256: Some("not consulted when the MD5 matches"),
            ..stand_in()
        };
        assert_eq!(check(&file, &gz(9)), Ok("stand-in.gz".to_owned()));
    }

    #[test]
    fn a_recompressed_or_unpacked_copy_is_recognised_by_its_content() {
        let file = stand_in();
        assert_ne!(gz(1), gz(9), "another level gives another archive");
        assert_eq!(check(&file, &gz(1)), Ok("stand-in.gz".to_owned()));
        assert_eq!(check(&file, CONTENT), Ok("stand-in".to_owned()));
    }

    #[test]
    fn other_content_is_refused_whichever_way_it_comes() {
        let file = KnownFile {
            gz_md5: "0",
            sha256: Some("0"),
            ..stand_in()
        };
        for bytes in [gz(9), CONTENT.to_vec()] {
            let reason = check(&file, &bytes).expect_err("neither checksum matches");
            assert!(reason.contains(&sha256_hex(CONTENT)), "{reason}");
        }
        let mut cut = gz(9);
        cut.truncate(cut.len() - 6);
        let reason = check(&file, &cut).expect_err("a cut archive");
        assert!(reason.contains("does not decompress"), "{reason}");
    }

    #[test]
    fn without_a_content_checksum_only_the_published_gz_is_accepted() {
        let file = KnownFile {
            sha256: None,
            ..stand_in()
        };
        assert_eq!(check(&file, &gz(9)), Ok("stand-in.gz".to_owned()));
        let reason = check(&file, &gz(1)).expect_err("a recompressed copy cannot be verified");
        assert!(reason.contains("no SHA-256 of the content"), "{reason}");
        let reason = check(&file, CONTENT).expect_err("unpacked content cannot be verified");
        assert!(reason.contains("only the published .gz"), "{reason}");
    }
}
