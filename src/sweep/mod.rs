//! Parameter sweeps of a scene: [`plan`] turns `--vary` arguments into variants (a
//! full factorial or a Latin hypercube from [`lhs`]), each checked before anything
//! runs and listed in DIR/manifest.json; [`local`] runs them one after the other on
//! one GPU context, [`slurm`] writes (and submits) a job array that runs one variant
//! per task; [`collect`] merges the finished variants into DIR/results.csv and plots.
//!
//! A sweep only orchestrates runs: every variant is an ordinary [`crate::run`] of the
//! scene with `--set` overrides, so its row equals a single `voxfab run`. Each variant's
//! result is its own file, DIR/results/vNNNNN.json, written atomically: a killed sweep
//! loses no finished variant, and a rerun (or a requeued task) skips them.

pub mod collect;
pub mod lhs;
pub mod local;
pub mod plan;
pub mod plots;
pub mod slurm;

use crate::budget;
use crate::gpu::GpuContext;
use crate::output::{self, WriteError};
use crate::run::{RunOptions, run_scene};
use crate::scene::Scene;
use plan::{PlanError, Vary};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Format version of manifest.json and the result files.
pub const VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("cannot read scene {}: {source}", path.display())]
    Scene {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {msg}", path.display())]
    Dir { path: PathBuf, msg: String },
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("{0}")]
    Other(String),
}

fn dir_err(path: &Path, msg: impl Into<String>) -> SweepError {
    SweepError::Dir {
        path: path.to_path_buf(),
        msg: msg.into(),
    }
}

/// What to sweep.
#[derive(Debug, Clone)]
pub struct SweepSpec {
    pub scene: PathBuf,
    /// `--set` overrides every variant shares.
    pub set: Vec<String>,
    pub varies: Vec<Vary>,
    /// `--lhs N --seed S`: a Latin hypercube of N variants instead of the factorial.
    pub lhs: Option<(usize, u64)>,
    /// GPU memory budget of each run, MiB.
    pub gpu_memory_mib: u64,
}

/// DIR/manifest.json: the scene, how it was sampled, and every variant with its values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    /// The scene file, absolute, and an FNV-1a 64 hash of its bytes (a task refuses to
    /// run a scene that changed since the sweep was planned).
    pub scene: PathBuf,
    pub scene_hash: String,
    /// `--set` overrides shared by every variant.
    pub set: Vec<String>,
    /// The varied keys, in `--vary` order.
    pub keys: Vec<String>,
    /// `factorial` or `lhs n=N seed=S`.
    pub sampling: String,
    pub gpu_memory_mib: u64,
    pub variants: Vec<Variant>,
}

/// One variant: its values (one per key) and what the scene check said of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    pub index: usize,
    pub values: Vec<String>,
    /// Per key, the length the grid realises (whole voxels), where the scene rounds
    /// this key to voxels; null for other keys.
    pub resolved_um: Vec<Option<f64>>,
    /// The scene check's error (`file:line:col: ...`): such a variant never runs.
    pub invalid: Option<String>,
}

impl Variant {
    /// The `--set` overrides of this variant (after the shared ones).
    pub fn overrides(&self, m: &Manifest) -> Vec<String> {
        let mut set = m.set.clone();
        set.extend(
            m.keys
                .iter()
                .zip(&self.values)
                .map(|(k, v)| format!("{k}={v}")),
        );
        set
    }

    /// `key=value` list, for messages.
    pub fn describe(&self, m: &Manifest) -> String {
        m.keys
            .iter()
            .zip(&self.values)
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The values as the grid realises them (a resolved length, else the value as
    /// given): two variants with equal keys build the same voxels.
    pub fn resolution_key(&self) -> Vec<String> {
        self.values
            .iter()
            .zip(&self.resolved_um)
            .map(|(v, r)| r.map_or_else(|| v.clone(), plan::number_text))
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// The run failed (its error recorded).
    Failed,
    /// The scene check refused the values; never ran.
    Invalid,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Invalid => "invalid",
        }
    }
}

/// DIR/results/vNNNNN.json: one variant's outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VariantResult {
    pub version: u32,
    pub index: usize,
    pub values: Vec<String>,
    pub status: Status,
    pub error: Option<String>,
    /// Seconds this variant took, scene parse to metrics written.
    pub wall_s: f64,
    /// FNV-1a 64 of the final material grid: equal hashes, identical voxels.
    pub voxel_hash: Option<String>,
    /// The run's metrics.json, as written.
    pub metrics: Option<serde_json::Value>,
}

