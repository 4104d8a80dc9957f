//! Merging seed folders written by several shards into places on disk, through the public
//! API as the binary uses it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sweep::{merge, Field, Fingerprint, MergeError, SeedList, SeedSpec, Shard, SweepFolder};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Config {
    lr: f64,
    epochs: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Result {
    accuracy_percent: f64,
    seconds: f64,
}

fn fingerprint(lr: f64) -> Fingerprint<Config> {
    Fingerprint {
        config: Config { lr, epochs: 15 },
        dataset_sha256: BTreeMap::from([("train-images-idx3-ubyte".into(), "ba89".into())]),
        crate_version: "0.1.0".into(),
        libtorch_version: "2.13.0".into(),
        scratch_engine: "avx2".into(),
        device: "cpu".into(),
    }
}

/// A result that depends on the seed only, with a timing that does not.
fn result(seed: u64, seconds: f64) -> Result {
    Result {
        accuracy_percent: 97.0 + (seed % 7) as f64 / 100.0,
        seconds,
    }
}

fn same(a: &Result, b: &Result) -> bool {
    a.accuracy_percent == b.accuracy_percent
}

fn list(text: &str) -> SeedList {
    text.parse::<SeedSpec>().unwrap().seeds(0).unwrap()
}

/// Runs shard `index` of `count` of `seeds` into `dir`, as one process would.
fn run_shard(dir: &Path, seeds: &SeedList, index: u64, count: u64, lr: f64) {
    let folder = SweepFolder::new(dir);
    let mine = Shard::new(index, count).unwrap().select(seeds).unwrap();
    for &seed in mine.as_slice() {
        let partial = folder.start(seed).unwrap().partial().unwrap();
        partial
            .complete(&fingerprint(lr), &result(seed, index as f64 + 1.0))
            .unwrap();
    }
}

fn merged_seeds(places: &[PathBuf], expect: Option<&SeedList>) -> Vec<(u64, f64, usize)> {
    let merged = merge::<Config, Result>(places, expect, same).unwrap();
    assert_eq!(merged.fingerprint, fingerprint(0.01));
    merged
        .seeds
        .iter()
        .map(|s| (s.seed, s.result.accuracy_percent, s.folders.len()))
        .collect()
}

/// The error of merging `a` and `b`, and of merging `b` and `a`.
fn errors_in_both_orders(a: &Path, b: &Path) -> [MergeError; 2] {
    [[a, b], [b, a]]
        .map(|places| merge::<Config, Result>(&places.map(Path::to_owned), None, same).unwrap_err())
}

#[test]
fn four_shards_on_four_machines_merge_to_the_whole_list_in_any_order() {
    let out = tempfile::tempdir().unwrap();
    let seeds = list("0..10");
    let places: Vec<PathBuf> = (0..4)
        .map(|i| out.path().join(format!("machine-{i}")))
        .collect();
    for (i, place) in places.iter().enumerate() {
        run_shard(place, &seeds, i as u64, 4, 0.01);
    }
    let forward = merged_seeds(&places, Some(&seeds));
    let expected: Vec<_> = (0..10)
        .map(|s| (s, result(s, 0.0).accuracy_percent, 1))
        .collect();
    assert_eq!(forward, expected);
    let mut backward = places.clone();
    backward.reverse();
    backward.swap(0, 2);
    assert_eq!(merged_seeds(&backward, Some(&seeds)), expected);
    // Without a list the pool is in seed order.
    assert_eq!(merged_seeds(&backward, None), expected);
}

#[test]
fn the_pool_follows_the_expected_lists_order_as_a_single_process_run_would() {
    let out = tempfile::tempdir().unwrap();
    let seeds = list("9,3,5..7");
    run_shard(out.path(), &seeds, 0, 1, 0.01);
    let order: Vec<u64> = merged_seeds(&[out.path().into()], Some(&seeds))
        .iter()
        .map(|s| s.0)
        .collect();
    assert_eq!(order, [9, 3, 5, 6]);
}

#[test]
fn the_same_seed_twice_counts_once_when_its_results_agree_and_is_refused_when_not() {
    let out = tempfile::tempdir().unwrap();
    let (a, b) = (out.path().join("a"), out.path().join("b"));
    let seeds = list("0..4");
    run_shard(&a, &seeds, 0, 1, 0.01);
    // b reran seeds 0..2 on a slower machine: same accuracy, other timing.
    run_shard(&b, &list("0..2"), 0, 1, 0.01);
    let pooled = merged_seeds(&[b.clone(), a.clone()], Some(&seeds));
    assert_eq!(
        pooled.iter().map(|s| (s.0, s.2)).collect::<Vec<_>>(),
        [(0, 2), (1, 2), (2, 1), (3, 1)]
    );

    // Seed 1 in b is now another result.
    let folder = SweepFolder::new(&b);
    std::fs::remove_dir_all(folder.seed_dir(1)).unwrap();
    let mut other = result(1, 1.0);
    other.accuracy_percent += 0.01;
    folder
        .start(1)
        .unwrap()
        .partial()
        .unwrap()
        .complete(&fingerprint(0.01), &other)
        .unwrap();
    for error in errors_in_both_orders(&a, &b) {
        let MergeError::Conflict {
            seed,
            first,
            second,
        } = &error
        else {
            panic!("{error}");
        };
        assert_eq!(
            (*seed, first, second),
            (1, &a.join("seed-1"), &b.join("seed-1"))
        );
        assert_eq!(
            error.to_string(),
            format!(
                "seed 1 has different results in {} and {}",
                a.join("seed-1").display(),
                b.join("seed-1").display()
            )
        );
    }
}

