//! The engine between the scene model and the front ends (`run`, `record`, the
//! timeline, the window, `bench`): it owns a clone of the device, the parts' grids (one
//! [`Processor`] each), the renderer and the stress kernels, each built once per device,
//! and runs a step or a stress solve the same way for every caller, honouring every
//! option of the scene's step.
//!
//! The kernels themselves are cached on the device ([`GpuContext::kernels`]), so two
//! engines on one device (a timeline and a window) compile nothing twice either.

mod error;
pub(crate) mod stress;

pub use error::RunError;
pub use stress::{Solved, solve_copy, solve_on_grid, stress_grid};

use crate::budget;
use crate::gpu::GpuContext;
use crate::grid::GridError;
use crate::process::{Processor, StepStats};
use crate::render::{FRAME_FORMAT, OrbitCamera, Renderer};
use crate::scene::{Scene, SceneError, Step, StepKind, StressSpec};
use crate::stress::{StressError, StressKernels};
use std::sync::{Arc, OnceLock};

/// One device's worth of state for running a scene.
pub struct Engine {
    gpu: GpuContext,
    /// One processor per part, each on its own grid; parts[0] is the assembly.
    parts: Vec<Processor>,
    /// Built on first use: headless runs without frames never need it.
    renderer: OnceLock<Arc<Renderer>>,
    /// The stress kernels at the adapter's best outer precision, on first use.
    stress: OnceLock<Arc<StressKernels>>,
}

impl Engine {
    /// An engine with one empty grid per part of `scene`.
    pub fn new(gpu: &GpuContext, scene: &Scene) -> Result<Self, GridError> {
        let parts = (0..scene.parts.len().max(1))
            .map(|_| Processor::new(gpu, &scene.grid))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            gpu: gpu.clone(),
            parts,
            renderer: OnceLock::new(),
            stress: OnceLock::new(),
        })
    }

    pub fn gpu(&self) -> &GpuContext {
        &self.gpu
    }

    /// The processor of part `i` (0 = the assembly).
    pub fn part(&self, i: usize) -> &Processor {
        &self.parts[i.min(self.parts.len() - 1)]
    }

    pub fn part_mut(&mut self, i: usize) -> &mut Processor {
        let i = i.min(self.parts.len() - 1);
        &mut self.parts[i]
    }

    /// The frame renderer (FRAME_FORMAT), compiled on first use; shared, so a caller
    /// may hold it while it runs steps.
    pub fn renderer(&self) -> Arc<Renderer> {
        self.renderer
            .get_or_init(|| Arc::new(Renderer::new(&self.gpu, FRAME_FORMAT)))
            .clone()
    }

    /// The stress kernels (f64 outer iteration where the adapter has it).
    pub fn stress_kernels(&self) -> Result<Arc<StressKernels>, StressError> {
        if let Some(k) = self.stress.get() {
            return Ok(k.clone());
        }
        let k = StressKernels::shared(&self.gpu, self.gpu.has_f64())?;
        Ok(self.stress.get_or_init(|| k).clone())
    }

    /// Runs one step on its part (a bond places the other part's grid onto it; a
    /// stress step changes no voxel). A GPU error recorded meanwhile (out of memory,
    /// device loss) is reported first: it is the cause of whatever the step then says.
    pub fn run_step(&mut self, scene: &Scene, step: &Step) -> Result<StepStats, RunError> {
        let stats = match &step.kind {
            StepKind::Process(op) => Ok(self.part_mut(step.part).run(op, &scene.masks)),
            StepKind::Bond(b) => {
                let (base, placed) = pair(&mut self.parts, step.part, b.part);
                base.bond(placed, b.offset, b.method, b.film, b.gap)
                    .map_err(|source| RunError::Bond {
                        file: scene.file.clone(),
                        line: step.line,
                        step: step.name.clone(),
                        source,
                    })
            }
            // Analysis changes no voxel: the counts are the part's as it stands.
            StepKind::Stress(_) => Ok(self.part(step.part).unchanged()),
        };
        gpu_error(&self.gpu, scene, step)?;
        stats
    }

    /// Solves stress step `step` (`spec` its options) on its part as it stands now.
    pub fn solve_stress(
        &self,
        scene: &Scene,
        step: &Step,
        spec: &StressSpec,
    ) -> Result<Solved<'_>, RunError> {
        let solved = self.stress_kernels().and_then(|k| {
            solve_on_grid(
                &self.gpu,
                k,
                self.part(step.part).grid(),
                &scene.materials,
                spec,
                &|_, _| true,
            )
        });
        gpu_error(&self.gpu, scene, step)?;
        solved.map_err(|e| RunError::stress(scene, step, e))
    }
}

/// The scene's starting camera (its `[view]` angles), for every front end's frames.
pub fn camera(scene: &Scene) -> OrbitCamera {
    OrbitCamera {
        azimuth_deg: scene.view.azimuth_deg,
        elevation_deg: scene.view.elevation_deg,
        ..Default::default()
    }
}

/// Checks every buffer a run of `scene` allocates (frames of `frame` pixels if any)
/// against `gpu`'s limits and a memory budget of `memory_mib`, before any GPU work, and
/// leaves what the budget has over on `gpu` for the storage sized at set-up (the
/// stress solver's coarse matrices of elements that are not uniform blocks).
pub fn check_budget(
    gpu: &GpuContext,
    scene: &Scene,
    frame: Option<[u32; 2]>,
    memory_mib: u64,
) -> Result<(), SceneError> {
    let est = budget::estimate(scene, frame);
    let limits = budget::Limits::adapter(&gpu.limits, memory_mib);
    budget::check(scene, &est, &limits, &gpu.info.name)?;
    // The result fields' own buffers (counted by the check) come out of this too: the
    // solver takes them from it before sizing its coarse matrices.
    gpu.set_headroom(limits.memory.saturating_sub(est.total()));
    Ok(())
}

/// A GPU error recorded during `step` (out of memory, device loss), as the step's error.
pub fn gpu_error(gpu: &GpuContext, scene: &Scene, step: &Step) -> Result<(), RunError> {
    match gpu.take_error() {
        Some(message) => Err(RunError::Gpu {
            file: scene.file.clone(),
            line: step.line,
            step: step.name.clone(),
            message,
        }),
        None => Ok(()),
    }
}

fn pair(procs: &mut [Processor], a: usize, b: usize) -> (&mut Processor, &Processor) {
    assert_ne!(a, b, "the scene parser refuses self-bonds");
    if a < b {
        let (lo, hi) = procs.split_at_mut(b);
        (&mut lo[a], &hi[0])
    } else {
        let (lo, hi) = procs.split_at_mut(a);
        (&mut hi[0], &lo[b])
    }
}
