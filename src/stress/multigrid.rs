//! Geometric multigrid cycle in f32, the preconditioner of the outer CG.
//!
//! Level 0 is the voxel grid itself, applied matrix-free (stress_mg0.wgsl). Level l+1
//! has an element for every 2x2x2 block of level l; its element matrices are Galerkin
//! products P_e' K_e P_e of the trilinear prolongation (stress_galerkin*.wgsl), computed
//! once per solve on the GPU, so voids, material contrast and the constraint mask are
//! carried to every level exactly as P' M K M P. A uniform block (eight children of one
//! material, no constraint inside) has the element of edge 2^l h as its product: such
//! blocks share one matrix slot per material (stress_mg_tag.wgsl tags the elements on
//! the GPU, the set-up sizes the storage to the rest), and the cycle applies them from
//! the unit element. Smoother: Chebyshev of degree 2 (on the voxels optionally 1,
//! [`CycleShape`]) on the 3x3 block-Jacobi scaled operator, its spectrum bound from a
//! power iteration per level (PETSc's interval [0.1, 1.1] x the estimate). The
//! coarsest level (at most [`COARSEST_DOFS`] DOFs) is solved with a dense inverse
//! factored on the host in f64. The cycle is a V-cycle with two coarse cycles on levels
//! 1 and 2 ([`W_LEVELS`]).
//! Every piece is a fixed symmetric linear operator, so one cycle is a valid CG
//! preconditioner. See docs/STRESS.md.

use super::StressError;
use super::gpu_util::{RANGE_ALIGN, RW, UNIFORM, Vector, buffer, cover, dispatch, piece_bytes};
use super::kernels::{MgKernels, SmoothPipes};
use crate::gpu::{GpuContext, read_buffer};
use bytemuck::{Pod, Zeroable};
use std::sync::Arc;

/// The coarsest level is solved densely once it has at most this many DOFs.
pub const COARSEST_DOFS: u64 = 1000;
/// Coarse levels solved by two cycles instead of one (a W-cycle on levels 1 and 2, a
/// V-cycle below). On the suspended bump one coarse cycle per level leaves the level-1
/// solve weak (62 outer iterations at 6 µm, 74 at 4 µm; an exact level-1 solve gives
/// 40); two on levels 1 and 2 give 48 and 46 for the same or less time per solve. Two
/// on every level gave 48 and 44: deeper levels are left at one, since that little
/// would double their dispatch count per level.
pub const W_LEVELS: usize = 2;
/// Chebyshev degree of the voxel level's smoother, before and after the coarse
/// correction (coarse levels: 2). Degree 1 halves the level's residual passes (4 -> 2
/// per cycle) for more iterations; see [`CycleShape`].
pub const FINE_DEGREE: u32 = 2;

/// The cycle's shape. Solves use the default; `voxfab bench stress` and the tests
/// compare variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CycleShape {
    /// Levels 1..=w_levels get two coarse cycles ([`W_LEVELS`]; 0: a plain V-cycle).
    pub w_levels: usize,
    /// Chebyshev degree on the voxel level, 1 or 2 ([`FINE_DEGREE`]): the same
    /// polynomial before and after, so the cycle stays symmetric either way.
    pub fine_degree: u32,
}

impl Default for CycleShape {
    fn default() -> Self {
        Self {
            w_levels: W_LEVELS,
            fine_degree: FINE_DEGREE,
        }
    }
}

/// Power-iteration steps per level for the Chebyshev bound.
const POWER_STEPS: usize = 12;
/// Entries of a packed symmetric 24x24 element matrix and of each of its two halves.
pub const PACKED: u64 = 300;
const HALF: u64 = 150;
/// Most material slots a coarse level holds: one uniform block per material id
/// (slot 0: void), before the elements that are not uniform blocks
/// (stress_mg_tag.wgsl; `LevelGpu::mat_slots` is the table's actual length).
pub const MAT_SLOTS: u64 = crate::materials::MAX_MATERIALS as u64;

/// One level's uniform. Keep in sync with `Level` in shaders/stress_mg_level.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct LevelGpu {
    pub edims: [u32; 4],
    pub ndims: [u32; 4],
    pub cdims: [u32; 4],
    pub fedims: [u32; 4],
    pub node_wx: u32,
    pub elem_wx: u32,
    pub cnode_wx: u32,
    pub rows: u32,
    pub inv_theta: f32,
    pub c1: f32,
    pub c2: f32,
    pub fnode_wx: u32,
    /// Material slots before the elements' own (the material table's length).
    pub mat_slots: u32,
    /// Element edge of the level, µm (2^l h): the uniform blocks' scale.
    pub edge: f32,
    /// Index of the level (0 = the voxels): its counter in stress_mg_tag.wgsl.
    pub level: u32,
    pub _pad: u32,
}
const _: () = assert!(size_of::<LevelGpu>() == 112);

/// Element boxes of every level, finest first (level 0 = the voxels).
pub fn level_dims(voxels: [u32; 3]) -> Vec<[u32; 3]> {
    let nodes = |e: [u32; 3]| e.iter().map(|&d| u64::from(d) + 1).product::<u64>();
    let mut out = vec![voxels];
    loop {
        let last = *out.last().expect("level 0");
        if out.len() > 1 && (3 * nodes(last) <= COARSEST_DOFS || last == [1, 1, 1]) {
            return out;
        }
        out.push(last.map(|d| d.div_ceil(2)));
    }
}

