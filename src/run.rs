//! A headless run of a scene: every step on the GPU, a frame after each, then
//! metrics.json and result.vti.

use crate::gpu::GpuContext;
use crate::grid::GridError;
use crate::output::{self, WriteError, metrics};
use crate::process::params::MaterialSet;
use crate::process::{BondError, Processor};
use crate::render::{FRAME_FORMAT, FrameInputs, OrbitCamera, Renderer};
use crate::scene::{Op, Scene};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Grid(#[from] GridError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("{file}:{line}: step `{step}`: {source}")]
    Bond {
        file: String,
        line: usize,
        step: String,
        source: BondError,
    },
    #[error("cannot create {}: {source}", path.display())]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub out: PathBuf,
    /// Frame size in pixels.
    pub frame_size: [u32; 2],
    pub frames: bool,
    pub progress: bool,
}

impl RunOptions {
    pub fn new(out: impl Into<PathBuf>) -> Self {
        Self {
            out: out.into(),
            frame_size: [1600, 900],
            frames: true,
            progress: false,
        }
    }
}

/// What a run produced.
pub struct RunOutput {
    pub metrics: metrics::Metrics,
    /// Final material id per voxel.
    pub materials: Vec<u8>,
    pub frames: Vec<PathBuf>,
}

fn mkdir(path: &Path) -> Result<(), RunError> {
    std::fs::create_dir_all(path).map_err(|source| RunError::Dir {
        path: path.to_path_buf(),
        source,
    })
}

pub fn camera(scene: &Scene) -> OrbitCamera {
    OrbitCamera {
        azimuth_deg: scene.view.azimuth_deg,
        elevation_deg: scene.view.elevation_deg,
        ..Default::default()
    }
}

