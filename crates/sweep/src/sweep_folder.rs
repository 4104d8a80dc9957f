//! A sweep's output folder, shared by every shard that writes into it: one `seed-N` folder
//! per finished seed, complete or absent. A seed is written under `seed-N.partial` and
//! renamed when it ends, after its record (`seed.json`: seed, fingerprint, result) is on
//! disk, so a killed process leaves at most a `.partial` folder, which the next run redoes.
//! The process writing a `.partial` folder holds its lock (`seed_lock.rs`): another process
//! leaves it alone, and only one whose lock is free counts as left by a stopped run.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::fingerprint::Fingerprint;
use crate::folder_error::io_error;
pub use crate::folder_error::{FolderError, RECORD_FILE};
use crate::owner::Owner;
use crate::seed_lock::{self, Found, SeedLock};
pub use crate::seed_record::SeedRecord;
use crate::seed_record::{read_record, record_text};

const PARTIAL_SUFFIX: &str = ".partial";

/// What a rerun into the same folder does with each seed of its list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResumePlan {
    /// Complete with the same fingerprint: kept as they are.
    pub skip: Vec<u64>,
    /// To run, in the list's order.
    pub run: Vec<u64>,
    /// Of `run`, those a stopped run left incomplete: their `.partial` folder's lock is free
    /// (it is emptied when the seed starts again). One a live process holds is not among them.
    pub incomplete: Vec<u64>,
}

/// What [`SweepFolder::start`] found.
#[derive(Debug)]
pub enum Start {
    /// The seed is this process's to write.
    Run(PartialSeed),
    /// Another live process is writing it (`None`: its owner file could not be read yet).
    Running(Option<Owner>),
    /// Another process completed it since the plan was made.
    Completed,
}

impl Start {
    /// The seed to write, if it is this process's.
    pub fn partial(self) -> Option<PartialSeed> {
        match self {
            Start::Run(partial) => Some(partial),
            Start::Running(_) | Start::Completed => None,
        }
    }
}

/// A sweep's output folder.
#[derive(Debug, Clone)]
pub struct SweepFolder {
    root: PathBuf,
}

impl SweepFolder {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        SweepFolder { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where seed `seed` is once complete.
    pub fn seed_dir(&self, seed: u64) -> PathBuf {
        self.root.join(format!("seed-{seed}"))
    }

    fn partial_dir(&self, seed: u64) -> PathBuf {
        self.root.join(format!("seed-{seed}{PARTIAL_SUFFIX}"))
    }

    /// Decides, for `seeds` in this folder, which are done with the same fingerprint (skip),
    /// which to run (absent or incomplete), and refuses a seed done with another fingerprint,
    /// naming the first field that differs. Nothing is changed on disk.
    pub fn plan<C, R>(
        &self,
        seeds: &[u64],
        fingerprint: &Fingerprint<C>,
    ) -> Result<ResumePlan, FolderError>
    where
        C: Serialize + DeserializeOwned + PartialEq,
        R: DeserializeOwned,
    {
        let mut plan = ResumePlan::default();
        for &seed in seeds {
            match self.read::<C, R>(seed)? {
                Some(record) => match fingerprint.first_difference(&record.fingerprint) {
                    None => plan.skip.push(seed),
                    Some(difference) => {
                        return Err(FolderError::Fingerprint {
                            path: self.seed_dir(seed),
                            difference: Box::new(difference),
                        })
                    }
                },
                None => {
                    if let Found::Stale(_) = seed_lock::try_lock(&self.partial_dir(seed))? {
                        plan.incomplete.push(seed);
                    }
                    plan.run.push(seed);
                }
            }
        }
        Ok(plan)
    }

    /// The record of seed `seed` if its folder is complete; `None` if it is absent.
    pub fn read<C: DeserializeOwned, R: DeserializeOwned>(
        &self,
        seed: u64,
    ) -> Result<Option<SeedRecord<C, R>>, FolderError> {
        let dir = self.seed_dir(seed);
        if !dir.exists() {
            return Ok(None);
        }
        read_record(&dir, seed).map(Some)
    }

