//! Matrix-free Jacobi-preconditioned conjugate gradients on the GPU.
//!
//! Why CG and not damped dynamic relaxation: CG needs no eigenvalue estimate (dynamic
//! relaxation needs the largest eigenvalue for its time step and the smallest for its
//! damping, and both move with every geometry and material change); it is robust to
//! the ~1000x stiffness contrast between elastomers/polymers and silicon because the
//! Jacobi weights rescale each DOF by its own stiffness; and its iteration count grows
//! about linearly with the grid's edge length (√κ with κ ~ n²), the same order as a
//! well-tuned relaxation but without tuning.
//!
//! Every vector lives on the GPU as three f32 component buffers (SoA), so no binding
//! exceeds 4 bytes per node. Dot products are workgroup tree reductions into per-group
//! partial sums, which a one-workgroup kernel folds into the CG scalars; the host reads
//! the scalars only every [`CHECK_EVERY`] iterations.

use super::element::{UnitElement, lame};
use super::params::{
    DOF_X, DOF_Y, DOF_Z, MaterialGpu, S_FF, S_RR, S_RR_TRUE, SCALARS, SUPPORT_BOTTOM_FIXED,
    SUPPORT_BOTTOM_ROLLER, SUPPORT_CLAMPED, SUPPORT_FREE, SYM_X, SYM_Y, StressParams, WG,
    dispatch_2d,
};
use super::results::{StressResult, VoxelField};
use super::{BoundaryConditions, SolveOptions, StressError, Support, ThermalLoad};
use crate::gpu::{GpuContext, read_buffer};
use crate::grid::GpuGrid;
use crate::materials::{MAX_MATERIALS, MaterialTable};
use crate::scene::GridSpec;
use crate::shaders;
use std::time::Instant;

/// Iterations between residual readbacks.
pub const CHECK_EVERY: u32 = 32;
/// Checks without a 10 % drop of the best residual before the iteration counts as stalled.
const STALL_CHECKS: u32 = 16;
/// Restarts from the true residual before giving up on reaching `tol`.
const MAX_RESTARTS: u32 = 4;

/// Storage buffers the CG kernels bind in one stage.
const CG_STORAGE_BINDINGS: u32 = 19;

/// Node buffers, in binding order from 4 (keep in sync with shaders/stress_cg_bindings.wgsl).
const NODE_FIELDS: [&str; 15] = [
    "StressSolver::u0",
    "StressSolver::u1",
    "StressSolver::u2",
    "StressSolver::r0",
    "StressSolver::r1",
    "StressSolver::r2",
    "StressSolver::s0",
    "StressSolver::s1",
    "StressSolver::s2",
    "StressSolver::q0",
    "StressSolver::q1",
    "StressSolver::q2",
    "StressSolver::w0",
    "StressSolver::w1",
    "StressSolver::w2",
];
const U: usize = 0;
const S: usize = 6;
/// Node buffers the results kernel writes its eight voxel fields into (r, s, q are
/// free once the solve is done, and nodes outnumber voxels).
const RESULT_FIELDS: [usize; 8] = [3, 4, 5, 6, 7, 8, 9, 10];

struct Pipelines {
    setup: wgpu::ComputePipeline,
    apply: wgpu::ComputePipeline,
    residual: wgpu::ComputePipeline,
    update_xr: wgpu::ComputePipeline,
    update_s: wgpu::ComputePipeline,
    finish_ff: wgpu::ComputePipeline,
    finish_alpha: wgpu::ComputePipeline,
    finish_beta: wgpu::ComputePipeline,
    finish_true: wgpu::ComputePipeline,
    reset: wgpu::ComputePipeline,
    results: wgpu::ComputePipeline,
}

/// Elastic constants of one table entry, or why it cannot be used.
#[derive(Debug, Clone)]
enum MatEntry {
    Solid { lambda: f64, mu: f64, alpha: f64 },
    Bad { name: String, why: String },
}

