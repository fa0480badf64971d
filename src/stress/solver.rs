//! Multigrid-preconditioned conjugate gradients on the GPU, with the outer iteration in
//! f64 where the adapter has `SHADER_F64`.
//!
//! The outer CG (shaders/stress_outer.wgsl) keeps the solution, residual, search
//! direction and every dot product at `real` precision (f64, or f32 as the fallback) and
//! applies K matrix-free at that precision; each iteration is preconditioned by one f32
//! V-cycle of [`Multigrid`]. The residual it iterates on is therefore the true
//! f64 residual up to the recursion's drift, which the host confirms with a fresh
//! `f − K u` before it declares convergence. Vectors are interleaved (3 values per
//! node). Scalars (α, β) are computed on the GPU by one-workgroup kernels, so an
//! iteration never waits on the CPU; the host reads them every [`CHECK_EVERY`]
//! iterations.

use super::element::{UnitElement, lame};
use super::gpu_util::{
    Arg, AsArg, Module, RANGE_ALIGN, RW, Range, UNIFORM, Vector, buffer, buffer_size, cover,
    dispatch, piece_bytes, piece_sizes, slots_in,
};
use super::kernels::StressKernels;
use super::multigrid::{self, CycleShape, FineInputs, LevelCost, Multigrid};
use super::params::{DOF_X, DOF_Y, DOF_Z};
use super::params::{
    MaterialGpu, O_FF, O_RR, O_SCALE, SCALARS, SUPPORT_BOTTOM_FIXED, SUPPORT_BOTTOM_ROLLER,
    SUPPORT_CLAMPED, SUPPORT_FREE, SYM_X, SYM_Y, StressParams, WG,
};
use super::results::StressResult;
use super::{BoundaryConditions, Prescribed, SolveOptions, StressError, Support, ThermalLoad};
use crate::gpu::{GpuContext, read_buffer};
use crate::grid::GpuGrid;
use crate::materials::{MAX_MATERIALS, MaterialTable};
use crate::scene::GridSpec;
use crate::shaders::Windows;
use std::sync::Arc;
use std::time::Instant;

/// Iterations between residual readbacks.
pub const CHECK_EVERY: u32 = 2;
/// Checks without a 10 % drop of the best residual before the iteration counts as stalled.
const STALL_CHECKS: u32 = 50;
/// Restarts from the true residual before giving up on reaching `tol`.
const MAX_RESTARTS: u32 = 3;

/// Elastic constants of one table entry, or why it cannot be used.
#[derive(Debug, Clone)]
enum MatEntry {
    Solid { lambda: f64, mu: f64, alpha: f64 },
    Bad { name: String, why: String },
}

/// What a solve of one grid allocates ([`StressSolver::memory_bytes`]), bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SolveBytes {
    /// Every buffer of the solver and its hierarchy, coarse matrices at their
    /// material slots only (the set-up adds the rest).
    pub total: u64,
    /// The largest buffer bound whole (checked against the binding limit).
    pub largest_binding: u64,
    /// The largest node vector: bound in windows of the binding limit, in buffers of
    /// whole windows past the buffer limit.
    pub largest_vector: u64,
    /// The largest 4-byte array (node flags, level 1's block inverses, a result field):
    /// one buffer, so the buffer limit applies.
    pub narrow: u64,
    /// The grid and precision, for what depends on the adapter's limits
    /// ([`SolveBytes::result_bytes`]).
    pub dims: [u32; 3],
    pub f64: bool,
}

impl SolveBytes {
    /// Buffers of their own for the result fields on an adapter with these limits
    /// ([`StressSolver::result_bytes`]).
    pub fn result_bytes(&self, max_binding: u64, max_buffer: u64) -> u64 {
        if self.dims.contains(&0) {
            return 0;
        }
        StressSolver::result_bytes(self.dims, self.f64, max_binding, max_buffer)
    }
}

/// Per-solve figures beyond the result's (levels, set-up time), for benches and docs.
#[derive(Debug, Clone, Default)]
pub struct SolveStats {
    /// Element boxes of the multigrid levels, finest first.
    pub levels: Vec<[u32; 3]>,
    /// Chebyshev bound (largest eigenvalue of D^-1 A) per smoothed level.
    pub lambda_max: Vec<f64>,
    /// Multigrid set-up (block inverses, Galerkin products, bounds, coarsest inverse), ms.
    pub setup_ms: f64,
    /// Whether the outer iteration ran in f64.
    pub f64: bool,
    /// Coarse elements with a matrix of their own per level (level 1 first); the
    /// others are uniform blocks sharing their material's.
    pub mixed: Vec<u64>,
    /// GPU bytes the solve holds: the buffers made with the solver plus the coarse
    /// matrices the set-up sized.
    pub bytes: u64,
}

/// Thermoelastic solver bound to one grid. Pipelines and buffers are made once;
/// [`StressSolver::solve`] only writes uniforms and dispatches.
pub struct StressSolver<'g> {
    gpu: &'g GpuContext,
    spec: GridSpec,
    material: wgpu::Buffer,
    table: Vec<MatEntry>,
    f64: bool,
    params: wgpu::Buffer,
    mats: wgpu::Buffer,
    mats_r: wgpu::Buffer,
    ke_r: wgpu::Buffer,
    fixed: wgpu::Buffer,
    vectors: [Vector; 3],
    partials: wgpu::Buffer,
    scalars: wgpu::Buffer,
    out: ResultRanges,
    k: Arc<StressKernels>,
    outer_bind: wgpu::BindGroup,
    /// The outer bindings for `export_u`, whose output ranges share level 0's d with q.
    export_bind: wgpu::BindGroup,
    pres_bind: Option<(wgpu::BindGroup, [u32; 3])>,
    /// Node index of each uploaded prescribed entry, in upload order.
    pres_nodes: Vec<u32>,
    results_bind: wgpu::BindGroup,
    mg: Multigrid,
    node_count: u32,
    node_groups: u32,
    node_wx: u32,
    node_grid: [u32; 3],
    voxel_wx: u32,
    voxel_grid: [u32; 3],
    /// Figures of the last solve.
    pub stats: SolveStats,
}

