//! Geometric multigrid cycle in f32, the preconditioner of the outer CG.
//!
//! Level 0 is the voxel grid itself, applied matrix-free (stress_mg0.wgsl). Level l+1
//! has an element for every 2x2x2 block of level l; its element matrices are Galerkin
//! products P_e' K_e P_e of the trilinear prolongation (stress_galerkin*.wgsl), computed
//! once per solve on the GPU, so voids, material contrast and the constraint mask are
//! carried to every level exactly as P' M K M P. Smoother: Chebyshev of degree 2 on the
//! 3x3 block-Jacobi scaled operator, its spectrum bound from a power iteration per
//! level (PETSc's interval [0.1, 1.1] x the estimate). The coarsest level (at most
//! [`COARSEST_DOFS`] DOFs) is solved with a dense inverse factored on the host in f64.
//! The cycle is a V-cycle with two coarse cycles on levels 1 and 2 ([`W_LEVELS`]).
//! Every piece is a fixed symmetric linear operator, so one cycle is a valid CG
//! preconditioner. See docs/STRESS.md.

use super::StressError;
use super::gpu_util::{RW, UNIFORM, buffer, cover, dispatch};
use super::kernels::MgKernels;
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
/// Power-iteration steps per level for the Chebyshev bound.
const POWER_STEPS: usize = 12;
/// Entries of a packed symmetric 24x24 element matrix and of each of its two halves.
pub const PACKED: u64 = 300;
const HALF: u64 = 150;

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
}
const _: () = assert!(size_of::<LevelGpu>() == 96);

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

/// Bytes the hierarchy allocates on the GPU for a voxel box (levels 1.., plus level 0's
/// vectors: x, b, t, d and the block inverse).
pub fn memory_bytes(voxels: [u32; 3]) -> u64 {
    let dims = level_dims(voxels);
    let mut total = 0;
    for (l, e) in dims.iter().enumerate() {
        let nodes: u64 = e.iter().map(|&d| u64::from(d) + 1).product();
        let elems: u64 = e.iter().map(|&d| u64::from(d)).product();
        // x, b, t, d; the block inverse; the prolongation's candidate mask.
        total += nodes * 4 * (4 * 3 + 6 + 1);
        if l > 0 {
            total += elems * PACKED * 4;
        }
    }
    let last = dims.last().expect("level 0");
    let rows: u64 = 3 * last.iter().map(|&d| u64::from(d) + 1).product::<u64>();
    total + rows * rows * 4
}