/// Bytes the hierarchy allocates on the GPU for a voxel box besides its matrices
/// (every level's vectors x, d; the coarse levels' right-hand side b, block inverses,
/// node flags and matrix slot per element).
pub fn vector_bytes(voxels: [u32; 3]) -> u64 {
    let dims = level_dims(voxels);
    let mut total = 0;
    for (l, e) in dims.iter().enumerate() {
        let nodes: u64 = e.iter().map(|&d| u64::from(d) + 1).product();
        let elems: u64 = e.iter().map(|&d| u64::from(d)).product();
        // x, d; on coarse levels b, the block inverse, the node flags (constrained
        // DOFs and prolongation candidates) and each element's matrix slot. Level 0
        // reads its b from the solver's residual, forms its inverse on the fly and keeps
        // its flags in the solver's constraint bits.
        total += 2 * vector_len(nodes);
        if l > 0 {
            total += vector_len(nodes) + nodes * 4 * (6 + 1) + elems * 4;
        }
    }
    let last = dims.last().expect("level 0");
    let rows: u64 = 3 * last.iter().map(|&d| u64::from(d) + 1).product::<u64>();
    // The dense coarsest inverse, the coarse levels' counters and level 0's inverse
    // per material.
    total + rows * rows * 4 + 4 * (dims.len() as u64 - 1) + MAT_SLOTS * 32
}

/// Bytes of one level vector of `nodes` nodes: 3 f32 each, padded so that three
/// aligned ranges of one f32 per node fit (a finished solve keeps its displacement in
/// level 0's d, and voxel fields in its x).
pub fn vector_len(nodes: u64) -> u64 {
    (nodes * 12).max(3 * (nodes * 4).next_multiple_of(RANGE_ALIGN))
}

/// Bytes the hierarchy holds before the set-up counts its elements: [`vector_bytes`]
/// and the material slots of every coarse level (at most [`MAT_SLOTS`] each). The
/// set-up adds `PACKED * 4` bytes for each coarse element that is not a uniform block
/// ([`Multigrid::matrix_bytes`] is the total after it; [`matrix_bytes_bound`] the most
/// it can be).
pub fn memory_bytes(voxels: [u32; 3]) -> u64 {
    let coarse = level_dims(voxels).len() as u64 - 1;
    vector_bytes(voxels) + coarse * MAT_SLOTS * PACKED * 4
}

/// Matrix bytes of the coarse levels if no element were a uniform block: what the
/// set-up allocates at most on top of [`memory_bytes`].
pub fn matrix_bytes_bound(voxels: [u32; 3]) -> u64 {
    level_dims(voxels)
        .iter()
        .skip(1)
        .map(|e| e.iter().map(|&d| u64::from(d)).product::<u64>() * PACKED * 4)
        .sum()
}

/// Largest buffer of the hierarchy bound whole, bytes: level 1's right-hand side or
/// the coarsest level's dense inverse (at most 4 MB). x and d are bound in windows on
/// every level, level 1's block inverses with the 4-byte arrays; the matrix halves take
/// the vectors' windows, and the set-up checks the halves it sizes (150 KiB of material
/// slots at least) against the adapter.
pub fn largest_binding(voxels: [u32; 3]) -> u64 {
    let dims = level_dims(voxels);
    let nodes = |e: &[u32; 3]| e.iter().map(|&d| u64::from(d) + 1).product::<u64>();
    let rows = 3 * dims.last().map_or(0, nodes);
    level1_vector(voxels).max(rows * rows * 4)
}

/// Bytes of level 1's vectors (x, b, d), which some shaders bind whole: each must be one
/// piece of a [`Vector`].
pub fn level1_vector(voxels: [u32; 3]) -> u64 {
    let nodes = |e: &[u32; 3]| e.iter().map(|&d| u64::from(d) + 1).product::<u64>();
    level_dims(voxels)
        .get(1)
        .map_or(0, |e| vector_len(nodes(e)))
}

/// One level read back by [`Multigrid::read_levels`].
pub struct LevelDump {
    /// Element box of the level.
    pub elems: [u32; 3],
    /// Packed upper triangles ([`PACKED`] per element, row-major `hi * (hi + 1) / 2 +
    /// lo`); empty on level 0 (applied matrix-free).
    pub k: Vec<f32>,
    /// Prolongation weights from the next coarser level (decoded from the GPU's one
    /// mask per node): 8 per node, candidate `k`
    /// taking lo (bit clear) or hi (bit set) of (f / 2, (f + 1) / 2) per axis; empty on
    /// the coarsest level.
    pub pw: Vec<f32>,
}

/// What a residual pass leaves in a level's d (stress_mg_smooth.wgsl): the residual,
/// or a Chebyshev step's direction (then `add_d` moves x along it).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Store {
    R = 0,
    Cheb1 = 1,
    Cheb2 = 2,
}

/// One dispatch of the cycle. [`Multigrid::cycle`] emits the sequence; recording
/// dispatches it, [`Multigrid::profile`] counts and times it (one source for both).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    /// A residual pass on a level, leaving in d what `Store` says.
    Resid(usize, Store),
    /// The first Chebyshev step from x = 0.
    ChebZero(usize),
    /// x += d after a residual pass left a Chebyshev direction.
    AddD(usize),
    /// From a level to the next coarser one, and back.
    Restrict(usize),
    Prolong(usize),
    /// The coarsest level's dense product.
    Dense,
}

/// Where one cycle's time goes on one level ([`Multigrid::profile`]).
#[derive(Clone, Debug, Default)]
pub struct LevelCost {
    /// Nodes of the level.
    pub nodes: u64,
    /// Residual passes (operator applications) per cycle, and their wall ms.
    pub resid_passes: u32,
    pub resid_ms: f64,
    /// Every other dispatch per cycle (pointwise steps, transfers to and from the next
    /// coarser level, the dense product on the coarsest), and their wall ms.
    pub other_passes: u32,
    pub other_ms: f64,
}

