//! The seed list of a sweep: a count from a first seed (`10`), half-open ranges (`0..100`),
//! single seeds (`1,5,9`) and mixes of both (`0..10,20,30..35`).

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The most seeds one list may hold. Each seed is a whole training run of minutes and a
/// folder of reports, so a million is far past any sweep; the bound is checked on the
/// parsed text, before the list is built, so that a typo such as `5000000000` is a message
/// rather than gigabytes of memory.
pub const MAX_SEEDS: u64 = 1_000_000;

/// Why a seed list was refused. The messages name the problem, not the flag: the caller
/// knows which flag it parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SeedListError {
    #[error("no seeds: give a count (10), a range (0..100, 100 excluded), a list (1,5,9) or a mix (0..10,20)")]
    Empty,
    #[error("'{0}' is not a whole number from 0 to {max}", max = u64::MAX)]
    NotANumber(String),
    #[error("an empty item in the list (two commas in a row, or one at an end)")]
    EmptyItem,
    #[error("'{0}' is an empty range: in A..B, B is excluded and must be larger than A")]
    EmptyRange(String),
    #[error("seed {0} is listed twice")]
    Repeated(u64),
    #[error("{count} seeds is more than {MAX_SEEDS}, the most one list may hold (each seed is a whole training run)")]
    TooMany { count: u128 },
    #[error("{count} seeds from seed {first} pass the largest seed, {max}", max = u64::MAX)]
    Overflow { first: u64, count: u64 },
}

/// A seed list as written, checked as far as it can be without the first seed of a count:
/// ranges non-empty, no seed twice, at most [`MAX_SEEDS`]. Serialised as its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum SeedSpec {
    /// `N`: N seeds from the first seed (the caller's `--seed`).
    Count(u64),
    /// Ranges in the order written; a single seed `s` is `s..s+1`.
    Ranges(Vec<Range<u64>>),
}

/// The seeds to run, in order: at least one, none twice, at most [`MAX_SEEDS`], each below
/// `u64::MAX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedList(Vec<u64>);

impl FromStr for SeedSpec {
    type Err = SeedListError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.is_empty() {
            return Err(SeedListError::Empty);
        }
        if !text.contains(',') && !text.contains("..") {
            return match number(text)? {
                0 => Err(SeedListError::Empty),
                count if u128::from(count) > u128::from(MAX_SEEDS) => Err(SeedListError::TooMany {
                    count: count.into(),
                }),
                count => Ok(SeedSpec::Count(count)),
            };
        }
        let ranges = text
            .split(',')
            .map(str::trim)
            .map(range)
            .collect::<Result<Vec<_>, _>>()?;
        let count: u128 = ranges.iter().map(|r| u128::from(r.end - r.start)).sum();
        if count > u128::from(MAX_SEEDS) {
            return Err(SeedListError::TooMany { count });
        }
        if let Some(seed) = first_repeat(&ranges) {
            return Err(SeedListError::Repeated(seed));
        }
        Ok(SeedSpec::Ranges(ranges))
    }
}

fn number(text: &str) -> Result<u64, SeedListError> {
    // `parse` alone would accept a leading '+'.
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SeedListError::NotANumber(text.to_owned()));
    }
    text.parse()
        .map_err(|_| SeedListError::NotANumber(text.to_owned()))
}

fn range(item: &str) -> Result<Range<u64>, SeedListError> {
    if item.is_empty() {
        return Err(SeedListError::EmptyItem);
    }
    match item.split_once("..") {
        Some((start, end)) => {
            let (start, end) = (number(start.trim())?, number(end.trim())?);
            if end <= start {
                return Err(SeedListError::EmptyRange(item.to_owned()));
            }
            Ok(start..end)
        }
        None => {
            let seed = number(item)?;
            // u64::MAX itself cannot be the start of a half-open range of one.
            let end = seed.checked_add(1).ok_or(SeedListError::Overflow {
                first: seed,
                count: 1,
            })?;
            Ok(seed..end)
        }
    }
}

