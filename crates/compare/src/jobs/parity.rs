//! `compare parity`: step-level parity of a candidate model (a scratch engine, or an external
//! program over the candidate protocol) against libtorch along libtorch's own trajectory
//! (teacher forcing): at every step the gradients, then the optimiser step from the same
//! parameters, gradient and Adam state. Writes `parity.csv`, `parity.svg`, `verdict.json`,
//! `report.html` and `run.json`, and prints the verdict: the first step, layer and tensor
//! over the bound, or that every step was within it.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use contract::{AdamState, Optimizer, UpdateRequest, UpdateRule};
use mnist::{Batcher, EpochOrder};
use parity::{StepReport, TensorKind};

use crate::config::{Common, JobConfig, Model, ParityCandidate, ParityConfig, Spec, UpdateCheck};
use crate::execute::guarded;
use crate::exit::JobEnd;
use crate::gate::interrupted_line;
use crate::parity_candidate::Watched;
use crate::parity_verdict::{parity_verdict, Compared, ShortBatchStep};
use crate::progress::Progress;
use crate::record::RunRecord;
use crate::report::files::{create_run_folder, write_json_atomically};
use crate::report::outputs::{Output, OutputErrors};
use crate::report::parity_csv::{gradient_rows, update_rows};
use crate::report::tables::CsvLog;
use crate::status::RunEnd;
use crate::terminal::SmallestCaught;
use crate::{parity_candidate, terminal};

