//! `voxfab bench`: voxels per second of each process op on an n³ grid. Printed, never
//! asserted; timings are wall time around submit and completion.

use crate::gpu::GpuContext;
use crate::grid::GridError;
use crate::process::Processor;
use crate::scene::{
    DepositMode, EtchMode, EtchRate, GridSpec, GrindKeep, Mask, Op, PlanarTop, PlateMode, Shape,
    Side, Tone, Wire,
};
use crate::stress::multigrid::CycleShape;

pub struct BenchRow {
    pub op: String,
    pub ms: f64,
    pub mvox_per_s: f64,
    pub iterations: u32,
}

/// Times every op on a `n`³ grid with a layered, patterned structure, reporting each
/// row to `report` as soon as it is measured.
pub fn process_ops(
    gpu: &GpuContext,
    n: u32,
    mut report: impl FnMut(&BenchRow),
) -> Result<Vec<BenchRow>, GridError> {
    let spec = GridSpec {
        dims: [n; 3],
        voxel_um: 1.0,
    };
    let mut p = Processor::new(gpu, &spec)?;
    let s = f64::from(n);
    let masks = vec![Mask {
        name: "holes".into(),
        shapes: (0..4)
            .flat_map(|i| (0..4).map(move |j| (i, j)))
            .map(|(i, j)| Shape::Circle {
                center: [
                    (f64::from(i) + 0.5) * s / 4.0,
                    (f64::from(j) + 0.5) * s / 4.0,
                ],
                radius: s / 12.0,
            })
            .collect(),
        invert: false,
    }];
    let z = |f: f64| (s * f) as u32;
    let t = |f: f64| ((s * f) as u32).max(1);
    let ops = [
        (
            "substrate",
            Op::Substrate {
                material: 1,
                z0: 0,
                z1: z(0.25),
                mask: None,
            },
        ),
        (
            "deposit:directional",
            Op::Deposit {
                material: 2,
                mode: DepositMode::Directional { thickness: t(0.1) },
                mask: None,
            },
        ),
        (
            "deposit:planarize",
            Op::Deposit {
                material: 18,
                mode: DepositMode::Planarize {
                    top: PlanarTop::AboveHighest(t(0.05)),
                },
                mask: None,
            },
        ),
        (
            "pattern",
            Op::Pattern {
                material: 18,
                mask: 0,
                tone: Tone::Positive,
                taper: 0.0,
                ramp: None,
            },
        ),
        (
            "etch:anisotropic",
            Op::Etch {
                materials: vec![2],
                mode: EtchMode::Anisotropic { depth: None },
                mask: None,
            },
        ),
        (
            "etch:isotropic",
            Op::Etch {
                materials: vec![2],
                mode: EtchMode::Isotropic { distance: s * 0.04 },
                mask: None,
            },
        ),
        (
            "etch:isotropic (rates)",
            Op::Etch {
                materials: vec![2, 18],
                mode: EtchMode::Rates {
                    rates: vec![
                        EtchRate {
                            material: 2,
                            name: "film".into(),
                            voxels_per_min: 1.0,
                        },
                        EtchRate {
                            material: 18,
                            name: "resist".into(),
                            voxels_per_min: 0.05,
                        },
                    ],
                    time: Some(s * 0.02),
                },
                mask: None,
            },
        ),
        (
            "deposit:conformal",
            Op::Deposit {
                material: 5,
                mode: DepositMode::Conformal { thickness: t(0.02) },
                mask: None,
            },
        ),
        (
            "etch:strip",
            Op::Etch {
                materials: vec![18],
                mode: EtchMode::Strip,
                mask: None,
            },
        ),
        (
            "drill (8° taper)",
            Op::Drill {
                materials: vec![],
                mask: 0,
                from: Side::Top,
                depth: Some(z(0.2)),
                taper: 8f64.to_radians().tan(),
            },
        ),
        (
            "plate:fill",
            Op::Plate {
                material: 5,
                mode: PlateMode::Fill { top: None },
                seeds: vec![1, 2, 5],
                mask: Some(0),
            },
        ),
        (
            "plate:conformal",
            Op::Plate {
                material: 3,
                mode: PlateMode::Conformal { thickness: t(0.01) },
                seeds: vec![5],
                mask: None,
            },
        ),
        (
            "dispense",
            Op::Dispense {
                material: 11,
                mask: 0,
                top: PlanarTop::AboveHighest(t(0.02)),
            },
        ),
        (
            "ball",
            Op::Ball {
                material: 9,
                mask: 0,
                radius: s / 10.0,
                height: s / 8.0,
            },
        ),
        (
            "wirebond",
            Op::Wirebond {
                material: 22,
                wires: (0..4)
                    .map(|i| Wire {
                        from: [s * 0.2, s * (0.2 + 0.2 * f64::from(i))],
                        to: [s * 0.8, s * (0.2 + 0.2 * f64::from(i))],
                        loop_height: s * 0.05,
                    })
                    .collect(),
                radius: (s / 128.0).max(1.0),
            },
        ),
        (
            "dice",
            Op::Dice {
                materials: vec![],
                mask: 0,
                depth: Some(z(0.1)),
            },
        ),
        (
            "grind",
            Op::Grind {
                keep: GrindKeep::Below(z(0.6)),
            },
        ),
        ("flip", Op::Flip),
    ];
    let voxels = spec.voxels() as f64;
    let mut rows = Vec::new();
    for (name, op) in ops {
        let st = p.run(&op, &masks);
        let row = BenchRow {
            op: name.to_string(),
            ms: st.ms,
            mvox_per_s: voxels / (st.ms * 1e-3) / 1e6,
            iterations: st.iterations,
        };
        report(&row);
        rows.push(row);
    }
    Ok(rows)
}

