//! Seed sweeps that any engine running processes can split and merge (GNU parallel, a Slurm
//! array, a CI matrix): which seeds a shard runs, whether seed folders may be pooled, and
//! merging them.
//!
//! - [`SeedSpec`] parses a seed list (`10`, `0..100`, `1,5,9`, `0..10,20`) and refuses
//!   repeats, empty lists, overflow and lists too long to hold before allocating them.
//! - [`ShardSpec`] picks the positions `I mod N` of the list, from `I/N` or from Slurm's array
//!   variables.
//! - [`Fingerprint`] is what must match for two seeds to be pooled, and names the first field
//!   that differs.
//! - [`SweepFolder`] keeps every seed folder complete or absent (written under a temporary
//!   name, renamed when done, locked while a process writes it) and plans a resume: skip,
//!   redo, or refuse.
//! - [`merge`] pools seed folders from any number of places, independent of their order.
//!
//! It is generic over the configuration and the per-seed result, so it knows nothing of the
//! models: the binary supplies both types.

mod fingerprint;
mod folder_error;
mod merge;
mod owner;
mod seed_list;
mod seed_lock;
mod seed_record;
mod shard;
mod sweep_folder;

pub use fingerprint::{Difference, Field, Fingerprint};
pub use merge::{merge, MergeError, Merged, MergedSeed};
pub use owner::{owned_name, this_host, Liveness, Owner};
pub use seed_list::{SeedList, SeedListError, SeedSpec, MAX_SEEDS};
pub use shard::{Shard, ShardError, ShardSpec, SLURM_VARIABLES};
pub use sweep_folder::{
    FolderError, PartialSeed, ResumePlan, SeedRecord, Start, SweepFolder, RECORD_FILE,
};
