//! The equivalent joint column: the global model resolves a joint with a few voxels,
//! so each design's interconnect (solder, pads, and whatever compliant structure it
//! has) becomes a column of one isotropic material whose shear and axial stiffness and
//! free thermal expansion are those of the design's pitch cell.
//!
//! Both the fine cell and a global-voxel cell of the same stack (die slab, column,
//! board slab) are loaded by rigid plates on their top and bottom cut faces: shear in
//! x and in y, axial, and ΔT with both plates held. The column's E is found by a secant
//! search on the shear stiffness for each trial ν, ν by bisection on the axial one
//! (both responses rise monotonically with E; the axial/shear ratio with ν), and its
//! CTE from the interconnect's free thermal elongation, which is affine in it. An
//! isotropic column cannot tell x from y: a design whose x and y shear stiffness differ
//! gets columns matched to the stiffness along each joint's radial direction.

use super::BoardError;
use super::cell::{self, CellGeometry};
use super::layout::{COLUMN_MATERIAL, Stack};
use crate::engine::Engine;
use crate::gpu::GpuContext;
use crate::grid::GpuGrid;
use crate::materials::{Material, MaterialTable};
use crate::scene::{BoardSpec, ColumnFit, Scene, StepKind};
use crate::stress::{SolveOptions, StressKernels};
use serde::Serialize;
use std::sync::Arc;

/// Plate displacement of the stiffness load cases, µm (the model is linear).
const DELTA: f64 = 0.1;

/// Angle bins (over 0–90°) of the radially matched columns of an anisotropic joint.
const RADIAL_BINS: u32 = 6;

/// Stiffness of a cell between its plates: mN per µm (= kN/m); the thermal force with
/// both plates held, mN.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CellStiffness {
    pub shear_x: f64,
    pub shear_y: f64,
    pub axial: f64,
    pub thermal_force: f64,
}

impl CellStiffness {
    pub fn shear(&self) -> f64 {
        0.5 * (self.shear_x + self.shear_y)
    }
}

/// The calibrated column and how well the global-voxel cell reproduces the fine one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    pub e_gpa: f64,
    pub nu: f64,
    pub cte_ppm: f64,
    /// The column's cross-section (x, y), µm, and which shear stiffness it matches.
    pub column_um: [f64; 2],
    /// Radial bins for an anisotropic joint: (upper bound of the joint's angle atan2(y,
    /// x) in degrees, column E in GPa); empty where one E serves every joint.
    pub radial: Vec<(f64, f64)>,
    pub fit: &'static str,
    /// The fine cell's response, and the global-voxel cell's with the column.
    pub local: CellStiffness,
    pub global: CellStiffness,
    /// Solves the search took.
    pub solves: u32,
}

/// A cell's plate load cases: x shear, y shear, axial, and (with `thermal`) ΔT with
/// both plates held.
#[allow(clippy::too_many_arguments)]
pub fn cell_response(
    gpu: &GpuContext,
    kernels: &Arc<StressKernels>,
    grid: &GpuGrid,
    materials: &MaterialTable,
    g: &CellGeometry,
    delta_t: f64,
    opts: &SolveOptions,
    thermal: bool,
    on_solve: &mut dyn FnMut(),
) -> Result<CellStiffness, crate::stress::StressError> {
    // Forces are read in the board slab, where every layer carries the whole load.
    let layers = [g.board_bottom, g.board_top];
    let mut f = |top: [f64; 3], dt: f64| -> Result<[f64; 3], crate::stress::StressError> {
        let r = cell::solve(
            gpu,
            kernels,
            grid,
            materials,
            dt,
            &cell::plates(g, top),
            opts,
        )?;
        on_solve();
        Ok(cell::layer_force(&r, layers, &|_| true))
    };
    let sx = f([DELTA, 0.0, 0.0], 0.0)?[0] / DELTA;
    let sy = f([0.0, DELTA, 0.0], 0.0)?[1] / DELTA;
    let ax = f([0.0, 0.0, DELTA], 0.0)?[2] / DELTA;
    let th = if thermal {
        f([0.0; 3], delta_t)?[2]
    } else {
        0.0
    };
    Ok(CellStiffness {
        shear_x: sx,
        shear_y: sy,
        axial: ax,
        thermal_force: th,
    })
}