/// FNV-1a 64 as 16 hex digits.
pub fn fnv1a(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

pub fn manifest_path(dir: &Path) -> PathBuf {
    dir.join("manifest.json")
}

pub fn results_dir(dir: &Path) -> PathBuf {
    dir.join("results")
}

pub fn result_path(dir: &Path, index: usize) -> PathBuf {
    results_dir(dir).join(format!("v{index:05}.json"))
}

/// Where variant `index`'s run writes metrics.json and result.vti.
pub fn run_dir(dir: &Path, index: usize) -> PathBuf {
    dir.join("runs").join(format!("v{index:05}"))
}

/// Builds the variants and checks each against the scene (parse, every `--set` key,
/// the absolute resource caps) without a GPU; refused ones are kept with their error.
pub fn plan(spec: &SweepSpec) -> Result<Manifest, SweepError> {
    let bytes = std::fs::read(&spec.scene).map_err(|source| SweepError::Scene {
        path: spec.scene.clone(),
        source,
    })?;
    let scene = std::path::absolute(&spec.scene).map_err(|source| SweepError::Scene {
        path: spec.scene.clone(),
        source,
    })?;
    let (rows, sampling) = match spec.lhs {
        Some((n, seed)) => (
            plan::lhs(&spec.varies, n, seed)?,
            format!("lhs n={n} seed={seed}"),
        ),
        None => (plan::factorial(&spec.varies)?, "factorial".to_string()),
    };
    let mut m = Manifest {
        version: VERSION,
        scene,
        scene_hash: fnv1a(&bytes),
        set: spec.set.clone(),
        keys: spec.varies.iter().map(|v| v.key.clone()).collect(),
        sampling,
        gpu_memory_mib: spec.gpu_memory_mib,
        variants: Vec::with_capacity(rows.len()),
    };
    for (index, values) in rows.into_iter().enumerate() {
        let mut v = Variant {
            index,
            values,
            resolved_um: vec![None; m.keys.len()],
            invalid: None,
        };
        match check(&m, &v) {
            Ok(scene) => {
                for (k, key) in m.keys.iter().enumerate() {
                    v.resolved_um[k] = scene.resolved.iter().find(|r| &r.key == key).map(|r| r.um);
                }
            }
            Err(e) => v.invalid = Some(e),
        }
        m.variants.push(v);
    }
    Ok(m)
}

/// The scene of variant `v`, parsed and checked as `voxfab check` does.
fn check(m: &Manifest, v: &Variant) -> Result<Scene, String> {
    let scene = Scene::load(&m.scene, &v.overrides(m)).map_err(|e| e.to_string())?;
    let est = budget::estimate(&scene, None);
    let limits = budget::Limits::absolute(m.gpu_memory_mib);
    budget::check(&scene, &est, &limits, "any adapter").map_err(|e| e.to_string())?;
    Ok(scene)
}

/// Groups of variants whose values the grid realises identically (two or more each),
/// valid variants only.
pub fn same_resolution(m: &Manifest) -> Vec<Vec<usize>> {
    let mut groups: std::collections::BTreeMap<Vec<String>, Vec<usize>> = Default::default();
    for v in m.variants.iter().filter(|v| v.invalid.is_none()) {
        groups.entry(v.resolution_key()).or_default().push(v.index);
    }
    let mut out: Vec<Vec<usize>> = groups.into_values().filter(|g| g.len() > 1).collect();
    out.sort();
    out
}

/// Creates DIR with the manifest, or checks that DIR already holds this very sweep
/// (a rerun resumes it); writes the result of every refused variant.
pub fn prepare(dir: &Path, m: &Manifest) -> Result<(), SweepError> {
    std::fs::create_dir_all(results_dir(dir)).map_err(|e| dir_err(dir, e.to_string()))?;
    let path = manifest_path(dir);
    if path.exists() {
        let old = read_manifest(dir)?;
        if &old != m {
            return Err(dir_err(
                dir,
                format!(
                    "holds a different sweep (its manifest.json has {} variants of {} over {}): \
                     choose another --out, or delete the directory to start afresh",
                    old.variants.len(),
                    old.scene.display(),
                    old.keys.join(", ")
                ),
            ));
        }
    } else {
        output::write_atomic(&path, |w| {
            serde_json::to_writer_pretty(&mut *w, m).map_err(std::io::Error::other)?;
            writeln!(w)
        })?;
    }
    for v in &m.variants {
        if let Some(e) = &v.invalid {
            write_result(
                dir,
                &VariantResult {
                    version: VERSION,
                    index: v.index,
                    values: v.values.clone(),
                    status: Status::Invalid,
                    error: Some(e.clone()),
                    wall_s: 0.0,
                    voxel_hash: None,
                    metrics: None,
                },
            )?;
        }
    }
    Ok(())
}

pub fn read_manifest(dir: &Path) -> Result<Manifest, SweepError> {
    let path = manifest_path(dir);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        dir_err(
            &path,
            format!("{e}: is this a sweep directory (written by `voxfab sweep ... --out DIR`)?"),
        )
    })?;
    let m: Manifest = serde_json::from_str(&text)
        .map_err(|e| dir_err(&path, format!("not a sweep manifest: {e}")))?;
    if m.version != VERSION {
        return Err(dir_err(
            &path,
            format!(
                "manifest version {} (this voxfab reads {VERSION})",
                m.version
            ),
        ));
    }
    Ok(m)
}

