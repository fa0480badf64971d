//! Process steps as GPU compute passes over the voxel grid.
//!
//! Pipelines and the bind group are made once; a step only writes uniforms and
//! dispatches. Each op lives in its own module next to its shader.

mod attach;
mod bond;
mod connect;
mod deposit;
mod etch;
mod flood;
mod kernels;
mod litho;
mod mask;
pub mod params;

pub use attach::wire_records;
pub use bond::BondError;
pub use connect::Nets;

use crate::gpu::{GpuContext, read_buffer, windowed_buffers};
use crate::grid::{GpuGrid, GridError};
use crate::scene::{DepositMode, EtchMode, GridSpec, GrindKeep, Mask, Op, Tone};
use crate::shaders::{WINDOW_ALIGN, Windows};
use kernels::ProcessKernels;

/// Most windows per voxel field the process kernels can bind on an adapter with `limits`.
pub fn most_windows(limits: &wgpu::Limits) -> u32 {
    ProcessKernels::most_windows(limits)
}
use params::{C_DIFF, COUNTERS, MaterialSet, PARAM_STRIDE, StepParams, fold_groups};
use std::sync::Arc;
use std::time::Instant;

/// Dispatches one batch may hold before it must be submitted.
pub const PARAM_SLOTS: u64 = 256;
/// Initial size of the shapes buffer in 16-byte records (it grows to the largest mask).
pub const MIN_SHAPE_RECORDS: u64 = 1024;

/// What one step did.
#[derive(Debug, Clone)]
pub struct StepStats {
    /// Wall time of the step's GPU work, submit to completion.
    pub ms: f64,
    pub voxels_changed: u64,
    /// Voxels per material id after the step.
    pub counts: Vec<u64>,
    /// Iterations of the step's iterative passes (flood rounds, relaxations).
    pub iterations: u32,
    /// Minutes a wet etch run to completion (a strip with rates) needed to remove its
    /// listed material wherever the etchant reaches it.
    pub release_min: Option<f64>,
}

/// Runs process steps on one grid. Owns a clone of the context (cheap: wgpu handles
/// are reference counted) so a window can keep one without borrowing.
pub struct Processor {
    gpu: GpuContext,
    grid: GpuGrid,
    /// Pipelines and layout, built once per device and shared by every processor.
    pipes: Arc<ProcessKernels>,
    params: wgpu::Buffer,
    shapes: wgpu::Buffer,
    /// Bound to the windows past a voxel field's end (`Windows`).
    spare: wgpu::Buffer,
    bind: wgpu::BindGroup,
    /// Fraction of a progressive step's extent to reach (fills rise to this fraction of
    /// their top, a through drill to this fraction of the grid's height); 1 except
    /// inside [`Processor::run_at`].
    progress: f64,
    /// Release time of the step being run (see [`StepStats::release_min`]).
    release: std::cell::Cell<Option<f64>>,
}

/// Collects dispatches, each with its own uniform slot, then submits them together.
pub(crate) struct Batch<'a> {
    p: &'a Processor,
    encoder: wgpu::CommandEncoder,
    slots: Vec<StepParams>,
}

