//! The one stress solve of a scene's stress step, for runs, benches and the window's
//! worker thread alike: coarsen, build a solver from the shared kernels, solve with
//! the step's ΔT, supports, symmetry, tolerance and iteration cap.

use crate::gpu::GpuContext;
use crate::grid::GpuGrid;
use crate::materials::MaterialTable;
use crate::scene::StressSpec;
use crate::stress::{
    Prescribed, StressError, StressKernels, StressResult, StressSolver, ThermalLoad, coarsen,
};
use std::sync::Arc;

/// A finished solve with the grid it ran on (the frame and field views draw it).
pub struct Solved<'g> {
    /// The solve's own copy of the part (coarsened by `coarsen`), so later steps may
    /// change the part while frames and outputs still show what was solved.
    pub grid: GpuGrid,
    pub solver: StressSolver<'g>,
    pub result: StressResult,
    pub delta_t: f64,
    pub coarsen: u32,
    /// Solid nodes each `displace` entry holds on the solve grid.
    pub displaced_nodes: Vec<u64>,
}

/// The solve's own copy of `grid`, coarsened by `spec.coarsen` (1: a plain copy). The
/// copy is queued at once, so the caller may change `grid` right after.
pub fn stress_grid(
    gpu: &GpuContext,
    grid: &GpuGrid,
    spec: &StressSpec,
) -> Result<GpuGrid, StressError> {
    Ok(coarsen::coarsen(gpu, grid, spec.coarsen.max(1))?)
}

/// Solves `spec` on a copy of `grid` (coarsened by `spec.coarsen`). `progress` sees
/// (iterations, relative residual) at every check and cancels by returning false.
pub fn solve_on_grid<'g>(
    gpu: &'g GpuContext,
    kernels: Arc<StressKernels>,
    grid: &GpuGrid,
    materials: &MaterialTable,
    spec: &StressSpec,
    progress: &dyn Fn(u32, f64) -> bool,
) -> Result<Solved<'g>, StressError> {
    let copy = stress_grid(gpu, grid, spec)?;
    solve_copy(gpu, kernels, copy, materials, spec, progress)
}

/// [`solve_on_grid`] on a copy made by [`stress_grid`] (the window makes it on its
/// thread and solves on a worker).
pub fn solve_copy<'g>(
    gpu: &'g GpuContext,
    kernels: Arc<StressKernels>,
    grid: GpuGrid,
    materials: &MaterialTable,
    spec: &StressSpec,
    progress: &dyn Fn(u32, f64) -> bool,
) -> Result<Solved<'g>, StressError> {
    let (prescribed, displaced_nodes) = prescribed(gpu, &grid, spec)?;
    let mut solver = StressSolver::with_kernels(gpu, kernels, &grid, materials)?;
    let result = solver.solve_with_progress(
        &ThermalLoad {
            delta_t: spec.delta_t,
        },
        &spec.bc,
        &prescribed,
        &spec.options,
        progress,
    )?;
    Ok(Solved {
        grid,
        solver,
        result,
        delta_t: spec.delta_t,
        coarsen: spec.coarsen.max(1),
        displaced_nodes,
    })
}

/// The step's `displace` entries on the solve grid (after coarsening): every selected
/// node with its affine value. An entry that holds no solid node there is an error
/// (a box between coarse nodes, or over void), not a silently free boundary. Also
/// returns the solid nodes each entry holds.
pub(crate) fn prescribed(
    gpu: &GpuContext,
    grid: &GpuGrid,
    spec: &StressSpec,
) -> Result<(Vec<Prescribed>, Vec<u64>), StressError> {
    if spec.displace.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let (dims, h) = (grid.spec.dims, grid.spec.voxel_um);
    let ids = grid.read_materials(gpu);
    let [nx, ny, nz] = dims;
    let mut out = Vec::new();
    let mut counts = Vec::with_capacity(spec.displace.len());
    for (i, d) in spec.displace.iter().enumerate() {
        let before = out.len();
        out.extend(
            d.nodes(dims, h)
                .into_iter()
                .filter(|(n, _)| crate::grid::node_on_solid(&ids, dims, *n))
                .map(|(node, value)| Prescribed {
                    node,
                    dofs: d.dofs,
                    value,
                }),
        );
        counts.push((out.len() - before) as u64);
        if out.len() == before {
            let region = match d.region {
                crate::scene::DisplaceRegion::Face(f) => format!("face {}", f.name()),
                crate::scene::DisplaceRegion::Box { min, max } => {
                    format!("box {min:?}-{max:?} µm")
                }
            };
            return Err(StressError::BadOptions(format!(
                "displace entry {} ({region}) holds no solid node of the {}x{}x{} solve grid \
                 ({h} µm voxels)",
                i + 1,
                nx,
                ny,
                nz
            )));
        }
    }
    Ok((out, counts))
}
