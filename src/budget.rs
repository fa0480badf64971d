//! The resource budget of a run, checked before any GPU work: every buffer of every
//! part, of the renderer and of the stress solves, summed and compared with the
//! adapter's buffer and binding limits and a GPU memory budget.
//!
//! wgpu reports no total VRAM, so the memory budget is a setting (`--gpu-memory`,
//! [`DEFAULT_GPU_MEMORY_MIB`]); `voxfab check` uses absolute caps instead of an
//! adapter's. Everything here is pure arithmetic on the scene, so tests call it directly.

use crate::grid::{BYTES_PER_VOXEL, VOXEL_BUFFERS};
use crate::process::params::{MAX_GROUPS_PER_DIM, PARAM_STRIDE, counter_words, fold_groups};
use crate::process::{MIN_SHAPE_RECORDS, PARAM_SLOTS, wire_records};
use crate::scene::{GridSpec, Op, Scene, SceneError, StepKind};
use crate::shaders::{MAX_WINDOWS, Windows};
use crate::stress::coarsen::coarse_spec;
use crate::stress::{SolveBytes, StressSolver};

/// GPU memory budget when none is given, MiB: below what any discrete or integrated
/// GPU voxfab targets has, and well within the CPU adapter's host memory.
pub const DEFAULT_GPU_MEMORY_MIB: u64 = 4096;

/// What the run may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest buffer, bytes.
    pub max_buffer: u64,
    /// Largest storage binding, bytes.
    pub max_binding: u64,
    /// All buffers together, bytes.
    pub memory: u64,
    /// Most windows of one binding a node vector of the stress solver is bound in
    /// ([`crate::stress::StressKernels::most_windows`]).
    pub max_windows: u32,
    /// Most windows of one binding a voxel field of a process grid is bound in (process
    /// kernels and renderer, [`crate::grid::most_field_windows`]).
    pub max_grid_windows: u32,
}

impl Limits {
    /// Caps no adapter lifts, for `voxfab check` (no GPU): Vulkan, Metal and DX12 size a
    /// storage binding with 32 bits, and wgpu 30 caps every adapter's buffers at
    /// `u32::MAX` bytes (its indirect-call validation, on by default; NVIDIA's Vulkan
    /// also reports a ~4 GiB `maxMemoryAllocationSize`, which wgpu-hal applies too).
    pub fn absolute(memory_mib: u64) -> Self {
        Self {
            max_buffer: u64::from(u32::MAX),
            max_binding: u64::from(u32::MAX),
            memory: memory_mib.saturating_mul(1 << 20),
            max_windows: MAX_WINDOWS,
            max_grid_windows: MAX_WINDOWS,
        }
    }

    /// The adapter's limits and a memory budget.
    pub fn adapter(limits: &wgpu::Limits, memory_mib: u64) -> Self {
        Self {
            max_buffer: limits.max_buffer_size,
            max_binding: limits
                .max_storage_buffer_binding_size
                .min(limits.max_buffer_size),
            memory: memory_mib.saturating_mul(1 << 20),
            max_windows: crate::stress::StressKernels::most_windows(limits),
            max_grid_windows: crate::grid::most_field_windows(limits),
        }
    }
}

/// Where in the scene file a buffer comes from, for the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The `[grid]` table: process grids and the frames.
    Grid,
    /// A step (its index in `Scene::steps`).
    Step(usize),
}

/// How a buffer is bound, for the limit that applies to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Not as storage (uniforms, textures, staging): the buffer limit.
    No,
    /// As one storage binding: the binding limit.
    Whole,
    /// As storage in windows of the binding limit (the stress solver's node vectors,
    /// [`crate::shaders::Windows`]), in buffers of whole windows past the buffer limit:
    /// [`Limits::max_windows`] and the u32 node index.
    Windows,
    /// A process grid's voxel field, bound in windows by the process kernels and the
    /// renderer: the buffer limit and [`Limits::max_grid_windows`].
    GridWindows,
    /// Several buffers counted together (the stress solve's smaller ones): the memory
    /// budget only, since none of them is larger than the solve's two named largest
    /// ones, which the solver checks against the adapter before it allocates.
    Several,
}

/// One GPU buffer of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Buffer {
    /// e.g. "part `main`: GpuGrid::material".
    pub what: String,
    pub bytes: u64,
    /// How shaders bind it (which limit applies).
    pub bound: Bound,
    pub origin: Origin,
}

