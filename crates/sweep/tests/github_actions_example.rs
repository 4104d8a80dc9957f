//! docs/ci/github-actions-sweep.yml is documentation no runner executes here, so this loads
//! it with a YAML parser into the part of GitHub's workflow schema it uses, and checks that
//! the pieces fit: the matrix is shards 0..N and each job runs its own `I/N`, every shard
//! uploads the folder it writes, the aggregate job needs the shards, downloads those
//! artifacts and pools them with `--expect` equal to the shards' `--seeds`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use sweep::{SeedList, SeedSpec, Shard, ShardSpec};

const MATRIX_SHARD: &str = "${{ matrix.shard }}";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Workflow {
    name: String,
    on: BTreeMap<String, Option<yaml_serde::Value>>,
    jobs: BTreeMap<String, Job>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Job {
    name: Option<String>,
    runs_on: String,
    timeout_minutes: Option<u32>,
    needs: Option<Needs>,
    strategy: Option<Strategy>,
    steps: Vec<Step>,
}

/// `needs:` is one job's name or a list of them.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Needs {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Strategy {
    fail_fast: Option<bool>,
    matrix: Matrix,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Matrix {
    shard: Vec<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    name: Option<String>,
    uses: Option<String>,
    run: Option<String>,
    #[serde(rename = "if")]
    condition: Option<String>,
    with: Option<BTreeMap<String, String>>,
}

fn workflow() -> Workflow {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/ci/github-actions-sweep.yml");
    let text = std::fs::read_to_string(&path).expect("the example workflow is there");
    yaml_serde::from_str(&text).expect("valid YAML in the workflow schema")
}

/// The value after `flag` in a command of plain words.
fn flag<'a>(command: &'a str, flag: &str) -> Option<&'a str> {
    let mut words = command.split_whitespace();
    words.find(|w| *w == flag)?;
    words.next()
}

fn compare_step<'a>(job: &'a Job, starting: &str) -> &'a str {
    let runs: Vec<&str> = job
        .steps
        .iter()
        .filter_map(|s| s.run.as_deref())
        .filter(|run| run.starts_with(starting))
        .collect();
    assert_eq!(runs.len(), 1, "one step runs {starting}: {runs:?}");
    runs[0]
}

fn action<'a>(job: &'a Job, action: &str) -> &'a Step {
    job.steps
        .iter()
        .find(|s| s.uses.as_deref().is_some_and(|u| u.starts_with(action)))
        .unwrap_or_else(|| panic!("a step uses {action}"))
}

fn seeds(text: &str) -> SeedList {
    let spec: SeedSpec = text.parse().expect("a seed list");
    // Ranges and lists do not depend on --seed; 42 is compare's default for a count.
    spec.seeds(42).expect("seeds")
}

#[test]
fn the_matrix_runs_shards_0_to_n_minus_1_each_with_its_own_i_of_n() {
    let workflow = workflow();
    assert!(
        workflow.on.contains_key("workflow_dispatch"),
        "{:?}",
        workflow.on
    );
    assert!(!workflow.name.is_empty());
    let shard = &workflow.jobs["shard"];
    let strategy = shard.strategy.as_ref().expect("a matrix");
    let count = strategy.matrix.shard.len() as u64;
    assert_eq!(strategy.matrix.shard, (0..count).collect::<Vec<_>>());
    assert_eq!(count, 4);
    assert_eq!(
        strategy.fail_fast,
        Some(false),
        "one shard failing must not cancel the others' seeds"
    );
    let run = compare_step(shard, "target/release/compare --seeds");
    for index in &strategy.matrix.shard {
        // What the job runs once GitHub has substituted its matrix value.
        let job_run = run.replace(MATRIX_SHARD, &index.to_string());
        let shard: ShardSpec = flag(&job_run, "--shard").unwrap().parse().unwrap();
        assert_eq!(shard, ShardSpec::Fixed(Shard::new(*index, count).unwrap()));
    }
    assert_eq!(seeds(flag(run, "--seeds").unwrap()).len(), 100);
}

#[test]
fn every_shard_uploads_the_folder_it_writes_even_when_it_fails() {
    let workflow = workflow();
    let shard = &workflow.jobs["shard"];
    let out = flag(
        compare_step(shard, "target/release/compare --seeds"),
        "--out",
    )
    .unwrap();
    let upload = action(shard, "actions/upload-artifact@");
    let with = upload.with.as_ref().expect("with:");
    assert_eq!(with["path"], out);
    assert_eq!(with["name"], format!("sweep-shard-{MATRIX_SHARD}"));
    assert_eq!(upload.condition.as_deref(), Some("always()"));
}

#[test]
fn the_aggregate_job_needs_the_shards_and_pools_their_artifacts_with_the_same_seeds() {
    let workflow = workflow();
    let aggregate = &workflow.jobs["aggregate"];
    let needs = match aggregate.needs.as_ref().expect("needs:") {
        Needs::One(job) => vec![job.clone()],
        Needs::Many(jobs) => jobs.clone(),
    };
    assert_eq!(needs, ["shard"]);

    let download = action(aggregate, "actions/download-artifact@");
    let with = download.with.as_ref().expect("with:");
    let pattern = &with["pattern"];
    let uploaded = workflow.jobs["shard"]
        .steps
        .iter()
        .find_map(|s| s.with.as_ref().and_then(|w| w.get("name")))
        .unwrap();
    let prefix = pattern.strip_suffix('*').expect("a prefix pattern");
    assert!(uploaded.starts_with(prefix), "{pattern} matches {uploaded}");

    let run = compare_step(aggregate, "target/release/compare aggregate");
    let folders = run.split_whitespace().nth(2).unwrap();
    assert_eq!(
        folders,
        format!("{}/*", with["path"]),
        "every downloaded shard"
    );
    let shard_run = compare_step(&workflow.jobs["shard"], "target/release/compare --seeds");
    assert_eq!(
        seeds(flag(run, "--expect").unwrap()),
        seeds(flag(shard_run, "--seeds").unwrap())
    );
}

#[test]
fn every_job_has_a_runner_and_every_step_is_one_action_or_one_named_command() {
    let workflow = workflow();
    for (id, job) in &workflow.jobs {
        assert!(!job.runs_on.is_empty(), "{id}");
        for step in &job.steps {
            assert!(step.uses.is_some() != step.run.is_some(), "{id}: {step:?}");
            if step.run.is_some() {
                assert!(
                    step.name.is_some(),
                    "{id}: a command step without a name: {step:?}"
                );
            }
        }
    }
    let shard = &workflow.jobs["shard"];
    assert!(shard
        .name
        .as_deref()
        .is_some_and(|n| n.contains(MATRIX_SHARD)));
    assert!(
        shard.timeout_minutes.is_some(),
        "GitHub's default of 360 minutes would hide a hung shard"
    );
}

#[test]
fn the_schema_check_refuses_what_github_would_not_run() {
    // The same parse on a workflow with a typo (`step:`) and on one that is not YAML.
    let typo = "name: x\non:\n  push:\njobs:\n  a:\n    runs-on: ubuntu-latest\n    step: []\n";
    assert!(yaml_serde::from_str::<Workflow>(typo).is_err());
    assert!(yaml_serde::from_str::<Workflow>("jobs: [unclosed").is_err());
}
