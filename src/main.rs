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

/// Plots of a sweep's results.csv.
#[derive(Args)]
struct PlotArgs {
    /// Plot this results.csv column against a varied key (DIR/plot_METRIC.png), one
    /// line per value of a second varied key; repeatable.
    #[arg(long = "plot", value_name = "METRIC")]
    plot: Vec<String>,
    /// Heat map of this column over two varied keys (DIR/heatmap_METRIC.png); repeatable.
    #[arg(long = "heatmap", value_name = "METRIC")]
    heatmap: Vec<String>,
    /// The varied key on the x axis (default: the first --vary).
    #[arg(long = "x", value_name = "KEY")]
    x: Option<String>,
    /// Line plots: one line per value of this varied key (default: the second --vary).
    #[arg(long = "by", value_name = "KEY")]
    by: Option<String>,
    /// Heat maps: the varied key on the y axis (default: the second --vary).
    #[arg(long = "y", value_name = "KEY")]
    y: Option<String>,
}

/// `voxfab sweep SCENE --vary ... --out DIR`, or `voxfab sweep run|collect DIR`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct SweepCmd {
    #[command(subcommand)]
    action: Option<SweepAction>,
    /// Scene file (TOML).
    #[arg(required = true)]
    scene: Option<PathBuf>,
    /// Override a scene value in every variant (as for `run`).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Vary a `--set` key: `KEY=V1,V2,...` or `KEY=LO:HI:N` (N evenly spaced values);
    /// repeatable; the variants are every combination unless --lhs.
    #[arg(long = "vary", value_name = "KEY=VALUES", required = true)]
    vary: Vec<String>,
    /// A Latin hypercube sample of N variants instead of the full factorial (ranges are
    /// sampled continuously over LO..HI).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=voxfab::sweep::plan::MAX_VARIANTS as u64))]
    lhs: Option<u64>,
    /// Seed of the Latin hypercube (default 1).
    #[arg(long, value_name = "S", requires = "lhs")]
    seed: Option<u64>,
    /// Sweep directory: manifest.json, results/, runs/, results.csv, plots.
    #[arg(long, value_name = "DIR", required = true)]
    out: Option<PathBuf>,
    #[command(flatten)]
    budget: BudgetArgs,
    /// Run variants that failed in an earlier run again (they are skipped otherwise).
    #[arg(long)]
    retry_failed: bool,
    /// Remove each variant's result.vti and stress.vti once its metrics are recorded
    /// (DIR/runs/ then keeps only metrics.json): a large sweep's disk.
    #[arg(long)]
    drop_vti: bool,
    /// Write DIR/sweep.sbatch (a Slurm job array, one variant per task) and submit it
    /// with sbatch when present, instead of running here.
    #[arg(long)]
    slurm: bool,
    /// With --slurm: write the script and manifest, submit nothing.
    #[arg(long, requires = "slurm")]
    dry_run: bool,
    /// Slurm partition.
    #[arg(long, requires = "slurm")]
    partition: Option<String>,
    /// Slurm time limit per task, e.g. 00:30:00.
    #[arg(long, requires = "slurm")]
    time: Option<String>,
    /// Slurm account.
    #[arg(long, requires = "slurm")]
    account: Option<String>,
    /// Generic resources per task.
    #[arg(long, default_value = "gpu:1", requires = "slurm")]
    gres: String,
    /// Request no GPU gres (a cluster without GPU gres, or a CPU Vulkan adapter).
    #[arg(long, requires = "slurm")]
    no_gpu: bool,
    /// At most N array tasks at once.
    #[arg(long, value_name = "N", requires = "slurm")]
    max_parallel: Option<u32>,
    /// The voxfab binary the tasks run (default: this one).
    #[arg(long, value_name = "PATH", requires = "slurm")]
    voxfab: Option<PathBuf>,
    /// Export VAR=VALUE in each task before voxfab starts; repeatable.
    #[arg(long = "task-env", value_name = "VAR=VALUE", requires = "slurm")]
    task_env: Vec<String>,
    #[command(flatten)]
    plots: PlotArgs,
}