impl Batch<'_> {
    /// Records one dispatch of `groups` workgroups (a logical 3D grid), folded into
    /// rows so that no dimension exceeds the WebGPU limit (`dispatch_id` in
    /// shaders/process_common.wgsl unfolds it).
    pub fn dispatch(&mut self, pipe: &wgpu::ComputePipeline, params: StepParams, groups: [u32; 3]) {
        assert!((self.slots.len() as u64) < PARAM_SLOTS, "batch too long");
        if groups.contains(&0) {
            return;
        }
        let (wx, folded) = fold_groups(groups)
            .expect("the resource budget caps the grid below the dispatch limit");
        let offset = (self.slots.len() as u64 * PARAM_STRIDE) as u32;
        self.slots.push(StepParams {
            groups: [groups[0], groups[1], groups[2], wx],
            ..params
        });
        let mut pass = self
            .encoder
            .begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("Processor::pass"),
                timestamp_writes: None,
            });
        pass.set_pipeline(pipe);
        pass.set_bind_group(0, &self.p.bind, &[offset]);
        pass.dispatch_workgroups(folded[0], folded[1], folded[2]);
    }

    /// Zeroes the counters (not the wet etch's brick stamps after them).
    pub fn clear_counters(&mut self) {
        self.encoder
            .clear_buffer(&self.p.grid.counters, 0, Some(COUNTERS as u64 * 4));
    }

    /// Zeroes the counters and the brick stamps.
    pub fn clear_all_counters(&mut self) {
        self.encoder.clear_buffer(&self.p.grid.counters, 0, None);
    }

    pub fn encoder(&mut self) -> &mut wgpu::CommandEncoder {
        &mut self.encoder
    }

    pub fn submit(self) {
        let mut bytes = vec![0u8; self.slots.len() * PARAM_STRIDE as usize];
        for (i, s) in self.slots.iter().enumerate() {
            let at = i * PARAM_STRIDE as usize;
            bytes[at..at + size_of::<StepParams>()].copy_from_slice(bytemuck::bytes_of(s));
        }
        if !bytes.is_empty() {
            self.p.gpu.queue.write_buffer(&self.p.params, 0, &bytes);
        }
        self.p.gpu.queue.submit([self.encoder.finish()]);
    }
}

impl Processor {
    /// Allocates the grid (after checking it fits the adapter) and builds every pipeline.
    pub fn new(gpu: &GpuContext, spec: &GridSpec) -> Result<Self, GridError> {
        crate::grid::check_fits(spec, gpu)?;
        Self::with_windows(gpu, spec, Self::windows_for(gpu, spec))
    }

    /// How the voxel fields of a `spec` grid are bound on `gpu`: whole while one fits
    /// a storage binding, else in windows of the binding limit.
    pub fn windows_for(gpu: &GpuContext, spec: &GridSpec) -> Windows {
        let need = spec.voxels() * crate::grid::BYTES_PER_VOXEL;
        Windows::covering(need, gpu.max_binding_bytes())
    }

    /// [`Processor::new`] with the voxel fields split as `windows` says (tests bind small
    /// grids in several windows); refused where the adapter cannot bind them or they do
    /// not cover the grid.
    pub fn with_windows(
        gpu: &GpuContext,
        spec: &GridSpec,
        windows: Windows,
    ) -> Result<Self, GridError> {
        let need = spec.voxels() * crate::grid::BYTES_PER_VOXEL;
        let most = ProcessKernels::most_windows(&gpu.limits);
        if !windows.fits(need, most, gpu.max_binding_bytes()) {
            return Err(GridError::windows(windows, need, most, gpu));
        }
        let grid = GpuGrid::new(gpu, spec)?;
        let device = &gpu.device;
        let pipes = ProcessKernels::shared(gpu, windows);
        let params = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("Processor::params"),
            size: PARAM_SLOTS * PARAM_STRIDE,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let shapes = Self::shapes_buffer(gpu, MIN_SHAPE_RECORDS);
        let spare = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("Processor::spare"),
            size: WINDOW_ALIGN,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        let bind = Self::bind_group(gpu, &pipes, &grid, &params, &shapes, &spare);
        Ok(Self {
            gpu: gpu.clone(),
            grid,
            pipes,
            params,
            shapes,
            spare,
            bind,
            progress: 1.0,
            release: std::cell::Cell::new(None),
        })
    }

