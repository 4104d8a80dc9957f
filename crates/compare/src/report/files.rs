//! The run folder (one new folder per run, never overwritten) and the JSON files in it,
//! rewritten atomically.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

/// A new, empty folder for one run under `parent`, named by its UTC start time.
pub fn create_run_folder(
    parent: &Path,
    started: &chrono::DateTime<chrono::Utc>,
) -> Result<PathBuf> {
    fs::create_dir_all(parent).with_context(|| {
        format!(
            "cannot create the output folder {}: choose a writable one with --out",
            parent.display()
        )
    })?;
    let stem = started.format("%Y-%m-%dT%H-%M-%SZ").to_string();
    for attempt in 1.. {
        let name = if attempt == 1 {
            stem.clone()
        } else {
            format!("{stem}-{attempt}")
        };
        let path = parent.join(name);
        match fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e).with_context(|| {
                    format!(
                        "cannot create a run folder in {}: choose a writable one with --out",
                        parent.display()
                    )
                })
            }
        }
    }
    unreachable!("the attempts above only end by returning")
}

/// Writes `value` as pretty JSON through a temporary file and a rename, so a reader never sees
/// half a file.
pub fn write_json_atomically<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let temporary = path.with_extension("json.part");
    let mut file = File::create(&temporary)
        .with_context(|| format!("cannot create {}", temporary.display()))?;
    serde_json::to_writer_pretty(&mut file, value)?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    fs::rename(&temporary, path).with_context(|| format!("cannot write {}", path.display()))
}