#[derive(Subcommand)]
enum SweepAction {
    /// Run one variant of the sweep in DIR (what each Slurm array task does).
    Run {
        /// The sweep directory (`--out` of the sweep).
        dir: PathBuf,
        /// The variant index ($SLURM_ARRAY_TASK_ID).
        #[arg(long, value_name = "N")]
        task: usize,
        /// Remove the run's result.vti and stress.vti once its metrics are recorded.
        #[arg(long)]
        drop_vti: bool,
    },
    /// Merge the finished variants into DIR/results.csv and list what is missing or failed.
    Collect {
        /// The sweep directory (`--out` of the sweep).
        dir: PathBuf,
        #[command(flatten)]
        plots: PlotArgs,
    },
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
    /// Board-level study of pitch-cell designs (each with a [board] table): global
    /// die-on-board model, submodels of the critical joints, and a comparison table.
    Compare {
        /// Pitch-cell scenes; relief ratios are against the first.
        #[arg(required = true, num_args = 1..)]
        scenes: Vec<PathBuf>,
        /// Override a value in every scene, e.g. `--set grid.voxel=4`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Output directory.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Size of each design's section picture, WIDTHxHEIGHT pixels.
        #[arg(long, default_value = "1200x800", value_parser = parse_size)]
        size: [u32; 2],
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
    /// Sweep a scene over --vary values: here on the GPU, or as a Slurm job array.
    Sweep(Box<SweepCmd>),
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
        /// coarsen (override with `--set`).
        #[arg(long = "stress-scene")]
        stress_scenes: Vec<String>,
        /// Grid edge in voxels (ops).
        #[arg(long, default_value_t = 256)]
        size: u32,
        /// Grid edges for the synthetic stress solves (n x n x n/2 each); without
        /// `--stress-scene` 16,32,64 by default, with it none.
        #[arg(long, value_delimiter = ',')]
        sizes: Vec<u32>,
        /// Stress: stop at this relative residual ...
        #[arg(long, default_value_t = 1e-8)]
        tol: f64,
        /// ... or after this many CG iterations.
        #[arg(long, default_value_t = 1000)]
        max_iterations: u32,
        /// Stress: coarse levels solved by two cycles (a W-cycle there); 0 = plain V-cycle.
        #[arg(long, default_value_t = voxfab::stress::multigrid::W_LEVELS)]
        w_levels: usize,
        /// Stress: Chebyshev degree of the smoother on the voxel level (1 halves its
        /// residual passes per cycle; coarse levels keep 2).
        #[arg(long, default_value_t = voxfab::stress::multigrid::FINE_DEGREE,
              value_parser = clap::value_parser!(u32).range(1..=2))]
        fine_degree: u32,
        /// Override a value of every scene (`flow`, `--stress-scene`), as `run --set`,
        /// e.g. `--set step.thermal_cycle.coarsen=3`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
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
        Command::Compare {
            scenes,
            set,
            out,
            size,
        } => {
            let mut loaded = Vec::new();
            for p in &scenes {
                match Scene::load(p, &set) {
                    Ok(s) => loaded.push(s),
                    Err(e) => return scene_error(&e),
                }
            }
            compare(&loaded, &out, size)
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
        Command::Sweep(cmd) => return sweep(*cmd),
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
            w_levels,
            fine_degree,
            set,
        } => match what.as_str() {
            "stress" => bench_stress(
                &sizes,
                &stress_scenes,
                &set,
                tol,
                max_iterations,
                voxfab::stress::multigrid::CycleShape {
                    w_levels,
                    fine_degree,
                },
            ),
            "flow" => bench_flow(&scenes, &set),
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

/// Lists at most 20 indices.
fn indices(v: &[usize]) -> String {
    let mut s: Vec<String> = v.iter().take(20).map(usize::to_string).collect();
    if v.len() > 20 {
        s.push(format!("... ({} more)", v.len() - 20));
    }
    s.join(" ")
}

fn sweep(cmd: SweepCmd) -> ExitCode {
    use voxfab::sweep::{self, SweepError};
    let fail = |e: &dyn std::fmt::Display, code: u8| {
        eprintln!("error: {e}");
        ExitCode::from(code)
    };
    match cmd.action {
        Some(SweepAction::Run {
            dir,
            task,
            drop_vti,
        }) => match sweep::run_task(&dir, task, drop_vti) {
            Ok(r) if r.status == sweep::Status::Ok => {
                eprintln!("variant {task}: ok ({:.1} s)", r.wall_s);
                ExitCode::SUCCESS
            }
            Ok(r) => fail(
                &format!(
                    "variant {task} {}: {}",
                    r.status.name(),
                    r.error.unwrap_or_default()
                ),
                1,
            ),
            Err(e) => fail(&e, 1),
        },
        Some(SweepAction::Collect { dir, plots }) => {
            match sweep::read_manifest(&dir).and_then(|m| collect(&dir, &m, &plots)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e, 1),
            }
        }
        None => {
            let (Some(scene), Some(out)) = (cmd.scene, cmd.out) else {
                return fail(&"a sweep needs SCENE and --out DIR", 2);
            };
            let varies: Result<Vec<_>, _> = cmd
                .vary
                .iter()
                .map(|a| sweep::plan::parse_vary(a))
                .collect();
            let varies = match varies {
                Ok(v) => v,
                Err(e) => return fail(&e, 2),
            };
            let spec = sweep::SweepSpec {
                scene,
                set: cmd.set,
                varies,
                lhs: cmd.lhs.map(|n| (n as usize, cmd.seed.unwrap_or(1))),
                gpu_memory_mib: cmd.budget.mib,
            };
            let m = match sweep::plan(&spec) {
                Ok(m) => m,
                Err(e @ (SweepError::Plan(_) | SweepError::Scene { .. })) => return fail(&e, 2),
                Err(e) => return fail(&e, 1),
            };
            let refused: Vec<_> = m.variants.iter().filter(|v| v.invalid.is_some()).collect();
            for v in &refused {
                eprintln!(
                    "variant {} ({}) refused: {}",
                    v.index,
                    v.describe(&m),
                    v.invalid.as_deref().unwrap_or_default()
                );
            }
            for g in sweep::same_resolution(&m) {
                eprintln!(
                    "note: variants {} voxelise identically ({})",
                    indices(&g),
                    m.variants[g[0]].resolution_key().join(", ")
                );
            }
            if refused.len() == m.variants.len() {
                return fail(&"the scene check refused every variant", 2);
            }
            let dir = match std::path::absolute(&out) {
                Ok(d) => d,
                Err(e) => return fail(&format!("{}: {e}", out.display()), 1),
            };
            if let Err(e) = sweep::prepare(&dir, &m) {
                return fail(&e, 1);
            }
            eprintln!(
                "{}: {} variants ({}), {} refused",
                dir.display(),
                m.variants.len(),
                m.sampling,
                refused.len()
            );
            let result = if cmd.slurm {
                let voxfab = cmd
                    .voxfab
                    .or_else(|| std::env::current_exe().ok())
                    .unwrap_or_else(|| PathBuf::from("voxfab"));
                let mut opts = sweep::slurm::SlurmOptions::new(voxfab);
                opts.gres = (!cmd.no_gpu).then_some(cmd.gres);
                opts.partition = cmd.partition;
                opts.time = cmd.time;
                opts.account = cmd.account;
                opts.max_parallel = cmd.max_parallel;
                opts.drop_vti = cmd.drop_vti;
                for kv in &cmd.task_env {
                    match kv.split_once('=') {
                        Some((k, v)) => opts.env.push((k.to_string(), v.to_string())),
                        None => return fail(&format!("--task-env {kv:?}: expected VAR=VALUE"), 2),
                    }
                }
                if !cmd.plots.plot.is_empty() || !cmd.plots.heatmap.is_empty() {
                    eprintln!(
                        "note: plot once the job is done: voxfab sweep collect {} --plot ...",
                        dir.display()
                    );
                }
                slurm(&dir, &m, &opts, cmd.dry_run)
            } else {
                local(&dir, &m, cmd.retry_failed, cmd.drop_vti, &cmd.plots)
            };
            match result {
                Ok(code) => code,
                Err(e) => fail(&e, 1),
            }
        }
    }
}

