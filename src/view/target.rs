//! The offscreen texture the renderer draws into, shown by egui as an image.

use voxfab::gpu::{GpuContext, texture_2d};
use voxfab::render::FRAME_FORMAT;

/// The offscreen texture the renderer draws into, shown by egui as an image.
pub struct FrameTarget {
    /// sRGB view the renderer draws through (its shaders work in linear light).
    pub view: wgpu::TextureView,
    /// The same bytes viewed as plain Rgba8Unorm, as egui expects of user textures.
    pub egui_view: wgpu::TextureView,
    pub size: [u32; 2],
}

impl FrameTarget {
    pub fn new(gpu: &GpuContext, size: [u32; 2]) -> Self {
        let texture = texture_2d(
            gpu,
            "Viewer::frame",
            size,
            FRAME_FORMAT,
            wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING,
            &[wgpu::TextureFormat::Rgba8Unorm],
        );
        let view = texture.create_view(&wgpu::TextureViewDescriptor {
            label: Some("Viewer::frame_view"),
            ..Default::default()
        });
        let egui_view = texture.create_view(&wgpu::TextureViewDescriptor {
            label: Some("Viewer::frame_egui_view"),
            format: Some(wgpu::TextureFormat::Rgba8Unorm),
            ..Default::default()
        });
        // The views keep the texture alive.
        Self {
            view,
            egui_view,
            size,
        }
    }
}
