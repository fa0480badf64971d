//! The few shapes of bind-group entry and texture every pass needs, written once: the
//! process kernels, the renderer, the picker and the window's frame use these instead
//! of their own copies.

use super::GpuContext;

/// Layout entry of a plain buffer binding (no dynamic offset, any size).
pub fn buffer_layout(
    binding: u32,
    ty: wgpu::BufferBindingType,
    visibility: wgpu::ShaderStages,
) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility,
        ty: wgpu::BindingType::Buffer {
            ty,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

/// Entries binding each of `buffers` whole, at bindings `first`, `first + 1`, ...
pub fn whole_buffers<'a>(
    first: u32,
    buffers: &[&'a wgpu::Buffer],
) -> Vec<wgpu::BindGroupEntry<'a>> {
    (first..)
        .zip(buffers)
        .map(|(binding, b)| wgpu::BindGroupEntry {
            binding,
            resource: b.as_entire_binding(),
        })
        .collect()
}

/// A single-sample, single-mip 2D texture of `size` pixels.
pub fn texture_2d(
    gpu: &GpuContext,
    label: &str,
    size: [u32; 2],
    format: wgpu::TextureFormat,
    usage: wgpu::TextureUsages,
    view_formats: &[wgpu::TextureFormat],
) -> wgpu::Texture {
    gpu.device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d {
            width: size[0],
            height: size[1],
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage,
        view_formats,
    })
}