fn slurm(
    dir: &std::path::Path,
    m: &voxfab::sweep::Manifest,
    opts: &voxfab::sweep::slurm::SlurmOptions,
    dry_run: bool,
) -> Result<ExitCode, voxfab::sweep::SweepError> {
    use voxfab::sweep::slurm;
    let (script, tasks) = slurm::write_script(dir, m, opts)?;
    eprintln!("wrote {} ({tasks} array tasks)", script.display());
    if dry_run {
        eprintln!("dry run: submit with `sbatch {}`", script.display());
        return Ok(ExitCode::SUCCESS);
    }
    match slurm::find_sbatch() {
        Some(sbatch) => {
            let id = slurm::submit(&sbatch, dir)?;
            println!("{id}");
            eprintln!(
                "submitted job {id}; when it is done: voxfab sweep collect {}",
                dir.display()
            );
        }
        None => eprintln!(
            "no sbatch on PATH: submit with `sbatch {}` on the cluster",
            script.display()
        ),
    }
    Ok(ExitCode::SUCCESS)
}

fn local(
    dir: &std::path::Path,
    m: &voxfab::sweep::Manifest,
    retry_failed: bool,
    drop_vti: bool,
    plots: &PlotArgs,
) -> Result<ExitCode, voxfab::sweep::SweepError> {
    use voxfab::sweep::{SweepError, local};
    let gpu = GpuContext::new().map_err(|e| SweepError::Other(format!("no GPU: {e}")))?;
    eprintln!("adapter: {gpu}");
    let s = local::run_local(
        &gpu,
        dir,
        m,
        &local::LocalOptions {
            retry_failed,
            progress: true,
            drop_vti,
        },
    )?;
    eprintln!(
        "ran {} variants in {:.1} s ({} failed), skipped {} finished earlier",
        s.ran_ok.len() + s.ran_failed.len(),
        s.wall_s,
        s.ran_failed.len(),
        s.skipped.len()
    );
    collect(dir, m, plots)?;
    let c = voxfab::sweep::collect::collect(dir, m);
    Ok(
        if c.failed.is_empty() && c.invalid.is_empty() && c.missing.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        },
    )
}

