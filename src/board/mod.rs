//! The board-level study of a design (issue: global–local die-on-board model): a
//! pitch cell scene with a `[board]` table is processed at its own voxel; its
//! interconnect is calibrated into an equivalent column; a quarter global model of the
//! die on the board is solved with those columns; and the fine cell is solved again as
//! a submodel at the critical joints, its cut faces driven by the global displacement.
//! See docs/BOARD.md for the method, its checks and its limits.

pub mod calibrate;
pub mod cell;
mod compare;
pub mod global;
pub mod layout;
pub mod local;
pub mod report;

use crate::engine::{Engine, RunError, stress_grid};
use crate::gpu::GpuContext;
use crate::grid::{GpuGrid, GridError};
use crate::scene::{BoardSpec, Scene, StepKind, StressSpec};
use crate::stress::{StressError, StressResult};
use calibrate::Calibration;
use cell::CellGeometry;
pub use compare::{Comparison, compare};
use global::JointResult;
use local::{GlobalField, JointFigures};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    #[error(
        "{file}: the scene has no [board] table: `voxfab compare` needs a pitch cell with one (see docs/BOARD.md)"
    )]
    NoBoard { file: String },
    #[error(
        "{file}: the scene has no stress step: its load (ΔT) and stopping rule set the study's"
    )]
    NoLoad { file: String },
    #[error("{file}:{line}: [board]: {message}")]
    Cell {
        file: String,
        line: usize,
        message: String,
    },
    #[error("generated {file} is invalid (a voxfab bug): {message}")]
    Generated { file: String, message: String },
    #[error("calibration of the equivalent column failed: {0}")]
    Calibration(String),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Grid(#[from] GridError),
    #[error("{what}: {source}")]
    Stress {
        what: String,
        source: Box<StressError>,
    },
    #[error(transparent)]
    Write(#[from] crate::output::WriteError),
    #[error("plot: {0}")]
    Plot(String),
}

impl From<StressError> for BoardError {
    fn from(source: StressError) -> Self {
        BoardError::Stress {
            what: "stress solve".into(),
            source: Box::new(source),
        }
    }
}

/// Solve figures of one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SolveSummary {
    pub dims: [u32; 3],
    pub voxel_um: f64,
    pub iterations: u32,
    pub residual: f64,
    pub converged: bool,
    pub seconds: f64,
}

impl SolveSummary {
    fn of(r: &StressResult) -> Self {
        Self {
            dims: r.dims,
            voxel_um: r.voxel_um,
            iterations: r.iterations,
            residual: r.residual,
            converged: r.converged,
            seconds: r.ms / 1e3,
        }
    }
}

/// The submodel at one critical joint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocalResult {
    /// `corner`, `x_edge` or `y_edge`, with `_mx`, `_my` or `_mxy` where the design
    /// is placed mirrored (at the die's -x, -y or -x-y side).
    pub site: String,
    pub index: [u32; 2],
    pub centre_um: [f64; 2],
    pub dnp_um: f64,
    pub figures: JointFigures,
    /// The global model's force through this joint, mN; |F_local| / |F_global| of the
    /// in-plane (shear) part; and |F_local − F_global| / |F_global| of the whole force
    /// vector (the column calibration check: within ~5 %). The axial part alone is no
    /// measure: at edge joints it nearly vanishes.
    pub global_force_mn: [f64; 3],
    pub shear_force_ratio: f64,
    pub force_error: f64,
    /// The global model's relative pad displacement at this joint, µm.
    pub global_pad_shift_um: f64,
    pub prescribed_nodes: u64,
    pub solve: SolveSummary,
}

/// Everything the study of one design found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesignStudy {
    pub name: String,
    pub file: String,
    pub title: String,
    pub delta_t: f64,
    pub cell_voxel_um: f64,
    pub cell_dims: [u32; 3],
    /// Die and board slab thicknesses in the cell and its interconnect height, µm.
    pub cell_die_um: f64,
    pub cell_board_um: f64,
    pub standoff_um: f64,
    pub global_standoff_um: f64,
    pub pitch_um: f64,
    pub joints: [u32; 2],
    pub die_um: [f64; 2],
    pub calibration: Calibration,
    pub global: SolveSummary,
    pub global_joints: Vec<JointResult>,
    pub local: Vec<LocalResult>,
    pub seconds: f64,
}

impl DesignStudy {
    /// The worst corner placement (largest critical-layer von Mises): an oriented
    /// design sits differently at the four die corners.
    pub fn corner(&self) -> Option<&LocalResult> {
        self.local
            .iter()
            .filter(|l| l.site.starts_with("corner"))
            .max_by(|a, b| report::critical_layer(a).total_cmp(&report::critical_layer(b)))
    }
}

/// What the front end sees of the study's progress: a stage name per call.
pub type Progress<'a> = &'a mut dyn FnMut(&str);

/// The corner submodel's grid and von Mises field, kept for the side-by-side picture.
pub struct CornerView {
    pub grid: GpuGrid,
    pub result: StressResult,
}

