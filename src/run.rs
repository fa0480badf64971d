//! A headless run of a scene: every step on the GPU, a frame after each, then
//! metrics.json and result.vti.

use crate::budget;
use crate::engine::{Engine, Solved};
use crate::fields::ScalarField;
use crate::gpu::GpuContext;
use crate::output::{self, WriteError, metrics};
use crate::process::Processor;
use crate::process::params::MaterialSet;
use crate::render::{FieldView, FrameInputs};
use crate::scene::{Scene, Step, StressSpec};
use crate::stress::StressResult;
use std::path::{Path, PathBuf};

// The orchestration moved to the engine; these paths stay for callers.
pub use crate::engine::{RunError, camera, check_budget, gpu_error};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub out: PathBuf,
    /// Frame size in pixels.
    pub frame_size: [u32; 2],
    pub frames: bool,
    pub progress: bool,
    /// GPU memory budget, MiB (wgpu reports no total; see src/budget.rs).
    pub gpu_memory_mib: u64,
}

impl RunOptions {
    pub fn new(out: impl Into<PathBuf>) -> Self {
        Self {
            out: out.into(),
            frame_size: [1600, 900],
            frames: true,
            progress: false,
            gpu_memory_mib: budget::DEFAULT_GPU_MEMORY_MIB,
        }
    }
}

/// What a run produced.
pub struct RunOutput {
    pub metrics: metrics::Metrics,
    /// Final material id per voxel.
    pub materials: Vec<u8>,
    pub frames: Vec<PathBuf>,
    /// The last stress solve of the assembly, if the scene has one.
    pub stress: Option<StressResult>,
}

fn mkdir(path: &Path) -> Result<(), RunError> {
    std::fs::create_dir_all(path).map_err(|source| RunError::Dir {
        path: path.to_path_buf(),
        source,
    })
}