/// Every buffer a run allocates at its peak: the parts' grids for the whole run, the
/// renderer's frame, and the largest stress solve (solves run one after another).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Estimate {
    pub buffers: Vec<Buffer>,
    /// The stress step with the most bytes: (step index, its buffers, the solver's
    /// estimate, for what depends on the adapter's limits).
    stress: Option<(usize, Vec<Buffer>, SolveBytes)>,
}

impl Estimate {
    /// Bytes of every buffer alive at the peak.
    pub fn total(&self) -> u64 {
        self.peak_buffers().map(|b| b.bytes).sum()
    }

    fn peak_buffers(&self) -> impl Iterator<Item = &Buffer> {
        self.buffers
            .iter()
            .chain(self.stress.iter().flat_map(|(_, b, _)| b))
    }

    /// The hook for the stress solver's own estimate: adds stress step `index`'s solve
    /// (`solve`: all its bytes, its largest buffer bound whole, its largest node vector,
    /// which is bound in windows) on the grid `grid` (a coarsened copy, allocated by the
    /// run). Only the largest solve counts, since each is dropped before the next step.
    pub fn add_stress_solve(&mut self, index: usize, grid: &GridSpec, solve: SolveBytes) {
        let origin = Origin::Step(index);
        // The solve's copy of the grid holds material ids only (GpuGrid::material_only).
        let mut buffers = vec![
            Buffer {
                what: "stress grid: GpuGrid::material".into(),
                bytes: grid.voxels().saturating_mul(BYTES_PER_VOXEL),
                bound: Bound::GridWindows,
                origin,
            },
            Buffer {
                what: "stress grid: stand-ins of the process fields".into(),
                bytes: 5 * 4,
                bound: Bound::No,
                origin,
            },
        ];
        // The rest of the solve is many buffers (each level's vectors, inverses, flags,
        // matrices; the outputs), none larger than the two named below: it counts
        // toward the memory budget, not against the limit of one buffer (checked as one,
        // ~85 B per node, it refused solves past ~50 M nodes that fit 4 GiB buffers).
        let named = solve.largest_binding + solve.largest_vector + solve.narrow;
        buffers.push(Buffer {
            what: "stress solve: its other buffers".into(),
            bytes: solve.total.saturating_sub(named),
            bound: Bound::Several,
            origin,
        });
        buffers.push(Buffer {
            what: "stress solve: largest binding".into(),
            bytes: solve.largest_binding,
            bound: Bound::Whole,
            origin,
        });
        buffers.push(Buffer {
            what: "stress solve: largest node vector".into(),
            bytes: solve.largest_vector,
            bound: Bound::Windows,
            origin,
        });
        // One buffer, unlike the vectors.
        buffers.push(Buffer {
            what: "stress solve: largest 4-byte array (node flags, block inverses)".into(),
            bytes: solve.narrow,
            bound: Bound::No,
            origin,
        });
        let bytes: u64 = buffers.iter().map(|b| b.bytes).sum();
        let current = self
            .stress
            .as_ref()
            .map_or(0, |(_, b, _)| b.iter().map(|b| b.bytes).sum());
        if self.stress.is_none() || bytes > current {
            self.stress = Some((index, buffers, solve));
        }
    }
}

/// The stress solve on `grid` (the solver's own estimate: f64 outer vectors, every
/// multigrid level, the outputs).
pub fn stress_solve_bytes(grid: &GridSpec) -> SolveBytes {
    crate::stress::StressSolver::memory_bytes(grid.dims, true)
}

/// The buffers of one `GpuGrid` (src/grid.rs).
fn grid_buffers(owner: &str, spec: &GridSpec, origin: Origin) -> Vec<Buffer> {
    let field = spec.voxels().saturating_mul(BYTES_PER_VOXEL);
    let mut out: Vec<Buffer> = ["material", "prev", "scratch_a", "scratch_b"]
        .iter()
        .take(VOXEL_BUFFERS as usize)
        .map(|name| Buffer {
            what: format!("{owner}: GpuGrid::{name}"),
            bytes: field,
            bound: Bound::GridWindows,
            origin,
        })
        .collect();
    out.push(Buffer {
        what: format!("{owner}: GpuGrid::mask"),
        bytes: u64::from(spec.dims[0]) * u64::from(spec.dims[1]) * 4,
        bound: Bound::Whole,
        origin,
    });
    out.push(Buffer {
        what: format!("{owner}: GpuGrid::counters"),
        bytes: counter_words(spec.dims) * 4,
        bound: Bound::Whole,
        origin,
    });
    out
}