/// Thermoelastic solver bound to one grid. Pipelines and buffers are made once;
/// [`StressSolver::solve`] only writes uniforms and dispatches.
pub struct StressSolver<'g> {
    gpu: &'g GpuContext,
    spec: GridSpec,
    material: wgpu::Buffer,
    table: Vec<MatEntry>,
    params: wgpu::Buffer,
    mats: wgpu::Buffer,
    nodes: Vec<wgpu::Buffer>,
    scalars: wgpu::Buffer,
    cg_bind: wgpu::BindGroup,
    results_bind: wgpu::BindGroup,
    pipes: Pipelines,
    node_count: u32,
    node_groups: u32,
    node_wx: u32,
    node_dispatch: [u32; 3],
    voxel_wx: u32,
    voxel_dispatch: [u32; 3],
}

fn layout_entry(binding: u32, ty: wgpu::BufferBindingType) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

fn storage(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
    layout_entry(binding, wgpu::BufferBindingType::Storage { read_only })
}

fn whole(binding: u32, b: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: b.as_entire_binding(),
    }
}

impl<'g> StressSolver<'g> {
    /// Checks that the node buffers fit the adapter, then allocates them and builds the
    /// pipelines. `materials` must be the table the grid's ids refer to.
    pub fn new(
        gpu: &'g GpuContext,
        grid: &GpuGrid,
        materials: &MaterialTable,
    ) -> Result<Self, StressError> {
        let spec = grid.spec.clone();
        let [nx, ny, nz] = spec.dims;
        if spec.voxels() == 0 {
            return Err(StressError::EmptyGrid(spec.dims));
        }
        let nodes = u64::from(nx + 1) * u64::from(ny + 1) * u64::from(nz + 1);
        let limit = gpu.max_binding_bytes();
        if nodes * 4 > limit || nodes > u64::from(u32::MAX / 2) {
            return Err(StressError::TooLarge {
                nx,
                ny,
                nz,
                need: (nodes * 4).div_ceil(1 << 20),
                limit: limit >> 20,
                adapter: gpu.info.name.clone(),
            });
        }
        let have = gpu.limits.max_storage_buffers_per_shader_stage;
        if have < CG_STORAGE_BINDINGS {
            return Err(StressError::TooManyBindings {
                need: CG_STORAGE_BINDINGS,
                limit: have,
                adapter: gpu.info.name.clone(),
            });
        }
        let table = materials
            .iter()
            .map(|(_, m)| {
                let bad = |why: &str| MatEntry::Bad {
                    name: m.name.clone(),
                    why: why.into(),
                };
                if !(m.e_gpa.is_finite() && m.e_gpa > 0.0) {
                    bad("Young's modulus must be positive")
                } else if !(m.nu > -1.0 && m.nu < 0.5) {
                    bad("Poisson's ratio must lie in (-1, 0.5)")
                } else if !m.cte_ppm.is_finite() {
                    bad("CTE must be finite")
                } else {
                    let (lambda, mu) = lame(m.e_gpa, m.nu);
                    MatEntry::Solid {
                        lambda,
                        mu,
                        alpha: m.cte_ppm * 1e-6,
                    }
                }
            })
            .collect();

        let node_count = nodes as u32;
        let node_groups = node_count.div_ceil(WG);
        let (node_wx, node_dispatch) = dispatch_2d(node_groups);
        let voxels = spec.voxels() as u32;
        let (voxel_wx, voxel_dispatch) = dispatch_2d(voxels.div_ceil(WG));

        let device = &gpu.device;
        let make = |label: &str, size: u64, usage: wgpu::BufferUsages| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: size.max(16),
                usage,
                mapped_at_creation: false,
            })
        };
        let rw = wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_SRC
            | wgpu::BufferUsages::COPY_DST;
        // 15 node fields may not fit the device even when each binding does.
        let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let node_bufs: Vec<wgpu::Buffer> =
            NODE_FIELDS.iter().map(|l| make(l, nodes * 4, rw)).collect();
        if let Some(e) = pollster::block_on(oom.pop()) {
            return Err(StressError::OutOfMemory {
                need: (nodes * 4 * NODE_FIELDS.len() as u64).div_ceil(1 << 20),
                reason: e.to_string(),
            });
        }
        let params = make(
            "StressSolver::params",
            size_of::<StressParams>() as u64,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        );
        let mats = make(
            "StressSolver::mats",
            (MAX_MATERIALS * size_of::<MaterialGpu>()) as u64,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        );
        let ke_blocks = UnitElement::new().gpu_blocks();
        let ke = make(
            "StressSolver::ke",
            (ke_blocks.len() * 16) as u64,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        );
        gpu.queue
            .write_buffer(&ke, 0, bytemuck::cast_slice(&ke_blocks));
        let partials = make(
            "StressSolver::partials",
            2 * u64::from(node_groups) * 4,
            wgpu::BufferUsages::STORAGE,
        );
        let scalars = make("StressSolver::scalars", (SCALARS * 4) as u64, rw);

        let uniform = layout_entry(0, wgpu::BufferBindingType::Uniform);
        let mut cg_entries = vec![
            uniform,
            storage(1, true),
            storage(2, true),
            layout_entry(3, wgpu::BufferBindingType::Uniform),
        ];
        cg_entries.extend((4..21).map(|b| storage(b, false)));
        let cg_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("StressSolver::cg_layout"),
            entries: &cg_entries,
        });
        let mut res_entries = vec![uniform];
        res_entries.extend((1..6).map(|b| storage(b, true)));
        res_entries.extend((6..14).map(|b| storage(b, false)));
        let results_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("StressSolver::results_layout"),
            entries: &res_entries,
        });

        let mut cg_bind_entries = vec![
            whole(0, &params),
            whole(1, &grid.material),
            whole(2, &mats),
            whole(3, &ke),
        ];
        cg_bind_entries.extend(
            node_bufs
                .iter()
                .enumerate()
                .map(|(i, b)| whole(4 + i as u32, b)),
        );
        cg_bind_entries.push(whole(19, &partials));
        cg_bind_entries.push(whole(20, &scalars));
        let cg_bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("StressSolver::cg_bind"),
            layout: &cg_layout,
            entries: &cg_bind_entries,
        });
        let mut res_bind_entries =
            vec![whole(0, &params), whole(1, &grid.material), whole(2, &mats)];
        res_bind_entries.extend((0..3).map(|c| whole(3 + c as u32, &node_bufs[U + c])));
        res_bind_entries.extend(
            RESULT_FIELDS
                .iter()
                .enumerate()
                .map(|(i, &f)| whole(6 + i as u32, &node_bufs[f])),
        );
        let results_bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("StressSolver::results_bind"),
            layout: &results_layout,
            entries: &res_bind_entries,
        });

        let pipeline_layout = |label: &str, l: &wgpu::BindGroupLayout| {
            device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some(label),
                bind_group_layouts: &[Some(l)],
                immediate_size: 0,
            })
        };
        let cg_pl = pipeline_layout("StressSolver::cg_pipeline_layout", &cg_layout);
        let res_pl = pipeline_layout("StressSolver::results_pipeline_layout", &results_layout);
        let module = |name: &str| {
            device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(name),
                source: wgpu::ShaderSource::Wgsl(shaders::stress(name).into()),
            })
        };
        let pipe = |layout: &wgpu::PipelineLayout, m: &wgpu::ShaderModule, entry: &str| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: Some(layout),
                module: m,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
        };
        let apply = module("stress_apply");
        let cg = module("stress_cg");
        let pipes = Pipelines {
            setup: pipe(&cg_pl, &apply, "setup"),
            apply: pipe(&cg_pl, &apply, "apply"),
            residual: pipe(&cg_pl, &apply, "residual"),
            update_xr: pipe(&cg_pl, &cg, "update_xr"),
            update_s: pipe(&cg_pl, &cg, "update_s"),
            finish_ff: pipe(&cg_pl, &cg, "finish_ff"),
            finish_alpha: pipe(&cg_pl, &cg, "finish_alpha"),
            finish_beta: pipe(&cg_pl, &cg, "finish_beta"),
            finish_true: pipe(&cg_pl, &cg, "finish_true"),
            reset: pipe(&cg_pl, &cg, "reset"),
            results: pipe(&res_pl, &module("stress_results"), "results"),
        };
        Ok(Self {
            gpu,
            spec,
            material: grid.material.clone(),
            table,
            params,
            mats,
            nodes: node_bufs,
            scalars,
            cg_bind,
            results_bind,
            pipes,
            node_count,
            node_groups,
            node_wx,
            node_dispatch,
            voxel_wx,
            voxel_dispatch,
        })
    }

    pub fn spec(&self) -> &GridSpec {
        &self.spec
    }

    /// GPU buffer holding a per-voxel result field of the last solve (f32 per voxel, grid
    /// order), for views that colour by stress without a CPU round trip. Valid until
    /// the next `solve`, which reuses these buffers as CG vectors.
    pub fn field_buffer(&self, field: VoxelField) -> &wgpu::Buffer {
        let k = match field {
            VoxelField::Stress(k) => k.min(5),
            VoxelField::VonMises => 6,
            VoxelField::MaxPrincipal => 7,
        };
        &self.nodes[RESULT_FIELDS[k]]
    }

    /// GPU buffer of displacement component `axis` (0..3, µm per node) of the last solve.
    pub fn displacement_buffer(&self, axis: usize) -> &wgpu::Buffer {
        &self.nodes[U + axis.min(2)]
    }

    /// Solves for the displacement under a uniform temperature change and evaluates the
    /// stresses. The grid's current materials are used (it may have changed since `new`).
    pub fn solve(
        &mut self,
        load: &ThermalLoad,
        bc: &BoundaryConditions,
        opts: &SolveOptions,
    ) -> Result<StressResult, StressError> {
        let start = Instant::now();
        if !(opts.tol.is_finite() && opts.tol > 0.0) {
            return Err(StressError::BadOptions(format!(
                "tol must be positive, got {}",
                opts.tol
            )));
        }
        if opts.max_iterations == 0 {
            return Err(StressError::BadOptions(
                "max_iterations must be at least 1".into(),
            ));
        }
        if !load.delta_t.is_finite() {
            return Err(StressError::BadOptions(format!(
                "delta_t must be finite, got {}",
                load.delta_t
            )));
        }
        let ids = self.read_ids()?;
        let mut table = [MaterialGpu::default(); MAX_MATERIALS];
        for (id, entry) in self.table.iter().enumerate().skip(1) {
            if let MatEntry::Solid { lambda, mu, alpha } = *entry {
                table[id] = MaterialGpu {
                    lambda: lambda as f32,
                    mu: mu as f32,
                    thermal: ((3.0 * lambda + 2.0 * mu) * alpha * load.delta_t) as f32,
                    eigen: (alpha * load.delta_t) as f32,
                };
            }
        }
        let pins = pins(&self.spec, &ids, bc)?;
        let [nx, ny, nz] = self.spec.dims;
        let params = StressParams {
            dims: [nx, ny, nz, nx * ny],
            ndims: [nx + 1, ny + 1, nz + 1, self.node_count],
            h: self.spec.voxel_um as f32,
            support: match bc.support {
                Support::Free => SUPPORT_FREE,
                Support::BottomFixed => SUPPORT_BOTTOM_FIXED,
                Support::BottomRoller => SUPPORT_BOTTOM_ROLLER,
                Support::Clamped => SUPPORT_CLAMPED,
            },
            sym: if bc.symmetry_x { SYM_X } else { 0 } | if bc.symmetry_y { SYM_Y } else { 0 },
            node_groups: self.node_groups,
            node_wx: self.node_wx,
            voxel_wx: self.voxel_wx,
            voxels: self.spec.voxels() as u32,
            _pad: 0,
            pins,
        };
        let q = &self.gpu.queue;
        q.write_buffer(&self.params, 0, bytemuck::bytes_of(&params));
        q.write_buffer(&self.mats, 0, bytemuck::cast_slice(&table));

        // Setup, then the priming half-iteration (alpha = 0) that forms s = z = w r.
        self.run(|s, pass| {
            s.node_pass(pass, &s.pipes.setup);
            s.single(pass, &s.pipes.finish_ff);
            s.single(pass, &s.pipes.reset);
            s.tail(pass);
        });
        let sc = self.read_scalars();
        let ff = f64::from(sc[S_FF]);
        let mut iterations = 0u32;
        let mut residual = 0.0;
        let mut converged = true;
        let mut stalled = false;
        if ff > 0.0 && ff.is_finite() {
            let (its, res, conv) = self.iterate(ff, opts);
            iterations = its;
            residual = res;
            converged = conv;
            stalled = !conv && its < opts.max_iterations;
        } else if !ff.is_finite() {
            converged = false;
            residual = f64::NAN;
        }
        let solve_ms = start.elapsed().as_secs_f64() * 1e3;
        Ok(self.collect(
            ids, iterations, residual, converged, stalled, solve_ms, start,
        ))
    }

    /// CG until the true relative residual reaches `tol`, stalls, or the budget runs out.
    /// Returns (iterations, true relative residual, converged).
    fn iterate(&self, ff: f64, opts: &SolveOptions) -> (u32, f64, bool) {
        let mut iterations = 0u32;
        let mut best = f64::INFINITY;
        let mut stall = 0u32;
        let mut restarts = 0u32;
        let mut last_true = f64::INFINITY;
        while iterations < opts.max_iterations {
            let n = CHECK_EVERY.min(opts.max_iterations - iterations);
            self.run(|s, pass| {
                for _ in 0..n {
                    s.node_pass(pass, &s.pipes.apply);
                    s.single(pass, &s.pipes.finish_alpha);
                    s.tail(pass);
                }
            });
            iterations += n;
            let rel = (f64::from(self.read_scalars()[S_RR]) / ff).sqrt();
            if !rel.is_finite() {
                break;
            }
            if rel <= opts.tol {
                // The recursively updated residual drifts from f - K u in f32: confirm with
                // the true one, and restart from it when they disagree.
                let true_rel = self.true_residual(ff);
                if true_rel <= opts.tol {
                    return (iterations, true_rel, true);
                }
                restarts += 1;
                if restarts > MAX_RESTARTS || true_rel > 0.5 * last_true {
                    // f32 floor reached: report what was actually achieved.
                    return (iterations, true_rel, false);
                }
                last_true = true_rel;
                best = true_rel;
                stall = 0;
                continue;
            }
            if rel < 0.9 * best {
                best = rel;
                stall = 0;
            } else {
                stall += 1;
                if stall >= STALL_CHECKS {
                    break;
                }
            }
        }
        (iterations, self.true_residual(ff), false)
    }

    /// ‖f − K u‖ / ‖f‖ over the free DOFs; leaves CG primed to restart from it.
    fn true_residual(&self, ff: f64) -> f64 {
        let mut encoder = self.encoder("StressSolver::true_residual");
        let bytes = u64::from(self.node_count) * 4;
        for c in 0..3 {
            encoder.copy_buffer_to_buffer(&self.nodes[U + c], 0, &self.nodes[S + c], 0, bytes);
        }
        {
            let mut pass = self.begin(&mut encoder);
            self.node_pass(&mut pass, &self.pipes.apply);
            self.node_pass(&mut pass, &self.pipes.residual);
            self.single(&mut pass, &self.pipes.finish_true);
            self.tail(&mut pass);
        }
        self.gpu.queue.submit([encoder.finish()]);
        (f64::from(self.read_scalars()[S_RR_TRUE]) / ff).sqrt()
    }

    /// Second half of an iteration: u, r update; beta; new search direction.
    fn tail(&self, pass: &mut wgpu::ComputePass<'_>) {
        self.node_pass(pass, &self.pipes.update_xr);
        self.single(pass, &self.pipes.finish_beta);
        self.node_pass(pass, &self.pipes.update_s);
    }

    fn node_pass(&self, pass: &mut wgpu::ComputePass<'_>, pipe: &wgpu::ComputePipeline) {
        pass.set_pipeline(pipe);
        pass.set_bind_group(0, &self.cg_bind, &[]);
        let [x, y, z] = self.node_dispatch;
        pass.dispatch_workgroups(x, y, z);
    }

    fn single(&self, pass: &mut wgpu::ComputePass<'_>, pipe: &wgpu::ComputePipeline) {
        pass.set_pipeline(pipe);
        pass.set_bind_group(0, &self.cg_bind, &[]);
        pass.dispatch_workgroups(1, 1, 1);
    }

    fn encoder(&self, label: &str) -> wgpu::CommandEncoder {
        self.gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) })
    }

    fn begin<'e>(&self, encoder: &'e mut wgpu::CommandEncoder) -> wgpu::ComputePass<'e> {
        encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("StressSolver::pass"),
            timestamp_writes: None,
        })
    }

    /// Records dispatches into one compute pass and submits them.
    fn run(&self, f: impl FnOnce(&Self, &mut wgpu::ComputePass<'_>)) {
        let mut encoder = self.encoder("StressSolver::batch");
        {
            let mut pass = self.begin(&mut encoder);
            f(self, &mut pass);
        }
        self.gpu.queue.submit([encoder.finish()]);
    }

    fn read_scalars(&self) -> Vec<f32> {
        bytemuck::pod_collect_to_vec(&read_buffer(
            self.gpu,
            &self.scalars,
            0,
            (SCALARS * 4) as u64,
        ))
    }

    /// The grid's material ids, checked against the table.
    fn read_ids(&self) -> Result<Vec<u8>, StressError> {
        let raw = read_buffer(self.gpu, &self.material, 0, self.spec.voxels() * 4);
        let words: Vec<u32> = bytemuck::pod_collect_to_vec(&raw);
        let mut used = [false; MAX_MATERIALS];
        let mut ids = Vec::with_capacity(words.len());
        for w in words {
            // The kernels read the low byte, as the process passes do.
            let m = (w & 255) as usize;
            if m >= self.table.len() {
                return Err(StressError::UnknownMaterial(w));
            }
            used[m] = true;
            ids.push(m as u8);
        }
        for (id, entry) in self.table.iter().enumerate().skip(1) {
            if let (true, MatEntry::Bad { name, why }) = (used[id], entry) {
                return Err(StressError::BadMaterial {
                    id: id as u8,
                    name: name.clone(),
                    why: why.clone(),
                });
            }
        }
        Ok(ids)
    }

    /// Stress kernel, then the CPU copies.
    #[allow(
        clippy::too_many_arguments,
        reason = "private plumbing of one solve's outcome"
    )]
    fn collect(
        &self,
        ids: Vec<u8>,
        iterations: u32,
        residual: f64,
        converged: bool,
        stalled: bool,
        solve_ms: f64,
        start: Instant,
    ) -> StressResult {
        self.run(|s, pass| {
            pass.set_pipeline(&s.pipes.results);
            pass.set_bind_group(0, &s.results_bind, &[]);
            let [x, y, z] = s.voxel_dispatch;
            pass.dispatch_workgroups(x, y, z);
        });
        let read = |b: &wgpu::Buffer, len: u64| -> Vec<f32> {
            bytemuck::pod_collect_to_vec(&read_buffer(self.gpu, b, 0, len * 4))
        };
        let voxels = self.spec.voxels();
        let fields: Vec<Vec<f32>> = RESULT_FIELDS
            .iter()
            .map(|&f| read(&self.nodes[f], voxels))
            .collect();
        let u: Vec<Vec<f32>> = (0..3)
            .map(|c| read(&self.nodes[U + c], u64::from(self.node_count)))
            .collect();
        let stress = (0..voxels as usize)
            .map(|i| std::array::from_fn(|k| fields[k][i]))
            .collect();
        let displacement = (0..self.node_count as usize)
            .map(|i| [u[0][i], u[1][i], u[2][i]])
            .collect();
        StressResult {
            dims: self.spec.dims,
            voxel_um: self.spec.voxel_um,
            material: ids,
            stress,
            von_mises: fields[6].clone(),
            max_principal: fields[7].clone(),
            displacement,
            iterations,
            residual,
            converged,
            stalled,
            solve_ms,
            ms: start.elapsed().as_secs_f64() * 1e3,
        }
    }
}

