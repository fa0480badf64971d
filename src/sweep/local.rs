//! Local execution: the pending variants one after the other, in this process, on one
//! GPU context (the compiled kernels are cached on the device, so only the first variant
//! pays for them), with a progress bar. Finished variants are skipped; a failed one is
//! recorded with its error and the sweep goes on.

use super::{Manifest, Status, SweepError, read_result, run_variant, write_result};
use crate::gpu::GpuContext;
use std::path::Path;

#[derive(Debug, Clone, Default)]
pub struct LocalOptions {
    /// Run variants that failed before again (by default a rerun skips them too).
    pub retry_failed: bool,
    pub progress: bool,
    /// Remove each variant's result.vti and stress.vti once it is recorded.
    pub drop_vti: bool,
}

/// What a local sweep did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LocalSummary {
    /// Variants finished by an earlier run, left as they were.
    pub skipped: Vec<usize>,
    pub ran_ok: Vec<usize>,
    pub ran_failed: Vec<usize>,
    /// Seconds spent running variants in this call.
    pub wall_s: f64,
}

/// Variants without a result worth keeping: none yet, or failed with `retry_failed`.
pub fn pending(dir: &Path, m: &Manifest, retry_failed: bool) -> (Vec<usize>, Vec<usize>) {
    let (mut todo, mut done) = (Vec::new(), Vec::new());
    for v in m.variants.iter().filter(|v| v.invalid.is_none()) {
        match read_result(dir, v.index).map(|r| r.status) {
            Some(Status::Ok) => done.push(v.index),
            Some(Status::Failed) if !retry_failed => done.push(v.index),
            _ => todo.push(v.index),
        }
    }
    (todo, done)
}

/// Runs every pending variant of the (prepared) sweep in `dir` on `gpu`.
pub fn run_local(
    gpu: &GpuContext,
    dir: &Path,
    m: &Manifest,
    opts: &LocalOptions,
) -> Result<LocalSummary, SweepError> {
    super::check_scene_unchanged(m)?;
    let start = std::time::Instant::now();
    let (todo, skipped) = pending(dir, m, opts.retry_failed);
    let bar = if opts.progress {
        indicatif::ProgressBar::new(todo.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} variants [{elapsed} < {eta}] {msg}",
        )
        .expect("static template"),
    );
    let mut summary = LocalSummary {
        skipped,
        ..Default::default()
    };
    for i in todo {
        let v = &m.variants[i];
        bar.set_message(format!("v{i:05} {}", v.describe(m)));
        let r = run_variant(gpu, dir, m, v, opts.drop_vti);
        write_result(dir, &r)?;
        match r.status {
            Status::Ok => summary.ran_ok.push(i),
            _ => {
                bar.println(format!(
                    "variant {i} ({}) failed: {}",
                    v.describe(m),
                    r.error.as_deref().unwrap_or("?")
                ));
                summary.ran_failed.push(i);
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    summary.wall_s = start.elapsed().as_secs_f64();
    Ok(summary)
}