/// The smallest seed that two ranges share, found on the ranges rather than their seeds.
fn first_repeat(ranges: &[Range<u64>]) -> Option<u64> {
    let mut sorted: Vec<&Range<u64>> = ranges.iter().collect();
    sorted.sort_by_key(|r| (r.start, r.end));
    let mut covered_to = 0;
    let mut repeat: Option<u64> = None;
    for (i, r) in sorted.iter().enumerate() {
        if i > 0 && r.start < covered_to {
            repeat = Some(repeat.map_or(r.start, |seed| seed.min(r.start)));
        }
        covered_to = covered_to.max(r.end);
    }
    repeat
}

/// The text it parses from: `10`, or the ranges joined by commas, a one-seed range as the
/// seed unless it stands alone (`5` alone would be a count).
impl fmt::Display for SeedSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeedSpec::Count(count) => write!(f, "{count}"),
            SeedSpec::Ranges(ranges) => {
                for (i, range) in ranges.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    match range.end - range.start {
                        1 if ranges.len() > 1 => write!(f, "{}", range.start)?,
                        _ => write!(f, "{}..{}", range.start, range.end)?,
                    }
                }
                Ok(())
            }
        }
    }
}

impl From<SeedSpec> for String {
    fn from(spec: SeedSpec) -> String {
        spec.to_string()
    }
}

impl TryFrom<String> for SeedSpec {
    type Error = SeedListError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl SeedSpec {
    /// The seeds, with `first` as the start of a count.
    pub fn seeds(&self, first: u64) -> Result<SeedList, SeedListError> {
        match self {
            SeedSpec::Count(count) => {
                let end = first.checked_add(*count).ok_or(SeedListError::Overflow {
                    first,
                    count: *count,
                })?;
                Ok(SeedList((first..end).collect()))
            }
            SeedSpec::Ranges(ranges) => Ok(SeedList(ranges.iter().cloned().flatten().collect())),
        }
    }
}

impl SeedList {
    /// A list from seeds in the order given; `None` when it breaks what a parsed list keeps:
    /// empty, a seed twice, more than [`MAX_SEEDS`], or `u64::MAX` (which no half-open range
    /// can name).
    pub fn new(seeds: Vec<u64>) -> Option<Self> {
        let mut sorted = seeds.clone();
        sorted.sort_unstable();
        let unique = sorted.windows(2).all(|pair| pair[0] != pair[1]);
        let fits = !seeds.is_empty()
            && seeds.len() as u64 <= MAX_SEEDS
            && sorted.last() != Some(&u64::MAX);
        (unique && fits).then_some(SeedList(seeds))
    }

    pub fn as_slice(&self) -> &[u64] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true: a list has one seed or more. Here for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, seed: u64) -> bool {
        self.0.contains(&seed)
    }
}