/// The global-voxel calibration cell of `spec`'s stack: one pitch square, die slab,
/// the column at the centre, board slab, with slab and standoff heights of the fine
/// cell `g` rounded to global voxels.
pub fn global_cell(
    scene: &Scene,
    spec: &BoardSpec,
    g: &CellGeometry,
    column: Material,
    side: [f64; 2],
) -> Stack {
    let hg = spec.global_voxel;
    let round = |t: f64| ((t / hg).round().max(1.0)) * hg;
    let die_t = round(f64::from(g.die_top) * g.voxel);
    let standoff = round(g.standoff());
    let board_t = round(g.board_slab());
    let p = spec.pitch;
    Stack {
        title: format!("{}: global-voxel calibration cell", scene.title),
        size: [p, p, die_t + standoff + board_t],
        voxel: hg,
        die_rect: [0.0, 0.0, p, p],
        die_z: [0.0, die_t],
        columns: vec![[p / 2.0, p / 2.0]],
        column_side: side,
        column_z: [die_t, die_t + standoff],
        board_z: [die_t + standoff, die_t + standoff + board_t],
        die: scene.materials.get(spec.die_material).clone(),
        board: scene.materials.get(spec.board_material).clone(),
        column,
        extra: Vec::new(),
        column_material: Vec::new(),
        delta_t: 0.0,
        quarter: false,
        tol: 1e-9,
        max_iterations: 1000,
    }
}