    fn shapes_buffer(gpu: &GpuContext, vec4s: u64) -> wgpu::Buffer {
        gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("Processor::shapes"),
            size: vec4s * 16,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    fn bind_group(
        gpu: &GpuContext,
        pipes: &ProcessKernels,
        grid: &GpuGrid,
        params: &wgpu::Buffer,
        shapes: &wgpu::Buffer,
        spare: &wgpu::Buffer,
    ) -> wgpu::BindGroup {
        let fields = [
            &grid.material,
            &grid.prev,
            &grid.mask,
            &grid.scratch_a,
            &grid.scratch_b,
            &grid.counters,
            shapes,
        ];
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: params,
                offset: 0,
                size: wgpu::BufferSize::new(size_of::<StepParams>() as u64),
            }),
        }];
        entries.extend(windowed_buffers(
            1,
            &fields,
            &kernels::WINDOWED,
            pipes.windows,
            spare,
        ));
        gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("Processor::bind"),
            layout: &pipes.layout,
            entries: &entries,
        })
    }

    pub fn gpu(&self) -> &GpuContext {
        &self.gpu
    }

    pub fn grid(&self) -> &GpuGrid {
        &self.grid
    }

    pub(crate) fn batch(&self) -> Batch<'_> {
        Batch {
            p: self,
            encoder: self
                .gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("Processor::batch"),
                }),
            slots: Vec::new(),
        }
    }

    /// Parameters every pass needs: grid size and voxel edge.
    pub(crate) fn base(&self) -> StepParams {
        let [nx, ny, nz] = self.grid.spec.dims;
        StepParams {
            dims: [nx, ny, nz, nx * ny],
            voxel_um: self.grid.spec.voxel_um as f32,
            ..Default::default()
        }
    }

    /// Workgroups covering every voxel (8x8x4 per group).
    pub(crate) fn vol_groups(&self) -> [u32; 3] {
        let [nx, ny, nz] = self.grid.spec.dims;
        [nx.div_ceil(8), ny.div_ceil(8), nz.div_ceil(4)]
    }

    /// Workgroups covering every column (8x8 per group).
    pub(crate) fn col_groups(&self) -> [u32; 3] {
        let [nx, ny, _] = self.grid.spec.dims;
        [nx.div_ceil(8), ny.div_ceil(8), 1]
    }

    /// Reads the counters buffer.
    pub(crate) fn counters(&self) -> Vec<u32> {
        bytemuck::pod_collect_to_vec(&read_buffer(
            &self.gpu,
            &self.grid.counters,
            0,
            COUNTERS as u64 * 4,
        ))
    }

    /// [`Processor::run`] stopped part-way through a progressive step whose extent is only
    /// known on the grid (spin-on and dispense fills and plating fills rise to `fraction`
    /// of their top; a through drill reaches `fraction` of the grid's height), for the
    /// timeline's sub-step frames. Steps [`Op::scaled`] can shorten are left to it.
    pub fn run_at(&mut self, op: &Op, masks: &[Mask], fraction: f64) -> StepStats {
        self.progress = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            1.0
        };
        let stats = self.run(op, masks);
        self.progress = 1.0;
        stats
    }

    /// `z` scaled by the progress of the step (rounded up, so a started fill shows).
    fn progressed(&self, z: u32) -> u32 {
        (f64::from(z) * self.progress).ceil() as u32
    }

    /// Runs one process op and measures what it changed. Assembly (a bond) goes through
    /// [`Processor::bond`], which needs the placed part; analysis changes no voxel.
    pub fn run(&mut self, op: &Op, masks: &[Mask]) -> StepStats {
        let start = Instant::now();
        self.snapshot();
        self.release.set(None);
        let mask_of = |m: Option<usize>| m.map(|i| &masks[i]);
        let iterations = match op {
            Op::Substrate {
                material,
                z0,
                z1,
                mask,
            } => {
                self.rasterize(mask_of(*mask), false);
                let mut b = self.batch();
                let p = StepParams {
                    material: u32::from(*material),
                    z0: *z0 as i32,
                    z1: *z1 as i32,
                    ..self.base()
                };
                b.dispatch(&self.pipes.substrate, p, self.vol_groups());
                b.submit();
                0
            }
            Op::Deposit {
                material,
                mode,
                mask,
            } => {
                self.rasterize(mask_of(*mask), false);
                self.deposit(*material, mode)
            }
            Op::Pattern {
                material,
                mask,
                tone,
                taper,
                ramp,
            } => {
                self.rasterize(Some(&masks[*mask]), *tone == Tone::Negative);
                self.pattern(*material, *taper, ramp.as_ref());
                0
            }
            Op::Drill {
                materials,
                mask,
                from,
                depth,
                taper,
            } => {
                self.rasterize(Some(&masks[*mask]), false);
                let depth = match depth {
                    None if self.progress < 1.0 => {
                        Some(self.progressed(self.grid.spec.dims[2]).max(1))
                    }
                    d => *d,
                };
                self.drill(materials, *from, depth, *taper);
                0
            }
            Op::Plate {
                material,
                mode,
                seeds,
                mask,
            } => {
                self.rasterize(mask_of(*mask), false);
                self.plate(*material, mode, MaterialSet::of(seeds))
            }
            Op::Grind { keep } => {
                let (mode, z) = match *keep {
                    GrindKeep::Below(z) => (0, z),
                    GrindKeep::Above(z) => (1, z),
                };
                let mut b = self.batch();
                let p = StepParams {
                    mode,
                    z0: z as i32,
                    ..self.base()
                };
                b.dispatch(&self.pipes.grind, p, self.vol_groups());
                b.submit();
                0
            }
            Op::Flip => {
                let mut b = self.batch();
                b.dispatch(&self.pipes.flip, self.base(), self.vol_groups());
                b.submit();
                0
            }
            Op::Dispense {
                material,
                mask,
                top,
            } => {
                self.rasterize(Some(&masks[*mask]), false);
                self.deposit(*material, &DepositMode::Planarize { top: *top })
            }
            Op::Dice {
                materials,
                mask,
                depth,
            } => {
                self.rasterize(Some(&masks[*mask]), false);
                let set = if materials.is_empty() {
                    MaterialSet::all()
                } else {
                    MaterialSet::of(materials)
                };
                self.etch(set, &EtchMode::Anisotropic { depth: *depth })
            }
            Op::Ball {
                material,
                mask,
                radius,
                height,
            } => {
                self.balls(*material, &masks[*mask], *radius, *height);
                0
            }
            Op::Wirebond {
                material,
                wires,
                radius,
            } => {
                self.wires(*material, wires, *radius);
                0
            }
            Op::Etch {
                materials,
                mode,
                mask,
            } => {
                self.rasterize(mask_of(*mask), false);
                self.etch(MaterialSet::of(materials), mode)
            }
        };
        self.finish(start, iterations)
    }

    /// Stats of a step that changes no voxel (an analysis step): the counts as they
    /// stand, nothing changed.
    pub fn unchanged(&self) -> StepStats {
        let start = Instant::now();
        self.snapshot();
        self.finish(start, 0)
    }

    /// Copies the grid to `prev`: the step's snapshot for "voxels changed" (and flip).
    fn snapshot(&self) {
        let mut b = self.batch();
        let voxel_bytes = self.grid.spec.voxels() * 4;
        b.encoder()
            .copy_buffer_to_buffer(&self.grid.material, 0, &self.grid.prev, 0, voxel_bytes);
        b.submit();
    }

    fn finish(&self, start: Instant, iterations: u32) -> StepStats {
        let (voxels_changed, counts) = self.stats();
        StepStats {
            ms: start.elapsed().as_secs_f64() * 1e3,
            voxels_changed,
            counts,
            iterations,
            release_min: self.release.take(),
        }
    }

    /// Per-material voxel counts, and voxels that differ from the step's snapshot.
    pub fn stats(&self) -> (u64, Vec<u64>) {
        let mut b = self.batch();
        b.clear_counters();
        b.dispatch(&self.pipes.stats, self.base(), self.vol_groups());
        b.submit();
        let c = self.counters();
        (
            u64::from(c[C_DIFF]),
            c[..256].iter().map(|&v| u64::from(v)).collect(),
        )
    }
}
