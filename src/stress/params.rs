//! Uniform and table data of the stress passes.

use bytemuck::{Pod, Zeroable};

/// Threads per workgroup of every stress kernel (1D). Keep in sync with `WG` in
/// shaders/stress_common.wgsl.
pub const WG: u32 = 256;

/// Most workgroups along one dispatch dimension (WebGPU limit); larger counts go 2D.
pub const MAX_GROUPS_X: u32 = 65_535;

/// Slots of the outer CG's scalar buffer. Keep in sync with `O_*` in
/// shaders/stress_outer.wgsl.
pub const O_RR: usize = 4;
pub const O_FF: usize = 5;
pub const O_SCALE: usize = 6;
pub const SCALARS: usize = 8;

/// `support` codes. Keep in sync with `SUPPORT_*` in shaders/stress_common.wgsl.
pub const SUPPORT_FREE: u32 = 0;
pub const SUPPORT_BOTTOM_FIXED: u32 = 1;
pub const SUPPORT_BOTTOM_ROLLER: u32 = 2;
pub const SUPPORT_CLAMPED: u32 = 3;

/// `sym` bits.
pub const SYM_X: u32 = 1;
pub const SYM_Y: u32 = 2;

/// DOF bits of a pin.
pub const DOF_X: u32 = 1;
pub const DOF_Y: u32 = 2;
pub const DOF_Z: u32 = 4;

/// Parameters of one solve, the same for every dispatch of it.
/// Keep in sync with `Params` in shaders/stress_common.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct StressParams {
    /// Voxels: nx, ny, nz, nx*ny.
    pub dims: [u32; 4],
    /// Nodes: nx+1, ny+1, nz+1, total.
    pub ndims: [u32; 4],
    /// Voxel edge in µm.
    pub h: f32,
    pub support: u32,
    pub sym: u32,
    /// Workgroups covering the nodes (= partial sums per reduction slot).
    pub node_groups: u32,
    /// Width of the 2D node dispatch, in workgroups.
    pub node_wx: u32,
    /// Width of the 2D voxel dispatch, in workgroups.
    pub voxel_wx: u32,
    pub voxels: u32,
    pub _pad: u32,
    /// Point constraints: (node index, DOF bits, unused, unused); bits 0 = unused slot.
    pub pins: [[u32; 4]; 3],
}
const _: () = assert!(size_of::<StressParams>() == 112);

/// Per-material constants for the GPU. Keep in sync with `mats` in
/// shaders/stress_common.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct MaterialGpu {
    /// Lamé λ in GPa.
    pub lambda: f32,
    /// Shear modulus μ in GPa (0 marks void or an unusable id).
    pub mu: f32,
    /// (3λ + 2μ)·α·ΔT in GPa: the thermal stress of a fully restrained voxel, negated.
    pub thermal: f32,
    /// Eigenstrain α·ΔT (dimensionless).
    pub eigen: f32,
}
const _: () = assert!(size_of::<MaterialGpu>() == 16);

/// Workgroup grid (x, y) covering `groups` workgroups with at most `MAX_GROUPS_X` per row.
pub fn dispatch_2d(groups: u32) -> (u32, [u32; 3]) {
    let wx = groups.clamp(1, MAX_GROUPS_X);
    (wx, [wx, groups.div_ceil(wx).max(1), 1])
}