const U: usize = 0;
const P: usize = 2;

/// Where a finished solve leaves its f32 displacement (per node, one range per axis)
/// and its eight voxel fields (six stress components, von Mises, largest principal):
/// ranges of buffers the solve no longer needs then (the fields in the outer residual r
/// and search direction p, then level 0's x; the displacement in level 0's Chebyshev
/// direction d, then in x where no field went there, since the results pass reads the
/// displacement and writes the fields and one buffer may not be both).
/// The results thus add nothing to the solve's peak memory (44 B per node if they had
/// buffers of their own); the next solve, or any V-cycle, overwrites them, so they are
/// read back before the solver is used again.
struct ResultRanges {
    u: [Range; 3],
    fields: Vec<Range>,
    /// Buffers of the ranges the idle vectors' pieces could not hold (none while each
    /// vector is one buffer).
    own: Vec<wgpu::Buffer>,
}

/// Where each result range goes ([`ResultRanges`]): (vector, piece, offset) with the
/// vectors numbered r, p, x, d, or `None` for a buffer of its own; the eight fields,
/// then the three displacement components.
type Plan = Vec<Option<(usize, usize, u64)>>;

/// Voxel fields among the result ranges (the displacement's three follow).
const FIELDS: usize = 8;

impl ResultRanges {
    /// Bytes of result range `i` ([`Plan`] order).
    fn len(i: usize, nodes: u64, voxels: u64) -> u64 {
        if i < FIELDS { voxels * 4 } else { nodes * 4 }
    }

    /// Voxel fields r and p each hold at most: 6 at f64, 3 at f32 (level 0's x takes
    /// the rest).
    fn in_r(f64: bool) -> u64 {
        if f64 { 6 } else { 3 }
    }

    fn stride(len: u64) -> u64 {
        (len * 4).next_multiple_of(RANGE_ALIGN)
    }

    /// Bytes of r and p: an outer vector, padded to hold its aligned field ranges.
    fn r_len(nodes: u64, voxels: u64, f64: bool) -> u64 {
        (nodes * 3 * real_bytes(f64)).max(Self::in_r(f64) * Self::stride(voxels))
    }

    /// Places the ranges in vectors whose pieces have the byte sizes `sizes` (r, p, x,
    /// d): each range inside one piece. One buffer per vector always holds them all.
    fn plan(nodes: u64, voxels: u64, f64: bool, sizes: [&[u64]; 4]) -> Plan {
        let take = |sources: &[(usize, u64)], n: u64, count: usize| -> Vec<(usize, usize, u64)> {
            sources
                .iter()
                .flat_map(|&(v, most)| {
                    slots_in(sizes[v], n * 4, Self::stride(n))
                        .take(most as usize)
                        .map(move |(k, off)| (v, k, off))
                })
                .take(count)
                .collect()
        };
        let most = Self::in_r(f64);
        let fields = take(&[(0, most), (1, most), (2, 3)], voxels, FIELDS);
        let x_free = fields.iter().all(|f| f.0 != 2);
        let u_from: &[(usize, u64)] = if x_free { &[(3, 3), (2, 3)] } else { &[(3, 3)] };
        let u = take(u_from, nodes, 3);
        let pad = |v: Vec<(usize, usize, u64)>, n: usize| {
            let mut v: Plan = v.into_iter().map(Some).collect();
            v.resize(n, None);
            v
        };
        let mut plan = pad(fields, FIELDS);
        plan.extend(pad(u, 3));
        plan
    }

    /// Bytes of the buffers of their own that the ranges need where the vectors come
    /// in pieces of `piece` bytes (0 while each is one buffer).
    fn own_bytes_for(nodes: u64, voxels: u64, f64: bool, piece: u64) -> u64 {
        let r = piece_sizes(Self::r_len(nodes, voxels, f64), piece);
        let x = piece_sizes(multigrid::vector_len(nodes), piece);
        let plan = Self::plan(nodes, voxels, f64, [&r, &r, &x, &x]);
        (0..plan.len())
            .filter(|&i| plan[i].is_none())
            .map(|i| buffer_size(Self::len(i, nodes, voxels)))
            .sum()
    }

    /// The ranges as [`ResultRanges::plan`] places them in r, p and level 0's x and d
    /// ([`Vector`]s); those no piece holds get a buffer of their own.
    fn new(
        device: &wgpu::Device,
        nodes: u64,
        voxels: u64,
        f64: bool,
        [r, p]: [&Vector; 2],
        mg: &Multigrid,
    ) -> Self {
        let vectors = [r, p, mg.x(), mg.d()];
        let sizes = vectors.map(Vector::sizes);
        let plan = Self::plan(
            nodes,
            voxels,
            f64,
            [&sizes[0], &sizes[1], &sizes[2], &sizes[3]],
        );
        let mut own = Vec::new();
        let mut fields: Vec<Range> = (0..)
            .zip(&plan)
            .map(|(i, at)| {
                let len = Self::len(i, nodes, voxels);
                match *at {
                    Some((v, k, off)) => vectors[v].range_in(k, off, len),
                    None => {
                        let buffer = buffer(device, "StressSolver::result", len, RW);
                        own.push(buffer.clone());
                        Range {
                            buffer,
                            offset: 0,
                            size: len,
                        }
                    }
                }
            })
            .collect();
        let Ok(u) = <[Range; 3]>::try_from(fields.split_off(FIELDS)) else {
            unreachable!("the plan holds three displacement ranges")
        };
        Self { u, fields, own }
    }

    /// Bytes of the ranges' own buffers.
    fn own_bytes(&self) -> u64 {
        self.own.iter().map(wgpu::Buffer::size).sum()
    }
}

/// Bytes of one real (f64 or f32) value.
fn real_bytes(f64: bool) -> u64 {
    if f64 { 8 } else { 4 }
}

