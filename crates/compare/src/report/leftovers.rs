//! What a killed run left in `--out`: the files and folders a run holds only while it runs
//! are named by their owner (`BASE.PID@HOST.KIND`, `sweep::Owner::name`): `run.json`'s
//! reserve, a JSON file's temporary copy, an aggregate's staged folder, a seed's claim. A run
//! starting in the same `--out` removes those whose process is gone from this host, and says
//! which, with the run folder whose `run.json` still says `running`.

use std::fs;
use std::path::{Path, PathBuf};

use sweep::{owned_name, Liveness, Owner};

/// What was removed from one folder: its names, each with its owner (`NAME (pid P on H)`).
pub struct Removed {
    pub folder: PathBuf,
    pub names: Vec<String>,
}

/// Removes, in `out` and in each folder directly in it, what a process of this host that
/// no longer exists left there; returns what, per folder.
pub fn remove_stale(out: &Path) -> Vec<Removed> {
    let Ok(entries) = fs::read_dir(out) else {
        return Vec::new();
    };
    let mut folders = vec![out.to_owned()];
    folders.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
    let mut all = Vec::new();
    for folder in folders {
        let stale = stale_in(&folder);
        if stale.is_empty() {
            continue;
        }
        let mut removed = Vec::new();
        for (path, owner) in stale {
            let gone = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            if gone.is_ok() {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                removed.push(format!("{} ({owner})", name.unwrap_or_default()));
            }
        }
        if !removed.is_empty() {
            all.push(Removed {
                folder,
                names: removed,
            });
        }
    }
    all
}

/// The owned names directly in `folder` whose owner is gone.
fn stale_in(folder: &Path) -> Vec<(PathBuf, Owner)> {
    let Ok(entries) = fs::read_dir(folder) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name();
            let (owner, _) = owned_name(name.to_str()?)?;
            (owner.liveness() == Liveness::Gone).then(|| (entry.path(), owner))
        })
        .collect()
}