struct Level {
    gpu: LevelGpu,
    uniform: wgpu::Buffer,
    x: Vector,
    /// The right-hand side; on level 0 the solver's residual r (the cycle reads r /
    /// scale), which the power iteration and the test hooks zero like any level's b.
    b: Vector,
    /// The Chebyshev direction, or the residual that a residual pass left for the
    /// restriction and the power iteration (stress_mg_smooth.wgsl).
    d: Vector,
    /// Coarse levels: block-Jacobi inverses, 6 f32 per node (level 0 forms its inverse
    /// where it is used).
    dinv: wgpu::Buffer,
    /// One u32 per node (stress_mg_level.wgsl): the constrained DOFs (level 0: the
    /// solver's constraint bits; a coarse level: the DOFs its block inverse drops) and
    /// the prolongation from the next coarser level, a mask of the candidates the node
    /// keeps (bits 8-15; none on the coarsest).
    fixed: wgpu::Buffer,
    partials: wgpu::Buffer,
    /// Coarse levels: each element's matrix slot and the tagging bind group.
    slot: Option<wgpu::Buffer>,
    tag_bind: Option<wgpu::BindGroup>,
    /// Packed matrix slots, two halves (coarse levels; sized by the set-up to the
    /// material slots plus the elements that are not uniform blocks) and their count.
    k: Option<(Vector, Vector)>,
    k_slots: u64,
    node_grid: [u32; 3],
    elem_grid: [u32; 3],
    cnode_grid: [u32; 3],
    /// The level's operator and smoothing: stress_mg0 (level 0, made once) or
    /// stress_mg_elem (levels >= 1, made by the set-up with the matrices).
    op_bind: Option<wgpu::BindGroup>,
    /// Transfer to the next coarser level (all but the coarsest).
    transfer_bind: Option<wgpu::BindGroup>,
    /// Galerkin into this level (levels >= 1, made by the set-up).
    galerkin_bind: Option<wgpu::BindGroup>,
}

/// Level-0 inputs shared with the solver (bindings 0..5 of stress_mg0.wgsl).
pub struct FineInputs<'a> {
    pub params: &'a wgpu::Buffer,
    pub material: &'a wgpu::Buffer,
    pub mats: &'a wgpu::Buffer,
    /// UnitElement::gpu_blocks as an f32 uniform.
    pub ke: &'a wgpu::Buffer,
    pub fixed: &'a wgpu::Buffer,
    /// The outer CG's residual and scalars: the cycle's input is r / scale.
    pub r: &'a Vector,
    pub scalars: &'a wgpu::Buffer,
}

/// The hierarchy of one grid: vectors, bind groups and pipelines made once;
/// [`Multigrid::setup`] tags the coarse elements, sizes their matrices and recomputes
/// the operators for the current materials and constraints; [`Multigrid::vcycle`]
/// records one cycle from `b()` into `x()`.
pub struct Multigrid {
    levels: Vec<Level>,
    k: Arc<MgKernels>,
    /// The solver's params, material, mats, ke and fixed (the Galerkin product of
    /// level 1 reads them; its bind group is made at set-up).
    fine: [wgpu::Buffer; 5],
    /// Elements that need a matrix of their own, one counter per coarse level
    /// (stress_mg_tag.wgsl), read back together.
    counts: wgpu::Buffer,
    /// Level 0's block inverse per material (stress_mg0.wgsl `mat_inverses`).
    inv_mat: wgpu::Buffer,
    ainv: wgpu::Buffer,
    dense_bind: wgpu::BindGroup,
    dense_grid: [u32; 3],
    /// Chebyshev bounds per smoothed level (for docs and benches).
    pub lambda_max: Vec<f64>,
    /// Elements with a matrix of their own per coarse level (level 1 first), as the
    /// last set-up counted them.
    pub mixed: Vec<u64>,
    /// Coarse cycles per level and the voxel level's smoothing degree.
    pub shape: CycleShape,
    /// Bytes the solver took beyond the up-front estimate before the set-up sized the
    /// matrices (result ranges of their own): the matrices get what the budget leaves.
    pub reserved: u64,
    /// Bytes per piece of the vectors and matrix halves past one buffer ([`Vector`]).
    piece: u64,
}

fn nodes_of(e: [u32; 3]) -> [u32; 4] {
    let n = e.map(|d| d + 1);
    [n[0], n[1], n[2], n[0] * n[1] * n[2]]
}