/// One stress solve of `voxfab bench stress`.
#[derive(Debug, Clone)]
pub struct StressBenchRow {
    pub case: String,
    pub dims: [u32; 3],
    pub nodes: u64,
    /// Multigrid levels (finest = the voxels).
    pub levels: usize,
    /// Multigrid set-up (Galerkin products, bounds, coarsest inverse), ms.
    pub setup_ms: f64,
    pub iterations: u32,
    pub residual: f64,
    pub converged: bool,
    /// The whole solve (set-up, iterations, true-residual checks), ms.
    pub ms: f64,
    /// Iterations only, per iteration, ms.
    pub ms_per_iteration: f64,
    /// One fine-level matvec at the outer precision, ms.
    pub matvec_ms: f64,
    /// One preconditioner cycle, ms.
    pub vcycle_ms: f64,
    /// Where the cycle's time goes, per level (finest first).
    pub cycle_levels: Vec<crate::stress::multigrid::LevelCost>,
    /// GPU bytes the solve holds per fine node (all levels, outputs included).
    pub bytes_per_node: f64,
    /// Share of level-1 elements with a matrix of their own (not a uniform block), %.
    pub own_matrix_pct: f64,
    /// Outer iteration in f64.
    pub f64: bool,
}

impl StressBenchRow {
    /// Cost of one iteration in fine-level matvecs.
    pub fn matvec_equivalents(&self) -> f64 {
        self.ms_per_iteration / self.matvec_ms.max(1e-9)
    }
}

/// The figures of one finished solve (`solver` still holds its buffers).
pub fn stress_row(
    case: &str,
    solver: &crate::stress::StressSolver<'_>,
    r: &crate::stress::StressResult,
) -> StressBenchRow {
    let dims = solver.spec().dims;
    let nodes = dims.iter().map(|&d| u64::from(d) + 1).product::<u64>();
    let (matvec_ms, vcycle_ms, cycle_levels) = solver.profile(3);
    let st = &solver.stats;
    StressBenchRow {
        case: case.to_string(),
        dims,
        nodes,
        levels: st.levels.len(),
        setup_ms: st.setup_ms,
        iterations: r.iterations,
        residual: r.residual,
        converged: r.converged,
        ms: r.solve_ms,
        ms_per_iteration: (r.solve_ms - st.setup_ms).max(0.0) / f64::from(r.iterations.max(1)),
        matvec_ms,
        vcycle_ms,
        cycle_levels,
        bytes_per_node: st.bytes as f64 / nodes as f64,
        own_matrix_pct: st
            .levels
            .get(1)
            .zip(st.mixed.first())
            .map_or(0.0, |(e, &m)| {
                100.0 * m as f64 / e.iter().map(|&d| f64::from(d)).product::<f64>()
            }),
        f64: st.f64,
    }
}

