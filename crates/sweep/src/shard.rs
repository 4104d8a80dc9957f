//! Shards: shard `I` of `N` runs the seeds at positions `I`, `I + N`, `I + 2N`, … of the list,
//! given as `I/N` or taken from a Slurm array job's variables.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::seed_list::SeedList;

/// The variables Slurm sets in every task of an array job, read by [`ShardSpec::Slurm`].
pub const SLURM_VARIABLES: [&str; 5] = [
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_MAX",
    "SLURM_ARRAY_TASK_STEP",
];

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ShardError {
    #[error("'{0}' is neither I/N (shard I of N, 0 ≤ I < N, such as 0/4) nor slurm")]
    Syntax(String),
    #[error("shard {index}/{count}: I must be at least 0 and below N")]
    OutOfRange { index: u64, count: u64 },
    #[error("not inside a Slurm array job: {0} is not set (submit with sbatch --array=0-3, or give the shard as I/N)")]
    SlurmUnset(&'static str),
    #[error("{name}={value} is not a whole number ≥ 0")]
    SlurmNotANumber { name: &'static str, value: String },
    #[error("this Slurm array's task ids are not evenly spaced ({layout}): submit it with --array=A-B or --array=A-B:S, or give each task its shard as I/N")]
    SlurmUneven { layout: String },
}

/// Shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u64,
    count: u64,
}

/// A shard as given on the command line (and serialised so: `2/4`, `slurm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum ShardSpec {
    Fixed(Shard),
    /// From `SLURM_ARRAY_TASK_*` when the job runs.
    Slurm,
}

impl Shard {
    /// The whole list: shard 0 of 1.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    pub fn new(index: u64, count: u64) -> Result<Self, ShardError> {
        if index >= count {
            return Err(ShardError::OutOfRange { index, count });
        }
        Ok(Shard { index, count })
    }

    pub fn index(&self) -> u64 {
        self.index
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// This shard's seeds, in the list's order; `None` when it has none (more shards than
    /// seeds).
    pub fn select(&self, seeds: &SeedList) -> Option<SeedList> {
        let mine = seeds
            .as_slice()
            .iter()
            .zip((0..self.count).cycle())
            .filter(|(_, position)| *position == self.index)
            .map(|(seed, _)| *seed)
            .collect();
        SeedList::new(mine)
    }

    /// Maps a Slurm array task to a shard. `get` reads a variable (`std::env::var(..).ok()`
    /// in a real job). Task ids run from MIN to MAX in steps of STEP (`--array=1-4` gives
    /// 1, 2, 3, 4; `--array=0-9:2` gives 0, 2, 4, 6, 8), so the shard is (ID − MIN) / STEP
    /// of COUNT. An array whose ids are not one such progression (`--array=1,2,7`) has no
    /// such mapping and is refused.
    pub fn from_slurm(get: impl Fn(&str) -> Option<String>) -> Result<Self, ShardError> {
        let [id, count, min, max, step] = SLURM_VARIABLES.map(|name| {
            let value = get(name).ok_or(ShardError::SlurmUnset(name))?;
            value
                .trim()
                .parse::<u64>()
                .map_err(|_| ShardError::SlurmNotANumber { name, value })
        });
        let (id, count, min, max, step) = (id?, count?, min?, max?, step?);
        let uneven = || ShardError::SlurmUneven {
            layout: format!(
                "SLURM_ARRAY_TASK_ID={id}, _MIN={min}, _MAX={max}, _STEP={step}, _COUNT={count}"
            ),
        };
        let spans_the_array = step > 0
            && count > 0
            && (count - 1)
                .checked_mul(step)
                .and_then(|span| span.checked_add(min))
                == Some(max);
        if !spans_the_array || id < min || (id - min) % step != 0 {
            return Err(uneven());
        }
        Shard::new((id - min) / step, count).map_err(|_| uneven())
    }
}

impl ShardSpec {
    /// The shard this process runs; `get` reads an environment variable.
    pub fn resolve(&self, get: impl Fn(&str) -> Option<String>) -> Result<Shard, ShardError> {
        match self {
            ShardSpec::Fixed(shard) => Ok(*shard),
            ShardSpec::Slurm => Shard::from_slurm(get),
        }
    }
}

impl FromStr for ShardSpec {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text == "slurm" {
            return Ok(ShardSpec::Slurm);
        }
        let syntax = || ShardError::Syntax(text.to_owned());
        let (index, count) = text.split_once('/').ok_or_else(syntax)?;
        let number = |part: &str| {
            let part = part.trim();
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(syntax());
            }
            part.parse::<u64>().map_err(|_| syntax())
        };
        Ok(ShardSpec::Fixed(Shard::new(
            number(index)?,
            number(count)?,
        )?))
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShardSpec::Fixed(shard) => shard.fmt(f),
            ShardSpec::Slurm => f.write_str("slurm"),
        }
    }
}

impl From<ShardSpec> for String {
    fn from(spec: ShardSpec) -> String {
        spec.to_string()
    }
}

impl TryFrom<String> for ShardSpec {
    type Error = ShardError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed_list::SeedSpec;

    fn list(text: &str) -> SeedList {
        text.parse::<SeedSpec>().unwrap().seeds(0).unwrap()
    }

    fn fixed(text: &str) -> Result<Shard, ShardError> {
        text.parse::<ShardSpec>()?.resolve(|_| None)
    }