/// Every buffer of a run of `scene`, frames of `frame` pixels if any.
pub fn estimate(scene: &Scene, frame: Option<[u32; 2]>) -> Estimate {
    let mut est = Estimate::default();
    // The shapes buffer grows to the largest mask (or ball/wire list) a part uploads.
    let records = scene
        .masks
        .iter()
        .map(|m| m.shapes.iter().map(|s| s.records()).sum::<u64>())
        .chain(scene.steps.iter().map(|s| match &s.kind {
            StepKind::Process(Op::Wirebond { wires, .. }) => wire_records(wires.len()),
            _ => 0,
        }))
        .max()
        .unwrap_or(0)
        .max(MIN_SHAPE_RECORDS)
        .next_power_of_two();
    for part in &scene.parts {
        let owner = format!("part `{part}`");
        est.buffers
            .extend(grid_buffers(&owner, &scene.grid, Origin::Grid));
        est.buffers.push(Buffer {
            what: format!("{owner}: Processor::params"),
            bytes: PARAM_SLOTS * PARAM_STRIDE,
            bound: Bound::No,
            origin: Origin::Grid,
        });
        est.buffers.push(Buffer {
            what: format!("{owner}: Processor::shapes"),
            bytes: records * 16,
            bound: Bound::Whole,
            origin: Origin::Grid,
        });
    }
    // Reading the final grid back stages one voxel field.
    est.buffers.push(Buffer {
        what: "readback of the grid".into(),
        bytes: scene.grid.voxels().saturating_mul(BYTES_PER_VOXEL),
        bound: Bound::No,
        origin: Origin::Grid,
    });
    if let Some([w, h]) = frame {
        // The frame texture and its staging copy (rows padded to 256 bytes).
        let row = u64::from(w * 4).next_multiple_of(256);
        est.buffers.push(Buffer {
            what: format!("frame {w}x{h}: texture and readback"),
            bytes: u64::from(w) * u64::from(h) * 4 + row * u64::from(h),
            bound: Bound::No,
            origin: Origin::Grid,
        });
    }
    for (i, step) in scene.steps.iter().enumerate() {
        if let StepKind::Stress(spec) = &step.kind {
            let coarse = coarse_spec(&scene.grid, spec.coarsen);
            est.add_stress_solve(i, &coarse, stress_solve_bytes(&coarse));
        }
    }
    est
}