impl Multigrid {
    pub(super) fn new(
        gpu: &GpuContext,
        kernels: Arc<MgKernels>,
        fine: &FineInputs<'_>,
        voxels: [u32; 3],
        voxel_um: f64,
        mat_slots: u32,
    ) -> Result<Self, StressError> {
        let device = &gpu.device;
        let dims = level_dims(voxels);
        let MgKernels {
            mg0,
            tag,
            transfer,
            coarsest,
            ..
        } = &*kernels;
        // Buffers first (the transfers bind two levels).
        let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let mut levels: Vec<Level> = Vec::with_capacity(dims.len());
        let top = dims.len() - 1;
        let counts = buffer(device, "Multigrid::counts", 4 * top as u64, RW);
        let piece = piece_bytes(kernels.windows, gpu.limits.max_buffer_size);
        let inv_mat = buffer(device, "Multigrid::inv_mat", MAT_SLOTS * 32, RW);
        for (l, e) in dims.iter().enumerate() {
            let ndims = nodes_of(*e);
            let nodes = u64::from(ndims[3]);
            let elems = u64::from(e[0]) * u64::from(e[1]) * u64::from(e[2]);
            let cd = dims.get(l + 1).map_or([0; 4], |c| nodes_of(*c));
            let (node_wx, node_grid) = cover(nodes);
            let (elem_wx, elem_grid) = cover(elems * 24);
            let (cnode_wx, cnode_grid) = cover(u64::from(cd[3]));
            let fedims = if l > 0 {
                let f = dims[l - 1];
                [f[0], f[1], f[2], f[0] * f[1] * f[2]]
            } else {
                [0; 4]
            };
            let g = LevelGpu {
                edims: [e[0], e[1], e[2], elems as u32],
                ndims,
                cdims: cd,
                fedims,
                node_wx,
                elem_wx,
                cnode_wx,
                rows: 3 * ndims[3],
                fnode_wx: levels.last().map_or(0, |f| f.gpu.node_wx),
                mat_slots,
                level: l as u32,
                edge: (voxel_um * f64::from(1u32 << l.min(31))) as f32,
                ..Default::default()
            };
            let name = |s: &str| format!("Multigrid::{s}[{l}]");
            let v = |s: &str| Vector::new(device, &name(s), vector_len(nodes), RW, piece);
            let uniform = buffer(
                device,
                &name("level"),
                size_of::<LevelGpu>() as u64,
                UNIFORM,
            );
            gpu.queue.write_buffer(&uniform, 0, bytemuck::bytes_of(&g));
            // Level 0's right-hand side is the solver's r (read as r / scale).
            let b = if l == 0 { fine.r.clone() } else { v("b") };
            let (x, d) = (v("x"), v("d"));
            let coarse = |len: u64| if l > 0 { len } else { 16 };
            let dinv = buffer(device, &name("dinv"), coarse(nodes * 24), RW);
            let fixed = if l == 0 {
                fine.fixed.clone()
            } else {
                buffer(device, &name("fixed"), nodes * 4, RW)
            };
            let partials = buffer(device, &name("partials"), 2 * nodes.div_ceil(256) * 4, RW);
            let op_bind = (l == 0).then(|| {
                mg0.bind(
                    device,
                    "Multigrid::mg0",
                    &[
                        fine.params,
                        fine.material,
                        fine.mats,
                        fine.ke,
                        fine.mats,
                        fine.fixed,
                        &uniform,
                        &x,
                        fine.r,
                        &d,
                        &partials,
                        fine.scalars,
                        &inv_mat,
                    ],
                )
            });
            let (slot, tag_bind) = if l > 0 {
                let slot = buffer(device, &name("slot"), elems * 4, RW);
                // Level 1 tags from the voxels: its slot_in is a stand-in.
                let below = levels[l - 1].slot.as_ref().unwrap_or(&levels[l - 1].fixed);
                let bind = tag.bind(
                    device,
                    "Multigrid::tag",
                    &[
                        fine.params,
                        fine.material,
                        fine.mats,
                        fine.fixed,
                        &uniform,
                        below,
                        &slot,
                        &counts,
                    ],
                );
                (Some(slot), Some(bind))
            } else {
                (None, None)
            };
            levels.push(Level {
                gpu: g,
                uniform,
                x,
                b,
                d,
                dinv,
                fixed,
                partials,
                slot,
                tag_bind,
                k: None,
                k_slots: 0,
                node_grid,
                elem_grid,
                cnode_grid,
                op_bind,
                transfer_bind: None,
                galerkin_bind: None,
            });
        }
        let rows = u64::from(levels[top].gpu.rows);
        let ainv = buffer(device, "Multigrid::ainv", rows * rows * 4, RW);
        if let Some(e) = pollster::block_on(oom.pop()) {
            return Err(StressError::OutOfMemory {
                need: memory_bytes(voxels).div_ceil(1 << 20),
                reason: e.to_string(),
            });
        }
        for l in 0..top {
            let (r, c) = (&levels[l], &levels[l + 1]);
            let bind = transfer.bind(
                device,
                "Multigrid::transfer",
                &[&r.uniform, &r.d, &r.x, &c.b, &c.x, &r.fixed],
            );
            levels[l].transfer_bind = Some(bind);
        }
        let c = &levels[top];
        let dense_bind =
            coarsest.bind(device, "Multigrid::dense", &[&c.uniform, &ainv, &c.b, &c.x]);
        let (_, dense_grid) = cover(rows);
        Ok(Self {
            levels,
            k: kernels,
            fine: [
                fine.params.clone(),
                fine.material.clone(),
                fine.mats.clone(),
                fine.ke.clone(),
                fine.fixed.clone(),
            ],
            counts,
            inv_mat,
            ainv,
            dense_bind,
            dense_grid,
            lambda_max: Vec::new(),
            mixed: Vec::new(),
            shape: CycleShape::default(),
            reserved: 0,
            piece,
        })
    }

    /// Tags every coarse element (a uniform block points at its material's slot, any
    /// other gets one of its own), reads the counts back, and sizes each level's matrix
    /// storage to them, remaking the bind groups that hold it. The storage only grows:
    /// a later load case with fewer constraints reuses it.
    fn tag_and_size(&mut self, gpu: &GpuContext) -> Result<(), StressError> {
        let top = self.levels.len() - 1;
        if top == 0 {
            return Ok(());
        }
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        encoder.clear_buffer(&self.counts, 0, None);
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            for (l, lv) in self.levels.iter().enumerate().skip(1) {
                let pipe = if l == 1 {
                    &self.k.pipes.tag0
                } else {
                    &self.k.pipes.tag_e
                };
                let bind = lv.tag_bind.as_ref().expect("coarse level");
                dispatch(&mut pass, pipe, bind, lv.node_grid);
            }
        }
        gpu.queue.submit([encoder.finish()]);
        let raw = read_buffer(gpu, &self.counts, 0, 4 * top as u64);
        let counts: Vec<u32> = bytemuck::pod_collect_to_vec(&raw);
        self.mixed = counts.iter().map(|&c| u64::from(c)).collect();

