//! The window's stress solve on a worker thread: the UI thread copies the grid on
//! screen (coarsened as the scene's stress step says) and keeps drawing; the worker
//! builds a solver from the device's shared kernels and reports its progress through
//! atomics, which the panel shows and its Cancel button stops.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Instant;
use voxfab::engine::{solve_copy, stress_grid};
use voxfab::gpu::GpuContext;
use voxfab::grid::GpuGrid;
use voxfab::materials::MaterialTable;
use voxfab::scene::StressSpec;
use voxfab::stress::{StressError, StressKernels, StressResult};
use voxfab::timeline::Position;

/// What the worker shares with the UI thread.
#[derive(Default)]
struct Shared {
    iterations: AtomicU32,
    /// f64 bits of the last relative residual (NaN before the first check).
    residual: AtomicU64,
    cancel: AtomicBool,
}

/// A finished solve: its result and the (possibly coarsened) grid it ran on.
pub struct Done {
    pub result: StressResult,
    pub grid: GpuGrid,
    pub coarsen: u32,
}

/// One stress solve in flight.
pub struct StressJob {
    /// The timeline position solved.
    pub at: Position,
    pub started: Instant,
    /// Window frames drawn since it started.
    pub frames: u32,
    shared: Arc<Shared>,
    handle: JoinHandle<Result<Done, StressError>>,
}

impl StressJob {
    /// Copies `grid` now (queued before any later change of it) and solves the copy
    /// on a new thread.
    pub fn start(
        gpu: &GpuContext,
        kernels: Arc<StressKernels>,
        grid: &GpuGrid,
        materials: &MaterialTable,
        spec: StressSpec,
        at: Position,
    ) -> Result<Self, StressError> {
        let copy = stress_grid(gpu, grid, &spec)?;
        let shared = Arc::new(Shared {
            residual: AtomicU64::new(f64::NAN.to_bits()),
            ..Shared::default()
        });
        let (gpu, materials, s) = (gpu.clone(), materials.clone(), shared.clone());
        let handle = std::thread::Builder::new()
            .name("voxfab-stress".into())
            .spawn(move || {
                let progress = |it: u32, res: f64| {
                    s.iterations.store(it, Ordering::Relaxed);
                    s.residual.store(res.to_bits(), Ordering::Relaxed);
                    !s.cancel.load(Ordering::Relaxed)
                };
                let solved = solve_copy(&gpu, kernels, copy, &materials, &spec, &progress)?;
                Ok(Done {
                    result: solved.result,
                    grid: solved.grid,
                    coarsen: solved.coarsen,
                })
            })
            .map_err(|e| StressError::BadOptions(format!("cannot start the solve thread: {e}")))?;
        Ok(Self {
            at,
            started: Instant::now(),
            frames: 0,
            shared,
            handle,
        })
    }

    /// (iterations, relative residual) at the last check.
    pub fn progress(&self) -> (u32, f64) {
        (
            self.shared.iterations.load(Ordering::Relaxed),
            f64::from_bits(self.shared.residual.load(Ordering::Relaxed)),
        )
    }

    /// Asks the worker to stop at its next residual check.
    pub fn cancel(&self) {
        self.shared.cancel.store(true, Ordering::Relaxed);
    }

    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Waits for the worker (at once when [`StressJob::is_finished`]); a panic in it
    /// becomes an error message rather than taking the window down.
    pub fn join(self) -> Result<Done, String> {
        match self.handle.join() {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(_) => Err("the stress solve thread panicked".into()),
        }
    }
}