/// Runs the study of one design: cell, calibration, global model, submodels. The
/// generated global scene is written to `dir` (so it can be run or viewed alone).
pub fn study(
    gpu: &GpuContext,
    scene: &Scene,
    dir: &Path,
    progress: Progress,
) -> Result<(DesignStudy, Option<CornerView>), BoardError> {
    let start = Instant::now();
    let spec = scene.board.clone().ok_or_else(|| BoardError::NoBoard {
        file: scene.file.clone(),
    })?;
    let (load_step, load) = load_step(scene).ok_or_else(|| BoardError::NoLoad {
        file: scene.file.clone(),
    })?;
    let load = load.clone();
    progress("cell: process steps");
    let mut engine = Engine::new(gpu, scene)?;
    for step in &scene.steps {
        if !matches!(step.kind, StepKind::Stress(_)) {
            engine.run_step(scene, step)?;
        }
    }
    let kernels = engine
        .stress_kernels()
        .map_err(|e| RunError::stress(scene, load_step, e))?;
    let grid = stress_grid(gpu, engine.part(load_step.part).grid(), &load)
        .map_err(|e| RunError::stress(scene, load_step, e))?;
    let h = grid.spec.voxel_um;
    let ratio = spec.global_voxel / h;
    if (ratio - ratio.round()).abs() > 1e-6 {
        return Err(BoardError::Cell {
            file: scene.file.clone(),
            line: spec.line,
            message: format!(
                "global_voxel {} µm is not a whole multiple of the solve's voxel {h} µm (coarsen {})",
                spec.global_voxel, load.coarsen
            ),
        });
    }
    let ids = grid.read_materials(gpu);
    let g = CellGeometry::measure(scene, &spec, grid.spec.dims, h, ids)?;
    let stress_err = |what: &str| {
        let what = what.to_string();
        move |e: StressError| BoardError::Stress {
            what: format!("{}: {what}", scene.file),
            source: Box::new(e),
        }
    };

    progress("cell: plate load cases");
    let local_k = calibrate::cell_response(
        gpu,
        &kernels,
        &grid,
        &scene.materials,
        &g,
        load.delta_t,
        &load.options,
        true,
        &mut || {},
    )
    .map_err(stress_err("calibration load cases of the cell"))?;
    progress("calibrating the equivalent column");
    let solder = scene.materials.get(spec.solder).clone();
    let cal = calibrate::calibrate(
        gpu,
        &kernels,
        scene,
        &spec,
        &g,
        local_k,
        load.delta_t,
        &solder,
    )?;

    progress("global model");
    let column = calibrate::column_material(&solder, &cal);
    let st = global::stack(
        scene,
        &spec,
        g.standoff(),
        column,
        cal.column_um,
        &cal.radial,
        &load,
    );
    let global_file = dir.join("global.toml");
    let text = st.scene_text();
    crate::output::write_atomic(&global_file, |w| w.write_all(text.as_bytes()))?;
    let (gs, gengine) = calibrate::build(gpu, &st, &global_file.display().to_string())?;
    let gstep = gs
        .steps
        .last()
        .expect("generated scenes end with their stress step");
    let gspec = gstep
        .kind
        .stress()
        .expect("the last generated step is the stress step")
        .clone();
    let gsolved = gengine.solve_stress(&gs, gstep, &gspec)?;
    let gr = &gsolved.result;
    let joints = global::joints(&spec, &st, &global::column_ids(&gs), gr);
    report::write_joints_csv(&dir.join("joints.csv"), &joints)?;
    let field = GlobalField {
        r: gr,
        voxel: st.voxel,
    };

    let mut local = Vec::new();
    let mut corner_view = None;
    // A design that is not mirror-symmetric in x (a cantilever pointing one way) sits
    // differently at the die's +x and -x edges; the quarter model's mirror images give
    // the global field there, so each such placement is a submodel of its own.
    let (sym_x, sym_y) = (g.mirror_symmetric(0), g.mirror_symmetric(1));
    let mut placements = vec![(1.0, 1.0, "")];
    if !sym_x {
        placements.push((-1.0, 1.0, "_mx"));
    }
    if !sym_y {
        placements.push((1.0, -1.0, "_my"));
    }
    if !sym_x && !sym_y {
        placements.push((-1.0, -1.0, "_mxy"));
    }
    for (base, quarter_site) in spec.critical() {
        for &(mx, my, suffix) in &placements {
            let name = format!("{base}{suffix}");
            let site = crate::scene::JointSite {
                index: quarter_site.index,
                centre: [mx * quarter_site.centre[0], my * quarter_site.centre[1]],
            };
            progress(&format!("local model: {name} joint"));
            let bc = local::cut_faces(&g, &spec, &st, &site, &field);
            let r = cell::solve(
                gpu,
                &kernels,
                &grid,
                &scene.materials,
                load.delta_t,
                &bc,
                &load.options,
            )
            .map_err(stress_err(&format!("local model at the {name} joint")))?;
            let figures = local::figures(&g, &spec, &scene.materials, &r);
            let gj = joints
                .iter()
                .find(|j| j.index == site.index)
                .expect("critical joints are sites");
            // The mirrored joint carries the mirrored force.
            let gf = [mx * gj.force_mn[0], my * gj.force_mn[1], gj.force_mn[2]];
            let ratio = |a: f64, b: f64| if b.abs() > 0.0 { a / b } else { f64::NAN };
            let f = figures.force_mn;
            local.push(LocalResult {
                site: name.clone(),
                index: site.index,
                centre_um: site.centre,
                dnp_um: site.dnp(),
                shear_force_ratio: ratio(f[0].hypot(f[1]), gf[0].hypot(gf[1])),
                force_error: ratio(
                    (0..3).map(|a| (f[a] - gf[a]).powi(2)).sum::<f64>().sqrt(),
                    gf.iter().map(|v| v * v).sum::<f64>().sqrt(),
                ),
                global_force_mn: gf,
                global_pad_shift_um: gj.pad_shift_um,
                prescribed_nodes: bc.len() as u64,
                solve: SolveSummary::of(&r),
                figures,
            });
            // The picture shows the worst corner placement.
            if base == "corner" {
                let crit = report::critical_layer(local.last().expect("just pushed"));
                if corner_view.as_ref().is_none_or(|(c, _)| crit > *c) {
                    corner_view = Some((crit, r));
                }
            }
        }
    }
    let corner_view = corner_view.map(|(_, result)| CornerView { grid, result });
    let study = DesignStudy {
        name: crate::output::file_stem(
            Path::new(&scene.file)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("design"),
        ),
        file: scene.file.clone(),
        title: scene.title.clone(),
        delta_t: load.delta_t,
        cell_voxel_um: h,
        cell_dims: g.dims,
        cell_die_um: f64::from(g.die_top) * h,
        cell_board_um: g.board_slab(),
        standoff_um: g.standoff(),
        global_standoff_um: st.column_z[1] - st.column_z[0],
        pitch_um: spec.pitch,
        joints: spec.joints,
        die_um: spec.die,
        calibration: cal,
        global: SolveSummary::of(gr),
        global_joints: joints,
        local,
        seconds: start.elapsed().as_secs_f64(),
    };
    Ok((study, corner_view))
}