/// Variant `index`'s result, if one was written (a damaged file counts as none).
pub fn read_result(dir: &Path, index: usize) -> Option<VariantResult> {
    let text = std::fs::read_to_string(result_path(dir, index)).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn write_result(dir: &Path, r: &VariantResult) -> Result<(), WriteError> {
    output::write_atomic(&result_path(dir, r.index), |w| {
        serde_json::to_writer_pretty(&mut *w, r).map_err(std::io::Error::other)?;
        writeln!(w)
    })
}

/// Checks the scene file is the one the sweep was planned with.
pub fn check_scene_unchanged(m: &Manifest) -> Result<(), SweepError> {
    let bytes = std::fs::read(&m.scene).map_err(|source| SweepError::Scene {
        path: m.scene.clone(),
        source,
    })?;
    if fnv1a(&bytes) != m.scene_hash {
        return Err(SweepError::Other(format!(
            "{} changed since the sweep was planned (hash {} vs {}): plan a new sweep",
            m.scene.display(),
            fnv1a(&bytes),
            m.scene_hash
        )));
    }
    Ok(())
}

/// Runs variant `v` on `gpu` (no frames) into its run directory and returns its result
/// (failed with the error when the run fails). Writes nothing under results/.
/// `drop_vti` removes the run's VTK images once its metrics are in the result (a large
/// sweep's disk).
pub fn run_variant(
    gpu: &GpuContext,
    dir: &Path,
    m: &Manifest,
    v: &Variant,
    drop_vti: bool,
) -> VariantResult {
    let start = Instant::now();
    let mut r = VariantResult {
        version: VERSION,
        index: v.index,
        values: v.values.clone(),
        status: Status::Failed,
        error: None,
        wall_s: 0.0,
        voxel_hash: None,
        metrics: None,
    };
    if let Some(e) = &v.invalid {
        r.status = Status::Invalid;
        r.error = Some(e.clone());
        return r;
    }
    let outcome = Scene::load(&m.scene, &v.overrides(m))
        .map_err(|e| e.to_string())
        .and_then(|scene| {
            let opts = RunOptions {
                frames: false,
                progress: false,
                gpu_memory_mib: m.gpu_memory_mib,
                ..RunOptions::new(run_dir(dir, v.index))
            };
            let out = run_scene(gpu, &scene, &opts).map_err(|e| error_chain(&e))?;
            // A pitch cell with [board] also gets its board-level study: the corner
            // joint's figures become columns of the sweep's table.
            let board = match &scene.board {
                Some(_) => {
                    let (study, _) =
                        crate::board::study(gpu, &scene, &run_dir(dir, v.index), &mut |_| {})
                            .map_err(|e| error_chain(&e))?;
                    Some(crate::board::summary(&study))
                }
                None => None,
            };
            Ok((out, board))
        });
    match outcome {
        Ok((out, board)) => match serde_json::to_value(&out.metrics) {
            Ok(mut metrics) => {
                if let (Some(b), Some(obj)) = (board, metrics.as_object_mut()) {
                    obj.insert("board".into(), b);
                }
                r.status = Status::Ok;
                r.voxel_hash = Some(fnv1a(&out.materials));
                r.metrics = Some(metrics);
            }
            Err(e) => r.error = Some(format!("metrics: {e}")),
        },
        Err(e) => r.error = Some(e),
    }
    if drop_vti {
        for f in ["result.vti", "stress.vti"] {
            let _ = std::fs::remove_file(run_dir(dir, v.index).join(f));
        }
    }
    r.wall_s = start.elapsed().as_secs_f64();
    r
}

/// An error and its causes, `a: b: c`.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = c.source();
    }
    s
}

/// `voxfab sweep run DIR --task N`: runs variant N (one Slurm array task) and writes its
/// result; a variant already finished ok is left as it is (a requeued task).
pub fn run_task(dir: &Path, index: usize, drop_vti: bool) -> Result<VariantResult, SweepError> {
    let m = read_manifest(dir)?;
    let v = m.variants.get(index).ok_or_else(|| {
        SweepError::Other(format!(
            "--task {index}: the sweep in {} has variants 0..{}",
            dir.display(),
            m.variants.len()
        ))
    })?;
    if let Some(r) = read_result(dir, index).filter(|r| r.status == Status::Ok) {
        return Ok(r);
    }
    check_scene_unchanged(&m)?;
    let r = match GpuContext::new() {
        Ok(gpu) => run_variant(&gpu, dir, &m, v, drop_vti),
        Err(e) => VariantResult {
            version: VERSION,
            index,
            values: v.values.clone(),
            status: Status::Failed,
            error: Some(format!("no GPU: {}", error_chain(&e))),
            wall_s: 0.0,
            voxel_hash: None,
            metrics: None,
        },
    };
    write_result(dir, &r)?;
    Ok(r)
}
