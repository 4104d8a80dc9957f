//! Who runs a seed: an OS file lock (`flock`, through `File::try_lock`) on its
//! `seed-N.partial` folder, held while a process writes it and let go by the kernel however
//! that process ends (SIGKILL included), with the owner's pid and host in a file inside. So
//! a `.partial` whose lock is free was left by a stopped run, and one whose lock is held is
//! another live process's, never touched.
//!
//! A folder gets its final name already locked (made under a name of its own, locked, then
//! renamed), and a stale one is taken over by locking it, checking that the name still
//! leads to the folder locked, and writing the new owner into it before clearing the rest.
//!
//! Where locks are not shared between machines (NFS mounted `nolock`, or without a lock
//! manager), two machines can both take a seed: the README says so.

use std::fs::{self, File, TryLockError};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::folder_error::{io_error, FolderError};
use crate::owner::Owner;

/// The file in a `.partial` folder that names the process writing it.
pub const OWNER_FILE: &str = ".owner.json";

/// A lock on a seed's `.partial` folder, held until dropped.
#[derive(Debug)]
pub struct SeedLock {
    _file: File,
}

/// How a `.partial` folder stands.
pub enum Found {
    Absent,
    /// Another live process holds it (its owner file says which, if it could be read).
    Busy(Option<Owner>),
    /// Its lock was free and is now ours.
    Stale(SeedLock),
}

/// Tries the lock of the folder at `dir`; the lock is ours only if `dir` still names the
/// folder locked when it is taken.
pub fn try_lock(dir: &Path) -> Result<Found, FolderError> {
    let file = match File::open(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Found::Absent),
        other => other.map_err(io_error(dir))?,
    };
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(Found::Busy(read_owner(dir))),
        Err(TryLockError::Error(error)) => {
            return Err(FolderError::Lock {
                path: dir.to_owned(),
                error,
            })
        }
    }
    let lock = SeedLock { _file: file };
    match lock.still_at(dir)? {
        true => Ok(Found::Stale(lock)),
        // Taken over and moved away between the open and the lock: look again.
        false => try_lock(dir),
    }
}

impl SeedLock {
    /// Whether `dir` still names the folder this lock holds.
    fn still_at(&self, dir: &Path) -> Result<bool, FolderError> {
        let held = self._file.metadata().map_err(io_error(dir))?;
        Ok(match fs::metadata(dir) {
            Ok(now) => (now.dev(), now.ino()) == (held.dev(), held.ino()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => return Err(io_error(dir)(e)),
        })
    }
}

/// Makes `dir` (absent) as a new `.partial` folder owned by this process, locked before it
/// has its name; `None` if another process made it first.
pub fn create(dir: &Path) -> Result<Option<SeedLock>, FolderError> {
    let name = dir
        .file_name()
        .map_or_else(Default::default, |n| n.to_string_lossy());
    let fresh = dir.with_file_name(Owner::this_process().name(&format!(".{name}"), "claim"));
    if fresh.exists() {
        fs::remove_dir_all(&fresh).map_err(io_error(&fresh))?;
    }
    fs::create_dir(&fresh).map_err(io_error(&fresh))?;
    let file = File::open(&fresh).map_err(io_error(&fresh))?;
    file.try_lock().map_err(|e| FolderError::Lock {
        path: fresh.clone(),
        error: e.into(),
    })?;
    write_owner(&fresh)?;
    // The owner file makes it non-empty, so the rename never replaces a folder made at once by
    // another process: it fails instead.
    match fs::rename(&fresh, dir) {
        Ok(()) => Ok(Some(SeedLock { _file: file })),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::DirectoryNotEmpty | io::ErrorKind::AlreadyExists
            ) =>
        {
            fs::remove_dir_all(&fresh).map_err(io_error(&fresh))?;
            Ok(None)
        }
        Err(e) => Err(io_error(dir)(e)),
    }
}

/// Takes over the stale folder `dir`, whose lock `lock` holds: writes this process as its
/// owner, then (if `dir` is still the folder locked) empties it of what the stopped run left.
/// `None` if it was replaced before the owner was written.
pub fn take_over(dir: &Path, lock: SeedLock) -> Result<Option<SeedLock>, FolderError> {
    write_owner(dir)?;
    if !lock.still_at(dir)? {
        return Ok(None);
    }
    for entry in fs::read_dir(dir).map_err(io_error(dir))? {
        let path = entry.map_err(io_error(dir))?.path();
        if path.file_name().is_some_and(|n| n == OWNER_FILE) {
            continue;
        }
        if path.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        }
        .map_err(io_error(&path))?;
    }
    Ok(Some(lock))
}

/// Writes this process as the owner of `dir`, through a rename so that a reader never sees
/// half the file.
fn write_owner(dir: &Path) -> Result<(), FolderError> {
    let owner = Owner::this_process();
    let path = dir.join(OWNER_FILE);
    let temporary: PathBuf = dir.join(owner.name(OWNER_FILE, "part"));
    let text = serde_json::to_string(&owner).map_err(|e| FolderError::Unreadable {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    fs::write(&temporary, text).map_err(io_error(&temporary))?;
    fs::rename(&temporary, &path).map_err(io_error(&path))
}

fn read_owner(dir: &Path) -> Option<Owner> {
    let text = fs::read_to_string(dir.join(OWNER_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}