impl<'g> StressSolver<'g> {
    /// Bytes of the solver's own buffers: the outer vectors u, r and p (r and p padded to
    /// hold result fields) and the constraint bits. q = K p lives in level 0's x and d
    /// (shaders/stress_outer.wgsl) and the result fields in ranges of idle buffers
    /// ([`ResultRanges`]): neither takes memory of its own.
    fn own_bytes(dims: [u32; 3], f64: bool) -> u64 {
        let nodes: u64 = dims.iter().map(|&d| u64::from(d) + 1).product();
        let voxels: u64 = dims.iter().map(|&d| u64::from(d)).product();
        nodes * 3 * real_bytes(f64) + 2 * ResultRanges::r_len(nodes, voxels, f64) + nodes * 4
    }

    /// GPU bytes a solve of a `dims` voxel grid allocates with the solver (all levels,
    /// the material slots counted at their most), its largest single binding and its
    /// largest node vector (bound in windows, [`Windows`]). The set-up then sizes the
    /// coarse matrices of the elements that are not uniform blocks and checks them
    /// against the adapter ([`SolveStats::bytes`] holds the total;
    /// [`multigrid::matrix_bytes_bound`] the most they can take).
    pub fn memory_bytes(dims: [u32; 3], f64: bool) -> SolveBytes {
        let nodes: u64 = dims.iter().map(|&d| u64::from(d) + 1).product();
        let voxels: u64 = dims.iter().map(|&d| u64::from(d)).product();
        SolveBytes {
            total: Self::own_bytes(dims, f64) + multigrid::memory_bytes(dims),
            // Per-node flags, per-voxel materials and result fields are bound in windows
            // (`narrow`), like the node vectors.
            largest_binding: multigrid::largest_binding(dims),
            largest_vector: ResultRanges::r_len(nodes, voxels, f64)
                .max(multigrid::vector_len(nodes)),
            narrow: Self::narrow_bytes(dims),
            dims,
            f64,
        }
    }

    /// How a solve of `dims` splits its node vectors on `gpu`: one binding each where the
    /// largest fits the adapter's binding limit, else windows of that limit (`None`:
    /// more than [`StressKernels::most_windows`] of them).
    pub fn windows_for(gpu: &GpuContext, dims: [u32; 3], f64: bool) -> Option<Windows> {
        let max_binding = gpu.max_binding_bytes();
        let wide = Self::vector_windows(
            Self::memory_bytes(dims, f64).largest_vector,
            max_binding,
            gpu.limits.max_buffer_size,
        );
        let narrow = Windows::covering(Self::narrow_bytes(dims), max_binding);
        let windows = if wide.count == 1 && narrow.count == 1 {
            Windows::ONE
        } else {
            Windows {
                bytes: wide.bytes,
                count: wide.count,
                narrow_bytes: narrow.bytes,
                narrow: narrow.count,
            }
        };
        let most = u64::from(StressKernels::most_windows(&gpu.limits));
        (u64::from(windows.count) <= most
            && windows.narrow <= crate::shaders::MAX_WINDOWS
            && StressKernels::fits_stage(&gpu.limits, windows))
        .then_some(windows)
    }

    /// The split of node vectors of up to `need` bytes: one binding while they fit the
    /// binding limit, else windows of it, but at most half the buffer limit, so that
    /// each buffer of a vector in pieces ([`Vector`]) holds two windows (with NVIDIA's
    /// ~4 GiB allocations and 2 GiB bindings, one window each otherwise: no piece would
    /// then hold a result field past 2 GiB, [`ResultRanges`]).
    pub fn vector_windows(need: u64, max_binding: u64, max_buffer: u64) -> Windows {
        if need <= max_binding.min(max_buffer) {
            Windows::ONE
        } else {
            Windows::covering(need, max_binding.min(max_buffer / 2))
        }
    }

    /// Bytes `windows` windows of [`StressSolver::vector_windows`]'s size hold.
    pub fn vector_reach(max_binding: u64, max_buffer: u64, windows: u32) -> u64 {
        Windows::reach(max_binding.min(max_buffer / 2), windows, u64::MAX)
    }

    /// Bytes of the buffers of their own that the result ranges need on an adapter with
    /// these limits, where the node vectors come in pieces ([`ResultRanges`]; 0 while
    /// each vector is one buffer, as on every grid below ~179 M nodes).
    pub fn result_bytes(dims: [u32; 3], f64: bool, max_binding: u64, max_buffer: u64) -> u64 {
        let nodes: u64 = dims.iter().map(|&d| u64::from(d) + 1).product();
        let voxels: u64 = dims.iter().map(|&d| u64::from(d)).product();
        let need = Self::memory_bytes(dims, f64).largest_vector;
        let piece = piece_bytes(
            Self::vector_windows(need, max_binding, max_buffer),
            max_buffer,
        );
        ResultRanges::own_bytes_for(nodes, voxels, f64, piece)
    }

    /// The largest array bound in the `narrow` windows: the 4-byte-per-node or
    /// per-voxel arrays (material ids, node flags, result fields), or level 1's block
    /// inverses (24 B per level-1 node: ~3 B per fine node, but more on a grid one or a
    /// few voxels thin, whose thin axis does not coarsen).
    pub fn narrow_bytes(dims: [u32; 3]) -> u64 {
        let nodes = |e: &[u32; 3]| e.iter().map(|&d| u64::from(d) + 1).product::<u64>();
        let level1 = multigrid::level_dims(dims)
            .get(1)
            .map_or(0, |e| nodes(e) * 24);
        (nodes(&dims) * 4).max(level1)
    }

    /// Checks that the buffers fit the adapter, then allocates them and builds the
    /// pipelines. `materials` must be the table the grid's ids refer to. The outer
    /// iteration runs in f64 where the adapter has `SHADER_F64`, else in f32.
    pub fn new(
        gpu: &'g GpuContext,
        grid: &GpuGrid,
        materials: &MaterialTable,
    ) -> Result<Self, StressError> {
        Self::with_precision(gpu, grid, materials, gpu.has_f64())
    }

