//! `compare parity`: step-level gradient parity of a scratch model against libtorch along
//! libtorch's own trajectory (teacher forcing). Writes `parity.csv`, `parity.svg` and
//! `run.json`, and prints the verdict: the first step, layer and tensor over the bound, or
//! that every step was within it.

use anyhow::{Context, Result};
use contract::{Differentiable, Trainer};
use mnist::{Batcher, EpochOrder};
use parity::StepReport;
use serde::Serialize;

use crate::config::{JobConfig, Model, ParityConfig, Spec};
use crate::execute::guarded;
use crate::exit::JobEnd;
use crate::progress::Progress;
use crate::record::RunRecord;
use crate::report::files::{create_run_folder, write_json_atomically};
use crate::report::tables::CsvLog;
use crate::status::RunEnd;
use crate::{gate, terminal};

/// One row of `parity.csv`: one tensor's gradient at one step.
#[derive(Serialize)]
struct ParityRow {
    step: usize,
    /// 1 is the layer nearest the input (784 → first hidden width).
    layer: usize,
    /// `weight` or `bias`.
    tensor: &'static str,
    /// max |candidate − torchref| over the tensor's gradient.
    max_abs_diff: f64,
    /// `max_abs_diff` / max |torchref gradient| of the tensor.
    max_rel_diff: f64,
    cosine: f64,
    torchref_norm: f64,
    candidate_norm: f64,
    /// ReLU units of this layer (summed over the batch) on in one model and off in the other,
    /// with a pre-activation within rounding of 0 in both.
    kink_units: usize,
    /// Images left out of this step's comparison because they hold such units.
    excluded_images: usize,
    torchref_loss: f32,
    candidate_loss: f32,
}

pub fn run(args: &ParityConfig) -> Result<JobEnd> {
    let common = &args.common;
    let config = args.model_config();
    let specs = [args.candidate, Model::Torchref].map(|implementation| Spec {
        label: implementation.name().to_owned(),
        implementation,
        config: config.clone(),
    });
    let prepared = crate::prepare::prepare(common, &specs)?;
    let data = &prepared.data;
    let initial = scratch::Mlp::new(&config, common.seed).parameters();
    let device = prepared
        .torch_device
        .context("the torch model needs a device")?;
    let mut reference = torchref::TorchMlp::from_parameters(&config, &initial, device)
        .context("cannot build the torch model")?;
    let mut candidate: Box<dyn Differentiable> = match args.candidate {
        Model::Scratch => {
            let engine = prepared.scratch_engine.context("scratch needs an engine")?;
            Box::new(
                scratch::Mlp::from_parameters(&config, &initial)
                    .with_engine(engine)
                    .context("--scratch-engine")?,
            )
        }
        Model::ScratchTextbook => {
            Box::new(scratch::Textbook::<f32>::from_parameters(&config, &initial))
        }
        Model::Torchref => unreachable!("refused by ParityArgs::into_config"),
    };

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
        let label = format!("{} against torchref", args.candidate.name());
        let bar = Progress::new(common.log_every).steps(&label, args.steps);
        let mut reports: Vec<StepReport> = Vec::with_capacity(args.steps);
        let (clock, mut loss_sum) = (std::time::Instant::now(), 0.0);
        for step in 0..args.steps {
            if crate::stop::requested().is_some() {
                break;
            }
            let (epoch, index) = (step / per_epoch, step % per_epoch);
            if index == 0 && epoch > 0 {
                order = order_of(epoch);
            }
            let batch = batcher.batch(train, &order, index);
            let parameters = reference.parameters();
            let report = parity::compare_step(
                &mut reference,
                candidate.as_mut(),
                &parameters,
                &batch,
                config.activation,
            )
            .with_context(|| format!("step {}: the models cannot be compared", step + 1))?;
            for row in rows(step + 1, &report) {
                csv.append(&row)?;
            }
            reference.train_step(&batch);
            loss_sum += f64::from(report.reference_loss);
            let seconds = clock.elapsed().as_secs_f64();
            bar.step(step + 1, loss_sum / (step + 1) as f64, seconds);
            reports.push(report);
        }
        csv.flush()?;
        bar.finish(&format!("{} steps compared", reports.len()));
        crate::report::plots::parity_chart(
            &folder.join("parity.svg"),
            &worst_per_layer(&reports),
            args.bound,
        )?;
        Ok(reports)
    });
    let reports = match steps {
        Ok(reports) => reports,
        Err(error) => return Err(record.fail(&folder, error)),
    };

    let verdict = gate::parity_verdict(&reports, args.bound);
    terminal::print_parity(&worst_per_layer(&reports), &verdict, args.candidate.name());
    let end = crate::stop::requested().map_or(RunEnd::Completed, RunEnd::Interrupted);
    record.end(end, None);
    record.write(&folder)?;
    write_json_atomically(&folder.join("verdict.json"), &verdict)?;
    if let Some(path) = &common.junit {
        crate::report::junit::write_parity(path, args.candidate.name(), &reports, args.bound)?;
    }
    terminal::print_reports_written(&folder);
    Ok(JobEnd {
        run: end,
        gate_failed: verdict.first_over_bound.is_some(),
    })
}

fn rows(step: usize, report: &StepReport) -> impl Iterator<Item = ParityRow> + '_ {
    report.tensors.iter().map(move |t| ParityRow {
        step,
        layer: t.layer + 1,
        tensor: t.tensor.name(),
        max_abs_diff: t.difference.max_abs,
        max_rel_diff: t.difference.max_rel,
        cosine: t.difference.cosine,
        torchref_norm: t.difference.reference_norm,
        candidate_norm: t.difference.candidate_norm,
        kink_units: t.kink_units,
        excluded_images: report.excluded_images,
        torchref_loss: report.reference_loss,
        candidate_loss: report.candidate_loss,
    })
}

/// Per layer, "layer N" and (step, worst `max_rel` of its weight and bias).
fn worst_per_layer(reports: &[StepReport]) -> Vec<(String, Vec<(f64, f64)>)> {
    let layers = reports.first().map_or(0, |r| r.tensors.len() / 2);
    (0..layers)
        .map(|layer| {
            let points = reports.iter().enumerate().map(|(step, report)| {
                let worst = report
                    .tensors
                    .iter()
                    .filter(|t| t.layer == layer)
                    .map(|t| t.difference.max_rel)
                    .fold(0.0, f64::max);
                ((step + 1) as f64, worst)
            });
            (format!("layer {}", layer + 1), points.collect())
        })
        .collect()
}