/// Runs every step of `scene` and writes the outputs under `opts.out`.
pub fn run_scene(
    gpu: &GpuContext,
    scene: &Scene,
    opts: &RunOptions,
) -> Result<RunOutput, RunError> {
    let start = Instant::now();
    // Allocation is checked against the adapter before any file is touched.
    // Every part is built on its own grid; parts[0] is the assembly.
    let mut procs = scene
        .parts
        .iter()
        .map(|_| Processor::new(gpu, &scene.grid))
        .collect::<Result<Vec<_>, _>>()?;
    mkdir(&opts.out)?;
    let frames_dir = opts.out.join("frames");
    if opts.frames {
        mkdir(&frames_dir)?;
    }
    let renderer = opts.frames.then(|| Renderer::new(gpu, FRAME_FORMAT));
    let bar = if opts.progress {
        indicatif::ProgressBar::new(scene.steps.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} [{elapsed}]")
            .expect("static template"),
    );
    let mut steps = Vec::new();
    let mut frames = Vec::new();
    let h = scene.grid.voxel_um;
    for (i, step) in scene.steps.iter().enumerate() {
        bar.set_message(step.name.clone());
        let stats = match &step.op {
            Op::Bond {
                part,
                offset,
                method,
                film,
                gap,
            } => {
                let (base, placed) = pair(&mut procs, step.part, *part);
                base.bond(placed, *offset, *method, *film, *gap)
                    .map_err(|source| RunError::Bond {
                        file: scene.file.clone(),
                        line: step.line,
                        step: step.name.clone(),
                        source,
                    })?
            }
            op => procs[step.part].run(op, &scene.masks),
        };
        let proc = &procs[step.part];
        steps.push(metrics::StepMetrics {
            index: i + 1,
            name: step.name.clone(),
            op: step.op.label(),
            line: step.line,
            ms: stats.ms,
            voxels_changed: stats.voxels_changed,
            iterations: stats.iterations,
            materials: metrics::amounts(&stats.counts, &scene.materials, h),
        });
        if let Some(r) = &renderer {
            let img = r.render_image(
                gpu,
                opts.frame_size,
                &FrameInputs {
                    grid: &proc.grid().material,
                    spec: &scene.grid,
                    materials: &scene.materials,
                    counts: &stats.counts,
                    camera: camera(scene),
                    section_axis: scene.view.section_axis,
                    section_index: scene.view.section_index,
                    cutaway: scene.view.cutaway,
                    hidden: MaterialSet::default(),
                    ghost: MaterialSet::default(),
                    field: None,
                    deformation: None,
                    title: if step.part == 0 {
                        format!("{:02} {}", i + 1, step.name)
                    } else {
                        format!(
                            "{:02} {}  [part {}]",
                            i + 1,
                            step.name,
                            scene.parts[step.part]
                        )
                    },
                    subtitle: format!(
                        "{}  |  {} voxels changed  |  {:.1} ms  |  {}",
                        step.op.label(),
                        stats.voxels_changed,
                        stats.ms,
                        scene.title
                    ),
                },
            );
            let path = frames_dir.join(format!(
                "{:02}_{}.png",
                i + 1,
                output::file_stem(&step.name)
            ));
            output::write_png(&path, &img)?;
            frames.push(path);
        }
        bar.inc(1);
    }
    bar.finish_and_clear();

    let main = &procs[0];
    let materials = main.grid().read_materials(gpu);
    let (_, counts) = main.stats();
    let connectivity = (!scene.probes.is_empty()).then(|| connectivity(main, scene));
    let [nx, ny, nz] = scene.grid.dims;
    output::write_atomic(&opts.out.join("result.vti"), |w| {
        output::vti::write(
            w,
            [nx, ny, nz],
            h,
            &[output::vti::Array::UInt8 {
                name: "material",
                data: &materials,
            }],
            &[],
        )
    })?;
    let metrics = metrics::Metrics {
        scene: scene.file.clone(),
        title: scene.title.clone(),
        adapter: metrics::Adapter {
            name: gpu.info.name.clone(),
            backend: format!("{:?}", gpu.info.backend),
            device_type: format!("{:?}", gpu.info.device_type),
        },
        grid: metrics::Grid {
            dims: scene.grid.dims,
            voxel_um: h,
            size_um: scene.grid.size_um(),
            voxels: scene.grid.voxels(),
        },
        material_ids: metrics::material_ids(&scene.materials),
        steps,
        materials: metrics::amounts(&counts, &scene.materials, h),
        connectivity,
        total_ms: start.elapsed().as_secs_f64() * 1e3,
    };
    output::write_atomic(&opts.out.join("metrics.json"), |w| {
        serde_json::to_writer_pretty(&mut *w, &metrics).map_err(std::io::Error::other)?;
        writeln!(w)
    })?;
    Ok(RunOutput {
        metrics,
        materials,
        frames,
    })
}

/// Mutable access to part `a` and shared access to a different part `b`.
fn pair<'a, 'g>(
    procs: &'a mut [Processor<'g>],
    a: usize,
    b: usize,
) -> (&'a mut Processor<'g>, &'a Processor<'g>) {
    assert_ne!(a, b, "the scene parser refuses self-bonds");
    if a < b {
        let (lo, hi) = procs.split_at_mut(b);
        (&mut lo[a], &hi[0])
    } else {
        let (lo, hi) = procs.split_at_mut(a);
        (&mut hi[0], &lo[b])
    }
}

/// Nets of the assembly's conductors and what the probes say about them.
fn connectivity(main: &Processor, scene: &Scene) -> metrics::Connectivity {
    let mut conductors = MaterialSet::default();
    for (id, m) in scene.materials.iter() {
        if id != 0 && m.conductor {
            conductors.insert(id);
        }
    }
    let voxels: Vec<[u32; 3]> = scene.probes.iter().map(|p| p.voxel(&scene.grid)).collect();
    let nets = main.nets(conductors, &voxels);
    metrics::Connectivity::from_probes(&scene.probes, &nets)
}
