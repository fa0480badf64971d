//! Small wgpu helpers of the stress passes (on top of gpu::bind): modules whose
//! binding `i` is the `i`-th entry of a list (plus the windows of their windowed
//! vectors, [`Windows`]), bind groups from buffers in binding order, compute pipelines
//! and dispatch sizes.

use super::params::{WG, dispatch_2d};
use crate::gpu::bind::{buffer_layout, window_entries};
use crate::shaders::{WINDOW_STRIDE, Windows};

/// What a binding is.
#[derive(Clone, Copy)]
pub enum Bind {
    Uniform,
    ReadOnly,
    ReadWrite,
}

/// A bind-group layout from (binding, kind) pairs (a windowed vector's windows follow
/// the shader's own bindings).
fn layout(device: &wgpu::Device, label: &str, kinds: &[(u32, Bind)]) -> wgpu::BindGroupLayout {
    let entries: Vec<wgpu::BindGroupLayoutEntry> = kinds
        .iter()
        .map(|&(i, k)| {
            let ty = match k {
                Bind::Uniform => wgpu::BufferBindingType::Uniform,
                Bind::ReadOnly => wgpu::BufferBindingType::Storage { read_only: true },
                Bind::ReadWrite => wgpu::BufferBindingType::Storage { read_only: false },
            };
            buffer_layout(i, ty, wgpu::ShaderStages::COMPUTE)
        })
        .collect();
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some(label),
        entries: &entries,
    })
}

/// Part of a buffer bound as one array: the solver keeps its result fields in ranges of
/// buffers a finished solve no longer needs.
#[derive(Clone)]
pub struct Range {
    pub buffer: wgpu::Buffer,
    pub offset: u64,
    pub size: u64,
}

/// Offsets of [`Range`]s are multiples of this (as those of windows).
pub const RANGE_ALIGN: u64 = crate::shaders::WINDOW_ALIGN;

impl Range {
    pub fn binding(&self) -> wgpu::BindingResource<'_> {
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: &self.buffer,
            offset: self.offset,
            size: wgpu::BufferSize::new(self.size),
        })
    }
}

/// Bind group from binding resources in binding order.
pub fn bind_resources(
    device: &wgpu::Device,
    label: &str,
    layout: &wgpu::BindGroupLayout,
    resources: Vec<wgpu::BindingResource<'_>>,
) -> wgpu::BindGroup {
    let entries: Vec<wgpu::BindGroupEntry> = (0..)
        .zip(resources)
        .map(|(binding, resource)| wgpu::BindGroupEntry { binding, resource })
        .collect();
    device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(label),
        layout,
        entries: &entries,
    })
}

/// One module, one layout, several entry points.
pub struct Module {
    pub layout: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
    module: wgpu::ShaderModule,
    /// The bindings the shader splits into windows (number, read-write, the split's
    /// bytes and count), and how.
    windowed: Vec<(u32, bool, Windows)>,
    windows: Windows,
    /// Bound to the windows past a buffer's end (read-only, read-write: one buffer may
    /// not be both in one dispatch).
    spare: [wgpu::Buffer; 2],
}

impl Module {
    /// A module whose `// window` vectors (see [`Windows`]) are split as `windows` says;
    /// `source` is already expanded with them. Binding i is `kinds[i]`; its windows take
    /// its kind.
    pub fn windowed(
        device: &wgpu::Device,
        label: &str,
        source: String,
        kinds: &[Bind],
        windows: Windows,
    ) -> Self {
        let windowed: Vec<(u32, bool, Windows)> = Windows::decls(&source)
            .iter()
            .map(|d| {
                let (bytes, count) = windows.of(d);
                (d.binding, d.read_write, Windows::uniform(bytes, count))
            })
            .collect();
        let mut numbered: Vec<(u32, Bind)> = (0..).zip(kinds.iter().copied()).collect();
        for &(b, _, split) in &windowed {
            for k in 1..split.count {
                numbered.push((b + WINDOW_STRIDE * k, kinds[b as usize]));
            }
        }
        let layout = layout(device, label, &numbered);
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(label),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(label),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        let spare =
            ["Module::spare_ro", "Module::spare_rw"].map(|l| buffer(device, l, RANGE_ALIGN, RW));
        Self {
            layout,
            pipeline_layout,
            module,
            windowed,
            windows,
            spare,
        }
    }

    pub fn pipeline(&self, device: &wgpu::Device, entry: &str) -> wgpu::ComputePipeline {
        self.pipeline_with(device, entry, &[])
    }

    /// [`Module::pipeline`] with the shader's `override` constants set.
    pub fn pipeline_with(
        &self,
        device: &wgpu::Device,
        entry: &str,
        constants: &[(&str, f64)],
    ) -> wgpu::ComputePipeline {
        device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: Some(&self.pipeline_layout),
            module: &self.module,
            entry_point: Some(entry),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants,
                ..Default::default()
            },
            cache: None,
        })
    }

    pub fn bind(
        &self,
        device: &wgpu::Device,
        label: &str,
        buffers: &[&wgpu::Buffer],
    ) -> wgpu::BindGroup {
        let resources = buffers.iter().map(|b| b.as_entire_binding()).collect();
        self.bind_resources(device, label, resources)
    }

    /// [`Module::bind`] from binding resources (buffer ranges among them). A windowed
    /// binding's resource is split into the module's windows (those past its end get a
    /// spare buffer).
    pub fn bind_resources(
        &self,
        device: &wgpu::Device,
        label: &str,
        resources: Vec<wgpu::BindingResource<'_>>,
    ) -> wgpu::BindGroup {
        if !self.windows.is_split() {
            return bind_resources(device, label, &self.layout, resources);
        }
        let mut entries: Vec<wgpu::BindGroupEntry> = Vec::new();
        for (binding, resource) in (0..).zip(resources) {
            let window = self.windowed.iter().find(|w| w.0 == binding);
            match (resource, window) {
                (wgpu::BindingResource::Buffer(b), Some(&(_, rw, split))) => entries.extend(
                    window_entries(binding, b, split, &self.spare[usize::from(rw)]),
                ),
                (resource, _) => entries.push(wgpu::BindGroupEntry { binding, resource }),
            }
        }
        device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(label),
            layout: &self.layout,
            entries: &entries,
        })
    }
}

/// (2D dispatch width, workgroup grid) covering `threads` threads of WG each.
pub fn cover(threads: u64) -> (u32, [u32; 3]) {
    let groups = threads.div_ceil(u64::from(WG)).min(u64::from(u32::MAX)) as u32;
    dispatch_2d(groups)
}

pub fn dispatch(
    pass: &mut wgpu::ComputePass<'_>,
    pipe: &wgpu::ComputePipeline,
    group: &wgpu::BindGroup,
    grid: [u32; 3],
) {
    pass.set_pipeline(pipe);
    pass.set_bind_group(0, group, &[]);
    pass.dispatch_workgroups(grid[0], grid[1], grid[2]);
}

pub fn buffer(
    device: &wgpu::Device,
    label: &str,
    size: u64,
    usage: wgpu::BufferUsages,
) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: size.max(16).next_multiple_of(4),
        usage,
        mapped_at_creation: false,
    })
}

/// Storage that kernels write and the host may copy or read back.
pub const RW: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);
/// A uniform the host rewrites.
pub const UNIFORM: wgpu::BufferUsages =
    wgpu::BufferUsages::UNIFORM.union(wgpu::BufferUsages::COPY_DST);