/// The load of a study: the scene's last stress step and its options.
pub fn load_step(scene: &Scene) -> Option<(&crate::scene::Step, &StressSpec)> {
    scene
        .steps
        .iter()
        .rev()
        .find_map(|s| s.kind.stress().map(|l| (s, l)))
}

/// The spec of a scene's study, or the error `compare` reports.
pub fn spec(scene: &Scene) -> Result<&BoardSpec, BoardError> {
    scene.board.as_ref().ok_or_else(|| BoardError::NoBoard {
        file: scene.file.clone(),
    })
}

/// The figures a sweep tabulates for one design: the worst corner placement's solder
/// layers, its critical layer, the solder shift, the force check, the column and the
/// solves (flat, so every value becomes a column of results.csv).
pub fn summary(s: &DesignStudy) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    if let Some(c) = s.corner() {
        let f = &c.figures;
        for (k, v) in [
            ("corner_dnp_um", c.dnp_um),
            (
                "corner_critical_layer_von_mises_mpa",
                report::critical_layer(c),
            ),
            ("corner_die_side_von_mises_mpa", f.die_side.von_mises_mpa),
            ("corner_die_side_shear_mpa", f.die_side.shear_mpa),
            ("corner_die_side_peel_mpa", f.die_side.peel_mpa),
            (
                "corner_board_side_von_mises_mpa",
                f.board_side.von_mises_mpa,
            ),
            ("corner_board_side_shear_mpa", f.board_side.shear_mpa),
            ("corner_board_side_peel_mpa", f.board_side.peel_mpa),
            ("corner_solder_shift_um", f.pad_shift_um),
            ("corner_force_error", c.force_error),
        ] {
            m.insert(k.into(), serde_json::json!(v));
        }
        m.insert("corner_site".into(), serde_json::json!(c.site));
    }
    let worst = s
        .local
        .iter()
        .max_by(|a, b| report::critical_layer(a).total_cmp(&report::critical_layer(b)));
    if let Some(w) = worst {
        m.insert("worst_joint".into(), serde_json::json!(w.site));
        m.insert(
            "worst_critical_layer_von_mises_mpa".into(),
            serde_json::json!(report::critical_layer(w)),
        );
    }
    let c = &s.calibration;
    for (k, v) in [
        ("column_e_gpa", c.e_gpa),
        ("column_nu", c.nu),
        ("column_cte_ppm", c.cte_ppm),
        ("global_iterations", f64::from(s.global.iterations)),
        ("global_residual", s.global.residual),
        ("study_s", s.seconds),
    ] {
        m.insert(k.into(), serde_json::json!(v));
    }
    serde_json::Value::Object(m)
}
