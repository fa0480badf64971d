//! The `voxfab` command line: headless runs, recordings, the viewer window, scene
//! checks, adapter info, benchmarks.

#[cfg(feature = "view")]
mod view;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use voxfab::gpu::GpuContext;
use voxfab::record::RecordOptions;
use voxfab::run::{RunError, RunOptions, run_scene};
use voxfab::scene::{Scene, SceneError};

#[derive(Parser)]
#[command(
    name = "voxfab",
    version,
    about = "GPU voxel simulator and visualiser for wafer-level chip-scale packaging"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// A scene file and overrides; shared by every command that reads a scene.
#[derive(Args)]
struct SceneArgs {
    /// Scene file (TOML).
    scene: PathBuf,
    /// Override a scene value, e.g. `--set grid.voxel=1.0` or `--set step.strip.mode=isotropic`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

/// The GPU memory the run may use (wgpu cannot report the total).
#[derive(Args)]
struct BudgetArgs {
    /// GPU memory budget in MiB: every buffer of every part and of the stress solve must
    /// fit in it together.
    #[arg(long = "gpu-memory", value_name = "MiB", default_value_t = voxfab::budget::DEFAULT_GPU_MEMORY_MIB,
          value_parser = clap::value_parser!(u64).range(1..=1 << 30))]
    mib: u64,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scene headless: frames, metrics.json and result.vti in DIR.
    Run {
        #[command(flatten)]
        scene: SceneArgs,
        /// Output directory.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Frame size, WIDTHxHEIGHT pixels.
        #[arg(long, default_value = "1600x900", value_parser = parse_size)]
        size: [u32; 2],
        /// Skip the PNG frames.
        #[arg(long)]
        no_frames: bool,
        #[command(flatten)]
        budget: BudgetArgs,
    },
    /// Open the interactive 3D inspection window.
    #[cfg(feature = "view")]
    View {
        #[command(flatten)]
        scene: SceneArgs,
        /// Window size, WIDTHxHEIGHT pixels.
        #[arg(long, default_value = "1600x900", value_parser = parse_size)]
        size: [u32; 2],
        /// Partial frames per timed etch or deposition on the timeline.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(0..=64))]
        substeps: u32,
        /// Draw N frames, then exit (tests and fps measurements).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        frames: Option<u32>,
        /// Screenshot file: written after the last of --frames, and by the P/F12 key.
        #[arg(long, value_name = "FILE")]
        screenshot: Option<PathBuf>,
        /// Start at this step (1-based; default: the last).
        #[arg(long, value_name = "N")]
        step: Option<usize>,
        /// Start with this material ghosted (semi-transparent); repeatable.
        #[arg(long, value_name = "MATERIAL")]
        ghost: Vec<String>,
        /// Start with this material hidden; repeatable.
        #[arg(long, value_name = "MATERIAL")]
        hide: Vec<String>,
        /// Solve the thermal-mismatch stress (217 to 25 °C) of the starting state and
        /// colour by von Mises.
        #[arg(long)]
        stress: bool,
        /// Show the deformed shape at this exaggeration once the stress is solved.
        #[arg(long, value_name = "FACTOR", value_parser = parse_exaggeration)]
        deform: Option<f32>,
    },
    /// Record the process as a PNG sequence (and optionally an animated GIF).
    Record {
        #[command(flatten)]
        scene: SceneArgs,
        /// Output directory.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Orbit the camera by this many degrees over the sequence.
        #[arg(long, value_name = "DEGREES", default_value_t = 0.0, value_parser = parse_degrees)]
        orbit: f32,
        /// Partial frames per timed etch or deposition.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(0..=64))]
        substeps: u32,
        /// Also write process.gif (downscaled to at most 640 pixels wide).
        #[arg(long)]
        gif: bool,
        /// Frame size, WIDTHxHEIGHT pixels.
        #[arg(long, default_value = "1600x900", value_parser = parse_size)]
        size: [u32; 2],
    },
    /// Parse and validate a scene without a GPU (absolute resource caps).
    Check {
        #[command(flatten)]
        scene: SceneArgs,
        #[command(flatten)]
        budget: BudgetArgs,
    },
    /// Print the GPU adapter voxfab would use and its limits.
    Info,
    /// Print the built-in material library (E, ν, CTE, sources) as a markdown table.
    Materials,
    /// Time each process op on an N³ grid, or the stress solver (`bench stress`).
    Bench {
        /// `ops` (default), `stress`, or `flow` (whole scenes, no frames).
        #[arg(default_value = "ops", value_parser = ["ops", "stress", "flow"])]
        what: String,
        /// Scenes for `bench flow`.
        #[arg(long = "scene", default_values_t = [String::from("scenes/glass_wlcsp.toml")])]
        scenes: Vec<String>,
        /// Scenes whose stress steps `bench stress` also solves, each at its own
        /// coarsen (override with --set-like scene files).
        #[arg(long = "stress-scene")]
        stress_scenes: Vec<String>,
        /// Grid edge in voxels (ops).
        #[arg(long, default_value_t = 256)]
        size: u32,
        /// Grid edges for the stress solves (n x n x n/2 each).
        #[arg(long, value_delimiter = ',', default_values_t = [16u32, 32, 64])]
        sizes: Vec<u32>,
        /// Stress: stop at this relative residual ...
        #[arg(long, default_value_t = 1e-8)]
        tol: f64,
        /// ... or after this many CG iterations.
        #[arg(long, default_value_t = 1000)]
        max_iterations: u32,
    },
}