fn collect(
    dir: &std::path::Path,
    m: &voxfab::sweep::Manifest,
    plots: &PlotArgs,
) -> Result<(), voxfab::sweep::SweepError> {
    use voxfab::sweep::{collect, plots as p};
    let c = collect::write(dir, m)?;
    eprintln!(
        "wrote {} ({} rows): {} ok",
        dir.join("results.csv").display(),
        c.table.rows.len(),
        c.ok.len()
    );
    for (what, v) in [
        ("failed", &c.failed),
        ("invalid", &c.invalid),
        ("missing", &c.missing),
    ] {
        if !v.is_empty() {
            eprintln!("  {} {what}: {}", v.len(), indices(v));
        }
    }
    for metric in &plots.plot {
        let path = p::line(
            dir,
            m,
            &c.table,
            metric,
            plots.x.as_deref(),
            plots.by.as_deref(),
        )?;
        eprintln!("wrote {}", path.display());
    }
    for metric in &plots.heatmap {
        let path = p::heat(
            dir,
            m,
            &c.table,
            metric,
            plots.x.as_deref(),
            plots.y.as_deref(),
        )?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
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

fn compare(scenes: &[Scene], out: &std::path::Path, size: [u32; 2]) -> anyhow::Result<()> {
    let gpu = GpuContext::new()?;
    eprintln!("adapter: {gpu}");
    let start = std::time::Instant::now();
    let c = voxfab::board::compare(&gpu, scenes, out, size, true)?;
    for s in &c.studies {
        eprintln!(
            "{}: global {}x{}x{} at {} µm ({} it), cell {}x{}x{} at {} µm, column E {:.2} GPa ν {:.3} CTE {:.1}, {:.0} s",
            s.name,
            s.global.dims[0],
            s.global.dims[1],
            s.global.dims[2],
            s.global.voxel_um,
            s.global.iterations,
            s.cell_dims[0],
            s.cell_dims[1],
            s.cell_dims[2],
            s.cell_voxel_um,
            s.calibration.e_gpa,
            s.calibration.nu,
            s.calibration.cte_ppm,
            s.seconds
        );
        for l in &s.local {
            eprintln!(
                "  {:<7} DNP {:>6.0} µm  die-side vM {:>7.2}  board-side vM {:>7.2} MPa  solder shift {:.3} µm (global interconnect {:.3})  joint force local/global {:.2} (vector error {:.0} %)",
                l.site,
                l.dnp_um,
                l.figures.die_side.von_mises_mpa,
                l.figures.board_side.von_mises_mpa,
                l.figures.pad_shift_um,
                l.global_pad_shift_um,
                l.shear_force_ratio,
                l.force_error * 100.0
            );
        }
    }
    eprintln!(
        "wrote {} files to {} ({:.0} s)",
        c.files.len(),
        out.display(),
        start.elapsed().as_secs_f64()
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
        "largest grid: {} voxels (4 bytes each per field, in up to {} windows of one binding)",
        voxfab::grid::max_field_bytes(&gpu) / voxfab::grid::BYTES_PER_VOXEL,
        voxfab::grid::most_field_windows(l),
    );
    // The stress solver binds its node vectors in windows of one binding, in buffers of
    // whole windows past the buffer limit.
    let windows = voxfab::stress::StressKernels::most_windows(l);
    let vector = voxfab::stress::StressSolver::vector_reach(
        gpu.max_binding_bytes(),
        l.max_buffer_size,
        windows,
    );
    println!(
        "stress node vectors: up to {windows} windows of one binding, {} MiB ({:.1} M nodes at \
         f64), in buffers of at most {} MiB",
        vector >> 20,
        vector as f64 / 24.0 / 1e6,
        l.max_buffer_size >> 20
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
    set: &[String],
    tol: f64,
    max_iterations: u32,
    shape: voxfab::stress::multigrid::CycleShape,
) -> anyhow::Result<()> {
    let gpu = GpuContext::new()?;
    println!("adapter: {gpu}");
    println!(
        "outer iteration: {}; tol {tol:.0e}; cycle: {}; Chebyshev degree {} on the voxels, 2 on coarse levels",
        if gpu.has_f64() {
            "f64"
        } else {
            "f32 (no SHADER_F64)"
        },
        match shape.w_levels {
            0 => "V".to_string(),
            1 => "two coarse cycles on level 1, V below".to_string(),
            w => format!("two coarse cycles on levels 1-{w}, V below"),
        },
        shape.fine_degree
    );
    println!(
        "{:<26} {:>12} {:>9} {:>3} {:>9} {:>6} {:>9} {:>10} {:>9} {:>9} {:>8} {:>10} {:>7} {:>5}",
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
        "cycle ms",
        "matvec-eq",
        "B/node",
        "own%"
    );
    let print = |r: &voxfab::bench::StressBenchRow| {
        println!(
            "{:<26} {:>12} {:>9} {:>3} {:>9.0} {:>6} {:>9.1e} {:>10.0} {:>9.1} {:>9.2} {:>8.2} {:>10.1} {:>7.0} {:>5.1}{}",
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
            r.own_matrix_pct,
            if r.converged {
                ""
            } else {
                "  (stopped before tol)"
            }
        );
        // Each dispatch timed alone: their sum is near the cycle's ms, not equal.
        let sum: f64 = r.cycle_levels.iter().map(|c| c.resid_ms + c.other_ms).sum();
        for (l, c) in r.cycle_levels.iter().enumerate() {
            let ms = c.resid_ms + c.other_ms;
            println!(
                "    level {l} ({} nodes): {} residual passes {:.2} ms + {} other {:.2} ms = {:.2} ms per cycle ({:.0} %)",
                c.nodes,
                c.resid_passes,
                c.resid_ms,
                c.other_passes,
                c.other_ms,
                ms,
                100.0 * ms / sum.max(1e-9)
            );
        }
    };
    let defaults = [16, 32, 64];
    let sizes = if sizes.is_empty() && scenes.is_empty() {
        &defaults[..]
    } else {
        sizes
    };
    voxfab::bench::stress(&gpu, sizes, tol, max_iterations, shape, print)?;
    for path in scenes {
        let scene = Scene::load(std::path::Path::new(path), set)?;
        voxfab::bench::stress_scene(&gpu, &scene, path, shape, print)
            .map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    }
    Ok(())
}

fn bench_flow(scenes: &[String], set: &[String]) -> anyhow::Result<()> {
    let gpu = GpuContext::new()?;
    println!("adapter: {gpu}");
    for path in scenes {
        let scene = match Scene::load(std::path::Path::new(path), set) {
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