        let device = &gpu.device;
        // Each matrix half is bound in the kernels' windows (one binding each unless the
        // grid's node vectors needed more), in pieces past one buffer like the vectors,
        // and indexed in u32.
        let windows = self.k.windows;
        let bound = if windows.count > 1 {
            u64::from(windows.count) * windows.bytes
        } else {
            gpu.max_binding_bytes()
        };
        let limit = bound.min((u64::from(u32::MAX) + 1) * 4);
        // Slots per level; at most one per element: the counters cannot run past the grid.
        let needs: Vec<u64> = (1..=top)
            .map(|l| {
                let lv = &self.levels[l];
                u64::from(lv.gpu.mat_slots) + self.mixed[l - 1].min(u64::from(lv.gpu.edims[3]))
            })
            .collect();
        // The up-front estimate counted every level's material slots at their most; what
        // the elements with their own matrices add beyond that must fit what the memory
        // budget left.
        let counted = top as u64 * MAT_SLOTS * PACKED * 4;
        let want: u64 = needs.iter().map(|n| n * PACKED * 4).sum();
        let extra = want.saturating_sub(counted);
        let left = gpu.headroom().saturating_sub(self.reserved);
        if extra > left {
            return Err(StressError::OverBudget {
                need: extra.div_ceil(1 << 20),
                mixed: self.mixed.iter().sum(),
                left: left >> 20,
            });
        }
        for (l, &need) in (1..=top).zip(&needs) {
            if need * HALF * 4 > limit {
                return Err(StressError::CoarseTooLarge {
                    level: l,
                    mixed: self.mixed[l - 1],
                    need: (need * HALF * 4).div_ceil(1 << 20),
                    limit: limit >> 20,
                    adapter: gpu.info.name.clone(),
                });
            }
        }
        let mut grown = false;
        let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        for (l, &need) in (1..=top).zip(&needs) {
            let lv = &mut self.levels[l];
            if lv.k_slots < need {
                let half = |s: &str| {
                    let label = format!("Multigrid::{s}[{l}]");
                    Vector::new(device, &label, need * HALF * 4, RW, self.piece)
                };
                lv.k = Some((half("ka"), half("kb")));
                lv.k_slots = need;
                grown = true;
            }
        }
        if let Some(e) = pollster::block_on(oom.pop()) {
            return Err(StressError::OutOfMemory {
                need: self.matrix_bytes().div_ceil(1 << 20),
                reason: e.to_string(),
            });
        }
        if grown {
            self.bind_matrices(gpu);
        }
        Ok(())
    }

    /// The bind groups that hold the matrix storage: each coarse level's operator and
    /// the Galerkin product into it.
    fn bind_matrices(&mut self, gpu: &GpuContext) {
        let device = &gpu.device;
        let MgKernels {
            elem, gal0, gal, ..
        } = &*self.k;
        let [params, material, mats, ke, fixed] = &self.fine;
        for l in 1..self.levels.len() {
            let (below, rest) = self.levels.split_at_mut(l);
            let (f, lv) = (&below[l - 1], &mut rest[0]);
            let (ka, kb) = lv.k.as_ref().expect("sized before binding");
            let slot = lv.slot.as_ref().expect("coarse level");
            lv.op_bind = Some(elem.bind(
                device,
                "Multigrid::elem",
                &[
                    &lv.uniform,
                    ka,
                    kb,
                    &lv.x,
                    &lv.b,
                    &lv.d,
                    &lv.dinv,
                    slot,
                    ke,
                    mats,
                    &lv.fixed,
                    &lv.partials,
                ],
            ));
            lv.galerkin_bind = Some(if l == 1 {
                gal0.bind(
                    device,
                    "Multigrid::galerkin0",
                    &[
                        params,
                        material,
                        mats,
                        ke,
                        fixed,
                        &lv.uniform,
                        ka,
                        kb,
                        &f.fixed,
                        slot,
                    ],
                )
            } else {
                let (fa, fb) = f.k.as_ref().expect("levels >= 1 have matrices");
                let fs = f.slot.as_ref().expect("coarse level");
                gal.bind(
                    device,
                    "Multigrid::galerkin",
                    &[&lv.uniform, fa, fb, ka, kb, &f.fixed, fs, slot],
                )
            });
        }
    }

    /// Bytes of every storage buffer the hierarchy holds, from the buffers themselves
    /// (tests check [`vector_bytes`] and [`Multigrid::matrix_bytes`] against it). Level
    /// 0's b and node flags are the solver's buffers and are not counted here.
    pub fn allocated_bytes(&self) -> u64 {
        let own = [&self.counts, &self.inv_mat, &self.ainv];
        let mut total: u64 = own.iter().map(|b| b.size()).sum();
        for (l, lv) in self.levels.iter().enumerate() {
            total += lv.x.size() + lv.d.size() + lv.dinv.size() + lv.partials.size();
            if l > 0 {
                total += lv.b.size() + lv.fixed.size();
            }
            total += lv.slot.as_ref().map_or(0, |s| s.size());
            total += lv.k.as_ref().map_or(0, |(a, b)| a.size() + b.size());
        }
        total
    }

    /// Bytes of the coarse levels' matrix storage as last sized by the set-up.
    pub fn matrix_bytes(&self) -> u64 {
        self.levels.iter().map(|l| l.k_slots * PACKED * 4).sum()
    }

    /// Level 0's solution (the V-cycle's output), 3 f32 per node.
    pub fn x(&self) -> &Vector {
        &self.levels[0].x
    }

    /// Level 0's Chebyshev direction: scratch of the cycle, idle between cycles.
    pub fn d(&self) -> &Vector {
        &self.levels[0].d
    }

    pub fn level_count(&self) -> usize {
        self.levels.len()
    }

    /// Element boxes of the levels, finest first.
    pub fn dims(&self) -> Vec<[u32; 3]> {
        self.levels
            .iter()
            .map(|l| [l.gpu.edims[0], l.gpu.edims[1], l.gpu.edims[2]])
            .collect()
    }

    /// Reads every level's operator back (tests check the Galerkin products and the
    /// prolongation against a CPU product on small grids; not for the production path).
    pub fn read_levels(&self, gpu: &GpuContext) -> Vec<LevelDump> {
        let top = self.levels.len() - 1;
        self.levels
            .iter()
            .enumerate()
            .map(|(l, lv)| {
                let nodes = u64::from(lv.gpu.ndims[3]);
                let k = if l > 0 {
                    self.matrices(gpu, l)
                } else {
                    Vec::new()
                };
                let pw = if l < top {
                    let masks: Vec<u32> =
                        bytemuck::pod_collect_to_vec(&read_buffer(gpu, &lv.fixed, 0, nodes * 4));
                    masks
                        .iter()
                        .flat_map(|&flags| {
                            let m = flags >> 8 & 0xff;
                            let w = 1.0 / m.count_ones().max(1) as f32;
                            (0..8).map(move |k| if m >> k & 1 == 1 { w } else { 0.0 })
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                LevelDump {
                    elems: [lv.gpu.edims[0], lv.gpu.edims[1], lv.gpu.edims[2]],
                    k,
                    pw,
                }
            })
            .collect()
    }

    /// A_l v on level `l`'s free DOFs (0 elsewhere), by the cycle's own residual kernel
    /// with b = 0 (test hook; `v` holds 3 f32 per node of the level).
    pub fn apply_level(&self, gpu: &GpuContext, l: usize, v: &[f32]) -> Vec<f32> {
        let lv = &self.levels[l];
        lv.x.write(&gpu.queue, 0, bytemuck::cast_slice(v));
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        lv.b.clear(&mut encoder);
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            self.resid(&mut pass, l, Store::R);
        }
        gpu.queue.submit([encoder.finish()]);
        let t: Vec<f32> = bytemuck::pod_collect_to_vec(&lv.d.read(gpu, 0, size_of_val(v) as u64));
        t.iter().map(|&x| -x).collect()
    }

    /// Coarse level `l`'s element matrices read back through their slots, packed
    /// ([`PACKED`] per element).
    fn matrices(&self, gpu: &GpuContext, l: usize) -> Vec<f32> {
        let lv = &self.levels[l];
        let (Some((ka, kb)), Some(slot)) = (&lv.k, &lv.slot) else {
            return Vec::new();
        };
        let elems = u64::from(lv.gpu.edims[3]);
        let read = |b: &Vector, n: u64| -> Vec<f32> {
            bytemuck::pod_collect_to_vec(&b.read(gpu, 0, n * 4))
        };
        let (ha, hb) = (read(ka, lv.k_slots * HALF), read(kb, lv.k_slots * HALF));
        let slots: Vec<u32> = bytemuck::pod_collect_to_vec(&read_buffer(gpu, slot, 0, elems * 4));
        let h = HALF as usize;
        slots
            .iter()
            .flat_map(|&s| {
                let s = s as usize;
                ha[s * h..(s + 1) * h]
                    .iter()
                    .chain(&hb[s * h..(s + 1) * h])
                    .copied()
            })
            .collect()
    }

    /// r = b - A x on level `l`, left in d as `what` says.
    fn resid(&self, pass: &mut wgpu::ComputePass<'_>, l: usize, what: Store) {
        let lv = &self.levels[l];
        let bind = lv.op_bind.as_ref().expect("bound by the set-up");
        dispatch(
            pass,
            &self.smooth(l).resid[what as usize],
            bind,
            lv.node_grid,
        );
    }

    /// The smoothing entry points of level `l`'s operator shader.
    fn smooth(&self, l: usize) -> &SmoothPipes {
        &self.k.pipes.smooth[usize::from(l > 0)]
    }

    /// A pointwise smoothing pass over level `l`'s nodes.
    fn vec_op(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        l: usize,
        pick: fn(&SmoothPipes) -> &wgpu::ComputePipeline,
    ) {
        let lv = &self.levels[l];
        let bind = lv.op_bind.as_ref().expect("bound by the set-up");
        dispatch(pass, pick(self.smooth(l)), bind, lv.node_grid);
    }

    /// Rebuilds every level's operator for the current materials and constraints (the
    /// solver's `fixed` buffer must be filled): block inverses, Galerkin products,
    /// Chebyshev bounds, the coarsest inverse.
    pub fn setup(&mut self, gpu: &GpuContext) -> Result<(), StressError> {
        self.tag_and_size(gpu)?;
        let top = self.levels.len() - 1;
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            let fine = &self.levels[0];
            let bind = fine.op_bind.as_ref().expect("level 0 is bound at creation");
            dispatch(&mut pass, &self.k.pipes.mat_inverses, bind, [1, 1, 1]);
            for l in 1..=top {
                let lv = &self.levels[l];
                let pipe = if l == 1 {
                    &self.k.pipes.galerkin0
                } else {
                    &self.k.pipes.galerkin
                };
                let gb = lv
                    .galerkin_bind
                    .as_ref()
                    .expect("levels >= 1 have a Galerkin bind group");
                // Prolongation weights of the child level first (they read its matrices).
                let pw = if l == 1 {
                    &self.k.pipes.pweights0
                } else {
                    &self.k.pipes.pweights_e
                };
                dispatch(&mut pass, pw, gb, self.levels[l - 1].node_grid);
                // The material slots, then the elements with their own.
                let mat = u64::from(lv.gpu.mat_slots);
                let (slots, groups) = if l == 1 {
                    (&self.k.pipes.slots0, mat * 24)
                } else {
                    (&self.k.pipes.slots_e, mat * HALF)
                };
                dispatch(&mut pass, slots, gb, [groups.div_ceil(256) as u32, 1, 1]);
                dispatch(&mut pass, pipe, gb, lv.elem_grid);
                let op = lv.op_bind.as_ref().expect("bound by tag_and_size");
                dispatch(&mut pass, &self.k.pipes.diag_e, op, lv.node_grid);
            }
        }
        gpu.queue.submit([encoder.finish()]);

        self.lambda_max.clear();
        for l in 0..top {
            let lam = self.power(gpu, l);
            self.lambda_max.push(lam);
            let lv = &mut self.levels[l];
            let (hi, lo) = (1.1 * lam, 0.1 * lam);
            let theta = 0.5 * (hi + lo);
            let delta = 0.5 * (hi - lo);
            let sigma = theta / delta;
            let rho0 = 1.0 / sigma;
            let rho1 = 1.0 / (2.0 * sigma - rho0);
            lv.gpu.inv_theta = (1.0 / theta) as f32;
            lv.gpu.c1 = (rho1 * rho0) as f32;
            lv.gpu.c2 = (2.0 * rho1 / delta) as f32;
            gpu.queue
                .write_buffer(&lv.uniform, 0, bytemuck::bytes_of(&lv.gpu));
        }
        self.factor_coarsest(gpu)
    }

    /// Largest eigenvalue of D^-1 A on level `l`: the Rayleigh quotient of the last of
    /// [`POWER_STEPS`] power steps (1 where the level has no free DOF). The quotients of
    /// a power iteration on a symmetric semi-definite pencil never decrease, so only the
    /// last one is read: the steps are recorded in two submissions instead of one
    /// round trip each. The iterate is not normalised; it grows at most by 27^12
    /// (Gershgorin on the block-scaled operator), far inside f32.
    fn power(&self, gpu: &GpuContext, l: usize) -> f64 {
        let lv = &self.levels[l];
        let groups = u64::from(lv.gpu.ndims[3]).div_ceil(256);
        let sums = |gpu: &GpuContext| -> (f64, f64) {
            let raw = read_buffer(gpu, &lv.partials, 0, 2 * groups * 4);
            let v: Vec<f32> = bytemuck::pod_collect_to_vec(&raw);
            let (a, b) = v.split_at(groups as usize);
            (
                a.iter().map(|&x| f64::from(x)).sum(),
                b.iter().map(|&x| f64::from(x)).sum(),
            )
        };
        let steps = |gpu: &GpuContext, init: bool, n: usize| {
            let mut encoder = gpu.device.create_command_encoder(&Default::default());
            if init {
                lv.b.clear(&mut encoder);
            }
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                if init {
                    self.vec_op(&mut pass, l, |p| &p.pow_init);
                }
                for _ in 0..n {
                    self.resid(&mut pass, l, Store::R);
                    self.vec_op(&mut pass, l, |p| &p.pow_step);
                }
            }
            gpu.queue.submit([encoder.finish()]);
        };
        // x_k' D x_k is the second sum of step k - 1, x_k' A x_k the first of step k.
        steps(gpu, true, POWER_STEPS - 1);
        let (_, dnorm) = sums(gpu);
        steps(gpu, false, 1);
        let (xax, _) = sums(gpu);
        let lam = xax / dnorm;
        if dnorm > 0.0 && lam.is_finite() && lam > 0.0 {
            lam
        } else {
            1.0
        }
    }

    /// Assembles the coarsest level in f64 from its element matrices, factors it with a
    /// semi-definite Cholesky (dependent DOFs, e.g. rigid modes of floating parts, are
    /// dropped) and uploads the inverse.
    fn factor_coarsest(&self, gpu: &GpuContext) -> Result<(), StressError> {
        let top = self.levels.len() - 1;
        let lv = &self.levels[top];
        let rows = lv.gpu.rows as usize;
        let e = lv.gpu.edims;
        let mut a = vec![0.0f64; rows * rows];
        let nd = lv.gpu.ndims;
        let node = |x: u32, y: u32, z: u32| (x + nd[0] * (y + nd[1] * z)) as usize;
        if top > 0 {
            let k = self.matrices(gpu, top);
            let entry = |el: usize, i: usize, j: usize| -> f64 {
                let (lo, hi) = (i.min(j), i.max(j));
                f64::from(k[el * PACKED as usize + hi * (hi + 1) / 2 + lo])
            };
            for ez in 0..e[2] {
                for ey in 0..e[1] {
                    for ex in 0..e[0] {
                        let el = (ex + e[0] * (ey + e[1] * ez)) as usize;
                        let dof = |k: usize| {
                            let (c, comp) = (k / 3, k % 3);
                            let n = node(
                                ex + (c as u32 & 1),
                                ey + ((c as u32 >> 1) & 1),
                                ez + (c as u32 >> 2),
                            );
                            3 * n + comp
                        };
                        for i in 0..24 {
                            for j in 0..24 {
                                a[dof(i) * rows + dof(j)] += entry(el, i, j);
                            }
                        }
                    }
                }
            }
        }
        let inv = semidefinite_inverse(&mut a, rows);
        let f: Vec<f32> = inv.iter().map(|&v| v as f32).collect();
        gpu.queue
            .write_buffer(&self.ainv, 0, bytemuck::cast_slice(&f));
        Ok(())
    }

    /// Records one cycle: x = M^-1 b on level 0.
    pub fn vcycle(&self, pass: &mut wgpu::ComputePass<'_>) {
        self.cycle(0, true, &mut |step| self.record(pass, step));
    }

    /// Level `l` of the cycle from x = 0 (`zero`) or from the current x (then it is
    /// x + B (b - A x), B the cycle from zero: the cycle is linear in its start):
    /// pre-smooth, coarse correction, post-smooth; the same polynomial before and after
    /// keeps it symmetric (degree 2, or [`CycleShape::fine_degree`] on the voxel
    /// level). Levels 1..=[`CycleShape::w_levels`] get two coarse cycles (a W-cycle
    /// there), the second from the first's result, so the coarse solve is
    /// x = (2B - BAB) b: still a fixed symmetric operator. Emits the dispatches in order.
    fn cycle(&self, l: usize, zero: bool, emit: &mut dyn FnMut(Step)) {
        let top = self.levels.len() - 1;
        if l == top {
            // Exact: the same from any start.
            emit(Step::Dense);
            return;
        }
        let step = |emit: &mut dyn FnMut(Step), what: Store| {
            emit(Step::Resid(l, what));
            emit(Step::AddD(l));
        };
        // Degree 1 is the first Chebyshev step alone (block Jacobi damped by 1 / theta).
        let second = l > 0 || self.shape.fine_degree >= 2;
        if zero {
            emit(Step::ChebZero(l));
        } else {
            step(emit, Store::Cheb1);
        }
        if second {
            step(emit, Store::Cheb2);
        }
        emit(Step::Resid(l, Store::R));
        emit(Step::Restrict(l));
        self.cycle(l + 1, true, emit);
        if l < self.shape.w_levels && l + 1 < top {
            self.cycle(l + 1, false, emit);
        }
        emit(Step::Prolong(l));
        step(emit, Store::Cheb1);
        if second {
            step(emit, Store::Cheb2);
        }
    }

    /// Dispatches one step of the cycle.
    fn record(&self, pass: &mut wgpu::ComputePass<'_>, step: Step) {
        let transfer = |l: usize| {
            let lv = &self.levels[l];
            let tb = lv.transfer_bind.as_ref();
            (lv, tb.expect("all but the coarsest transfer"))
        };
        match step {
            Step::Resid(l, what) => self.resid(pass, l, what),
            Step::ChebZero(l) => self.vec_op(pass, l, |p| &p.cheb_zero),
            Step::AddD(l) => self.vec_op(pass, l, |p| &p.add_d),
            Step::Restrict(l) => {
                let (lv, tb) = transfer(l);
                dispatch(pass, &self.k.pipes.restrict, tb, lv.cnode_grid);
            }
            Step::Prolong(l) => {
                let (lv, tb) = transfer(l);
                dispatch(pass, &self.k.pipes.prolong, tb, lv.node_grid);
            }
            Step::Dense => dispatch(pass, &self.k.pipes.dense, &self.dense_bind, self.dense_grid),
        }
    }

    /// Where one cycle's time goes, per level: every distinct dispatch of the cycle
    /// (a level's residual pass of each kind, its pointwise steps, its transfers, the
    /// dense product) timed alone, as the mean of `reps` back-to-back dispatches after
    /// one warm-up (less an empty submission's wait), times how often one cycle makes
    /// it. Restriction and prolongation count on the finer level, the dense product on
    /// the coarsest. Overwrites the cycle's vectors (call after a solve, like
    /// [`Self::vcycle`]).
    pub fn profile(&self, gpu: &GpuContext, reps: u32) -> Vec<LevelCost> {
        let mut plan: Vec<(Step, u32)> = Vec::new();
        self.cycle(
            0,
            true,
            &mut |step| match plan.iter_mut().find(|(s, _)| *s == step) {
                Some((_, n)) => *n += 1,
                None => plan.push((step, 1)),
            },
        );
        let reps = reps.max(1);
        let batch = |n: u32, step: Option<Step>| {
            let mut encoder = gpu.device.create_command_encoder(&Default::default());
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                for _ in 0..n {
                    if let Some(step) = step {
                        self.record(&mut pass, step);
                    }
                }
            }
            gpu.queue.submit([encoder.finish()]);
            gpu.wait();
        };
        let elapsed = |step: Option<Step>| {
            let t = std::time::Instant::now();
            batch(reps, step);
            t.elapsed().as_secs_f64() * 1e3
        };
        // A submission and its wait cost something on their own (on a GPU, more than a
        // small dispatch): measured empty and taken off.
        batch(1, None);
        let empty = elapsed(None);
        let top = self.levels.len() - 1;
        let mut costs: Vec<LevelCost> = self
            .levels
            .iter()
            .map(|lv| LevelCost {
                nodes: u64::from(lv.gpu.ndims[3]),
                ..LevelCost::default()
            })
            .collect();
        for (step, count) in plan {
            batch(1, Some(step));
            let ms = (elapsed(Some(step)) - empty).max(0.0) / f64::from(reps) * f64::from(count);
            match step {
                Step::Resid(l, _) => {
                    costs[l].resid_passes += count;
                    costs[l].resid_ms += ms;
                }
                Step::ChebZero(l) | Step::AddD(l) | Step::Restrict(l) | Step::Prolong(l) => {
                    costs[l].other_passes += count;
                    costs[l].other_ms += ms;
                }
                Step::Dense => {
                    costs[top].other_passes += count;
                    costs[top].other_ms += ms;
                }
            }
        }
        costs
    }
}