pub fn run(args: &ParityConfig) -> Result<JobEnd> {
    let external;
    // A built-in candidate computes on this process's cores, which libtorch would contend
    // for; an external one computes in its own process while this one waits for its answer,
    // so libtorch computes meanwhile.
    let schedule = match args.candidate {
        ParityCandidate::Builtin { .. } => parity::Schedule::Sequential,
        _ => parity::Schedule::Concurrent,
    };
    let args = if schedule == parity::Schedule::Sequential {
        args
    } else {
        // An external candidate and libtorch compute at the same time, one thread each, and
        // libtorch's OpenMP threads spinning against the candidate's made a 200-step check of
        // the NumPy MLP 6× slower (163 s against 27 s, 2 cores, --threads 2 against 1). Set
        // in the configuration, so that run.json says the threads libtorch had.
        external = ParityConfig {
            common: Common {
                threads: 1,
                ..args.common.clone()
            },
            ..args.clone()
        };
        &external
    };
    let common = &args.common;
    let config = args.model_config();
    let builtin = match args.candidate {
        ParityCandidate::Builtin { model } => Some(model),
        _ => None,
    };
    let specs: Vec<Spec> = builtin
        .into_iter()
        .chain([Model::Torchref])
        .map(|implementation| Spec {
            label: implementation.name().to_owned(),
            implementation,
            config: config.clone(),
        })
        .collect();
    let prepared = crate::prepare::prepare(common, &specs)?;
    let data = &prepared.data;
    let initial = scratch::Mlp::new(&config, common.seed).parameters();
    let device = prepared
        .torch_device
        .context("the torch model needs a device")?;
    let mut reference = torchref::TorchMlp::from_parameters(&config, &initial, device)
        .context("cannot build the torch model")?;
    let name = args.candidate.name();
    let mut candidate = parity_candidate::start(
        &args.candidate,
        &config,
        &initial,
        prepared.scratch_engine,
        Duration::from_secs_f64(args.candidate_timeout_s),
    )?;
    let check_update = match args.check_update {
        UpdateCheck::Auto => candidate.has_update_rule(),
        UpdateCheck::On if !candidate.has_update_rule() => bail!(
            "--check-update: {name} has no update rule (define update(params, grads, state, config), or leave --check-update out)"
        ),
        UpdateCheck::On => true,
        UpdateCheck::Off => false,
    };
    if !check_update && args.checks.only_update() {
        bail!("--check {}: the optimiser step is not compared (--check-update=false, or {name} has no update rule), so nothing would gate: add gradients or loss", args.checks);
    }

    let started = chrono::Utc::now();
    let folder = create_run_folder(&common.out, &started)?;
    let mut record = RunRecord::new(
        JobConfig::Parity(args.clone()),
        common,
        data,
        prepared.scratch_engine,
        &started,
    );
    record.write(&folder)?;
    let steps = guarded(|| {
        let mut csv = CsvLog::create(folder.join("parity.csv"))?;

        let train = &data.train;
        let mut batcher = Batcher::new(common.batch_size, common.drop_last);
        let per_epoch = batcher.steps(train.len());
        let order_of = |epoch: usize| {
            if common.shuffle {
                EpochOrder::shuffled(train.len(), common.seed, epoch as u64)
            } else {
                EpochOrder::sequential(train.len())
            }
        };
        let mut order = order_of(0);
        let short_batch_exists = !common.drop_last && train.len() % common.batch_size != 0;
        let label = format!("{name} against torchref");
        let bar = Progress::new(common.log_every).steps(&label, args.steps);
        let mut run = Trajectory::new(&reference, &config.optimizer, args.steps);
        let (clock, mut loss_sum) = (std::time::Instant::now(), 0.0);
        for step in 0..args.steps {
            if crate::stop::requested().is_some() {
                break;
            }
            let (epoch, mut index) = (step / per_epoch, step % per_epoch);
            if index == 0 && epoch > 0 {
                order = order_of(epoch);
            }
            let last_step = step + 1 == args.steps;
            let found = &mut run.compared;
            if args.short_batch && short_batch_exists && last_step && found.short_batch.is_none() {
                index = per_epoch - 1;
            }
            let batch = batcher.batch(train, &order, index);
            let images = batch.labels.len();
            if index == per_epoch - 1 && images < common.batch_size {
                found.short_batch = Some(ShortBatchStep {
                    step: step + 1,
                    images,
                });
            }
            candidate.begin_step(step + 1);
            let mut watched = Watched::new(candidate.as_mut());
            let compared = parity::compare_step(
                &mut reference,
                &mut watched,
                &run.parameters,
                &batch,
                config.activation,
                schedule,
            );
            let pre_activations = watched.pre_activations();
            // What the candidate did wrong ends the steps, not the report: the findings so far
            // are written with it.
            let compared = match (candidate.fault(), compared) {
                (Some(fault), _) => Err(fault.clone().into()),
                (None, compared) => compared
                    .with_context(|| format!("step {}: the models cannot be compared", step + 1)),
            };
            let parity::ComparedStep {
                report,
                reference_gradient: gradient,
            } = match compared {
                Ok(compared) => compared,
                Err(fault) => {
                    run.fault = Some(fault);
                    break;
                }
            };
            for row in gradient_rows(step + 1, images, &report) {
                csv.append(&row)?;
            }
            let request = UpdateRequest {
                optimizer: &config.optimizer,
                parameters: &run.parameters,
                gradient: &gradient,
                adam: run.adam.as_ref(),
            };
            let (update, stepped) = if check_update {
                let compared =
                    parity::compare_update(&mut reference, candidate.as_mut(), &request, schedule);
                let compared = match (candidate.fault(), compared) {
                    (Some(fault), _) => Err(fault.clone().into()),
                    (None, compared) => compared.with_context(|| {
                        format!(
                            "step {}: the parameters after the optimiser step cannot be compared",
                            step + 1
                        )
                    }),
                };
                let (update, stepped) = match compared {
                    Ok(compared) => compared,
                    Err(fault) => {
                        // The gradients of this step were compared: they count.
                        run.compared.push(report, None, pre_activations);
                        run.fault = Some(fault);
                        break;
                    }
                };
                for row in update_rows(step + 1, images, &update.tensors) {
                    csv.append(&row)?;
                }
                (Some(update), stepped)
            } else {
                (None, reference.update(&request))
            };
            run.parameters = stepped.parameters;
            run.adam = stepped.adam;
            loss_sum += f64::from(report.reference_loss);
            let seconds = clock.elapsed().as_secs_f64();
            bar.step(step + 1, loss_sum / (step + 1) as f64, seconds);
            run.compared.push(report, update, pre_activations);
        }
        csv.flush()?;
        let steps = run.compared.reports.len();
        bar.finish(&format!("{steps} steps compared"));
        crate::report::plots::parity_chart(
            &folder.join("parity.svg"),
            &worst_per_layer(&run.compared.reports),
            args.bound,
        )?;
        Ok(run)
    });
    let run = match steps {
        Ok(run) => run,
        Err(error) => return Err(record.fail(&folder, error)),
    };
    let found = &run.compared;
    let fault_text = run.fault.as_ref().map(|fault| format!("{fault:#}"));
    let verdict = parity_verdict(found, args.bound, &args.checks, fault_text);
    let layers = worst_per_layer(&found.reports);
    let caught = smallest_caught(&found.reports, args.bound);
    terminal::print_parity(&layers, &caught, &verdict, &name);
    let end = crate::stop::requested().map_or(RunEnd::Completed, RunEnd::Interrupted);
    // A fault exits as a failed run does (1), after the reports of the steps before it.
    let fault = match run.fault {
        Some(fault) => Some(record.fail(&folder, fault)),
        None => {
            record.end(end, None);
            record.write(&folder)?;
            None
        }
    };
    write_json_atomically(&folder.join("verdict.json"), &verdict)?;
    let mut outputs = OutputErrors::default();
    if let Some(path) = &common.junit {
        let stopped =
            (verdict.fault.clone()).or_else(|| end.interrupted_by().map(interrupted_line));
        outputs.write(Output::Junit, || {
            crate::report::junit::write_parity(path, &name, &found.reports, args.bound, stopped)
        });
    }
    let page = crate::report::page::write_parity_page(&crate::report::page::ParityPage {
        folder: &folder,
        record: &record,
        candidate: &name,
        verdict: &verdict,
        reports: &found.reports,
        updates: &found.updates,
    })?;
    outputs.write(Output::StepSummary, || {
        terminal::append_step_summary(|| {
            terminal::parity_step_summary(&layers, &verdict, &name, &page)
        })
    });
    outputs.record_in(&mut record, &folder)?;
    terminal::print_reports_written(&folder);
    if let Some(fault) = fault {
        return Err(fault);
    }
    Ok(JobEnd {
        run: end,
        gate_failed: verdict.first_over_bound.is_some(),
        outputs_failed: outputs.failed(),
    })
}