/// Checks `est` (of `scene`) against `limits`; `device` names them in errors
/// (an adapter, or "any adapter"). The memory the run needs at its peak is
/// `est.total()` plus, on such an adapter, the stress result fields' own buffers where
/// the solve's vectors come in pieces ([`SolveBytes::result_bytes`]).
pub fn check(
    scene: &Scene,
    est: &Estimate,
    limits: &Limits,
    device: &str,
) -> Result<(), SceneError> {
    let at = |origin: Origin, message: String| {
        let (line, col) = match origin {
            Origin::Grid => (scene.grid_at[0], scene.grid_at[1]),
            Origin::Step(i) => (scene.steps[i].line, 1),
        };
        SceneError {
            file: scene.file.clone(),
            line,
            col,
            message,
        }
    };
    let mib = |b: u64| b.div_ceil(1 << 20);
    check_dispatch(&scene.grid).map_err(|m| at(Origin::Grid, m))?;
    for (i, step) in scene.steps.iter().enumerate() {
        if let StepKind::Stress(spec) = &step.kind {
            check_coarsen_dispatch(&coarse_spec(&scene.grid, spec.coarsen))
                .map_err(|m| at(Origin::Step(i), format!("step `{}`: {m}", step.name)))?;
        }
    }
    for b in est.peak_buffers() {
        let (limit, kind) = match b.bound {
            Bound::Whole => (limits.max_binding, "storage binding".to_string()),
            Bound::No => (limits.max_buffer, "buffer".to_string()),
            Bound::Several => continue,
            Bound::Windows => (
                // One binding, or windows of at most half the buffer limit in buffers of
                // two (StressSolver::vector_windows); the shaders index node vectors as
                // 3 n + k in u32 (24 B per node at f64).
                StressSolver::vector_reach(
                    limits.max_binding,
                    limits.max_buffer,
                    limits.max_windows,
                )
                .max(limits.max_binding.min(limits.max_buffer))
                .min(u64::from(u32::MAX / 3) * 24),
                format!(
                    "node vector (bound in at most {} windows of one storage binding)",
                    limits.max_windows
                ),
            ),
            Bound::GridWindows => (
                // The kernels index voxels in u32.
                Windows::reach(
                    limits.max_binding,
                    limits.max_grid_windows,
                    limits.max_buffer,
                )
                .min((u64::from(u32::MAX) + 1) * BYTES_PER_VOXEL),
                format!(
                    "voxel field (a buffer bound in at most {} windows of one storage \
                     binding)",
                    limits.max_grid_windows
                ),
            ),
        };
        if b.bytes > limit {
            let hint = match b.origin {
                Origin::Grid => "coarsen the voxel or shrink the domain",
                Origin::Step(_) => "raise the step's `coarsen`",
            };
            return Err(at(
                b.origin,
                format!(
                    "{} needs {}, but {device} allows at most {} per {kind}: {hint}",
                    b.what,
                    bytes(b.bytes),
                    bytes(limit)
                ),
            ));
        }
    }
    let results = est.stress.as_ref().map_or(0, |(_, _, s)| {
        s.result_bytes(limits.max_binding, limits.max_buffer)
    });
    let total = est.total() + results;
    if total > limits.memory {
        let grids: u64 = est.buffers.iter().map(|b| b.bytes).sum();
        let (origin, detail) = match &est.stress {
            Some((i, s, _)) if grids <= limits.memory => (
                Origin::Step(*i),
                format!(
                    "{} MiB for the parts and frames plus {} MiB for stress step `{}`",
                    mib(grids),
                    mib(s.iter().map(|b| b.bytes).sum::<u64>() + results),
                    scene.steps[*i].name
                ),
            ),
            _ => (
                Origin::Grid,
                format!(
                    "{} part grid(s) of {} voxels",
                    scene.parts.len(),
                    scene.grid.voxels()
                ),
            ),
        };
        return Err(at(
            origin,
            format!(
                "the run needs {} MiB of GPU memory ({detail}), over the budget of {} MiB: \
                 coarsen the voxel, shrink the domain or raise --gpu-memory",
                mib(total),
                mib(limits.memory)
            ),
        ));
    }
    Ok(())
}

/// `n` bytes in MiB, or KiB / bytes below a MiB (a rounded-up "1 MiB" would hide
/// which side of a limit a small buffer is).
fn bytes(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{} MiB", n.div_ceil(1 << 20))
    } else if n >= 1 << 10 {
        format!("{} KiB", n.div_ceil(1 << 10))
    } else {
        format!("{n} bytes")
    }
}

/// Process passes dispatch 8x8x4 voxels per workgroup, folded into rows of at most
/// 65 535 workgroups (src/process/params.rs).
fn check_dispatch(grid: &GridSpec) -> Result<(), String> {
    let [nx, ny, nz] = grid.dims;
    if fold_groups([nx.div_ceil(8), ny.div_ceil(8), nz.div_ceil(4)]).is_none() {
        return Err(format!(
            "grid {nx}x{ny}x{nz} needs more workgroups than one dispatch holds"
        ));
    }
    Ok(())
}

/// The stress grid's coarsen pass (src/stress/coarsen.rs) dispatches 4x4x4 voxels per
/// workgroup in three dimensions, unfolded.
fn check_coarsen_dispatch(grid: &GridSpec) -> Result<(), String> {
    let [nx, ny, nz] = grid.dims;
    if let Some(a) = (0..3).find(|&a| grid.dims[a].div_ceil(4) > MAX_GROUPS_PER_DIM) {
        return Err(format!(
            "the stress grid {nx}x{ny}x{nz} has {} voxels along {}, more than the coarsen \
             pass dispatches ({}): raise the step's `coarsen`",
            grid.dims[a],
            ["x", "y", "z"][a],
            MAX_GROUPS_PER_DIM * 4
        ));
    }
    Ok(())
}
