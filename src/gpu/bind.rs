//! The few shapes of bind-group entry and texture every pass needs, written once: the
//! process kernels, the renderer, the picker and the window's frame use these instead
//! of their own copies.

use super::GpuContext;
use crate::shaders::{WINDOW_STRIDE, Windows};

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

/// Entries binding `b` as a windowed array (`// window` lines, [`Windows`]) at `binding`:
/// window k, at binding `binding + WINDOW_STRIDE k`, holds the bytes from `b.offset + k
/// windows.bytes`. Windows past the end get `spare`, which must have the binding's
/// access and not be written through another binding of the group (one buffer may not
/// be bound both read-only and read-write in one dispatch).
pub fn window_entries<'a>(
    binding: u32,
    b: wgpu::BufferBinding<'a>,
    windows: Windows,
    spare: &'a wgpu::Buffer,
) -> Vec<wgpu::BindGroupEntry<'a>> {
    if windows.count == 1 {
        return vec![wgpu::BindGroupEntry {
            binding,
            resource: wgpu::BindingResource::Buffer(b),
        }];
    }
    let end = b.offset + b.size.map_or(b.buffer.size() - b.offset, |s| s.get());
    (0..windows.count)
        .map(|k| {
            let start = b.offset + u64::from(k) * windows.bytes;
            let resource = if start < end {
                wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: b.buffer,
                    offset: start,
                    size: wgpu::BufferSize::new((end - start).min(windows.bytes)),
                })
            } else {
                spare.as_entire_binding()
            };
            wgpu::BindGroupEntry {
                binding: binding + WINDOW_STRIDE * k,
                resource,
            }
        })
        .collect()
}

/// [`whole_buffers`], except that the bindings in `windowed` are split into `windows`
/// ([`window_entries`], `spare` past a buffer's end).
pub fn windowed_buffers<'a>(
    first: u32,
    buffers: &[&'a wgpu::Buffer],
    windowed: &[u32],
    windows: Windows,
    spare: &'a wgpu::Buffer,
) -> Vec<wgpu::BindGroupEntry<'a>> {
    (first..)
        .zip(buffers)
        .flat_map(|(binding, &buffer)| {
            let whole = wgpu::BufferBinding {
                buffer,
                offset: 0,
                size: None,
            };
            if windowed.contains(&binding) {
                window_entries(binding, whole, windows, spare)
            } else {
                vec![wgpu::BindGroupEntry {
                    binding,
                    resource: wgpu::BindingResource::Buffer(whole),
                }]
            }
        })
        .collect()
}

/// Layout entries of the extra windows (1..count) of the windowed bindings `entries`
/// name: each like its first window.
pub fn window_layouts(
    entries: &[wgpu::BindGroupLayoutEntry],
    windowed: &[u32],
    windows: Windows,
) -> Vec<wgpu::BindGroupLayoutEntry> {
    entries
        .iter()
        .filter(|e| windowed.contains(&e.binding))
        .flat_map(|e| {
            (1..windows.count).map(move |k| wgpu::BindGroupLayoutEntry {
                binding: e.binding + WINDOW_STRIDE * k,
                ..*e
            })
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