    /// Starts seed `seed`: a `seed-N.partial` folder, locked, to write its reports into
    /// (emptied of what a stopped run left there), unless another live process holds it or
    /// has completed the seed since the plan.
    pub fn start(&self, seed: u64) -> Result<Start, FolderError> {
        fs::create_dir_all(&self.root).map_err(io_error(&self.root))?;
        let partial = self.partial_dir(seed);
        // Each turn ends in a lock, or finds another process one step ahead: it ends.
        let lock = loop {
            let lock = match seed_lock::try_lock(&partial)? {
                Found::Busy(owner) => return Ok(Start::Running(owner)),
                Found::Stale(stale) => seed_lock::take_over(&partial, stale)?,
                Found::Absent => seed_lock::create(&partial)?,
            };
            if let Some(lock) = lock {
                break lock;
            }
        };
        if self.seed_dir(seed).exists() {
            fs::remove_dir_all(&partial).map_err(io_error(&partial))?;
            return Ok(Start::Completed);
        }
        Ok(Start::Run(PartialSeed {
            seed,
            partial,
            done: self.seed_dir(seed),
            _lock: lock,
        }))
    }
}

/// Whether `name` is a `seed-N` or a `seed-N.partial` folder's name, and which.
pub(crate) fn seed_folder_name(name: &str) -> Option<(u64, bool)> {
    let rest = name.strip_prefix("seed-")?;
    let (number, partial) = match rest.strip_suffix(PARTIAL_SUFFIX) {
        Some(number) => (number, true),
        None => (rest, false),
    };
    let plain_digits = !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit());
    plain_digits.then(|| number.parse().ok().map(|seed| (seed, partial)))?
}

/// A seed being written, its folder locked. Dropped without [`PartialSeed::complete`], it
/// stays `.partial`, its lock free.
#[derive(Debug)]
pub struct PartialSeed {
    seed: u64,
    partial: PathBuf,
    done: PathBuf,
    _lock: SeedLock,
}

impl PartialSeed {
    /// Where the seed's reports go while it runs.
    pub fn dir(&self) -> &Path {
        &self.partial
    }

