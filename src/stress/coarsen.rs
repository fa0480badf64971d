//! The stress grid at a coarser resolution than the process grid (shaders/coarsen.wgsl):
//! blocks of f³ voxels take their majority material, so a scene can bound the cost of
//! a solve without rebuilding its flow.

use crate::gpu::{GpuContext, window_entries};
use crate::grid::{GpuGrid, GridError};
use crate::scene::GridSpec;
use crate::shaders::{self, Windows};
use bytemuck::{Pod, Zeroable};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
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

/// The coarsen pipeline per split of the grids into windows, compiled on first use
/// per device ([`GpuContext::kernels`]).
#[derive(Default)]
struct CoarsenKernels(Mutex<HashMap<Windows, Arc<wgpu::ComputePipeline>>>);

impl CoarsenKernels {
    fn get(&self, gpu: &GpuContext, windows: Windows) -> Arc<wgpu::ComputePipeline> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(windows)
            .or_insert_with(|| {
                let device = &gpu.device;
                let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some("coarsen"),
                    source: wgpu::ShaderSource::Wgsl(shaders::coarsen(windows).into()),
                });
                // The layout follows the shader, window bindings included.
                Arc::new(
                    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                        label: Some("coarsen"),
                        layout: None,
                        module: &module,
                        entry_point: Some("main"),
                        compilation_options: Default::default(),
                        cache: None,
                    }),
                )
            })
            .clone()
    }
}

/// Most windows per grid the coarsen pass can bind on an adapter with `limits` (two
/// windowed arrays).
fn most_windows(limits: &wgpu::Limits) -> u32 {
    Windows::most(limits.max_storage_buffers_per_shader_stage, 2, 2)
}

/// A new grid whose voxels are `factor`³ blocks of `fine`.
pub fn coarsen(gpu: &GpuContext, fine: &GpuGrid, factor: u32) -> Result<GpuGrid, GridError> {
    coarsen_in(gpu, fine, factor, None)
}

/// [`coarsen`] with both grids split into `windows` (tests; `None`: as the fine grid
/// needs).
pub fn coarsen_in(
    gpu: &GpuContext,
    fine: &GpuGrid,
    factor: u32,
    windows: Option<Windows>,
) -> Result<GpuGrid, GridError> {
    let need = fine.spec.voxels() * crate::grid::BYTES_PER_VOXEL;
    let windows = windows.unwrap_or(Windows::covering(need, gpu.max_binding_bytes()));
    let most = most_windows(&gpu.limits);
    if !windows.fits(need, most, gpu.max_binding_bytes()) {
        return Err(GridError::windows(windows, need, most, gpu));
    }
    let spec = coarse_spec(&fine.spec, factor);
    let out = GpuGrid::material_only(gpu, &spec)?;
    let device = &gpu.device;
    let pipeline = gpu.kernels(|_| CoarsenKernels::default()).get(gpu, windows);
    let pipeline = pipeline.as_ref();
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
    // Fill the windows past a grid's end (the coarse grid's, mostly): one buffer per
    // access, since one buffer may not be bound both ways in a dispatch.
    let spare = ["coarsen::spare_ro", "coarsen::spare_rw"].map(|label| {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: shaders::WINDOW_ALIGN,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        })
    });
    let whole = |buffer| wgpu::BufferBinding {
        buffer,
        offset: 0,
        size: None,
    };
    let mut entries = vec![wgpu::BindGroupEntry {
        binding: 0,
        resource: uniform.as_entire_binding(),
    }];
    entries.extend(window_entries(1, whole(&fine.material), windows, &spare[0]));
    entries.extend(window_entries(2, whole(&out.material), windows, &spare[1]));
    let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("coarsen::bind"),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
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
