//! Click picking on the GPU: a one-thread compute pass (shaders/pick.wgsl) marches the
//! clicked pixel's ray with the 3D view's own DDA, and one 32-byte result comes back.

use super::WINDOWED;
use super::gpu_data::{NO_VOXEL, PickResult, ViewUniform};
use crate::gpu::{GpuContext, buffer_layout, read_buffer, window_layouts, windowed_buffers};
use crate::scene::GridSpec;
use crate::shaders;
use crate::shaders::Windows;
use wgpu::util::DeviceExt;

/// What a click hit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pick {
    /// Voxel index in grid order.
    pub index: u64,
    pub cell: [u32; 3],
    /// Centre of the voxel in µm.
    pub position_um: [f64; 3],
    pub material: u8,
    /// Value of the field being coloured by, if any.
    pub value: Option<f32>,
}

/// What to pick: the first voxel along the 3D view's ray through a target pixel, or a
/// known voxel (a click on the cross-section).
pub(super) enum Target {
    Ray([f32; 2]),
    Voxel([u32; 3]),
}

/// The voxel under `pixel` in the cross-section drawn in `rect` (CPU mirror of the
/// mapping in shaders/section.wgsl: keep in sync).
pub(super) fn section_cell(
    rect: [f32; 4],
    dims: [u32; 3],
    axis: usize,
    index: u32,
    pixel: [f32; 2],
) -> Option<[u32; 3]> {
    let [rx, ry, rw, rh] = rect;
    let (u, v) = ((pixel[0] - rx) / rw, (pixel[1] - ry) / rh);
    if !(0.0..1.0).contains(&u) || !(0.0..1.0).contains(&v) {
        return None;
    }
    let (ua, va) = match axis {
        0 => (1, 2),
        1 => (0, 2),
        _ => (0, 1),
    };
    let mut c = [0u32; 3];
    c[ua] = ((u * dims[ua] as f32) as u32).min(dims[ua] - 1);
    c[va] = (((1.0 - v) * dims[va] as f32) as u32).min(dims[va] - 1);
    c[axis] = index.min(dims[axis].saturating_sub(1));
    Some(c)
}

pub(super) struct Picker {
    layout: wgpu::BindGroupLayout,
    pipeline: wgpu::ComputePipeline,
    windows: Windows,
}

impl Picker {
    /// The picking pass with the voxel and node fields split as `windows` says (as the
    /// draw that it mirrors).
    pub fn new(gpu: &GpuContext, windows: Windows) -> Self {
        let device = &gpu.device;
        let entry = |binding: u32, ty| buffer_layout(binding, ty, wgpu::ShaderStages::COMPUTE);
        let ro = wgpu::BufferBindingType::Storage { read_only: true };
        let mut entries = vec![entry(0, wgpu::BufferBindingType::Uniform)];
        entries.extend((1..=6).map(|b| entry(b, ro)));
        entries.push(entry(
            7,
            wgpu::BufferBindingType::Storage { read_only: false },
        ));
        entries.extend(window_layouts(&entries, &WINDOWED, windows));
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("Picker::layout"),
            entries: &entries,
        });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("Picker::module"),
            source: wgpu::ShaderSource::Wgsl(shaders::render("pick", windows).into()),
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("Picker::pipeline_layout"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("Picker::pipeline"),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        Self {
            layout,
            pipeline,
            windows,
        }
    }

    /// `voxels` are the draw's grid, palette and field; `spare` fills the windows past a
    /// field's end.
    #[allow(
        clippy::too_many_arguments,
        reason = "the draw's own bindings, passed through"
    )]
    pub fn pick(
        &self,
        gpu: &GpuContext,
        view: &ViewUniform,
        [grid, palette, field]: [&wgpu::Buffer; 3],
        displacement: [&wgpu::Buffer; 3],
        spare: &wgpu::Buffer,
        target: Target,
        spec: &GridSpec,
    ) -> Option<Pick> {
        let (pixel, index) = match target {
            Target::Ray(pixel) => (pixel, NO_VOXEL),
            Target::Voxel(cell) => {
                let [nx, ny, _] = spec.dims;
                ([0.0; 2], cell[0] + nx * (cell[1] + ny * cell[2]))
            }
        };
        let device = &gpu.device;
        let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("Picker::view"),
            contents: bytemuck::bytes_of(view),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let result = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("Picker::result"),
            contents: bytemuck::bytes_of(&PickResult {
                pixel,
                index,
                ..Default::default()
            }),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        });
        let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("Picker::bind"),
            layout: &self.layout,
            entries: &windowed_buffers(
                0,
                &[
                    &uniform,
                    grid,
                    palette,
                    field,
                    displacement[0],
                    displacement[1],
                    displacement[2],
                    &result,
                ],
                &WINDOWED,
                self.windows,
                spare,
            ),
        });
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("Picker::encoder"),
        });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("Picker::pass"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &bind, &[]);
            pass.dispatch_workgroups(1, 1, 1);
        }
        gpu.queue.submit([encoder.finish()]);
        let raw = read_buffer(gpu, &result, 0, size_of::<PickResult>() as u64);
        let r: PickResult = bytemuck::pod_read_unaligned(&raw);
        // Void is nothing to report (only section clicks can land on it).
        if r.index == NO_VOXEL || u64::from(r.index) >= spec.voxels() || r.material == 0 {
            return None;
        }
        let [nx, ny, _] = spec.dims;
        let cell = [r.index % nx, (r.index / nx) % ny, r.index / (nx * ny)];
        let h = spec.voxel_um;
        Some(Pick {
            index: u64::from(r.index),
            cell,
            position_um: cell.map(|c| (f64::from(c) + 0.5) * h),
            material: r.material as u8,
            value: (view.colouring.mode == 1).then_some(r.value),
        })
    }
}