    /// Writes `seed.json`, flushes the folder's files to disk, and renames the folder to
    /// `seed-N`. Returns the complete folder.
    pub fn complete<C: Serialize, R: Serialize>(
        self,
        fingerprint: &Fingerprint<C>,
        result: &R,
    ) -> Result<PathBuf, FolderError> {
        let path = self.partial.join(RECORD_FILE);
        let text =
            record_text(self.seed, fingerprint, result).map_err(|e| FolderError::Unreadable {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        let mut file = fs::File::create(&path).map_err(io_error(&path))?;
        file.write_all(text.as_bytes()).map_err(io_error(&path))?;
        sync_tree(&self.partial)?;
        fs::rename(&self.partial, &self.done).map_err(io_error(&self.done))?;
        let root = self.done.parent().unwrap_or(Path::new("."));
        fs::File::open(root)
            .and_then(|dir| dir.sync_all())
            .map_err(io_error(root))?;
        Ok(self.done)
    }
}

/// Flushes every file under `dir`, and `dir` itself, so that the rename that completes a
/// seed never lands before the files it vouches for.
fn sync_tree(dir: &Path) -> Result<(), FolderError> {
    for entry in fs::read_dir(dir).map_err(io_error(dir))? {
        let path = entry.map_err(io_error(dir))?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            fs::File::open(&path)
                .and_then(|file| file.sync_all())
                .map_err(io_error(&path))?;
        }
    }
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::tests::{fingerprint, Config};
    use crate::fingerprint::Field;

    type Record = SeedRecord<Config, f64>;

    fn finish(folder: &SweepFolder, seed: u64, print: &Fingerprint<Config>) -> PathBuf {
        let partial = folder.start(seed).unwrap().partial().unwrap();
        fs::write(partial.dir().join("summary.csv"), "model,accuracy\n").unwrap();
        partial.complete(print, &(seed as f64 / 10.0)).unwrap()
    }

    #[test]
    fn a_seed_is_partial_while_written_and_complete_after() {
        let out = tempfile::tempdir().unwrap();
        let folder = SweepFolder::new(out.path().join("sweep"));
        let partial = folder.start(7).unwrap().partial().unwrap();
        assert!(partial.dir().ends_with("seed-7.partial"));
        assert!(folder.read::<Config, f64>(7).unwrap().is_none());
        let done = partial.complete(&fingerprint(), &0.7).unwrap();
        assert_eq!(done, folder.seed_dir(7));
        assert!(!out.path().join("sweep/seed-7.partial").exists());
        let record: Record = folder.read(7).unwrap().unwrap();
        assert_eq!((record.seed, record.result), (7, 0.7));
        assert_eq!(record.fingerprint, fingerprint());
    }

    #[test]
    fn a_rerun_skips_complete_seeds_and_redoes_incomplete_ones() {
        let out = tempfile::tempdir().unwrap();
        let folder = SweepFolder::new(out.path());
        finish(&folder, 1, &fingerprint());
        finish(&folder, 3, &fingerprint());
        // Seed 2 was stopped while it ran.
        let stopped = folder.start(2).unwrap().partial().unwrap();
        fs::write(stopped.dir().join("epochs.csv"), "epoch\n1\n").unwrap();
        drop(stopped);

        let plan = folder
            .plan::<Config, f64>(&[0, 1, 2, 3, 4], &fingerprint())
            .unwrap();
        assert_eq!(
            plan,
            ResumePlan {
                skip: vec![1, 3],
                run: vec![0, 2, 4],
                incomplete: vec![2],
            }
        );
        let again = folder.start(2).unwrap().partial().unwrap();
        assert!(
            !again.dir().join("epochs.csv").exists(),
            "the leftover is gone"
        );
    }

    #[test]
    fn a_seed_a_live_process_writes_is_left_to_it_and_redone_once_it_is_gone() {
        let out = tempfile::tempdir().unwrap();
        let folder = SweepFolder::new(out.path());
        // flock locks belong to an open file, so a second open in this process is refused
        // as another process's would be.
        let live = folder.start(4).unwrap().partial().unwrap();
        fs::write(live.dir().join("epochs.csv"), "epoch\n1\n").unwrap();
        let plan = folder.plan::<Config, f64>(&[4], &fingerprint()).unwrap();
        assert_eq!((plan.run, plan.incomplete), (vec![4], vec![]));
        let Start::Running(owner) = folder.start(4).unwrap() else {
            panic!("the seed is taken");
        };
        assert_eq!(owner, Some(Owner::this_process()));
        assert!(live.dir().join("epochs.csv").exists(), "left alone");

        drop(live);
        let plan = folder.plan::<Config, f64>(&[4], &fingerprint()).unwrap();
        assert_eq!(plan.incomplete, [4]);
        let again = folder.start(4).unwrap().partial().unwrap();
        let left: Vec<_> = fs::read_dir(again.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [seed_lock::OWNER_FILE], "only the new owner's file");
        let done = again.complete(&fingerprint(), &0.4).unwrap();
        let Start::Completed = folder.start(4).unwrap() else {
            panic!("complete since the plan");
        };
        assert!(done.exists() && !folder.partial_dir(4).exists());
    }

    #[test]
    fn a_complete_seed_with_another_fingerprint_is_refused_naming_the_field() {
        let out = tempfile::tempdir().unwrap();
        let folder = SweepFolder::new(out.path());
        let mut other = fingerprint();
        other.config.lr = 0.1;
        finish(&folder, 5, &other);
        let refused = folder
            .plan::<Config, f64>(&[4, 5], &fingerprint())
            .unwrap_err();
        let FolderError::Fingerprint { path, difference } = &refused else {
            panic!("{refused}");
        };
        assert_eq!(path, &folder.seed_dir(5));
        assert_eq!(difference.field, Field::Config("lr".into()));
        assert!(refused.to_string().ends_with(
            "was made with other settings, so this run cannot add to it: the configuration's lr is 0.1 there, 0.01 in this run"
        ), "{refused}");
    }

    #[test]
    fn a_seed_folder_without_a_record_or_with_a_broken_one_is_an_error_not_a_redo() {
        let out = tempfile::tempdir().unwrap();
        let folder = SweepFolder::new(out.path());
        fs::create_dir(folder.seed_dir(1)).unwrap();
        assert!(matches!(
            folder.plan::<Config, f64>(&[1], &fingerprint()),
            Err(FolderError::NotASeedFolder { .. })
        ));
        fs::write(folder.seed_dir(1).join(RECORD_FILE), "{\"seed\": 1").unwrap();
        assert!(matches!(
            folder.read::<Config, f64>(1),
            Err(FolderError::Unreadable { .. })
        ));
        let moved = finish(&folder, 2, &fingerprint());
        fs::rename(moved, folder.seed_dir(3)).unwrap();
        assert!(matches!(
            folder.read::<Config, f64>(3),
            Err(FolderError::WrongSeed {
                expected: 3,
                found: 2,
                ..
            })
        ));
    }

    #[test]
    fn seed_folder_names_are_seed_n_or_seed_n_partial() {
        assert_eq!(seed_folder_name("seed-12"), Some((12, false)));
        assert_eq!(seed_folder_name("seed-0.partial"), Some((0, true)));
        for other in [
            "seed-",
            "seed-+1",
            "seed-1x",
            "seed-.partial",
            "report.html",
            "seed-99999999999999999999",
        ] {
            assert_eq!(seed_folder_name(other), None, "{other}");
        }
    }
}