/// Inverse of a symmetric positive semi-definite matrix (row-major, n x n, overwritten)
/// on the subspace its Cholesky factor spans: a pivot below 1e-5 of its original
/// diagonal marks a dependent DOF (a rigid mode of a floating part, an inactive DOF),
/// whose row and column of the result are 0. The result is symmetric positive
/// semi-definite, so it stays a valid CG preconditioner block.
pub fn semidefinite_inverse(a: &mut [f64], n: usize) -> Vec<f64> {
    let diag: Vec<f64> = (0..n).map(|i| a[i * n + i]).collect();
    let mut keep = vec![false; n];
    // In-place lower Cholesky, column by column.
    for k in 0..n {
        let mut p = a[k * n + k];
        for j in 0..k {
            p -= a[k * n + j] * a[k * n + j];
        }
        // NaN pivots drop too.
        let usable = diag[k] > 0.0 && p > 1e-5 * diag[k];
        if !usable {
            for i in k..n {
                a[i * n + k] = 0.0;
            }
            continue;
        }
        keep[k] = true;
        let lkk = p.sqrt();
        a[k * n + k] = lkk;
        for i in k + 1..n {
            let mut s = a[i * n + k];
            for j in 0..k {
                s -= a[i * n + j] * a[k * n + j];
            }
            a[i * n + k] = s / lkk;
        }
    }
    // W = L^-1 (lower), restricted to kept DOFs, row by row: W_i = (e_i - sum_{j<i}
    // L_ij W_j) / L_ii. Rows, not columns, so every inner loop runs over contiguous
    // memory (a dense 600-DOF matrix: 98 ms column-wise, 50 ms so, same sums in the
    // same order). A dropped DOF's row is 0, and so is its column (no kept row starts
    // with a 1 there).
    let mut w = vec![0.0f64; n * n];
    let mut row = vec![0.0f64; n];
    for i in 0..n {
        if !keep[i] {
            continue;
        }
        row[..=i].fill(0.0);
        row[i] = 1.0;
        for j in 0..i {
            let l = a[i * n + j];
            if l != 0.0 {
                let wj = &w[j * n..j * n + j + 1];
                for (r, &x) in row[..=j].iter_mut().zip(wj) {
                    *r -= l * x;
                }
            }
        }
        let d = a[i * n + i];
        for (o, &r) in w[i * n..i * n + i + 1].iter_mut().zip(&row[..=i]) {
            *o = r / d;
        }
    }
    // A^+ = W' W: one rank-1 update per row of W, on the lower triangle, then mirrored.
    let mut inv = vec![0.0f64; n * n];
    for k in 0..n {
        let wk = &w[k * n..k * n + k + 1];
        for (i, &wi) in wk.iter().enumerate() {
            if wi != 0.0 {
                for (o, &wj) in inv[i * n..i * n + i + 1].iter_mut().zip(&wk[..=i]) {
                    *o += wi * wj;
                }
            }
        }
    }
    for i in 0..n {
        for j in 0..i {
            inv[j * n + i] = inv[i * n + j];
        }
    }
    inv
}