/// Largest single binding of the hierarchy, bytes (level 1's element-matrix halves or
/// level 0's block inverse).
pub fn largest_binding(voxels: [u32; 3]) -> u64 {
    let dims = level_dims(voxels);
    let nodes0: u64 = voxels.iter().map(|&d| u64::from(d) + 1).product();
    let e1: u64 = dims
        .get(1)
        .map_or(0, |e| e.iter().map(|&d| u64::from(d)).product());
    (nodes0 * 24).max(e1 * HALF * 4)
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

struct Level {
    gpu: LevelGpu,
    uniform: wgpu::Buffer,
    x: wgpu::Buffer,
    b: wgpu::Buffer,
    /// Residual, Chebyshev direction, block inverse and prolongation weights: only the
    /// bind groups use them.
    _t: wgpu::Buffer,
    _d: wgpu::Buffer,
    _dinv: wgpu::Buffer,
    pw: wgpu::Buffer,
    partials: wgpu::Buffer,
    /// Packed element matrices (levels >= 1).
    k: Option<(wgpu::Buffer, wgpu::Buffer)>,
    node_grid: [u32; 3],
    elem_grid: [u32; 3],
    cnode_grid: [u32; 3],
    vec_bind: wgpu::BindGroup,
    /// stress_mg0 (level 0) or stress_mg_elem (levels >= 1).
    op_bind: wgpu::BindGroup,
    /// Transfer to the next coarser level (all but the coarsest).
    transfer_bind: Option<wgpu::BindGroup>,
    /// Galerkin into this level (levels >= 1).
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
}

/// The hierarchy of one grid: buffers, bind groups and pipelines made once;
/// [`Multigrid::setup`] recomputes the operators for the current materials and
/// constraints; [`Multigrid::vcycle`] records one cycle from `b()` into `x()`.
pub struct Multigrid {
    levels: Vec<Level>,
    k: Arc<MgKernels>,
    ainv: wgpu::Buffer,
    dense_bind: wgpu::BindGroup,
    dense_grid: [u32; 3],
    /// Chebyshev bounds per smoothed level (for docs and benches).
    pub lambda_max: Vec<f64>,
    /// Levels 1..=w_levels get two coarse cycles ([`W_LEVELS`]; 0: a plain V-cycle,
    /// for comparisons).
    pub w_levels: usize,
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
    ) -> Result<Self, StressError> {
        let device = &gpu.device;
        let dims = level_dims(voxels);
        let MgKernels {
            mg0,
            vec,
            elem,
            gal0,
            gal,
            transfer,
            coarsest,
            ..
        } = &*kernels;
        // Buffers first (the transfers bind two levels).
        let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        struct Raw {
            gpu: LevelGpu,
            uniform: wgpu::Buffer,
            x: wgpu::Buffer,
            b: wgpu::Buffer,
            t: wgpu::Buffer,
            d: wgpu::Buffer,
            dinv: wgpu::Buffer,
            partials: wgpu::Buffer,
            pw: wgpu::Buffer,
            k: Option<(wgpu::Buffer, wgpu::Buffer)>,
            grids: [[u32; 3]; 3],
        }
        let mut raw: Vec<Raw> = Vec::with_capacity(dims.len());
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
                fnode_wx: raw.last().map_or(0, |f: &Raw| f.gpu.node_wx),
                ..Default::default()
            };
            let name = |s: &str| format!("Multigrid::{s}[{l}]");
            let v = |s: &str| buffer(device, &name(s), nodes * 12, RW);
            let k = (l > 0).then(|| {
                (
                    buffer(device, &name("ka"), elems * HALF * 4, RW),
                    buffer(device, &name("kb"), elems * HALF * 4, RW),
                )
            });
            raw.push(Raw {
                gpu: g,
                uniform: buffer(
                    device,
                    &name("level"),
                    size_of::<LevelGpu>() as u64,
                    UNIFORM,
                ),
                x: v("x"),
                b: v("b"),
                t: v("t"),
                d: v("d"),
                dinv: buffer(device, &name("dinv"), nodes * 24, RW),
                partials: buffer(device, &name("partials"), 2 * nodes.div_ceil(256) * 4, RW),
                // Prolongation from the next coarser level, a candidate mask per node
                // (none on the coarsest).
                pw: buffer(
                    device,
                    &name("pw"),
                    if l + 1 < dims.len() { nodes * 4 } else { 16 },
                    RW,
                ),
                k,
                grids: [node_grid, elem_grid, cnode_grid],
            });
        }
        let last = raw.last().expect("level 0");
        let rows = u64::from(last.gpu.rows);
        let ainv = buffer(device, "Multigrid::ainv", rows * rows * 4, RW);
        if let Some(e) = pollster::block_on(oom.pop()) {
            return Err(StressError::OutOfMemory {
                need: memory_bytes(voxels).div_ceil(1 << 20),
                reason: e.to_string(),
            });
        }
        for r in &raw {
            gpu.queue
                .write_buffer(&r.uniform, 0, bytemuck::bytes_of(&r.gpu));
        }

        let top = raw.len() - 1;
        let mut levels = Vec::with_capacity(raw.len());
        for l in 0..raw.len() {
            let r = &raw[l];
            let vec_bind = vec.bind(
                device,
                "Multigrid::vec",
                &[&r.uniform, &r.x, &r.b, &r.t, &r.d, &r.dinv, &r.partials],
            );
            let op_bind = match &r.k {
                None => mg0.bind(
                    device,
                    "Multigrid::mg0",
                    &[
                        fine.params,
                        fine.material,
                        fine.mats,
                        fine.ke,
                        fine.mats,
                        fine.fixed,
                        &r.uniform,
                        &r.x,
                        &r.b,
                        &r.t,
                        &r.dinv,
                    ],
                ),
                Some((ka, kb)) => elem.bind(
                    device,
                    "Multigrid::elem",
                    &[&r.uniform, ka, kb, &r.x, &r.b, &r.t, &r.dinv],
                ),
            };
            let transfer_bind = (l < top).then(|| {
                let c = &raw[l + 1];
                transfer.bind(
                    device,
                    "Multigrid::transfer",
                    &[&r.uniform, &r.t, &r.x, &r.dinv, &c.b, &c.x, &r.pw],
                )
            });
            let galerkin_bind = r.k.as_ref().map(|(ka, kb)| {
                if l == 1 {
                    gal0.bind(
                        device,
                        "Multigrid::galerkin0",
                        &[
                            fine.params,
                            fine.material,
                            fine.mats,
                            fine.ke,
                            fine.fixed,
                            &r.uniform,
                            ka,
                            kb,
                            &raw[0].pw,
                        ],
                    )
                } else {
                    let (fa, fb) = raw[l - 1].k.as_ref().expect("levels >= 1 have elements");
                    gal.bind(
                        device,
                        "Multigrid::galerkin",
                        &[&r.uniform, fa, fb, ka, kb, &raw[l - 1].pw],
                    )
                }
            });
            levels.push((vec_bind, op_bind, transfer_bind, galerkin_bind));
        }
        let c = &raw[top];
        let dense_bind =
            coarsest.bind(device, "Multigrid::dense", &[&c.uniform, &ainv, &c.b, &c.x]);
        let (_, dense_grid) = cover(rows);
        let levels = raw
            .into_iter()
            .zip(levels)
            .map(
                |(r, (vec_bind, op_bind, transfer_bind, galerkin_bind))| Level {
                    gpu: r.gpu,
                    uniform: r.uniform,
                    x: r.x,
                    b: r.b,
                    _t: r.t,
                    _d: r.d,
                    pw: r.pw,
                    _dinv: r.dinv,
                    partials: r.partials,
                    k: r.k,
                    node_grid: r.grids[0],
                    elem_grid: r.grids[1],
                    cnode_grid: r.grids[2],
                    vec_bind,
                    op_bind,
                    transfer_bind,
                    galerkin_bind,
                },
            )
            .collect();
        Ok(Self {
            levels,
            k: kernels,
            ainv,
            dense_bind,
            dense_grid,
            lambda_max: Vec::new(),
            w_levels: W_LEVELS,
        })
    }

    /// Level 0's right-hand side (the V-cycle's input), 3 f32 per node.
    pub fn b(&self) -> &wgpu::Buffer {
        &self.levels[0].b
    }

    /// Level 0's solution (the V-cycle's output), 3 f32 per node.
    pub fn x(&self) -> &wgpu::Buffer {
        &self.levels[0].x
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
                let elems = u64::from(lv.gpu.edims[3]);
                let nodes = u64::from(lv.gpu.ndims[3]);
                let k = lv.k.as_ref().map_or_else(Vec::new, |(ka, kb)| {
                    let read = |b: &wgpu::Buffer| -> Vec<f32> {
                        bytemuck::pod_collect_to_vec(&read_buffer(gpu, b, 0, elems * HALF * 4))
                    };
                    let (ha, hb) = (read(ka), read(kb));
                    let h = HALF as usize;
                    (0..elems as usize)
                        .flat_map(|e| {
                            ha[e * h..(e + 1) * h]
                                .iter()
                                .chain(&hb[e * h..(e + 1) * h])
                                .copied()
                                .collect::<Vec<_>>()
                        })
                        .collect()
                });
                let pw = if l < top {
                    let masks: Vec<u32> =
                        bytemuck::pod_collect_to_vec(&read_buffer(gpu, &lv.pw, 0, nodes * 4));
                    masks
                        .iter()
                        .flat_map(|&m| {
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

    fn resid(&self, pass: &mut wgpu::ComputePass<'_>, l: usize) {
        let lv = &self.levels[l];
        let pipe = if l == 0 {
            &self.k.pipes.resid0
        } else {
            &self.k.pipes.resid_e
        };
        dispatch(pass, pipe, &lv.op_bind, lv.node_grid);
    }

    fn vec_op(&self, pass: &mut wgpu::ComputePass<'_>, l: usize, pipe: &wgpu::ComputePipeline) {
        let lv = &self.levels[l];
        dispatch(pass, pipe, &lv.vec_bind, lv.node_grid);
    }

    /// Rebuilds every level's operator for the current materials and constraints (the
    /// solver's `fixed` buffer must be filled): block inverses, Galerkin products,
    /// Chebyshev bounds, the coarsest inverse.
    pub fn setup(&mut self, gpu: &GpuContext) -> Result<(), StressError> {
        let top = self.levels.len() - 1;
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            dispatch(
                &mut pass,
                &self.k.pipes.diag0,
                &self.levels[0].op_bind,
                self.levels[0].node_grid,
            );
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
                dispatch(&mut pass, pipe, gb, lv.elem_grid);
                dispatch(&mut pass, &self.k.pipes.diag_e, &lv.op_bind, lv.node_grid);
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
                encoder.clear_buffer(&lv.b, 0, None);
            }
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                if init {
                    self.vec_op(&mut pass, l, &self.k.pipes.pow_init);
                }
                for _ in 0..n {
                    self.resid(&mut pass, l);
                    self.vec_op(&mut pass, l, &self.k.pipes.pow_step);
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
        let lv = self.levels.last().expect("level 0");
        let rows = lv.gpu.rows as usize;
        let e = lv.gpu.edims;
        let elems = e[3] as u64;
        let mut a = vec![0.0f64; rows * rows];
        let nd = lv.gpu.ndims;
        let node = |x: u32, y: u32, z: u32| (x + nd[0] * (y + nd[1] * z)) as usize;
        if let Some((ka, kb)) = &lv.k {
            let read = |b: &wgpu::Buffer| -> Vec<f32> {
                bytemuck::pod_collect_to_vec(&read_buffer(gpu, b, 0, elems * HALF * 4))
            };
            let (ha, hb) = (read(ka), read(kb));
            let entry = |el: usize, i: usize, j: usize| -> f64 {
                let (lo, hi) = (i.min(j), i.max(j));
                let p = hi * (hi + 1) / 2 + lo;
                let h = HALF as usize;
                f64::from(if p < h {
                    ha[el * h + p]
                } else {
                    hb[el * h + p - h]
                })
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
        self.cycle(pass, 0, true);
    }

    /// Level `l` of the cycle from x = 0 (`zero`) or from the current x (then it
    /// records x + B (b - A x), B the cycle from zero: the cycle is linear in its start):
    /// pre-smooth, coarse correction, post-smooth; the same polynomial before and after
    /// keeps it symmetric. Levels 1..=[`W_LEVELS`] get two coarse cycles (a W-cycle
    /// there), the second from the first's result, so the coarse solve is
    /// x = (2B - BAB) b: still a fixed symmetric operator.
    fn cycle(&self, pass: &mut wgpu::ComputePass<'_>, l: usize, zero: bool) {
        let top = self.levels.len() - 1;
        if l == top {
            // Exact: the same from any start.
            dispatch(pass, &self.k.pipes.dense, &self.dense_bind, self.dense_grid);
            return;
        }
        let lv = &self.levels[l];
        let tb = lv
            .transfer_bind
            .as_ref()
            .expect("all but the coarsest transfer");
        if zero {
            self.vec_op(pass, l, &self.k.pipes.cheb_zero);
        } else {
            self.resid(pass, l);
            self.vec_op(pass, l, &self.k.pipes.cheb1);
        }
        self.resid(pass, l);
        self.vec_op(pass, l, &self.k.pipes.cheb2);
        self.resid(pass, l);
        dispatch(pass, &self.k.pipes.restrict, tb, lv.cnode_grid);
        self.cycle(pass, l + 1, true);
        if l < self.w_levels && l + 1 < top {
            self.cycle(pass, l + 1, false);
        }
        dispatch(pass, &self.k.pipes.prolong, tb, lv.node_grid);
        self.resid(pass, l);
        self.vec_op(pass, l, &self.k.pipes.cheb1);
        self.resid(pass, l);
        self.vec_op(pass, l, &self.k.pipes.cheb2);
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
    // W = L^-1 (lower), restricted to kept DOFs, by forward substitution per column.
    let mut w = vec![0.0f64; n * n];
    for c in 0..n {
        if !keep[c] {
            continue;
        }
        w[c * n + c] = 1.0 / a[c * n + c];
        for i in c + 1..n {
            if !keep[i] {
                continue;
            }
            let mut s = 0.0;
            for j in c..i {
                s -= a[i * n + j] * w[j * n + c];
            }
            w[i * n + c] = s / a[i * n + i];
        }
    }
    // A^+ = W' W.
    let mut inv = vec![0.0f64; n * n];
    for i in 0..n {
        for j in i..n {
            let mut s = 0.0;
            for k in j..n {
                s += w[k * n + i] * w[k * n + j];
            }
            inv[i * n + j] = s;
            inv[j * n + i] = s;
        }
    }
    inv
}