/// Runs every step of `scene` and writes the outputs under `opts.out`.
pub fn run_scene(
    gpu: &GpuContext,
    scene: &Scene,
    opts: &RunOptions,
) -> Result<RunOutput, RunError> {
    let start = Instant::now();
    // Every buffer of the run is checked against the adapter before any GPU work or file.
    check_budget(
        gpu,
        scene,
        opts.frames.then_some(opts.frame_size),
        opts.gpu_memory_mib,
    )?;
    // Every part is built on its own grid; parts[0] is the assembly.
    let mut engine = Engine::new(gpu, scene)?;
    mkdir(&opts.out)?;
    let frames_dir = opts.out.join("frames");
    if opts.frames {
        mkdir(&frames_dir)?;
    }
    let renderer = opts.frames.then(|| engine.renderer());
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
    let mut stresses: Vec<metrics::StressMetrics> = Vec::new();
    let mut last_stress: Option<StressResult> = None;
    let h = scene.grid.voxel_um;
    for (i, step) in scene.steps.iter().enumerate() {
        bar.set_message(step.name.clone());
        // A GPU error (out of memory, device loss) is the cause of whatever the step
        // then reports (a readback of zeros looks like an empty part), so it goes first.
        let stats = engine.run_step(scene, step)?;
        let proc = engine.part(step.part);
        // A stress step solves on the part's grid (or a coarsened copy) and colours
        // its frame by von Mises.
        let solved = step
            .kind
            .stress()
            .map(|spec| engine.solve_stress(scene, step, spec))
            .transpose()?;
        steps.push(metrics::StepMetrics {
            index: i + 1,
            name: step.name.clone(),
            op: step.kind.label(),
            line: step.line,
            ms: stats.ms,
            voxels_changed: stats.voxels_changed,
            iterations: stats.iterations,
            release_min: stats.release_min,
            materials: metrics::amounts(&stats.counts, &scene.materials, h),
        });
        if let (Some(sv), Some(spec)) = (&solved, step.kind.stress()) {
            stresses.push(stress_metrics(scene, step, spec, sv, &stats.counts));
            if let Some(m) = steps.last_mut() {
                m.ms += sv.result.ms;
                m.iterations = sv.result.iterations;
            }
        }
        if let Some(r) = &renderer {
            let field_label = "von Mises (MPa)";
            let (range, field_note) = solved.as_ref().map_or(([0.0, 1.0], String::new()), |sv| {
                stress_colour_bar(&sv.result)
            });
            // The solver's own result storage is scratch of its next solve: draw from a
            // copy of the values read back.
            let von_mises = solved
                .as_ref()
                .map(|sv| ScalarField::from_values(gpu, "von Mises", "MPa", &sv.result.von_mises));
            let (grid_buf, grid_spec, field) = match (&solved, &von_mises) {
                (Some(sv), Some(vm)) => (
                    &sv.grid.material,
                    &sv.grid.spec,
                    Some(FieldView {
                        buffer: &vm.buffer,
                        range,
                        label: field_label,
                        note: &field_note,
                    }),
                ),
                _ => (&proc.grid().material, &scene.grid, None),
            };
            let img = r.render_image(
                gpu,
                opts.frame_size,
                &FrameInputs {
                    grid: grid_buf,
                    spec: grid_spec,
                    materials: &scene.materials,
                    counts: &stats.counts,
                    camera: camera(scene),
                    section_axis: scene.view.section_axis,
                    // The stress grid may be coarser than the process grid.
                    section_index: scene.view.section_index / solved.as_ref().map_or(1, |sv| sv.coarsen),
                    cutaway: scene.view.cutaway,
                    hidden: MaterialSet::default(),
                    ghost: MaterialSet::default(),
                    field,
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
                    subtitle: match &solved {
                        Some(sv) => format!(
                            "stress  |  dT {:+.0} K  |  {} CG iterations, residual {:.1e}{}  |  {:.1} µm elements  |  {:.1} s",
                            sv.delta_t,
                            sv.result.iterations,
                            sv.result.residual,
                            if sv.result.converged {
                                String::new()
                            } else {
                                format!("  |  WARNING: NOT CONVERGED (tol {:.0e})", spec_tol(step))
                            },
                            sv.result.voxel_um,
                            sv.result.ms / 1e3
                        ),
                        None => format!(
                            "{}  |  {} voxels changed  |  {:.1} ms  |  {}",
                            step.kind.label(),
                            stats.voxels_changed,
                            stats.ms,
                            scene.title
                        ),
                    },
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
        if let Some(sv) = solved
            && step.part == 0
        {
            last_stress = Some(sv.result);
        }
        bar.inc(1);
    }
    bar.finish_and_clear();

    let main = engine.part(0);
    let materials = main.grid().read_materials(gpu);
    let (_, counts) = main.stats();
    let connectivity = (!scene.probes.is_empty()).then(|| connectivity(main, scene));
    let [nx, ny, nz] = scene.grid.dims;
    // A stress solved on the process grid itself (coarsen = 1, and nothing changed the
    // assembly after it) also goes into result.vti, beside the materials.
    let same_grid = last_stress
        .as_ref()
        .filter(|r| r.dims == scene.grid.dims && r.material == materials);
    match same_grid {
        Some(r) => write_stress_vti(&opts.out.join("result.vti"), r)?,
        None => output::write_atomic(&opts.out.join("result.vti"), |w| {
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
        })?,
    }
    let warnings = warnings(scene, &steps, &stresses);
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
        stress: stresses,
        warnings,
        total_ms: start.elapsed().as_secs_f64() * 1e3,
    };
    if let Some(r) = &last_stress {
        write_stress_vti(&opts.out.join("stress.vti"), r)?;
    }
    output::write_atomic(&opts.out.join("metrics.json"), |w| {
        serde_json::to_writer_pretty(&mut *w, &metrics).map_err(std::io::Error::other)?;
        writeln!(w)
    })?;
    Ok(RunOutput {
        metrics,
        materials,
        frames,
        stress: last_stress,
    })
}

/// Nets of the assembly's conductors and what the probes say about them.
/// Silent no-ops and unconverged solves, each naming its step and line.
fn warnings(
    scene: &Scene,
    steps: &[metrics::StepMetrics],
    stresses: &[metrics::StressMetrics],
) -> Vec<String> {
    let mut out = Vec::new();
    for (m, step) in steps.iter().zip(&scene.steps) {
        // Analysis steps change nothing by design; a process or bond step that changes
        // no voxel did nothing (its material absent, its mask over nothing, ...).
        if m.voxels_changed == 0 && step.kind.stress().is_none() {
            out.push(format!(
                "{}:{}: step {} `{}` ({}) changed no voxel: check its material, mask and sizes",
                scene.file, m.line, m.index, m.name, m.op
            ));
        }
    }
    for s in stresses {
        if let Some(w) = output::report::convergence_warning(s) {
            let line = scene
                .steps
                .iter()
                .find(|t| t.name == s.step)
                .map_or(0, |t| t.line);
            out.push(format!("{}:{line}: {w}", scene.file));
        }
    }
    out
}

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

/// The von Mises colour bar of a stress frame: 0 to the 99th percentile over solid
/// elements (singular corner peaks would wash out the field), and the note under the
/// bar that says it clips there and what the true maximum is.
pub fn stress_colour_bar(r: &StressResult) -> ([f32; 2], String) {
    let mut v: Vec<f32> = r
        .von_mises
        .iter()
        .zip(&r.material)
        .filter(|(_, m)| **m != 0)
        .map(|(v, _)| *v)
        .collect();
    if v.is_empty() {
        return ([0.0, 1.0], String::new());
    }
    let max = v.iter().copied().fold(0.0f32, f32::max);
    let k = ((v.len() - 1) as f64 * 0.99) as usize;
    let (_, top, _) = v.select_nth_unstable_by(k, f32::total_cmp);
    let top = top.max(1e-3);
    let note = if max > top {
        format!("bar clipped at p99 = {top:.1}; max {max:.1} MPa")
    } else {
        String::new()
    };
    ([0.0, top], note)
}

fn stress_metrics(
    scene: &Scene,
    step: &Step,
    spec: &StressSpec,
    sv: &Solved,
    process_counts: &[u64],
) -> metrics::StressMetrics {
    let r = &sv.result;
    let name = |id: u8| scene.materials.get(id).name.clone();
    let materials = r
        .material_summary()
        .into_iter()
        .map(|m| {
            (
                name(m.id),
                metrics::MaterialStress {
                    elements: m.elements,
                    process_voxels: process_counts.get(usize::from(m.id)).copied().unwrap_or(0),
                    mean_von_mises_mpa: m.mean_von_mises,
                    p99_von_mises_mpa: m.p99_von_mises,
                    mean_max_principal_mpa: m.mean_max_principal,
                    p99_max_principal_mpa: m.p99_max_principal,
                    peak_von_mises_mpa: m.peak_von_mises.0,
                    peak_von_mises_at_um: m.peak_von_mises.1,
                    peak_max_principal_mpa: m.peak_max_principal.0,
                    peak_max_principal_at_um: m.peak_max_principal.1,
                },
            )
        })
        .collect();
    let probes = scene
        .stress_probes
        .iter()
        .map(|p| {
            let max = r.box_max(p.field, p.min, p.max);
            (
                p.name.clone(),
                metrics::StressProbeValue {
                    field: p.field.name(),
                    mean_mpa: r.box_mean(p.field, p.min, p.max),
                    max_mpa: max.map(|m| m.0),
                    max_at_um: max.map(|m| m.1),
                },
            )
        })
        .collect();
    let warpage = [("top", true), ("bottom", false)]
        .into_iter()
        .filter_map(|(k, top)| {
            r.warpage(top).map(|w| {
                (
                    k.to_string(),
                    metrics::WarpageValue {
                        nodes: w.nodes,
                        warpage_um: w.warpage_um,
                        bow_um: w.bow_um,
                        tilt: [w.plane[1], w.plane[2]],
                    },
                )
            })
        })
        .collect();
    let relative_displacements = scene
        .relative_displacements
        .iter()
        .filter_map(|d| {
            let (ua, a) = r.displacement_near(d.from)?;
            let (ub, b) = r.displacement_near(d.to)?;
            Some((
                d.name.clone(),
                metrics::RelativeDisplacementValue {
                    from_um: a,
                    to_um: b,
                    delta_um: std::array::from_fn(|k| ub[k] - ua[k]),
                },
            ))
        })
        .collect();
    let reactions: std::collections::HashMap<[u32; 3], [f64; 3]> =
        r.reactions.iter().copied().collect();
    let displace = spec
        .displace
        .iter()
        .zip(&sv.displaced_nodes)
        .map(|(d, &nodes)| metrics::DisplaceValue {
            force_mn: d
                .nodes(r.dims, r.voxel_um)
                .iter()
                .filter_map(|(n, _)| reactions.get(n))
                .fold([0.0; 3], |a, f| std::array::from_fn(|k| a[k] + f[k])),
            region: match d.region {
                crate::scene::DisplaceRegion::Face(f) => f.name().to_string(),
                crate::scene::DisplaceRegion::Box { .. } => "box".to_string(),
            },
            dofs: ["x", "y", "z"]
                .iter()
                .enumerate()
                .filter(|(k, _)| d.dofs & (1 << k) != 0)
                .map(|(_, a)| *a)
                .collect(),
            nodes,
        })
        .collect();
    metrics::StressMetrics {
        step: step.name.clone(),
        part: scene.parts[step.part].clone(),
        delta_t_k: spec.delta_t,
        support: spec.bc.support.name().to_string(),
        symmetry_x: spec.bc.symmetry_x,
        symmetry_y: spec.bc.symmetry_y,
        coarsen: spec.coarsen,
        element_um: r.voxel_um,
        grid_elements: r.dims,
        solid_elements: r.material.iter().filter(|&&m| m != 0).count() as u64,
        solver: format!(
            "multigrid-preconditioned CG, {} outer iteration",
            if sv.solver.stats.f64 { "f64" } else { "f32" }
        ),
        iterations: r.iterations,
        residual: r.residual,
        tol: spec.options.tol,
        converged: r.converged,
        stalled: r.stalled,
        ms: r.ms,
        materials,
        probes,
        warpage,
        relative_displacements,
        displace,
    }
}

fn spec_tol(step: &Step) -> f64 {
    step.kind.stress().map_or(0.0, |s| s.options.tol)
}

/// VTK image of the stress solve: material, stress tensor (xx, yy, zz, yz, xz, xy, MPa),
/// von Mises and max principal (MPa) per cell, displacement (µm) per point.
fn write_stress_vti(path: &Path, r: &StressResult) -> Result<(), WriteError> {
    let stress: Vec<f32> = r.stress.iter().flatten().copied().collect();
    let disp: Vec<f32> = r.displacement.iter().flatten().copied().collect();
    output::write_atomic(path, |w| {
        output::vti::write(
            w,
            r.dims,
            r.voxel_um,
            &[
                output::vti::Array::UInt8 {
                    name: "material",
                    data: &r.material,
                },
                output::vti::Array::Float32 {
                    name: "stress",
                    components: 6,
                    data: &stress,
                },
                output::vti::Array::Float32 {
                    name: "von_mises",
                    components: 1,
                    data: &r.von_mises,
                },
                output::vti::Array::Float32 {
                    name: "max_principal",
                    components: 1,
                    data: &r.max_principal,
                },
            ],
            &[output::vti::Array::Float32 {
                name: "displacement",
                components: 3,
                data: &disp,
            }],
        )
    })
}
