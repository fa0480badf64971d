//! The one stress solve of a scene's stress step, for runs, benches and the window's
//! worker thread alike: coarsen, build a solver from the shared kernels, solve with
//! the step's ΔT, supports, symmetry, tolerance and iteration cap.

use crate::gpu::GpuContext;
use crate::grid::GpuGrid;
use crate::materials::MaterialTable;
use crate::scene::StressSpec;
use crate::stress::{StressError, StressKernels, StressResult, StressSolver, ThermalLoad, coarsen};
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
    let mut solver = StressSolver::with_kernels(gpu, kernels, &grid, materials)?;
    let result = solver.solve_with_progress(
        &ThermalLoad {
            delta_t: spec.delta_t,
        },
        &spec.bc,
        &[],
        &spec.options,
        progress,
    )?;
    Ok(Solved {
        grid,
        solver,
        result,
        delta_t: spec.delta_t,
        coarsen: spec.coarsen.max(1),
    })
}
