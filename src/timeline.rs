//! The process as a scrubbable timeline: a CPU snapshot of the grid after every step,
//! and sub-step states of timed steps made by re-running the step from its start
//! snapshot with [`Op::scaled`](crate::scene::Op::scaled). The viewer and `voxfab record` both walk it.

use crate::budget::DEFAULT_GPU_MEMORY_MIB;
use crate::engine::{Engine, RunError, check_budget};
use crate::gpu::GpuContext;
use crate::process::Processor;
use crate::scene::Scene;

/// A point of the process: `fraction` of step `step` (1-based) done. Step 0 is the
/// empty grid before the first step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    pub step: usize,
    pub fraction: f64,
}

impl Position {
    pub fn is_partial(&self) -> bool {
        self.fraction < 1.0
    }

    /// Frame title: step number and name, with the percentage of a partial step.
    pub fn title(&self, scene: &Scene) -> String {
        let Some(step) = scene.steps.get(self.step.wrapping_sub(1)) else {
            return "start".to_string();
        };
        if self.is_partial() {
            format!(
                "{:02} {}  ({:.0}%)",
                self.step,
                step.name,
                self.fraction * 100.0
            )
        } else {
            format!("{:02} {}", self.step, step.name)
        }
    }
}

/// Material ids after each step, one byte per voxel (a quarter of the GPU's u32 grid).
/// Multi-part scenes are shown one part at a time: the part each step builds.
pub struct Timeline {
    /// `snapshots[i]` is the grid of step `i`'s part after step `i`; `snapshots[0]` is
    /// the empty grid.
    snapshots: Vec<Vec<u8>>,
    /// The snapshot each step starts from: the last earlier one of the same part (0,
    /// the empty grid, for a part's first step).
    before: Vec<usize>,
    /// Voxels per material id after each step (same indexing).
    counts: Vec<Vec<u64>>,
    /// Whether each step (1-based; index 0 unused) can be shown part-way.
    timed: Vec<bool>,
}

impl Timeline {
    /// Runs every step of `scene` (one processor per part, as a run does), keeping a
    /// snapshot after each. `progress(i)` is called after step `i` (1-based).
    pub fn build(
        gpu: &GpuContext,
        scene: &Scene,
        progress: impl FnMut(usize),
    ) -> Result<Self, RunError> {
        check_budget(gpu, scene, None, DEFAULT_GPU_MEMORY_MIB)?;
        Self::build_on(&mut Engine::new(gpu, scene)?, scene, progress)
    }

    /// [`Timeline::build`] on `engine`'s parts (fresh, empty grids), for front ends
    /// that keep the engine to show the timeline with.
    pub fn build_on(
        engine: &mut Engine,
        scene: &Scene,
        mut progress: impl FnMut(usize),
    ) -> Result<Self, RunError> {
        let gpu = engine.gpu().clone();
        let gpu = &gpu;
        let (_, counts0) = engine.part(0).stats();
        let mut snapshots = vec![engine.part(0).grid().read_materials(gpu)];
        let mut counts = vec![counts0];
        let mut timed = vec![false];
        let mut before = vec![0];
        let mut last_of_part = vec![0; scene.parts.len().max(1)];
        for (i, step) in scene.steps.iter().enumerate() {
            let stats = engine.run_step(scene, step)?;
            snapshots.push(engine.part(step.part).grid().read_materials(gpu));
            counts.push(stats.counts);
            timed.push(step.kind.is_timed());
            before.push(last_of_part[step.part]);
            last_of_part[step.part] = i + 1;
            progress(i + 1);
        }
        Ok(Self {
            snapshots,
            before,
            counts,
            timed,
        })
    }

    /// Number of steps (positions 1..=steps are complete steps).
    pub fn steps(&self) -> usize {
        self.snapshots.len() - 1
    }

    /// Material ids after step `step` (0 = before the first).
    pub fn snapshot(&self, step: usize) -> &[u8] {
        &self.snapshots[step.min(self.steps())]
    }

    /// Voxels per material id after step `step`.
    pub fn counts(&self, step: usize) -> &[u64] {
        &self.counts[step.min(self.steps())]
    }

    /// Whether a material id appears at any point of the process.
    pub fn ever_present(&self, id: u8) -> bool {
        self.counts
            .iter()
            .any(|c| c.get(usize::from(id)).copied().unwrap_or(0) > 0)
    }

    /// Positions to show, in order: for each step, `substeps` evenly spaced partial
    /// states if the step is timed, then the finished step.
    pub fn positions(&self, substeps: u32) -> Vec<Position> {
        let mut out = Vec::new();
        for step in 1..=self.steps() {
            if self.timed[step] {
                for k in 1..=substeps {
                    out.push(Position {
                        step,
                        fraction: f64::from(k) / f64::from(substeps + 1),
                    });
                }
            }
            out.push(Position {
                step,
                fraction: 1.0,
            });
        }
        out
    }

    /// Puts the grid of `proc` in the state at `at` and returns the voxels per material.
    /// A partial step restores the step's start snapshot and re-runs the scaled op (timed
    /// ops are never bonds, so one processor suffices).
    pub fn show(&self, proc: &mut Processor, scene: &Scene, at: Position) -> Vec<u64> {
        let step = at.step.min(self.steps());
        let gpu = proc.gpu();
        if step == 0 || !at.is_partial() || !self.timed[step] {
            proc.grid().write_materials(gpu, self.snapshot(step));
            return self.counts(step).to_vec();
        }
        proc.grid()
            .write_materials(gpu, self.snapshot(self.before[step]));
        match scene.steps[step - 1].kind.process() {
            Some(op) => {
                proc.run_at(&op.scaled(at.fraction), &scene.masks, at.fraction)
                    .counts
            }
            // `timed` holds only for process steps.
            None => self.counts(step).to_vec(),
        }
    }
}