    /// [`StressSolver::new`] with the outer iteration's precision chosen: `f64 = false`
    /// is the fallback of adapters without f64 (Metal), also for comparisons.
    pub fn with_precision(
        gpu: &'g GpuContext,
        grid: &GpuGrid,
        materials: &MaterialTable,
        f64: bool,
    ) -> Result<Self, StressError> {
        let kernels = StressKernels::shared(gpu, f64)?;
        Self::with_kernels(gpu, kernels, grid, materials)
    }

    /// [`StressSolver::new`] with the device's kernels passed in (an engine holds them),
    /// so construction only allocates buffers and bind groups. The outer precision is
    /// the kernels'.
    pub fn with_kernels(
        gpu: &'g GpuContext,
        kernels: Arc<StressKernels>,
        grid: &GpuGrid,
        materials: &MaterialTable,
    ) -> Result<Self, StressError> {
        let f64 = kernels.f64;
        let spec = grid.spec.clone();
        let [nx, ny, nz] = spec.dims;
        if spec.voxels() == 0 {
            return Err(StressError::EmptyGrid(spec.dims));
        }
        let nodes = u64::from(nx + 1) * u64::from(ny + 1) * u64::from(nz + 1);
        let limit = gpu.max_binding_bytes();
        let bytes = Self::memory_bytes(spec.dims, f64);
        let too_large = |what: &'static str, need: u64, limit: u64| StressError::TooLarge {
            nx,
            ny,
            nz,
            what,
            need: need.div_ceil(1 << 20),
            limit: limit >> 20,
            adapter: gpu.info.name.clone(),
        };
        // Shaders index node vectors as 3 n + k and level 1's element rows as 24 e + row
        // (e < n / 8) in u32.
        let most = u64::from(u32::MAX / 3);
        if nodes > most {
            return Err(StressError::TooManyNodes {
                nx,
                ny,
                nz,
                nodes,
                most,
            });
        }
        if bytes.largest_binding > limit {
            return Err(too_large("storage binding", bytes.largest_binding, limit));
        }
        // The node vectors and matrix halves go into buffers of whole windows past the
        // buffer limit ([`Vector`]); the 4-byte arrays (node flags, level 1's block
        // inverses, each result field) stay one buffer each.
        let max_buffer = gpu.limits.max_buffer_size;
        if bytes.narrow > max_buffer {
            return Err(too_large(
                "buffer (a 4-byte array)",
                bytes.narrow,
                max_buffer,
            ));
        }
        // Node vectors beyond one binding are bound in windows; kernels that already
        // window enough (a test's small windows) are kept.
        let have = kernels.windows;
        let covers = |need: u64, bytes: u64, count: u32| {
            if count > 1 {
                need.div_ceil(bytes) <= u64::from(count)
            } else {
                need <= limit
            }
        };
        let fits = covers(bytes.largest_vector, have.bytes, have.count)
            && covers(
                Self::narrow_bytes(spec.dims),
                have.narrow_bytes,
                have.narrow,
            );
        let kernels = match Self::windows_for(gpu, spec.dims, f64) {
            _ if fits => kernels,
            Some(w) => StressKernels::shared_windowed(gpu, f64, w)?,
            None => {
                let windows = StressKernels::most_windows(&gpu.limits);
                let most = Self::vector_reach(limit, max_buffer, windows);
                if bytes.largest_vector > most {
                    return Err(too_large("node vector", bytes.largest_vector, most));
                }
                // The vectors fit their windows, but not together with the 4-byte arrays'
                // within the stage's storage buffers.
                return Err(too_large(
                    "node vector and 4-byte array windows (storage buffers per stage)",
                    bytes.largest_vector + Self::narrow_bytes(spec.dims),
                    most,
                ));
            }
        };
        let total = bytes.total;
        let table: Vec<MatEntry> = materials
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
        let (node_wx, node_grid) = cover(nodes);
        let node_groups = node_count.div_ceil(WG);
        let (voxel_wx, voxel_grid) = cover(spec.voxels());
        let device = &gpu.device;
        let rb = real_bytes(f64);

        let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let params = buffer(
            device,
            "StressSolver::params",
            size_of::<StressParams>() as u64,
            UNIFORM,
        );
        let storage_in = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST;
        let mats = buffer(
            device,
            "StressSolver::mats",
            (MAX_MATERIALS * size_of::<MaterialGpu>()) as u64,
            storage_in,
        );
        let mats_r = buffer(
            device,
            "StressSolver::mats_r",
            MAX_MATERIALS as u64 * 4 * rb,
            storage_in,
        );
        let blocks = UnitElement::new().gpu_blocks();
        let ke_r = buffer(
            device,
            "StressSolver::ke_r",
            blocks.len() as u64 * 4 * rb,
            UNIFORM,
        );
        let ke32 = buffer(
            device,
            "StressSolver::ke32",
            blocks.len() as u64 * 16,
            UNIFORM,
        );
        let b32: Vec<[f32; 4]> = blocks.iter().map(|b| b.map(|v| v as f32)).collect();
        gpu.queue.write_buffer(&ke32, 0, bytemuck::cast_slice(&b32));
        if f64 {
            gpu.queue
                .write_buffer(&ke_r, 0, bytemuck::cast_slice(&blocks));
        } else {
            gpu.queue.write_buffer(&ke_r, 0, bytemuck::cast_slice(&b32));
        }
        let fixed = buffer(device, "StressSolver::fixed", nodes * 4, RW);
        // Past one buffer the vectors come in pieces of whole windows; a level's vector
        // that some shader binds whole must be one piece (only forced small windows
        // could make a piece smaller than the binding limit).
        let piece = piece_bytes(kernels.windows, gpu.limits.max_buffer_size);
        let level1 = multigrid::level1_vector(spec.dims);
        if level1 > piece {
            return Err(too_large("storage binding", level1, piece));
        }
        let r_len = ResultRanges::r_len(nodes, spec.voxels(), f64);
        let vectors = [
            Vector::new(device, "StressSolver::u", nodes * 3 * rb, RW, piece),
            Vector::new(device, "StressSolver::r", r_len, RW, piece),
            Vector::new(device, "StressSolver::p", r_len, RW, piece),
        ];
        let partials = buffer(
            device,
            "StressSolver::partials",
            2 * u64::from(node_groups) * rb,
            RW,
        );
        let scalars = buffer(device, "StressSolver::scalars", SCALARS as u64 * rb, RW);
        if let Some(e) = pollster::block_on(oom.pop()) {
            return Err(StressError::OutOfMemory {
                need: total.div_ceil(1 << 20),
                reason: e.to_string(),
            });
        }
        let mut mg = Multigrid::new(
            gpu,
            kernels.mg.clone(),
            &FineInputs {
                params: &params,
                material: &grid.material,
                mats: &mats,
                ke: &ke32,
                fixed: &fixed,
                r: &vectors[1],
                scalars: &scalars,
            },
            spec.dims,
            spec.voxel_um,
            table.len().max(1) as u32,
        )?;