/// Builds a generated stack's grid with the process engine; returns the scene too.
pub fn build(gpu: &GpuContext, stack: &Stack, file: &str) -> Result<(Scene, Engine), BoardError> {
    let text = stack.scene_text();
    let scene = Scene::parse(&text, file, &[]).map_err(|e| BoardError::Generated {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    let mut engine = Engine::new(gpu, &scene)?;
    for step in &scene.steps {
        if !matches!(step.kind, StepKind::Stress(_)) {
            engine.run_step(&scene, step)?;
        }
    }
    Ok((scene, engine))
}

fn with_column(table: &MaterialTable, e: f64, nu: f64, cte: f64) -> MaterialTable {
    let mut t = table.clone();
    let id = t
        .id(COLUMN_MATERIAL)
        .expect("generated scenes define the column");
    let mut m = t.get(id).clone();
    m.e_gpa = e;
    m.nu = nu;
    m.cte_ppm = cte;
    t.upsert(m);
    t
}

/// The global-voxel calibration cell with a column of `side` built, and the solves on
/// it for trial column materials.
struct Trial<'a> {
    gpu: &'a GpuContext,
    kernels: &'a Arc<StressKernels>,
    scene: Scene,
    engine: Engine,
    geometry: CellGeometry,
    delta_t: f64,
    solves: u32,
    trace: bool,
}

impl<'a> Trial<'a> {
    fn new(
        gpu: &'a GpuContext,
        kernels: &'a Arc<StressKernels>,
        stack: &Stack,
        delta_t: f64,
    ) -> Result<Self, BoardError> {
        let (scene, engine) = build(gpu, stack, "calibration_cell.toml")?;
        let grid = engine.part(0).grid();
        let geometry = CellGeometry {
            dims: grid.spec.dims,
            voxel: grid.spec.voxel_um,
            ids: grid.read_materials(gpu),
            die_top: (stack.die_z[1] / stack.voxel).round() as u32,
            board_bottom: (stack.board_z[0] / stack.voxel).round() as u32,
            board_top: (stack.board_z[1] / stack.voxel).round() as u32,
            solder: [0, 0],
        };
        Ok(Self {
            gpu,
            kernels,
            scene,
            engine,
            geometry,
            delta_t,
            solves: 0,
            // VOXFAB_BOARD_TRACE=1 prints every trial (calibration studies).
            trace: std::env::var_os("VOXFAB_BOARD_TRACE").is_some(),
        })
    }

    fn response(
        &mut self,
        e: f64,
        nu: f64,
        cte: f64,
        thermal: bool,
    ) -> Result<CellStiffness, BoardError> {
        let t = with_column(&self.scene.materials, e, nu, cte);
        let opts = SolveOptions {
            tol: 1e-9,
            max_iterations: 1000,
        };
        let mut n = 0;
        let r = cell_response(
            self.gpu,
            self.kernels,
            self.engine.part(0).grid(),
            &t,
            &self.geometry,
            self.delta_t,
            &opts,
            thermal,
            &mut || n += 1,
        )?;
        self.solves += n;
        if self.trace {
            eprintln!("  column E {e:.4} nu {nu:.4} cte {cte:.3}: {r:?}");
        }
        Ok(r)
    }

    /// E for a given ν that matches the mean shear stiffness: secant in log E.
    fn fit_e(
        &mut self,
        nu: f64,
        e0: f64,
        target: f64,
        cte: f64,
    ) -> Result<(f64, CellStiffness), BoardError> {
        let ra = self.response(e0, nu, cte, false)?;
        let mut a = (e0.ln(), (ra.shear() / target).ln());
        let e1 = e0 * (-a.1).exp().clamp(0.05, 20.0);
        let mut rb = self.response(e1, nu, cte, false)?;
        let mut b = (e1.ln(), (rb.shear() / target).ln());
        for _ in 0..12 {
            if b.1.abs() < 2e-4 || (b.1 - a.1).abs() < 1e-12 {
                break;
            }
            let next = (b.0 - b.1 * (b.0 - a.0) / (b.1 - a.1)).clamp(b.0 - 5.0, b.0 + 5.0);
            a = b;
            rb = self.response(next.exp(), nu, cte, false)?;
            b = (next, (rb.shear() / target).ln());
        }
        Ok((b.0.exp(), rb))
    }
}

/// Finds the column (cross-section and material) that makes the global-voxel cell
/// respond like `local`.
#[allow(clippy::too_many_arguments)]
pub fn calibrate(
    gpu: &GpuContext,
    kernels: &Arc<StressKernels>,
    scene: &Scene,
    spec: &BoardSpec,
    g: &CellGeometry,
    local: CellStiffness,
    delta_t: f64,
    solder: &Material,
) -> Result<Calibration, BoardError> {
    let column = column_for(solder, solder.e_gpa, solder.nu, solder.cte_ppm);
    let target = match spec.column_fit {
        ColumnFit::Mean => local.shear(),
        ColumnFit::X => local.shear_x,
        ColumnFit::Y => local.shear_y,
    };
    if !(target.is_finite() && target > 0.0 && local.axial > 0.0 && local.shear_y > 0.0) {
        return Err(BoardError::Calibration(format!(
            "the cell's plate stiffness is not positive (shear {target:.4e}, axial {:.4e} mN/µm): \
             its die and board slabs are not joined",
            local.axial
        )));
    }
    if std::env::var_os("VOXFAB_BOARD_TRACE").is_some() {
        eprintln!("calibration target: {local:?}");
    }
    let anisotropy = (local.shear_x / local.shear_y).ln();
    let side = [spec.column; 2];
    let mut t = Trial::new(
        gpu,
        kernels,
        &global_cell(scene, spec, g, column, side),
        delta_t,
    )?;
    // ν by bisection: a larger ν stiffens the axial response against the shear one.
    // Scene materials keep 0 ≤ ν < 0.5; where the design's axial/shear ratio lies
    // outside what an isotropic column of this section can give, the bound is kept and
    // the axial mismatch stays in the report (shear, the mismatch driver, is matched).
    let (mut lo, mut hi) = (0.0f64, 0.49f64);
    let mut nu = 0.3;
    let mut best = t.fit_e(nu, solder.e_gpa, target, solder.cte_ppm)?;
    let err = |r: &CellStiffness| (r.axial / local.axial).ln();
    for _ in 0..8 {
        let d = err(&best.1);
        if d.abs() < 2e-3 {
            break;
        }
        if d > 0.0 {
            hi = nu;
        } else {
            lo = nu;
        }
        nu = 0.5 * (lo + hi);
        best = t.fit_e(nu, best.0, target, solder.cte_ppm)?;
    }
    let e = best.0;
    // CTE: the interconnect's free thermal elongation (held-plate force over axial
    // stiffness, which an isotropic column may not match) is affine in the column's CTE.
    let f0 = t.response(e, nu, 0.0, true)?;
    let f1 = t.response(e, nu, solder.cte_ppm, true)?;
    let free = |r: &CellStiffness| r.thermal_force / r.axial;
    let slope = (free(&f1) - free(&f0)) / solder.cte_ppm;
    let cte = if slope.abs() > 0.0 {
        (free(&local) - free(&f0)) / slope
    } else {
        solder.cte_ppm
    };
    let global = t.response(e, nu, cte, true)?;
    // An isotropic column cannot tell x from y. The die/board mismatch loads a joint
    // along its radial direction θ, where a joint stiffer in x than in y presents
    // kx cos²θ + ky sin²θ; a design whose x and y shear stiffness differ by more than
    // 10 % gets columns matched to that, in bins of θ.
    let mut radial = Vec::new();
    if anisotropy.abs() > 0.1 && spec.column_fit == ColumnFit::Mean {
        let mut e_prev = e;
        for b in 0..RADIAL_BINS {
            let hi = 90.0 * f64::from(b + 1) / f64::from(RADIAL_BINS);
            let mid = (hi - 45.0 / f64::from(RADIAL_BINS)).to_radians();
            let k = local.shear_x * mid.cos().powi(2) + local.shear_y * mid.sin().powi(2);
            let (eb, _) = t.fit_e(nu, e_prev, k, cte)?;
            e_prev = eb;
            radial.push((hi, eb));
        }
    }
    Ok(Calibration {
        radial,
        e_gpa: e,
        nu,
        cte_ppm: cte,
        column_um: side,
        fit: spec.column_fit.name(),
        local,
        global,
        solves: t.solves,
    })
}

/// The calibrated column as a scene material.
pub fn column_material(solder: &Material, c: &Calibration) -> Material {
    column_for(solder, c.e_gpa, c.nu, c.cte_ppm)
}

/// The equivalent column material (named for the generated scenes) with these values.
fn column_for(solder: &Material, e_gpa: f64, nu: f64, cte_ppm: f64) -> Material {
    Material {
        name: COLUMN_MATERIAL.into(),
        description: "equivalent joint column (calibrated)".into(),
        e_gpa,
        nu,
        cte_ppm,
        color: [196, 160, 80],
        ..solder.clone()
    }
}