/// Compact, in the list's syntax: runs of consecutive seeds as `A..B`, others alone, in the
/// list's order (`0..3, 7, 9..12`).
impl fmt::Display for SeedList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut start = 0;
        while start < self.0.len() {
            let mut end = start + 1;
            while end < self.0.len() && self.0[end - 1].checked_add(1) == Some(self.0[end]) {
                end += 1;
            }
            if start > 0 {
                f.write_str(", ")?;
            }
            match end - start {
                1 => write!(f, "{}", self.0[start])?,
                _ => write!(f, "{}..{}", self.0[start], self.0[end - 1] + 1)?,
            }
            start = end;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeds(text: &str, first: u64) -> Result<Vec<u64>, SeedListError> {
        Ok(text.parse::<SeedSpec>()?.seeds(first)?.0)
    }

    #[test]
    fn a_count_starts_at_the_first_seed() {
        assert_eq!(seeds("3", 42), Ok(vec![42, 43, 44]));
        assert_eq!(seeds(" 1 ", 0), Ok(vec![0]));
    }

    #[test]
    fn ranges_exclude_their_end_and_mix_with_single_seeds_in_the_order_written() {
        assert_eq!(seeds("0..4", 42), Ok(vec![0, 1, 2, 3]));
        assert_eq!(seeds("10..12, 3, 0..2", 42), Ok(vec![10, 11, 3, 0, 1]));
        assert_eq!(seeds("5,1,9", 42), Ok(vec![5, 1, 9]));
        assert_eq!(seeds("7,", 42), Err(SeedListError::EmptyItem));
        assert_eq!(seeds("4,,5", 42), Err(SeedListError::EmptyItem));
    }

    #[test]
    fn an_empty_list_or_range_is_refused() {
        assert_eq!(seeds("", 42), Err(SeedListError::Empty));
        assert_eq!(seeds("0", 42), Err(SeedListError::Empty));
        assert_eq!(
            seeds("5..5", 42),
            Err(SeedListError::EmptyRange("5..5".into()))
        );
        assert_eq!(
            seeds("1,9..3", 42),
            Err(SeedListError::EmptyRange("9..3".into()))
        );
    }

    #[test]
    fn a_repeat_names_the_smallest_seed_listed_twice_even_inside_ranges() {
        assert_eq!(seeds("4,5,4", 0), Err(SeedListError::Repeated(4)));
        assert_eq!(
            seeds("20..30,0..10,25", 0),
            Err(SeedListError::Repeated(25))
        );
        assert_eq!(seeds("0..10,8..12,3", 0), Err(SeedListError::Repeated(3)));
        // Touching ranges share no seed.
        assert_eq!(seeds("0..2,2..4", 0), Ok(vec![0, 1, 2, 3]));
    }

    #[test]
    fn words_signs_and_numbers_past_u64_are_not_seeds() {
        for bad in ["x", "-1", "+3", "1.5", "18446744073709551616"] {
            assert_eq!(
                seeds(bad, 0),
                Err(SeedListError::NotANumber(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(seeds("3,x", 0), Err(SeedListError::NotANumber("x".into())));
        assert_eq!(
            seeds("0..-4", 0),
            Err(SeedListError::NotANumber("-4".into()))
        );
    }

    #[test]
    fn a_list_too_long_to_hold_is_refused_before_it_is_built() {
        // Built, 5e9 seeds would take 40 GB; refused on the text, it takes nothing.
        assert_eq!(
            seeds("5000000000", 0),
            Err(SeedListError::TooMany {
                count: 5_000_000_000
            })
        );
        assert_eq!(
            seeds("0..18446744073709551615,0..10", 0),
            Err(SeedListError::TooMany {
                count: u128::from(u64::MAX) + 10
            })
        );
        assert_eq!(seeds("1000000", 0).map(|s| s.len()), Ok(1_000_000));
        assert!(matches!(
            seeds("0..1000001", 0),
            Err(SeedListError::TooMany { count: 1_000_001 })
        ));
    }

    #[test]
    fn a_count_that_passes_the_largest_seed_overflows() {
        assert_eq!(
            seeds("3", u64::MAX - 1),
            Err(SeedListError::Overflow {
                first: u64::MAX - 1,
                count: 3
            })
        );
        assert_eq!(seeds("1", u64::MAX - 1), Ok(vec![u64::MAX - 1]));
        assert_eq!(
            seeds("18446744073709551615,1", 0),
            Err(SeedListError::Overflow {
                first: u64::MAX,
                count: 1
            })
        );
    }

    #[test]
    fn the_compact_form_parses_back_to_the_same_list() {
        for list in [vec![0, 1, 2, 7, 9, 10, 11], vec![5, 1, 9], vec![3, 4, 0, 1]] {
            let shown = SeedList(list.clone()).to_string();
            assert_eq!(seeds(&shown, 42), Ok(list), "{shown}");
        }
        assert_eq!(
            SeedList(vec![0, 1, 2, 7, 9, 10]).to_string(),
            "0..3, 7, 9..11"
        );
    }

    #[test]
    fn a_spec_is_written_back_as_text_that_parses_to_it() {
        for text in ["10", "0..100", "5..6", "1,5,9", "0..10,20,30..35"] {
            let spec: SeedSpec = text.parse().unwrap();
            assert_eq!(spec.to_string(), text);
            let json = serde_json::to_string(&spec).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<SeedSpec>(&json).unwrap(), spec);
        }
        let refused = serde_json::from_str::<SeedSpec>("\"4,5,4\"").unwrap_err();
        assert!(
            refused.to_string().contains("seed 4 is listed twice"),
            "{refused}"
        );
    }

    #[test]
    fn a_list_from_seeds_must_be_non_empty_without_repeats() {
        assert_eq!(SeedList::new(vec![3, 1]).map(|s| s.0), Some(vec![3, 1]));
        assert_eq!(SeedList::new(vec![3, 1, 3]), None);
        assert_eq!(SeedList::new(vec![]), None);
        assert_eq!(SeedList::new(vec![u64::MAX]), None);
    }
}
