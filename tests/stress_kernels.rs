//! The stress kernels are built once per device and shared: a solver made from shared
//! kernels gives the same answer as one from fresh kernels, building a solver from them
//! is much cheaper than compiling, and the progress callback sees the iteration and can
//! cancel it.

mod common;

use common::{gpu, spec};
use std::cell::Cell;
use std::sync::Arc;
use std::time::Instant;
use voxfab::grid::GpuGrid;
use voxfab::materials::MaterialTable;
use voxfab::stress::{
    BoundaryConditions, SolveOptions, StressError, StressKernels, StressSolver, Support,
    ThermalLoad,
};

/// A silicon slab on copper: 12x12x8 voxels of 1 µm.
fn grid() -> GpuGrid {
    let g = gpu();
    let table = MaterialTable::builtin();
    let (si, cu) = (table.id("si").unwrap(), table.id("cu").unwrap());
    let dims = [12, 12, 8];
    let ids: Vec<u8> = (0..12 * 12 * 8)
        .map(|i| if i / 144 < 4 { cu } else { si })
        .collect();
    let grid = GpuGrid::new(g, &spec(dims[0], dims[1], dims[2], 1.0)).unwrap();
    grid.write_materials(g, &ids);
    grid
}

const BC: BoundaryConditions = BoundaryConditions {
    support: Support::BottomRoller,
    symmetry_x: false,
    symmetry_y: false,
};
const LOAD: ThermalLoad = ThermalLoad { delta_t: -192.0 };
const OPTS: SolveOptions = SolveOptions {
    tol: 1e-8,
    max_iterations: 400,
};

#[test]
fn shared_kernels_are_one_object_and_solve_like_fresh_ones() {
    let g = gpu();
    let f64 = g.has_f64();
    let a = StressKernels::shared(g, f64).unwrap();
    let b = StressKernels::shared(g, f64).unwrap();
    assert!(
        Arc::ptr_eq(&a, &b),
        "a second lookup compiled the kernels again"
    );
    assert_eq!(a.f64(), f64);

    let t = Instant::now();
    let fresh = Arc::new(StressKernels::new(g, f64).unwrap());
    let compile_ms = t.elapsed().as_secs_f64() * 1e3;
    let grid = grid();
    let table = MaterialTable::builtin();
    let t = Instant::now();
    let mut shared = StressSolver::with_kernels(g, a, &grid, &table).unwrap();
    let build_ms = t.elapsed().as_secs_f64() * 1e3;
    eprintln!("kernels: compile {compile_ms:.1} ms, solver from shared kernels {build_ms:.1} ms");
    let mut own = StressSolver::with_kernels(g, fresh, &grid, &table).unwrap();
    let r1 = shared.solve(&LOAD, &BC, &OPTS).unwrap();
    let r2 = own.solve(&LOAD, &BC, &OPTS).unwrap();
    assert!(r1.converged && r2.converged);
    assert_eq!(r1.iterations, r2.iterations);
    assert_eq!(r1.von_mises, r2.von_mises, "same kernels, same dispatches");
    assert!(
        r1.von_mises.iter().any(|&v| v > 1.0),
        "copper under silicon is stressed"
    );
}

#[test]
fn progress_reports_every_check_and_cancel_stops_the_solve() {
    let g = gpu();
    let grid = grid();
    let table = MaterialTable::builtin();
    let mut solver = StressSolver::new(g, &grid, &table).unwrap();
    let seen = Cell::new(Vec::<(u32, f64)>::new());
    let r = solver
        .solve_with_progress(&LOAD, &BC, &[], &OPTS, &|it, res| {
            let mut v = seen.take();
            v.push((it, res));
            seen.set(v);
            true
        })
        .unwrap();
    let seen = seen.take();
    assert!(r.converged);
    assert!(
        !seen.is_empty(),
        "no progress reported in {} iterations",
        r.iterations
    );
    assert!(
        seen.windows(2).all(|w| w[1].0 > w[0].0),
        "iterations increase: {seen:?}"
    );
    assert!(seen.last().unwrap().0 <= r.iterations);
    assert!(seen.iter().all(|(_, res)| res.is_finite() && *res >= 0.0));

    let calls = Cell::new(0u32);
    let err = solver
        .solve_with_progress(&LOAD, &BC, &[], &OPTS, &|_, _| {
            calls.set(calls.get() + 1);
            false
        })
        .unwrap_err();
    assert!(
        matches!(err, StressError::Cancelled { iterations } if iterations >= 1),
        "{err}"
    );
    assert_eq!(calls.get(), 1, "the first check cancels");
    // The solver is still usable after a cancel.
    let again = solver.solve(&LOAD, &BC, &OPTS).unwrap();
    assert_eq!(again.iterations, r.iterations);
}