/// Point constraints that remove the rigid-body modes the supports and symmetry planes
/// leave free (statically determinate, so they carry no load under a thermal strain).
fn pins(
    spec: &GridSpec,
    ids: &[u8],
    bc: &BoundaryConditions,
) -> Result<[[u32; 4]; 3], StressError> {
    let [nx, ny, nz] = spec.dims.map(|d| d as usize);
    let solid = |x: usize, y: usize, z: usize| ids[x + nx * (y + ny * z)] != 0;
    let node = |x: usize, y: usize, z: usize| (x + (nx + 1) * (y + (ny + 1) * z)) as u32;
    let (sx, sy) = (bc.symmetry_x, bc.symmetry_y);
    let mut out = [[0u32; 4]; 3];
    let first = |layer_only: bool| -> Option<(usize, usize, usize)> {
        let n = if layer_only { nx * ny } else { ids.len() };
        ids[..n]
            .iter()
            .position(|&m| m != 0)
            .map(|i| (i % nx, (i / nx) % ny, i / (nx * ny)))
    };
    let plane_has_solid = |x_plane: bool| -> bool {
        (0..nz).any(|z| {
            if x_plane {
                (0..ny).any(|y| solid(0, y, z))
            } else {
                (0..nx).any(|x| solid(x, 0, z))
            }
        })
    };
    let needs_plane = matches!(bc.support, Support::Free | Support::BottomRoller);
    if needs_plane && sx && !plane_has_solid(true) {
        return Err(StressError::Unsupported(
            "symmetry plane x = 0 touches no solid voxel".into(),
        ));
    }
    if needs_plane && sy && !plane_has_solid(false) {
        return Err(StressError::Unsupported(
            "symmetry plane y = 0 touches no solid voxel".into(),
        ));
    }
    let anchor = match bc.support {
        Support::Free => first(false),
        Support::BottomFixed | Support::BottomRoller => {
            let a = first(true);
            if a.is_none() {
                return Err(StressError::Unsupported(
                    "the support holds the bottom (z = 0) but no solid voxel touches it".into(),
                ));
            }
            a
        }
        Support::Clamped => None,
    };
    let Some((x0, y0, z0)) = anchor else {
        // Clamped, or Free with no solid at all (nothing to solve).
        return Ok(out);
    };
    if bc.support == Support::BottomFixed {
        return Ok(out);
    }
    // Far nodes along +x and +y from the anchor, on the solid, for a long lever arm.
    let x1 = (x0..nx)
        .rev()
        .find(|&x| solid(x, y0, z0))
        .map_or(x0 + 1, |x| x + 1);
    let y1 = (y0..ny)
        .rev()
        .find(|&y| solid(x0, y, z0))
        .map_or(y0 + 1, |y| y + 1);
    let (a, b, c) = (node(x0, y0, z0), node(x1, y0, z0), node(x0, y1, z0));
    let list: Vec<(u32, u32)> = match (bc.support, sx, sy) {
        (Support::Free, false, false) => {
            vec![(a, DOF_X | DOF_Y | DOF_Z), (b, DOF_Y | DOF_Z), (c, DOF_Z)]
        }
        (Support::Free, true, false) => vec![(a, DOF_Y | DOF_Z), (c, DOF_Z)],
        (Support::Free, false, true) => vec![(a, DOF_X | DOF_Z), (b, DOF_Z)],
        (Support::Free, true, true) => vec![(a, DOF_Z)],
        (_, false, false) => vec![(a, DOF_X | DOF_Y), (b, DOF_Y)],
        (_, true, false) => vec![(a, DOF_Y)],
        (_, false, true) => vec![(a, DOF_X)],
        (_, true, true) => vec![],
    };
    for (slot, (n, bits)) in out.iter_mut().zip(list) {
        *slot = [n, bits, 0, 0];
    }
    Ok(out)
}