fn parse_size(s: &str) -> Result<[u32; 2], String> {
    let (w, h) = s.split_once('x').ok_or("expected WIDTHxHEIGHT")?;
    let w: u32 = w.parse().map_err(|_| "bad width")?;
    let h: u32 = h.parse().map_err(|_| "bad height")?;
    if !(64..=8192).contains(&w) || !(64..=8192).contains(&h) {
        return Err("width and height must be 64..8192".into());
    }
    Ok([w, h])
}

fn parse_degrees(s: &str) -> Result<f32, String> {
    let d: f32 = s.parse().map_err(|_| "expected a number of degrees")?;
    if !d.is_finite() || d.abs() > 36_000.0 {
        return Err("degrees must be a finite number within ±36000".into());
    }
    Ok(d)
}

#[cfg(feature = "view")]
fn parse_exaggeration(s: &str) -> Result<f32, String> {
    let f: f32 = s.parse().map_err(|_| "expected a number")?;
    if !(1.0..=1e6).contains(&f) {
        return Err("exaggeration must be within 1..1e6".into());
    }
    Ok(f)
}

fn load(args: &SceneArgs) -> Result<Scene, SceneError> {
    Scene::load(&args.scene, &args.set)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check { scene, budget } => match load(&scene).and_then(|s| {
            // No GPU here: absolute caps, the memory budget, and default-sized frames.
            let est = voxfab::budget::estimate(&s, Some([1600, 900]));
            let limits = voxfab::budget::Limits::absolute(budget.mib);
            voxfab::budget::check(&s, &est, &limits, "any adapter")?;
            Ok(s)
        }) {
            Ok(s) => {
                let [nx, ny, nz] = s.grid.dims;
                println!(
                    "{}: ok: {} steps, grid {nx}x{ny}x{nz} voxels of {} µm, {} masks",
                    s.file,
                    s.steps.len(),
                    s.grid.voxel_um,
                    s.masks.len()
                );
                // Each step's sizes as the grid resolves them, so rounding shows before a run.
                let h = s.grid.voxel_um;
                for (i, step) in s.steps.iter().enumerate() {
                    let geometry = match &step.kind {
                        voxfab::scene::StepKind::Process(op) => op.geometry(h),
                        voxfab::scene::StepKind::Stress(spec) => format!(
                            "elements of {} voxel(s) = {:.2} µm, tol {:.0e}, max {} iterations",
                            spec.coarsen,
                            f64::from(spec.coarsen) * h,
                            spec.options.tol,
                            spec.options.max_iterations
                        ),
                        _ => String::new(),
                    };
                    println!(
                        "{:>3} {:<28} line {:<4} {:<22} {geometry}",
                        i + 1,
                        step.name,
                        step.line,
                        step.kind.label()
                    );
                }
                Ok(())
            }
            Err(e) => return scene_error(&e),
        },
        Command::Run {
            scene,
            out,
            size,
            no_frames,
            budget,
        } => {
            let s = match load(&scene) {
                Ok(s) => s,
                Err(e) => return scene_error(&e),
            };
            match run(&s, out, size, !no_frames, budget.mib) {
                Err(e) => match e.downcast_ref::<RunError>() {
                    // A scene that does not fit the adapter is a scene error (status 2).
                    Some(RunError::Budget(se)) => return scene_error(se),
                    _ => Err(e),
                },
                ok => ok,
            }
        }
        #[cfg(feature = "view")]
        Command::View {
            scene,
            size,
            substeps,
            frames,
            screenshot,
            step,
            ghost,
            hide,
            stress,
            deform,
        } => {
            let s = match load(&scene) {
                Ok(s) => s,
                Err(e) => return scene_error(&e),
            };
            materials(&s, &ghost).and_then(|ghost| {
                view::run(
                    view::ViewOptions {
                        size,
                        substeps,
                        frames,
                        screenshot,
                        step,
                        stress,
                        deform,
                        ghost,
                        hidden: materials(&s, &hide)?,
                    },
                    s,
                )
            })
        }
        Command::Record {
            scene,
            out,
            orbit,
            substeps,
            gif,
            size,
        } => {
            let s = match load(&scene) {
                Ok(s) => s,
                Err(e) => return scene_error(&e),
            };
            let opts = RecordOptions {
                size,
                substeps,
                orbit_deg: orbit,
                gif,
                ..RecordOptions::new(&out)
            };
            record(&s, &opts)
        }
        Command::Info => info(),
        Command::Materials => {
            print!("{}", voxfab::materials::builtin_markdown());
            Ok(())
        }
        Command::Bench {
            what,
            scenes,
            stress_scenes,
            size,
            sizes,
            tol,
            max_iterations,
        } => match what.as_str() {
            "stress" => bench_stress(&sizes, &stress_scenes, tol, max_iterations),
            "flow" => bench_flow(&scenes),
            _ => bench(size),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn scene_error(e: &SceneError) -> ExitCode {
    eprintln!("{e}");
    ExitCode::from(2)
}

fn run(
    scene: &Scene,
    out: PathBuf,
    size: [u32; 2],
    frames: bool,
    gpu_memory_mib: u64,
) -> anyhow::Result<()> {
    let gpu = GpuContext::new()?;
    eprintln!("adapter: {gpu}");
    let opts = RunOptions {
        frame_size: size,
        frames,
        progress: true,
        gpu_memory_mib,
        ..RunOptions::new(&out)
    };
    let r = match run_scene(&gpu, scene, &opts) {
        Ok(r) => r,
        Err(e @ RunError::Budget(_)) => return Err(e.into()),
        Err(e) => return Err(anyhow::Error::new(e).context(format!("running {}", scene.file))),
    };
    for s in &r.metrics.steps {
        let release = s
            .release_min
            .map(|t| format!(", released after {t:.2} min"))
            .unwrap_or_default();
        eprintln!(
            "{:>3} {:<28} {:<22} {:>10} voxels changed {:>9.1} ms{release}",
            s.index, s.name, s.op, s.voxels_changed, s.ms
        );
    }
    for m in &r.metrics.stress {
        eprint!("{}", voxfab::output::report::stress_summary(m));
    }
    for w in &r.metrics.warnings {
        eprintln!("warning: {w}");
    }
    let stress_vti = if r.metrics.stress.is_empty() {
        ""
    } else {
        ", stress.vti"
    };
    eprintln!(
        "wrote {} frames, metrics.json, result.vti{stress_vti} to {} ({:.0} ms)",
        r.frames.len(),
        out.display(),
        r.metrics.total_ms
    );
    Ok(())
}

/// Material ids of `names`, or an error naming the known materials.
#[cfg(feature = "view")]
fn materials(
    scene: &Scene,
    names: &[String],
) -> anyhow::Result<voxfab::process::params::MaterialSet> {
    let mut set = voxfab::process::params::MaterialSet::default();
    for n in names {
        let id = scene.materials.id(n).with_context(|| {
            format!(
                "unknown material `{n}`; the scene has: {}",
                scene.materials.names().join(", ")
            )
        })?;
        set.insert(id);
    }
    Ok(set)
}

fn record(scene: &Scene, opts: &RecordOptions) -> anyhow::Result<()> {
    let gpu = GpuContext::new()?;
    eprintln!("adapter: {gpu}");
    let r = voxfab::record::record(&gpu, scene, opts, |i, n| eprint!("\rframe {i}/{n}"))
        .with_context(|| format!("recording {}", scene.file))?;
    eprintln!();
    eprintln!(
        "wrote {} frames to {}{}",
        r.frames.len(),
        opts.out.display(),
        r.gif
            .map(|g| format!(" and {}", g.display()))
            .unwrap_or_default()
    );
    Ok(())
}

fn info() -> anyhow::Result<()> {
    let gpu = GpuContext::new()?;
    let l = &gpu.limits;
    println!("adapter:      {}", gpu.info.name);
    println!("backend:      {:?}", gpu.info.backend);
    println!("device type:  {:?}", gpu.info.device_type);
    println!("driver:       {} {}", gpu.info.driver, gpu.info.driver_info);
    println!("max buffer:   {} MiB", l.max_buffer_size >> 20);
    println!(
        "max storage binding: {} MiB",
        l.max_storage_buffer_binding_size >> 20
    );
    println!(
        "max workgroups/dim:  {}",
        l.max_compute_workgroups_per_dimension
    );
    println!(
        "max invocations/workgroup: {}",
        l.max_compute_invocations_per_workgroup
    );
    println!(
        "largest grid: {} voxels (4 bytes each per field)",
        gpu.max_binding_bytes() / voxfab::grid::BYTES_PER_VOXEL
    );
    Ok(())
}

fn bench(n: u32) -> anyhow::Result<()> {
    let gpu = GpuContext::new()?;
    println!("adapter: {gpu}");
    println!("grid: {n}^3 = {} voxels", u64::from(n).pow(3));
    println!(
        "{:<22} {:>10} {:>14} {:>10}",
        "op", "ms", "Mvoxel/s", "iters"
    );
    voxfab::bench::process_ops(&gpu, n, |r| {
        println!(
            "{:<22} {:>10.1} {:>14.1} {:>10}",
            r.op, r.ms, r.mvox_per_s, r.iterations
        );
    })?;
    Ok(())
}

fn bench_stress(
    sizes: &[u32],
    scenes: &[String],
    tol: f64,
    max_iterations: u32,
) -> anyhow::Result<()> {
    let gpu = GpuContext::new()?;
    println!("adapter: {gpu}");
    println!(
        "outer iteration: {}; tol {tol:.0e}",
        if gpu.has_f64() {
            "f64"
        } else {
            "f32 (no SHADER_F64)"
        }
    );
    println!(
        "{:<26} {:>12} {:>9} {:>3} {:>9} {:>6} {:>9} {:>10} {:>9} {:>9} {:>8} {:>10} {:>7}",
        "case",
        "grid",
        "nodes",
        "lv",
        "setup ms",
        "iters",
        "residual",
        "total ms",
        "ms/iter",
        "matvec ms",
        "V ms",
        "matvec-eq",
        "B/node"
    );
    let print = |r: &voxfab::bench::StressBenchRow| {
        println!(
            "{:<26} {:>12} {:>9} {:>3} {:>9.0} {:>6} {:>9.1e} {:>10.0} {:>9.1} {:>9.2} {:>8.2} {:>10.1} {:>7.0}{}",
            r.case,
            format!("{}x{}x{}", r.dims[0], r.dims[1], r.dims[2]),
            r.nodes,
            r.levels,
            r.setup_ms,
            r.iterations,
            r.residual,
            r.ms,
            r.ms_per_iteration,
            r.matvec_ms,
            r.vcycle_ms,
            r.matvec_equivalents(),
            r.bytes_per_node,
            if r.converged {
                ""
            } else {
                "  (stopped before tol)"
            }
        );
    };
    voxfab::bench::stress(&gpu, sizes, tol, max_iterations, print)?;
    for path in scenes {
        let scene = Scene::load(std::path::Path::new(path), &[])?;
        voxfab::bench::stress_scene(&gpu, &scene, path, print)
            .map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    }
    Ok(())
}

fn bench_flow(scenes: &[String]) -> anyhow::Result<()> {
    let gpu = GpuContext::new()?;
    println!("adapter: {gpu}");
    for path in scenes {
        let scene = match Scene::load(std::path::Path::new(path), &[]) {
            Ok(s) => s,
            Err(e) => anyhow::bail!("{e}"),
        };
        let out = std::env::temp_dir().join(format!("voxfab-bench-{}", std::process::id()));
        let opts = RunOptions {
            frames: false,
            ..RunOptions::new(&out)
        };
        let r = run_scene(&gpu, &scene, &opts)?;
        let _ = std::fs::remove_dir_all(&out);
        let steps_ms: f64 = r.metrics.steps.iter().map(|s| s.ms).sum();
        println!(
            "{path}: {} steps on {} voxels: {:.0} ms in steps, {:.0} ms in all (outputs included)",
            r.metrics.steps.len(),
            scene.grid.voxels(),
            steps_ms,
            r.metrics.total_ms
        );
    }
    Ok(())
}
