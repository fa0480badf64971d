//! Uniform data of the process passes.

use bytemuck::{Pod, Zeroable};

/// Per-dispatch parameters. Keep in sync with `Params` in shaders/process_common.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct StepParams {
    pub dims: [u32; 4],
    pub material: u32,
    pub mode: u32,
    pub z0: i32,
    pub z1: i32,
    pub k: i32,
    pub axis: u32,
    pub flags: u32,
    pub dist: f32,
    pub set: MaterialSet,
    pub shape_count: u32,
    pub voxel_um: f32,
    /// x, y of the first voxel of a dispatch over a box of the grid (z in `z0`), for
    /// passes that say so.
    pub origin: [u32; 2],
    /// Logical workgroup grid (x, y, z) of the dispatch and the row width it is folded
    /// into; set by `Batch::dispatch`, read by `dispatch_id` in the shader.
    pub groups: [u32; 4],
}
const _: () = assert!(std::mem::size_of::<StepParams>() == 112);

/// Uniform slots are this far apart (the WebGPU minimum dynamic-offset alignment).
pub const PARAM_STRIDE: u64 = 256;

/// Slots of the counters buffer (keep in sync with shaders/process_common.wgsl).
pub const C_CHANGED: usize = 256;
pub const C_DIFF: usize = 257;
pub const C_TOP: usize = 258;
/// Largest arrival time of a wet etch's listed material (f32 bits): the release time.
pub const C_TMAX: usize = 259;
pub const COUNTERS: usize = 260;

/// Words of the counters buffer: the counters, then one stamp per 8x8x4 brick of the
/// grid (the last sweep of the wet-etch front that changed the brick,
/// shaders/etch_isotropic.wgsl).
pub fn counter_words(dims: [u32; 3]) -> u64 {
    let [nx, ny, nz] = dims.map(u64::from);
    COUNTERS as u64 + nx.div_ceil(8) * ny.div_ceil(8) * nz.div_ceil(4)
}

/// `flags` bit of the mask pass: invert the shapes' union.
pub const FLAG_INVERT: u32 = 1;
/// `flags` bit of conformal growth: grow from the materials in `set` only.
pub const FLAG_SOURCE: u32 = 2;
/// `flags` bit of the flood: only voxels below `z1` inside the mask pass.
pub const FLAG_LIMIT: u32 = 4;

/// Most workgroups along one dispatch dimension (the WebGPU limit).
pub const MAX_GROUPS_PER_DIM: u32 = 65_535;

/// Folds a logical 3D workgroup grid into rows of at most [`MAX_GROUPS_PER_DIM`]:
/// returns (row width, the 2D dispatch). `None` when even the fold does not fit, which
/// the resource budget (src/budget.rs) rules out before any GPU work.
pub fn fold_groups(groups: [u32; 3]) -> Option<(u32, [u32; 3])> {
    let total = groups.iter().map(|&g| u64::from(g)).product::<u64>();
    let wx = total.clamp(1, u64::from(MAX_GROUPS_PER_DIM));
    let rows = total.div_ceil(wx).max(1);
    (rows <= u64::from(MAX_GROUPS_PER_DIM)).then_some((wx as u32, [wx as u32, rows as u32, 1]))
}

/// A set of material ids as 256 bits.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct MaterialSet(pub [u32; 8]);

impl MaterialSet {
    pub fn of(ids: &[u8]) -> Self {
        let mut s = Self::default();
        for &id in ids {
            s.insert(id);
        }
        s
    }
    pub fn insert(&mut self, id: u8) {
        self.0[usize::from(id) / 32] |= 1 << (id % 32);
    }
    /// Every material id.
    pub fn all() -> Self {
        Self([u32::MAX; 8])
    }
    pub fn contains(&self, id: u8) -> bool {
        self.0[usize::from(id) / 32] >> (id % 32) & 1 == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_groups_keeps_every_workgroup_within_the_limit() {
        // Small grids stay one row; the 600000-voxel axis (75000 groups) folds to 2 rows.
        assert_eq!(fold_groups([4, 3, 2]), Some((24, [24, 1, 1])));
        assert_eq!(fold_groups([75_000, 1, 1]), Some((65_535, [65_535, 2, 1])));
        // The fold covers every logical group, with less than a row to spare.
        let (wx, d) = fold_groups([1000, 300, 7]).unwrap();
        let (total, covered) = (1000u64 * 300 * 7, u64::from(wx) * u64::from(d[1]));
        assert!(covered >= total && covered - total < u64::from(wx));
        assert!(d.iter().all(|&g| g <= MAX_GROUPS_PER_DIM));
        assert_eq!(fold_groups([65_535, 65_535, 2]), None);
    }
}
