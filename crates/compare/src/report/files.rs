//! The run folder (one new folder per run, never overwritten, or staged under a temporary
//! name and renamed once complete) and the JSON files in it, rewritten atomically.

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
    claim_name(parent, &stem(started))
}

fn stem(started: &chrono::DateTime<chrono::Utc>) -> String {
    started.format("%Y-%m-%dT%H-%M-%SZ").to_string()
}

/// Makes the first free folder of `stem`, `stem-2`, `stem-3`… under `parent`.
fn claim_name(parent: &Path, stem: &str) -> Result<PathBuf> {
    for attempt in 1.. {
        let name = if attempt == 1 {
            stem.to_owned()
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

/// A run folder written under a hidden temporary name (`.STEM.PID@HOST.partial`) and renamed
/// to its own name only once complete ([`StagedFolder::publish`]): dropped before, on an
/// error, it is removed with all it holds, so that no half-written run folder is left.
pub struct StagedFolder {
    partial: PathBuf,
    parent: PathBuf,
    stem: String,
    published: bool,
}

impl StagedFolder {
    pub fn create(parent: &Path, started: &chrono::DateTime<chrono::Utc>) -> Result<Self> {
        let stem = stem(started);
        let partial =
            parent.join(sweep::Owner::this_process().name(&format!(".{stem}"), "partial"));
        fs::create_dir_all(&partial).with_context(|| {
            format!(
                "cannot create a run folder in {}: choose a writable one with --out",
                parent.display()
            )
        })?;
        Ok(StagedFolder {
            partial,
            parent: parent.to_owned(),
            stem,
            published: false,
        })
    }

    /// Where its files go until it is published.
    pub fn path(&self) -> &Path {
        &self.partial
    }

    /// Gives it its name, the first free of its start time's (as [`create_run_folder`]'s):
    /// the name is claimed as an empty folder first, which the rename then replaces.
    pub fn publish(mut self) -> Result<PathBuf> {
        let folder = claim_name(&self.parent, &self.stem)?;
        if let Err(error) = fs::rename(&self.partial, &folder) {
            let _ = fs::remove_dir(&folder);
            return Err(error).with_context(|| {
                format!(
                    "cannot rename {} to {}",
                    self.partial.display(),
                    folder.display()
                )
            });
        }
        self.published = true;
        Ok(folder)
    }
}

impl Drop for StagedFolder {
    fn drop(&mut self) {
        if !self.published {
            let _ = fs::remove_dir_all(&self.partial);
        }
    }
}

/// Writes `value` as pretty JSON through a temporary file and a rename, so a reader never sees
/// half a file.
pub fn write_json_atomically<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let name = path
        .file_name()
        .map_or_else(Default::default, |n| n.to_string_lossy());
    let temporary = path.with_file_name(sweep::Owner::this_process().name(&name, "part"));
    let mut file = File::create(&temporary)
        .with_context(|| format!("cannot create {}", temporary.display()))?;
    serde_json::to_writer_pretty(&mut file, value)?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    fs::rename(&temporary, path).with_context(|| format!("cannot write {}", path.display()))
}