/// Stress solves on n×n×n/2 grids: homogeneous silicon, and a layered package (silicon,
/// polyimide, copper pads, air) built with the process ops; each stops at `tol` or
/// `max_iterations`, with the cycle `shape` (the solver's default, or a variant to
/// compare).
pub fn stress(
    gpu: &GpuContext,
    sizes: &[u32],
    tol: f64,
    max_iterations: u32,
    shape: CycleShape,
    mut report: impl FnMut(&StressBenchRow),
) -> Result<Vec<StressBenchRow>, crate::stress::StressError> {
    use crate::materials::MaterialTable;
    use crate::stress::{BoundaryConditions, SolveOptions, StressSolver, Support, ThermalLoad};
    let table = MaterialTable::builtin();
    let id = |n: &str| table.id(n).expect("built-in material");
    let mut rows = Vec::new();
    for &n in sizes {
        let spec = GridSpec {
            dims: [n, n, (n / 2).max(2)],
            voxel_um: 1.0,
        };
        for case in ["homogeneous", "layered"] {
            let mut p = Processor::new(gpu, &spec)?;
            let nz = spec.dims[2];
            let masks = vec![Mask {
                name: "pads".into(),
                shapes: vec![Shape::Rect {
                    min: [f64::from(n) / 4.0, f64::from(n) / 4.0],
                    max: [f64::from(n) * 0.75, f64::from(n) * 0.75],
                }],
                invert: false,
            }];
            if case == "homogeneous" {
                p.run(
                    &Op::Substrate {
                        material: id("si"),
                        z0: 0,
                        z1: nz,
                        mask: None,
                    },
                    &masks,
                );
            } else {
                p.run(
                    &Op::Substrate {
                        material: id("si"),
                        z0: 0,
                        z1: nz / 2,
                        mask: None,
                    },
                    &masks,
                );
                let pi = Op::Deposit {
                    material: id("polyimide"),
                    mode: DepositMode::Directional {
                        thickness: (nz / 4).max(1),
                    },
                    mask: None,
                };
                p.run(&pi, &masks);
                let cu = Op::Deposit {
                    material: id("cu"),
                    mode: DepositMode::Directional {
                        thickness: (nz / 8).max(1),
                    },
                    mask: Some(0),
                };
                p.run(&cu, &masks);
            }
            let mut solver = StressSolver::new(gpu, p.grid(), &table)?;
            solver.set_cycle(shape);
            let r = solver.solve(
                &ThermalLoad { delta_t: -165.0 },
                &BoundaryConditions::new(Support::BottomRoller),
                &SolveOptions {
                    tol,
                    max_iterations,
                },
            )?;
            let row = stress_row(case, &solver, &r);
            report(&row);
            rows.push(row);
        }
    }
    Ok(rows)
}

/// The last stress step of `scene` (at its own coarsen, supports and tol), as a bench
/// row: the flow up to the step, then the engine's solve, timed and profiled (solved
/// again with the cycle `shape` when that is not the default).
pub fn stress_scene(
    gpu: &GpuContext,
    scene: &crate::scene::Scene,
    name: &str,
    shape: CycleShape,
    mut report: impl FnMut(&StressBenchRow),
) -> Result<Option<StressBenchRow>, Box<dyn std::error::Error + Send + Sync>> {
    use crate::engine::{Engine, check_budget};
    let Some((last, step, spec)) = scene
        .steps
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, s)| Some((i, s, s.kind.stress()?)))
    else {
        return Ok(None);
    };
    check_budget(gpu, scene, None, crate::budget::DEFAULT_GPU_MEMORY_MIB)?;
    // The flow up to the step (earlier stress steps change no voxel: skipped), then the
    // engine's solve with the step's own coarsen, supports, tol and iteration cap.
    let mut engine = Engine::new(gpu, scene)?;
    for s in scene.steps[..last]
        .iter()
        .filter(|s| s.kind.stress().is_none())
    {
        engine.run_step(scene, s)?;
    }
    let mut sv = engine.solve_stress(scene, step, spec)?;
    if shape != CycleShape::default() {
        let prescribed = crate::engine::stress::prescribed(gpu, &sv.grid, spec)?.0;
        sv.solver.set_cycle(shape);
        sv.result = sv.solver.solve_prescribed(
            &crate::stress::ThermalLoad {
                delta_t: spec.delta_t,
            },
            &spec.bc,
            &prescribed,
            &spec.options,
        )?;
    }
    let (solver, r) = (&sv.solver, &sv.result);
    let row = stress_row(&format!("{name} (coarsen {})", spec.coarsen), solver, r);
    report(&row);
    Ok(Some(row))
}
