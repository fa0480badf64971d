//! `voxfab bench`: voxels per second of each process op on an n³ grid. Printed, never
//! asserted; timings are wall time around submit and completion.

use crate::gpu::GpuContext;
use crate::grid::GridError;
use crate::process::Processor;
use crate::scene::{DepositMode, EtchMode, GridSpec, Mask, Op, PlanarTop, Shape, Tone};

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

/// Estimated bytes moved per node per CG iteration: each of the solver's 15 node
/// fields (u, r, s, q, w in x, y, z) is read or written about 1.5 times per iteration,
/// plus the material id of the node's voxel (a count, not a measurement).
pub const STRESS_BYTES_PER_NODE_ITERATION: f64 = 15.0 * 4.0 * 1.5 + 4.0;

pub struct StressBenchRow {
    pub case: String,
    pub dims: [u32; 3],
    pub nodes: u64,
    pub iterations: u32,
    pub residual: f64,
    pub converged: bool,
    pub ms: f64,
    /// Node-iterations per second, millions.
    pub mnode_iter_per_s: f64,
    /// Estimated memory traffic, GB/s.
    pub gbps: f64,
}

/// Stress solves on n×n×n/2 grids: homogeneous silicon, and a layered package (silicon,
/// polyimide, copper pads, air) built with the process ops; each stops at `tol` or
/// `max_iterations`.
pub fn stress(
    gpu: &GpuContext,
    sizes: &[u32],
    tol: f64,
    max_iterations: u32,
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
            let r = solver.solve(
                &ThermalLoad { delta_t: -165.0 },
                &BoundaryConditions::new(Support::BottomRoller),
                &SolveOptions {
                    tol,
                    max_iterations,
                },
            )?;
            let nodes = spec.dims.iter().map(|&d| u64::from(d) + 1).product::<u64>();
            let node_iters = nodes as f64 * f64::from(r.iterations);
            let secs = (r.solve_ms * 1e-3).max(1e-9);
            let row = StressBenchRow {
                case: case.to_string(),
                dims: spec.dims,
                nodes,
                iterations: r.iterations,
                residual: r.residual,
                converged: r.converged,
                ms: r.solve_ms,
                mnode_iter_per_s: node_iters / secs / 1e6,
                gbps: node_iters * STRESS_BYTES_PER_NODE_ITERATION / secs / 1e9,
            };
            report(&row);
            rows.push(row);
        }
    }
    Ok(rows)
}
