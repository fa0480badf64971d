//! Uniform and instance data of the render passes.
//! Keep in sync with shaders/voxel_march.wgsl, section.wgsl, overlay.wgsl, pick.wgsl,
//! render_common.wgsl.

use bytemuck::{Pod, Zeroable};

/// `Colouring` in render_common.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Colouring {
    /// 0 = material colours, 1 = scalar field through the colour map.
    pub mode: u32,
    pub _pad: u32,
    pub range: [f32; 2],
}
const _: () = assert!(size_of::<Colouring>() == 16);

/// `View` in voxel_march.wgsl (used by raymarch.wgsl and pick.wgsl).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct ViewUniform {
    pub inv_view_proj: [[f32; 4]; 4],
    pub eye: [f32; 4],
    pub dims: [u32; 4],
    pub viewport: [f32; 4],
    pub clip_lo: [f32; 4],
    pub clip_hi: [f32; 4],
    pub light_dir: [f32; 4],
    pub hidden: [u32; 8],
    /// Materials drawn semi-transparent (and never picked).
    pub ghost: [u32; 8],
    pub colouring: Colouring,
    /// Deformed view: x = displacement scale in voxels per µm (exaggeration / voxel
    /// edge), y = 1 when on.
    pub deform: [f32; 4],
}
const _: () = assert!(size_of::<ViewUniform>() == 256);

/// `SectionUniform` in section.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct SectionUniform {
    pub dims: [u32; 4],
    pub rect: [f32; 4],
    pub axis: u32,
    pub index: u32,
    pub _pad: [u32; 2],
    pub colouring: Colouring,
}
const _: () = assert!(size_of::<SectionUniform>() == 64);

/// `PickResult` in pick.wgsl: `pixel` goes in, the rest comes back.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct PickResult {
    pub pixel: [f32; 2],
    /// Voxel index, [`NO_VOXEL`] for none.
    pub index: u32,
    pub material: u32,
    pub value: f32,
    pub axis: u32,
    pub _pad: [u32; 2],
}
const _: () = assert!(size_of::<PickResult>() == 32);

pub const NO_VOXEL: u32 = 0xffff_ffff;

/// `Quad` in overlay.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct Quad {
    pub rect: [f32; 4],
    pub colour: [f32; 4],
    pub glyph: u32,
    pub _pad: [u32; 3],
}
const _: () = assert!(size_of::<Quad>() == 48);

pub const GLYPH_SOLID: u32 = 0xffff_ffff;
pub const GLYPH_COLORMAP: u32 = 0xffff_fffe;