#[test]
fn folders_made_with_other_settings_are_refused_naming_both_and_the_field() {
    let out = tempfile::tempdir().unwrap();
    let (a, b) = (out.path().join("a"), out.path().join("b"));
    run_shard(&a, &list("0..4"), 0, 2, 0.01);
    run_shard(&b, &list("0..4"), 1, 2, 0.1);
    for error in errors_in_both_orders(&a, &b) {
        let MergeError::Fingerprint {
            first,
            second,
            difference,
        } = &error
        else {
            panic!("{error}");
        };
        // Seed 0 (in a) is the reference, seed 1 (in b) the first to differ, either way.
        assert_eq!((first, second), (&a.join("seed-0"), &b.join("seed-1")));
        assert_eq!(difference.field, Field::Config("lr".into()));
        assert!(
            error.to_string().ends_with(
                "cannot be pooled: they differ in the configuration's lr (0.01 in the first, 0.1 in the second)"
            ),
            "{error}"
        );
    }
}

#[test]
fn missing_seeds_are_named_compactly_and_extra_ones_left_out() {
    let out = tempfile::tempdir().unwrap();
    // Shard 2 of 4 never ran, and 100..102 is another sweep's.
    for i in [0, 1, 3] {
        run_shard(out.path(), &list("0..12"), i, 4, 0.01);
    }
    run_shard(out.path(), &list("100..102"), 0, 1, 0.01);
    let expect = list("0..12");
    let error = merge::<Config, Result>(&[out.path().into()], Some(&expect), same).unwrap_err();
    assert_eq!(
        error.to_string(),
        "3 of the 12 expected seeds are missing: 2, 6, 10"
    );
    let merged =
        merge::<Config, Result>(&[out.path().into()], Some(&list("0..2,3..6")), same).unwrap();
    assert_eq!(merged.outside_expected, [7, 8, 9, 11, 100, 101]);
    assert_eq!(
        merged.seeds.len(),
        5,
        "0, 1, 3, 4, 5: the expected that ran"
    );
}

#[test]
fn incomplete_seeds_are_left_out_and_listed_and_a_seed_folder_can_be_given_itself() {
    let out = tempfile::tempdir().unwrap();
    run_shard(out.path(), &list("0..3"), 0, 1, 0.01);
    let folder = SweepFolder::new(out.path());
    drop(folder.start(3).unwrap().partial().unwrap());
    let merged = merge::<Config, Result>(&[out.path().into()], None, same).unwrap();
    assert_eq!(merged.seeds.len(), 3);
    assert_eq!(merged.incomplete, [out.path().join("seed-3.partial")]);

    let one =
        merge::<Config, Result>(&[folder.seed_dir(1), folder.seed_dir(1)], None, same).unwrap();
    assert_eq!(
        one.seeds.len(),
        1,
        "the same folder given twice is one seed"
    );
    assert_eq!(one.seeds[0].folders, [folder.seed_dir(1)]);
}

#[test]
fn no_seed_at_all_or_no_such_folder_is_an_error() {
    let out = tempfile::tempdir().unwrap();
    let error = merge::<Config, Result>(&[out.path().into()], None, same).unwrap_err();
    assert!(matches!(error, MergeError::NoSeeds(_)), "{error}");
    let absent = out.path().join("absent");
    let error = merge::<Config, Result>(std::slice::from_ref(&absent), None, same).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}: ", absent.display())),
        "{error}"
    );
}

#[test]
fn a_seed_that_changes_or_vanishes_after_pooling_is_named() {
    let out = tempfile::tempdir().unwrap();
    run_shard(out.path(), &list("0..3"), 0, 1, 0.01);
    let merged = merge::<Config, Result>(&[out.path().into()], None, same).unwrap();
    merged.check_unchanged().unwrap();

    // Seed 1 rewritten with another result by a rerun.
    let folder = SweepFolder::new(out.path());
    std::fs::remove_dir_all(folder.seed_dir(1)).unwrap();
    let mut other = result(1, 1.0);
    other.accuracy_percent = 50.0;
    let partial = folder.start(1).unwrap().partial().unwrap();
    partial.complete(&fingerprint(0.01), &other).unwrap();
    let error = merged.check_unchanged().unwrap_err();
    assert!(
        matches!(error, MergeError::Changed { seed: 1, .. }),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "seed 1: {} changed while it was pooled",
            folder.seed_dir(1).join("seed.json").display()
        )
    );

    std::fs::remove_dir_all(folder.seed_dir(0)).unwrap();
    let error = merged.check_unchanged().unwrap_err();
    assert!(error.to_string().contains("seed-0"), "{error}");
}