    #[test]
    fn shards_take_the_positions_i_mod_n_and_together_cover_the_list_once() {
        let seeds = list("10..20,3");
        let picked: Vec<Vec<u64>> = (0..4)
            .map(|i| {
                let shard = Shard::new(i, 4).unwrap();
                shard.select(&seeds).unwrap().as_slice().to_vec()
            })
            .collect();
        assert_eq!(
            picked,
            [
                vec![10, 14, 18],
                vec![11, 15, 19],
                vec![12, 16, 3],
                vec![13, 17]
            ]
        );
        assert_eq!(
            Shard::WHOLE.select(&seeds).unwrap().as_slice(),
            seeds.as_slice()
        );
    }

    #[test]
    fn a_shard_past_the_last_seed_has_none() {
        assert_eq!(Shard::new(2, 3).unwrap().select(&list("0..2")), None);
    }

    #[test]
    fn i_over_n_needs_0_le_i_lt_n() {
        assert_eq!(fixed("3/4"), Ok(Shard { index: 3, count: 4 }));
        assert_eq!(fixed(" 0 / 1 "), Ok(Shard::WHOLE));
        assert_eq!(
            fixed("4/4"),
            Err(ShardError::OutOfRange { index: 4, count: 4 })
        );
        assert_eq!(
            fixed("0/0"),
            Err(ShardError::OutOfRange { index: 0, count: 0 })
        );
        for bad in ["3", "-1/4", "1/x", "1/4/2", "slurm/2", "+1/4"] {
            assert_eq!(fixed(bad), Err(ShardError::Syntax(bad.into())), "{bad}");
        }
    }

    #[test]
    fn a_shard_is_written_back_as_it_was_given() {
        for text in ["0/1", "3/4", "slurm"] {
            let spec: ShardSpec = text.parse().unwrap();
            assert_eq!(spec.to_string(), text);
            let json = serde_json::to_string(&spec).unwrap();
            assert_eq!(serde_json::from_str::<ShardSpec>(&json).unwrap(), spec);
        }
        assert!(serde_json::from_str::<ShardSpec>("\"4/4\"").is_err());
    }

    fn slurm(vars: [(&str, &str); 5]) -> Result<Shard, ShardError> {
        "slurm".parse::<ShardSpec>()?.resolve(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
    }

    /// The variables of the task with id `id`. The cases below are what Slurm 22.05.8 set on
    /// scripts/slurm-test's node (`env | grep SLURM_ARRAY_TASK` in each task).
    fn task(id: u64, min: u64, max: u64, step: u64, count: u64) -> Result<Shard, ShardError> {
        let [id, min, max, step, count] = [id, min, max, step, count].map(|v| v.to_string());
        slurm([
            ("SLURM_ARRAY_TASK_ID", &id),
            ("SLURM_ARRAY_TASK_COUNT", &count),
            ("SLURM_ARRAY_TASK_MIN", &min),
            ("SLURM_ARRAY_TASK_MAX", &max),
            ("SLURM_ARRAY_TASK_STEP", &step),
        ])
    }

    #[test]
    fn slurm_task_ids_map_to_shards_0_to_n_minus_1() {
        // --array=1-4
        let shards: Vec<_> = (1..=4).map(|id| task(id, 1, 4, 1, 4)).collect();
        assert_eq!(shards, (0..4).map(|i| Shard::new(i, 4)).collect::<Vec<_>>());
        // --array=0-9:2 runs ids 0, 2, 4, 6, 8.
        let shards: Vec<_> = (0..5).map(|k| task(2 * k, 0, 8, 2, 5)).collect();
        assert_eq!(shards, (0..5).map(|i| Shard::new(i, 5)).collect::<Vec<_>>());
        // --array=7 is one shard of one (STEP=1).
        assert_eq!(task(7, 7, 7, 1, 1), Ok(Shard::WHOLE));
    }

    #[test]
    fn an_unevenly_spaced_slurm_array_is_refused() {
        // --array=1,2,7: Slurm sets STEP=1, COUNT=3, MIN=1, MAX=7; 1 + 2 steps is not 7.
        assert!(matches!(
            task(7, 1, 7, 1, 3),
            Err(ShardError::SlurmUneven { .. })
        ));
        // An id off the progression, or below MIN.
        assert!(matches!(
            task(3, 0, 8, 2, 5),
            Err(ShardError::SlurmUneven { .. })
        ));
        assert!(matches!(
            task(0, 1, 4, 1, 4),
            Err(ShardError::SlurmUneven { .. })
        ));
        assert!(matches!(
            task(0, 0, 0, 0, 1),
            Err(ShardError::SlurmUneven { .. })
        ));
    }

    #[test]
    fn outside_an_array_job_the_missing_variable_is_named() {
        let none = "slurm".parse::<ShardSpec>().unwrap().resolve(|_| None);
        assert_eq!(none, Err(ShardError::SlurmUnset("SLURM_ARRAY_TASK_ID")));
        assert_eq!(
            none.unwrap_err().to_string(),
            "not inside a Slurm array job: SLURM_ARRAY_TASK_ID is not set (submit with sbatch --array=0-3, or give the shard as I/N)"
        );
        let garbled = slurm([
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "four"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_MAX", "3"),
            ("SLURM_ARRAY_TASK_STEP", "1"),
        ]);
        assert_eq!(
            garbled,
            Err(ShardError::SlurmNotANumber {
                name: "SLURM_ARRAY_TASK_COUNT",
                value: "four".into()
            })
        );
    }
}
