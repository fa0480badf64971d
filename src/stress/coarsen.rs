//! The stress grid at a coarser resolution than the process grid (shaders/coarsen.wgsl):
//! blocks of f³ voxels take their majority material, so a scene can bound the cost of
//! a solve without rebuilding its flow.

use crate::gpu::GpuContext;
use crate::grid::{GpuGrid, GridError};
use crate::scene::GridSpec;
use crate::shaders;
use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

/// Keep in sync with `Coarsen` in shaders/coarsen.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct CoarsenUniform {
    src: [u32; 4],
    dst: [u32; 4],
}
const _: () = assert!(size_of::<CoarsenUniform>() == 32);

/// The grid spec of `fine` coarsened by `factor` (partial blocks at the far faces count).
pub fn coarse_spec(fine: &GridSpec, factor: u32) -> GridSpec {
    GridSpec {
        dims: fine.dims.map(|d| d.div_ceil(factor)),
        voxel_um: fine.voxel_um * f64::from(factor),
    }
}

/// The coarsen pipeline, compiled once per device ([`GpuContext::kernels`]).
struct CoarsenKernel(wgpu::ComputePipeline);

impl CoarsenKernel {
    fn new(gpu: &GpuContext) -> Self {
        let device = &gpu.device;
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("coarsen"),
            source: wgpu::ShaderSource::Wgsl(shaders::standalone("coarsen").into()),
        });
        Self(
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some("coarsen"),
                layout: None,
                module: &module,
                entry_point: Some("main"),
                compilation_options: Default::default(),
                cache: None,
            }),
        )
    }
}

/// A new grid whose voxels are `factor`³ blocks of `fine`.
pub fn coarsen(gpu: &GpuContext, fine: &GpuGrid, factor: u32) -> Result<GpuGrid, GridError> {
    // This pass binds the fine material field whole (the process kernels and the
    // renderer split it into windows).
    let need = fine.spec.voxels() * crate::grid::BYTES_PER_VOXEL;
    let limit = gpu.max_binding_bytes();
    if need > limit {
        let [nx, ny, nz] = fine.spec.dims;
        return Err(GridError::StressField {
            nx,
            ny,
            nz,
            need: need.div_ceil(1 << 20),
            limit: limit >> 20,
            adapter: gpu.info.name.clone(),
        });
    }
    let spec = coarse_spec(&fine.spec, factor);
    let out = GpuGrid::new(gpu, &spec)?;
    let device = &gpu.device;
    let pipeline = &gpu.kernels(CoarsenKernel::new).0;
    let [nx, ny, nz] = fine.spec.dims;
    let [cx, cy, cz] = spec.dims;
    let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("coarsen::uniform"),
        contents: bytemuck::bytes_of(&CoarsenUniform {
            src: [nx, ny, nz, factor],
            dst: [cx, cy, cz, 0],
        }),
        usage: wgpu::BufferUsages::UNIFORM,
    });
    let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("coarsen::bind"),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: uniform.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: fine.material.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 2,
                resource: out.material.as_entire_binding(),
            },
        ],
    });
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
        label: Some("coarsen::encoder"),
    });
    {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("coarsen::pass"),
            timestamp_writes: None,
        });
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups(cx.div_ceil(4), cy.div_ceil(4), cz.div_ceil(4));
    }
    gpu.queue.submit([encoder.finish()]);
    Ok(out)
}