        let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let out = ResultRanges::new(
            device,
            nodes,
            spec.voxels(),
            f64,
            [&vectors[1], &vectors[P]],
            &mg,
        );
        // Result ranges that did not fit the idle vectors' pieces: beyond the up-front
        // estimate, like the coarse matrices, so they share what the budget left.
        let own = out.own_bytes();
        if let Some(e) = pollster::block_on(oom.pop()) {
            return Err(StressError::OutOfMemory {
                need: own.div_ceil(1 << 20),
                reason: e.to_string(),
            });
        }
        if own > gpu.headroom() {
            return Err(StressError::ResultsOverBudget {
                need: own.div_ceil(1 << 20),
                left: gpu.headroom() >> 20,
            });
        }
        mg.reserved = own;
        let empty = buffer(device, "StressSolver::no_prescribed", 16, storage_in);
        // The passes' bind group, and export_u's (see `outer_bind`).
        let outer = |export| {
            Self::outer_bind(
                &kernels.outer,
                device,
                &params,
                &grid.material,
                &mats,
                &ke_r,
                &mats_r,
                &fixed,
                &vectors,
                &mg,
                &partials,
                &scalars,
                [&empty, &empty],
                &out,
                export,
            )
        };
        let (outer_bind, export_bind) = (outer(false), outer(true));
        let mut res: Vec<Arg> = [&params, &grid.material, &mats].map(|b| b.arg()).into();
        res.extend(out.u.iter().chain(&out.fields).map(Range::arg));
        let results_bind = kernels
            .results
            .bind_args(device, "StressSolver::results", &res);
        Ok(Self {
            gpu,
            spec,
            material: grid.material.clone(),
            table,
            f64,
            params,
            mats,
            mats_r,
            ke_r,
            fixed,
            vectors,
            partials,
            scalars,
            out,
            k: kernels,
            outer_bind,
            export_bind,
            pres_bind: None,
            pres_nodes: Vec::new(),
            results_bind,
            mg,
            node_count,
            node_groups,
            node_wx,
            node_grid,
            voxel_wx,
            voxel_grid,
            stats: SolveStats::default(),
        })
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "the outer shader's binding list, in order"
    )]
    fn outer_bind(
        outer: &Module,
        device: &wgpu::Device,
        params: &wgpu::Buffer,
        material: &wgpu::Buffer,
        mats: &wgpu::Buffer,
        ke_r: &wgpu::Buffer,
        mats_r: &wgpu::Buffer,
        fixed: &wgpu::Buffer,
        vectors: &[Vector; 3],
        mg: &Multigrid,
        partials: &wgpu::Buffer,
        scalars: &wgpu::Buffer,
        pres: [&wgpu::Buffer; 2],
        out: &ResultRanges,
        export: bool,
    ) -> wgpu::BindGroup {
        // q = K p in two f32 parts, hi in level 0's x (the cycle's output z32), lo in
        // its d: q is dead once u and r are updated, x and d outside the cycle. The f32
        // displacement export writes ranges of that d too, so it gets a bind group of
        // its own in which q_lo is idle (no two writable bindings of a group overlap).
        // The export's output may also lie in x (ResultRanges), so there z32 is idle
        // too.
        let idle: Vec<wgpu::Buffer> = (0..if export { 2 } else { 3 })
            .map(|_| buffer(device, "StressSolver::idle", RANGE_ALIGN, RW))
            .collect();
        let (q_lo, z32) = if export {
            (idle[0].arg(), idle[1].arg())
        } else {
            (mg.d().arg(), mg.x().arg())
        };
        let mut res: Vec<Arg> = [params, material, mats, ke_r, mats_r, fixed]
            .map(|b| b.arg())
            .into();
        res.extend(vectors.iter().map(Vector::arg));
        res.push(q_lo);
        res.push(z32);
        res.extend([partials, scalars, pres[0], pres[1]].map(|b| b.arg()));
        if export {
            res.extend(out.u.iter().map(Range::arg));
        } else {
            res.extend(idle.iter().map(|b| b.arg()));
        }
        outer.bind_args(device, "StressSolver::outer", &res)
    }

    /// One application of the last solve's multigrid preconditioner to `v` (3 f32 per
    /// node), read back: tests check that it is symmetric and positive.
    /// The cycle's input is the residual r over its norm: this writes r = v and a unit
    /// norm (a later solve starts afresh).
    pub fn apply_preconditioner(&self, v: &[f32]) -> Vec<f32> {
        let q = &self.gpu.queue;
        let r = &self.vectors[1];
        let scale = (O_SCALE as u64) * real_bytes(self.f64);
        if self.f64 {
            let v64: Vec<f64> = v.iter().map(|&x| f64::from(x)).collect();
            r.write(q, 0, bytemuck::cast_slice(&v64));
            q.write_buffer(&self.scalars, scale, bytemuck::bytes_of(&1.0f64));
        } else {
            r.write(q, 0, bytemuck::cast_slice(v));
            q.write_buffer(&self.scalars, scale, bytemuck::bytes_of(&1.0f32));
        }
        self.run(|s, pass| s.mg.vcycle(pass));
        let bytes = std::mem::size_of_val(v) as u64;
        bytemuck::pod_collect_to_vec(&self.mg.x().read(self.gpu, 0, bytes))
    }

    /// Bytes of every storage buffer the solver and its hierarchy hold, from the buffers
    /// themselves: tests check the accounting of [`SolveStats::bytes`] (which the memory
    /// budget relies on) against it.
    pub fn allocated_bytes(&self) -> u64 {
        let own = [
            &self.mats,
            &self.mats_r,
            &self.fixed,
            &self.partials,
            &self.scalars,
        ];
        let vectors: u64 = self.vectors.iter().map(Vector::size).sum();
        vectors
            + own.iter().map(|b| b.size()).sum::<u64>()
            + self.out.own_bytes()
            + self.mg.allocated_bytes()
    }

    /// Level `l`'s operator applied to `v` (3 f32 per node) as the cycle applies it, on
    /// its free DOFs (0 elsewhere): for tests against the read-back matrices.
    pub fn apply_level(&self, l: usize, v: &[f32]) -> Vec<f32> {
        self.mg.apply_level(self.gpu, l, v)
    }

    /// Shape of the preconditioner's cycle (coarse cycles per level, the voxel level's
    /// smoothing degree 1 or 2, clamped), for benches and tests that compare them.
    /// Every cycle recorded from now on has it; the set-up does not depend on it.
    pub fn set_cycle(&mut self, shape: CycleShape) {
        self.mg.shape = CycleShape {
            fine_degree: shape.fine_degree.clamp(1, 2),
            ..shape
        };
    }

    /// The last solve's multigrid levels and the constraint bits of the voxel level
    /// (bit 0 x, 1 y, 2 z per node), read back for tests.
    pub fn read_multigrid(&self) -> (Vec<super::multigrid::LevelDump>, Vec<u32>) {
        let raw = read_buffer(self.gpu, &self.fixed, 0, u64::from(self.node_count) * 4);
        let flags: Vec<u32> = bytemuck::pod_collect_to_vec(&raw);
        // Bits 8-15 hold the multigrid's prolongation candidates.
        let bits = flags.iter().map(|f| f & 7).collect();
        (self.mg.read_levels(self.gpu), bits)
    }

    pub fn spec(&self) -> &GridSpec {
        &self.spec
    }

    /// Solves for the displacement under a uniform temperature change and evaluates the
    /// stresses. The grid's current materials are used (it may have changed since `new`).
    pub fn solve(
        &mut self,
        load: &ThermalLoad,
        bc: &BoundaryConditions,
        opts: &SolveOptions,
    ) -> Result<StressResult, StressError> {
        self.solve_prescribed(load, bc, &[], opts)
    }

    /// [`StressSolver::solve`] with prescribed displacements on chosen node DOFs (on top
    /// of `bc`); the relative residual is then measured against max(‖f‖, ‖f − K u₀‖),
    /// u₀ the prescribed values, so a purely kinematic load (ΔT = 0) has a scale too.
    pub fn solve_prescribed(
        &mut self,
        load: &ThermalLoad,
        bc: &BoundaryConditions,
        prescribed: &[Prescribed],
        opts: &SolveOptions,
    ) -> Result<StressResult, StressError> {
        self.solve_with_progress(load, bc, prescribed, opts, &|_, _| true)
    }

    /// [`StressSolver::solve_prescribed`] that reports (iterations, relative residual of
    /// the recursion) to `progress` at every residual check (every [`CHECK_EVERY`]
    /// iterations); `progress` returning false cancels the solve with
    /// [`StressError::Cancelled`]. The window's worker thread uses it for its progress
    /// bar and Cancel button.
    pub fn solve_with_progress(
        &mut self,
        load: &ThermalLoad,
        bc: &BoundaryConditions,
        prescribed: &[Prescribed],
        opts: &SolveOptions,
        progress: &dyn Fn(u32, f64) -> bool,
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
        self.upload_prescribed(prescribed)?;
        let mut table = [MaterialGpu::default(); MAX_MATERIALS];
        let mut table_r = vec![[0.0f64; 4]; MAX_MATERIALS];
        for (id, entry) in self.table.iter().enumerate().skip(1) {
            if let MatEntry::Solid { lambda, mu, alpha } = *entry {
                let thermal = (3.0 * lambda + 2.0 * mu) * alpha * load.delta_t;
                let eigen = alpha * load.delta_t;
                table[id] = MaterialGpu {
                    lambda: lambda as f32,
                    mu: mu as f32,
                    thermal: thermal as f32,
                    eigen: eigen as f32,
                };
                table_r[id] = [lambda, mu, thermal, eigen];
            }
        }
        // Prescribed DOFs hold a free body themselves (a submodel's cut faces): pins
        // there would add restraints the global model does not have.
        let pins = if bc.support == Support::Free && !prescribed.is_empty() {
            [[0u32; 4]; 3]
        } else {
            pins(&self.spec, &ids, bc)?
        };
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
        if self.f64 {
            q.write_buffer(&self.mats_r, 0, bytemuck::cast_slice(&table_r));
        } else {
            let t32: Vec<[f32; 4]> = table_r.iter().map(|r| r.map(|v| v as f32)).collect();
            q.write_buffer(&self.mats_r, 0, bytemuck::cast_slice(&t32));
        }

        // Constraints (and prescribed values into u), then the operators of every level.
        let setup = Instant::now();
        self.run(|s, pass| {
            s.node_pass(pass, &s.k.pipes.fix_init);
            if let Some((bind, grid)) = &s.pres_bind {
                dispatch(pass, &s.k.pipes.prescribe, bind, *grid);
            }
        });
        self.mg.setup(self.gpu)?;
        self.stats = SolveStats {
            levels: self.mg.dims(),
            lambda_max: self.mg.lambda_max.clone(),
            setup_ms: setup.elapsed().as_secs_f64() * 1e3,
            f64: self.f64,
            mixed: self.mg.mixed.clone(),
            bytes: Self::own_bytes(self.spec.dims, self.f64)
                + multigrid::vector_bytes(self.spec.dims)
                + self.out.own_bytes()
                + self.mg.matrix_bytes(),
        };

        let (ff, rr0) = self.restart();
        let scale = ff.sqrt().max(rr0.sqrt());
        let mut iterations = 0u32;
        let mut residual = 0.0;
        let mut converged = true;
        let mut stalled = false;
        if !(scale.is_finite()) {
            converged = false;
            residual = f64::NAN;
        } else if scale > 0.0 && rr0.sqrt() / scale > opts.tol {
            let (its, res, conv) = self.iterate(scale, opts, progress)?;
            iterations = its;
            residual = res;
            converged = conv;
            stalled = !conv && its < opts.max_iterations;
        } else if scale > 0.0 {
            residual = rr0.sqrt() / scale;
        }
        self.run(|s, pass| {
            dispatch(pass, &s.k.pipes.export_u, &s.export_bind, s.node_grid);
        });
        let solve_ms = start.elapsed().as_secs_f64() * 1e3;
        Ok(self.collect(
            ids, iterations, residual, converged, stalled, solve_ms, start,
        ))
    }

    /// Uploads the prescribed DOFs (merged per node, last value wins) and binds them.
    fn upload_prescribed(&mut self, prescribed: &[Prescribed]) -> Result<(), StressError> {
        self.pres_bind = None;
        self.pres_nodes.clear();
        if prescribed.is_empty() {
            return Ok(());
        }
        let [nx, ny, nz] = self.spec.dims;
        let mut merged: std::collections::BTreeMap<u32, (u32, [f64; 3])> = Default::default();
        for p in prescribed {
            let [x, y, z] = p.node;
            if x > nx || y > ny || z > nz {
                return Err(StressError::BadOptions(format!(
                    "prescribed displacement at node {:?} lies outside the {}x{}x{} nodes",
                    p.node,
                    nx + 1,
                    ny + 1,
                    nz + 1
                )));
            }
            if p.value.iter().any(|v| !v.is_finite()) {
                return Err(StressError::BadOptions(format!(
                    "prescribed displacement at node {:?} is not finite",
                    p.node
                )));
            }
            let n = x + (nx + 1) * (y + (ny + 1) * z);
            let e = merged.entry(n).or_insert((0, [0.0; 3]));
            for c in 0..3 {
                if p.dofs & (1 << c) != 0 {
                    e.1[c] = p.value[c];
                }
            }
            e.0 |= p.dofs & 7;
        }
        let idx: Vec<[u32; 4]> = merged.iter().map(|(&n, &(b, _))| [n, b, 0, 0]).collect();
        self.pres_nodes = merged.keys().copied().collect();
        let vals: Vec<f64> = merged.values().flat_map(|(_, v)| *v).collect();
        let device = &self.gpu.device;
        let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST;
        let pres = buffer(
            device,
            "StressSolver::prescribed",
            (idx.len() * 16) as u64,
            usage,
        );
        let rb = real_bytes(self.f64);
        let pval = buffer(
            device,
            "StressSolver::prescribed_values",
            vals.len() as u64 * rb,
            usage,
        );
        self.gpu
            .queue
            .write_buffer(&pres, 0, bytemuck::cast_slice(&idx));
        if self.f64 {
            self.gpu
                .queue
                .write_buffer(&pval, 0, bytemuck::cast_slice(&vals));
        } else {
            let v32: Vec<f32> = vals.iter().map(|&v| v as f32).collect();
            self.gpu
                .queue
                .write_buffer(&pval, 0, bytemuck::cast_slice(&v32));
        }
        // `pres` is sized exactly: the kernel reads its length.
        let bind = Self::outer_bind(
            &self.k.outer,
            device,
            &self.params,
            &self.material,
            &self.mats,
            &self.ke_r,
            &self.mats_r,
            &self.fixed,
            &self.vectors,
            &self.mg,
            &self.partials,
            &self.scalars,
            [&pres, &pval],
            &self.out,
            false,
        );
        let (_, grid) = cover(idx.len() as u64);
        self.pres_bind = Some((bind, grid));
        Ok(())
    }

    /// r = f − K u from scratch, then z = M r and p = z (β = 0). Returns (‖f‖², ‖r‖²).
    fn restart(&self) -> (f64, f64) {
        let mut encoder = self.encoder("StressSolver::restart");
        {
            let mut pass = self.begin(&mut encoder);
            self.node_pass(&mut pass, &self.k.pipes.residual);
            self.single(&mut pass, &self.k.pipes.finish_residual);
            self.precondition(&mut pass);
        }
        self.gpu.queue.submit([encoder.finish()]);
        let sc = self.read_scalars();
        (sc[O_FF], sc[O_RR])
    }

    /// z = cycle(r / ‖r‖)·‖r‖; β; p = z + β p.
    fn precondition(&self, pass: &mut wgpu::ComputePass<'_>) {
        self.mg.vcycle(pass);
        self.node_pass(pass, &self.k.pipes.precond_dots);
        self.single(pass, &self.k.pipes.finish_beta);
        self.node_pass(pass, &self.k.pipes.update_p);
    }

    /// CG until the true relative residual reaches `tol`, stalls, or the budget runs out.
    /// Returns (iterations, true relative residual, converged).
    fn iterate(
        &self,
        scale: f64,
        opts: &SolveOptions,
        progress: &dyn Fn(u32, f64) -> bool,
    ) -> Result<(u32, f64, bool), StressError> {
        let mut iterations = 0u32;
        let mut best = f64::INFINITY;
        let mut stall = 0u32;
        let mut restarts = 0u32;
        // VOXFAB_STRESS_TRACE=1 prints the residual history (convergence studies).
        let trace = std::env::var_os("VOXFAB_STRESS_TRACE").is_some();
        while iterations < opts.max_iterations {
            let n = CHECK_EVERY.min(opts.max_iterations - iterations);
            self.run(|s, pass| {
                for _ in 0..n {
                    s.node_pass(pass, &s.k.pipes.apply);
                    s.single(pass, &s.k.pipes.finish_alpha);
                    s.node_pass(pass, &s.k.pipes.update_ur);
                    s.single(pass, &s.k.pipes.finish_rr);
                    s.precondition(pass);
                }
            });
            iterations += n;
            let rel = self.read_scalars()[O_RR].sqrt() / scale;
            if trace {
                eprintln!("stress: iteration {iterations}: relative residual {rel:.3e}");
            }
            if !progress(iterations, rel) {
                return Err(StressError::Cancelled { iterations });
            }
            if !rel.is_finite() {
                break;
            }
            if rel <= opts.tol {
                // Confirm with a fresh f - K u (the recursion drifts, least in f64).
                let (_, rr) = self.restart();
                let true_rel = rr.sqrt() / scale;
                if true_rel <= opts.tol {
                    return Ok((iterations, true_rel, true));
                }
                restarts += 1;
                if restarts > MAX_RESTARTS {
                    return Ok((iterations, true_rel, false));
                }
                best = best.min(true_rel);
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
        let (_, rr) = self.restart();
        Ok((iterations, rr.sqrt() / scale, false))
    }

    /// Wall time of one fine-level matvec at the outer precision and of one cycle, ms
    /// (each the mean of `reps` submissions after a warm-up), and where the cycle's time
    /// goes per level ([`Multigrid::profile`], `reps` dispatches of each kind), for
    /// `voxfab bench stress`. Call after a solve (it overwrites q, kept in level 0's x
    /// and d, and the cycle's vectors: the result fields there were read back by then).
    pub fn profile(&self, reps: u32) -> (f64, f64, Vec<LevelCost>) {
        let reps = reps.max(1);
        let time = |f: &dyn Fn(&mut wgpu::ComputePass<'_>)| {
            self.run(|_, pass| f(pass));
            self.gpu.wait();
            let t = Instant::now();
            for _ in 0..reps {
                self.run(|_, pass| f(pass));
            }
            self.gpu.wait();
            t.elapsed().as_secs_f64() * 1e3 / f64::from(reps)
        };
        let matvec = time(&|pass| self.node_pass(pass, &self.k.pipes.apply));
        let vcycle = time(&|pass| self.mg.vcycle(pass));
        (matvec, vcycle, self.mg.profile(self.gpu, reps))
    }

    fn node_pass(&self, pass: &mut wgpu::ComputePass<'_>, pipe: &wgpu::ComputePipeline) {
        dispatch(pass, pipe, &self.outer_bind, self.node_grid);
    }

    fn single(&self, pass: &mut wgpu::ComputePass<'_>, pipe: &wgpu::ComputePipeline) {
        dispatch(pass, pipe, &self.outer_bind, [1, 1, 1]);
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

    fn read_scalars(&self) -> Vec<f64> {
        let raw = read_buffer(
            self.gpu,
            &self.scalars,
            0,
            SCALARS as u64 * real_bytes(self.f64),
        );
        self.reals(&raw)
    }

    /// Bytes of a `real` buffer as f64 values.
    fn reals(&self, raw: &[u8]) -> Vec<f64> {
        if self.f64 {
            bytemuck::pod_collect_to_vec(raw)
        } else {
            bytemuck::pod_collect_to_vec::<u8, f32>(raw)
                .into_iter()
                .map(f64::from)
                .collect()
        }
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
            dispatch(pass, &s.k.pipes.results, &s.results_bind, s.voxel_grid);
        });
        let read = |r: &Range| -> Vec<f32> {
            bytemuck::pod_collect_to_vec(&read_buffer(self.gpu, &r.buffer, r.offset, r.size))
        };
        let voxels = self.spec.voxels();
        let fields: Vec<Vec<f32>> = self.out.fields.iter().map(read).collect();
        let u: Vec<Vec<f32>> = self.out.u.iter().map(read).collect();
        let stress = (0..voxels as usize)
            .map(|i| std::array::from_fn(|k| fields[k][i]))
            .collect();
        let displacement = (0..self.node_count as usize)
            .map(|i| [u[0][i], u[1][i], u[2][i]])
            .collect();
        let bytes = u64::from(self.node_count) * 3 * real_bytes(self.f64);
        let raw = self.vectors[U].read(self.gpu, 0, bytes);
        let flat = self.reals(&raw);
        let displacement_f64 = flat.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
        let reactions = self.reactions();
        StressResult {
            dims: self.spec.dims,
            voxel_um: self.spec.voxel_um,
            material: ids,
            stress,
            von_mises: fields[6].clone(),
            max_principal: fields[7].clone(),
            displacement,
            displacement_f64,
            iterations,
            residual,
            converged,
            stalled,
            solve_ms,
            ms: start.elapsed().as_secs_f64() * 1e3,
            reactions,
        }
    }

    /// K u − f at every prescribed node (mN), computed in the outer precision from the
    /// solution (into p, free once the result fields are read).
    fn reactions(&self) -> Vec<([u32; 3], [f64; 3])> {
        let Some((bind, grid)) = &self.pres_bind else {
            return Vec::new();
        };
        let mut encoder = self.encoder("StressSolver::reactions");
        {
            let mut pass = self.begin(&mut encoder);
            dispatch(&mut pass, &self.k.pipes.reactions, bind, *grid);
        }
        self.gpu.queue.submit([encoder.finish()]);
        let len = self.pres_nodes.len() as u64 * 3 * real_bytes(self.f64);
        let raw = self.vectors[P].read(self.gpu, 0, len);
        let vals = self.reals(&raw);
        let [nx, ny, _] = self.spec.dims;
        self.pres_nodes
            .iter()
            .zip(vals.chunks_exact(3))
            .map(|(&n, v)| {
                let (x, y) = (n % (nx + 1), (n / (nx + 1)) % (ny + 1));
                let z = n / ((nx + 1) * (ny + 1));
                ([x, y, z], [v[0], v[1], v[2]])
            })
            .collect()
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