/// Where libtorch's trajectory stands, and what was found along it.
struct Trajectory {
    /// The parameters of the next step: libtorch's after its own optimiser step.
    parameters: contract::Parameters,
    /// libtorch's Adam state, handed to both optimisers at the next step.
    adam: Option<AdamState>,
    compared: Compared,
    /// What the candidate did that ended the steps early (a crash, a timeout, a protocol
    /// fault, an answer that cannot be compared).
    fault: Option<anyhow::Error>,
}

impl Trajectory {
    fn new(reference: &torchref::TorchMlp, optimizer: &Optimizer, steps: usize) -> Self {
        let parameters = reference.parameters();
        let adam = optimizer.adam_f64().map(|_| AdamState::zeros(&parameters));
        Trajectory {
            parameters,
            adam,
            compared: Compared {
                reports: Vec::with_capacity(steps),
                updates: Vec::with_capacity(steps),
                pre_activations: Vec::with_capacity(steps),
                short_batch: None,
            },
            fault: None,
        }
    }
}

/// Per layer, "layer N" and (step, worst error ratio of its weight and bias).
fn worst_per_layer(reports: &[StepReport]) -> Vec<(String, Vec<(f64, f64)>)> {
    let layers = reports.first().map_or(0, |r| r.tensors.len() / 2);
    (0..layers)
        .map(|layer| {
            let points = reports.iter().enumerate().map(|(step, report)| {
                let worst = report
                    .tensors
                    .iter()
                    .filter(|t| t.layer == layer)
                    .map(|t| t.error.ratio)
                    .fold(0.0, f64::max);
                ((step + 1) as f64, worst)
            });
            (format!("layer {}", layer + 1), points.collect())
        })
        .collect()
}

/// Per layer, the smallest error of its weight's and bias's gradient that a check at `bound`
/// caught at every step: the largest over the steps of [`parity::ErrorRatio::smallest_caught`].
fn smallest_caught(reports: &[StepReport], bound: f64) -> Vec<SmallestCaught> {
    let layers = reports.first().map_or(0, |r| r.tensors.len() / 2);
    (0..layers)
        .map(|layer| {
            let of = |kind: TensorKind| {
                (reports.iter().flat_map(|r| &r.tensors))
                    .filter(|t| t.layer == layer && t.tensor == kind)
                    .map(|t| t.error.smallest_caught(bound))
                    .fold(0.0, f64::max)
            };
            SmallestCaught {
                weight: of(TensorKind::Weight),
                bias: of(TensorKind::Bias),
            }
        })
        .collect()
}
