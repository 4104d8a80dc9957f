//! Pooling seed folders from many places (shards, machines, CI artifacts) into one list of
//! seed results, whatever the order the places are given in.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;
use thiserror::Error;

use crate::fingerprint::{Difference, Fingerprint};
use crate::folder_error::io_error;
use crate::seed_list::SeedList;
use crate::seed_record::{read_record, SeedRecord};
use crate::sweep_folder::{seed_folder_name, FolderError, RECORD_FILE};

/// One seed of the pool.
#[derive(Debug, Clone, PartialEq)]
pub struct MergedSeed<R> {
    pub seed: u64,
    pub result: R,
    /// Every folder that holds this seed with this result, in path order.
    pub folders: Vec<PathBuf>,
    /// The checksum of the result in the first of them (`seed.json`'s `result_sha256`).
    pub result_sha256: String,
}

/// The pool.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged<C, R> {
    /// Shared by every seed.
    pub fingerprint: Fingerprint<C>,
    /// In the expected list's order when one is given, else by seed.
    pub seeds: Vec<MergedSeed<R>>,
    /// `.partial` folders found and left out: seeds a stopped run had not finished.
    pub incomplete: Vec<PathBuf>,
    /// Complete seeds found outside the expected list, left out.
    pub outside_expected: Vec<u64>,
}

#[derive(Debug, Error)]
pub enum MergeError {
    #[error(transparent)]
    Folder(#[from] FolderError),
    #[error("no complete seed folder (seed-N with {RECORD_FILE}) in {}", Paths(.0))]
    NoSeeds(Vec<PathBuf>),
    #[error("{} and {} cannot be pooled: they differ in {difference}", .first.display(), .second.display())]
    Fingerprint {
        first: PathBuf,
        second: PathBuf,
        difference: Box<Difference>,
    },
    #[error("seed {seed} has different results in {} and {}", .first.display(), .second.display())]
    Conflict {
        seed: u64,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("{} of the {expected} expected seeds are missing: {missing}", .missing.len())]
    Missing { missing: SeedList, expected: usize },
    #[error("seed {seed}: {} changed while it was pooled", .path.display())]
    Changed { seed: u64, path: PathBuf },
}

struct Paths<'a>(&'a [PathBuf]);

impl fmt::Display for Paths<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, path) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", path.display())?;
        }
        Ok(())
    }
}

/// Pools the seeds under `places`, each a seed folder (`seed-N`) or a folder of them.
/// The same seed found twice counts once when `same_result` says the two agree (compare what
/// the seed computed, not how long it took) and is refused otherwise; seeds whose
/// fingerprints differ are refused, naming both folders and the field. With `expect`, a
/// missing seed is an error and seeds outside it are left out. The outcome, errors included,
/// does not depend on the order of `places`.
pub fn merge<C, R>(
    places: &[PathBuf],
    expect: Option<&SeedList>,
    same_result: impl Fn(&R, &R) -> bool,
) -> Result<Merged<C, R>, MergeError>
where
    C: Serialize + DeserializeOwned + PartialEq + Clone,
    R: DeserializeOwned,
{
    let mut complete: Vec<(u64, PathBuf)> = Vec::new();
    let mut incomplete = Vec::new();
    for place in places {
        for (seed, partial, dir) in seed_folders(place)? {
            match partial {
                true => incomplete.push(dir),
                false => complete.push((seed, dir)),
            }
        }
    }
    complete.sort();
    complete.dedup();
    incomplete.sort();
    incomplete.dedup();

    let mut records: Vec<(PathBuf, SeedRecord<C, R>)> = Vec::with_capacity(complete.len());
    for (seed, dir) in complete {
        let record: SeedRecord<C, R> = read_record(&dir, seed)?;
        records.push((dir, record));
    }
    let Some((reference_dir, reference)) = records.first() else {
        return Err(MergeError::NoSeeds(places.to_vec()));
    };
    for (dir, record) in &records[1..] {
        if let Some(difference) = reference.fingerprint.first_difference(&record.fingerprint) {
            return Err(MergeError::Fingerprint {
                first: reference_dir.clone(),
                second: dir.clone(),
                difference: Box::new(difference),
            });
        }
    }
    let fingerprint = reference.fingerprint.clone();

    let mut seeds: Vec<MergedSeed<R>> = Vec::new();
    for (dir, record) in records {
        match seeds.last_mut() {
            Some(last) if last.seed == record.seed => {
                if !same_result(&last.result, &record.result) {
                    return Err(MergeError::Conflict {
                        seed: record.seed,
                        first: last.folders[0].clone(),
                        second: dir,
                    });
                }
                last.folders.push(dir);
            }
            _ => seeds.push(MergedSeed {
                seed: record.seed,
                result: record.result,
                folders: vec![dir],
                result_sha256: record.result_sha256,
            }),
        }
    }

    let mut outside_expected = Vec::new();
    if let Some(expect) = expect {
        let mut by_seed: HashMap<u64, MergedSeed<R>> =
            seeds.into_iter().map(|s| (s.seed, s)).collect();
        let mut missing = Vec::new();
        seeds = Vec::with_capacity(expect.len());
        for seed in expect.as_slice() {
            match by_seed.remove(seed) {
                Some(found) => seeds.push(found),
                None => missing.push(*seed),
            }
        }
        if let Some(missing) = SeedList::new(missing) {
            return Err(MergeError::Missing {
                missing,
                expected: expect.len(),
            });
        }
        outside_expected = by_seed.into_keys().collect();
        outside_expected.sort_unstable();
    }
    Ok(Merged {
        fingerprint,
        seeds,
        incomplete,
        outside_expected,
    })
}

impl<C: DeserializeOwned, R: DeserializeOwned> Merged<C, R> {
    /// Reads the pooled seeds' records again: each must still be there with the result
    /// pooled, so that what is written from the pool is what the folders hold.
    pub fn check_unchanged(&self) -> Result<(), MergeError> {
        for seed in &self.seeds {
            let dir = &seed.folders[0];
            let now: SeedRecord<C, R> = read_record(dir, seed.seed)?;
            if now.result_sha256 != seed.result_sha256 {
                return Err(MergeError::Changed {
                    seed: seed.seed,
                    path: dir.join(RECORD_FILE),
                });
            }
        }
        Ok(())
    }
}

/// The seed folders at `place`: itself if it is one, else its `seed-N[.partial]` children.
fn seed_folders(place: &Path) -> Result<Vec<(u64, bool, PathBuf)>, FolderError> {
    let own_name = place.file_name().and_then(|n| n.to_str());
    if place.join(RECORD_FILE).exists() {
        if let Some((seed, false)) = own_name.and_then(seed_folder_name) {
            return Ok(vec![(seed, false, place.to_owned())]);
        }
    }
    let mut found = Vec::new();
    for entry in fs::read_dir(place).map_err(io_error(place))? {
        let entry = entry.map_err(io_error(place))?;
        let name = entry.file_name();
        if let Some((seed, partial)) = name.to_str().and_then(seed_folder_name) {
            if entry.path().is_dir() {
                found.push((seed, partial, entry.path()));
            }
        }
    }
    Ok(found)
}
