//! The process pipelines and their bind-group layout: built once per device and window
//! split ([`ProcessKernels::shared`]) and shared by every [`Processor`](super::Processor)
//! of runs, timelines, recordings and the window.

use super::params::StepParams;
use crate::gpu::{GpuContext, buffer_layout, window_layouts};
use crate::shaders::{self, Windows};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Bindings of the voxel fields (grid, prev, scratch_a, scratch_b), each split into
/// windows where a field outgrows one binding.
pub(crate) const WINDOWED: [u32; 4] = [1, 2, 4, 5];
/// Storage bindings of the layout with one window per field.
const STORAGE: u32 = 7;

#[derive(Default)]
struct Cache(Mutex<HashMap<Windows, Arc<ProcessKernels>>>);

pub(crate) struct ProcessKernels {
    pub layout: wgpu::BindGroupLayout,
    /// How the voxel fields are split (`Windows::ONE` while a field fits one binding).
    pub windows: Windows,
    pub mask: wgpu::ComputePipeline,
    pub substrate: wgpu::ComputePipeline,
    pub directional: wgpu::ComputePipeline,
    pub edt_x: wgpu::ComputePipeline,
    pub edt_y: wgpu::ComputePipeline,
    pub edt_z: wgpu::ComputePipeline,
    pub conformal: wgpu::ComputePipeline,
    pub planar_top: wgpu::ComputePipeline,
    pub planar_apply: wgpu::ComputePipeline,
    pub flood_init: wgpu::ComputePipeline,
    pub flood_sweep: wgpu::ComputePipeline,
    pub pattern: wgpu::ComputePipeline,
    pub anisotropic: wgpu::ComputePipeline,
    pub iso_init: wgpu::ComputePipeline,
    pub iso_relax: wgpu::ComputePipeline,
    pub iso_apply: wgpu::ComputePipeline,
    pub iso_release: wgpu::ComputePipeline,
    pub iso_extent: wgpu::ComputePipeline,
    pub strip: wgpu::ComputePipeline,
    pub stats: wgpu::ComputePipeline,
    pub mask_distance: wgpu::ComputePipeline,
    pub drill: wgpu::ComputePipeline,
    pub plate_seed: wgpu::ComputePipeline,
    pub plate_apply: wgpu::ComputePipeline,
    pub grind: wgpu::ComputePipeline,
    pub flip: wgpu::ComputePipeline,
    pub bond_drop: wgpu::ComputePipeline,
    pub bond_place: wgpu::ComputePipeline,
    pub ball_base: wgpu::ComputePipeline,
    pub ball_fill: wgpu::ComputePipeline,
    pub wire_ends: wgpu::ComputePipeline,
    pub wire_fill: wgpu::ComputePipeline,
    pub connect_init: wgpu::ComputePipeline,
    pub connect_sweep: wgpu::ComputePipeline,
    pub connect_count: wgpu::ComputePipeline,
}

impl ProcessKernels {
    /// The kernels of `gpu`'s device for voxel fields split as `windows` says, compiled
    /// on first use and shared afterwards.
    pub fn shared(gpu: &GpuContext, windows: Windows) -> Arc<Self> {
        let cache = gpu.kernels(|_| Cache::default());
        let mut map = cache.0.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(windows)
            .or_insert_with(|| Arc::new(Self::new(gpu, windows)))
            .clone()
    }

    /// Most windows per voxel field the adapter's storage bindings per stage allow.
    pub fn most_windows(limits: &wgpu::Limits) -> u32 {
        Windows::most(
            limits.max_storage_buffers_per_shader_stage,
            STORAGE,
            WINDOWED.len() as u32,
        )
    }

    /// Compiles every process shader (35 entry points) for `gpu`'s device.
    fn new(gpu: &GpuContext, windows: Windows) -> Self {
        let device = &gpu.device;
        let storage = |binding: u32, read_only: bool| {
            buffer_layout(
                binding,
                wgpu::BufferBindingType::Storage { read_only },
                wgpu::ShaderStages::COMPUTE,
            )
        };
        let entries: Vec<wgpu::BindGroupLayoutEntry> = [
            wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: true,
                    min_binding_size: wgpu::BufferSize::new(size_of::<StepParams>() as u64),
                },
                count: None,
            },
            storage(1, false),
            storage(2, false),
            storage(3, false),
            storage(4, false),
            storage(5, false),
            storage(6, false),
            storage(7, true),
        ]
        .into();
        let windowed = window_layouts(&entries, &WINDOWED, windows);
        let entries = [entries, windowed].concat();
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("Processor::layout"),
            entries: &entries,
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("Processor::pipeline_layout"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let module = |name: &str| {
            device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(name),
                source: wgpu::ShaderSource::Wgsl(shaders::process(name, windows).into()),
            })
        };
        let pipe = |m: &wgpu::ShaderModule, entry: &str| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: Some(&pipeline_layout),
                module: m,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
        };
        let conformal = module("deposit_conformal");
        let planar = module("deposit_planarize");
        let flood = module("flood");
        let iso = module("etch_isotropic");
        let mask = module("mask");
        let plate = module("plate");
        let bond = module("bond");
        let ball = module("ball");
        let wire = module("wire");
        let connect = module("connect");
        Self {
            layout: layout.clone(),
            windows,
            mask: pipe(&mask, "main"),
            mask_distance: pipe(&mask, "distance"),
            drill: pipe(&module("drill"), "main"),
            plate_seed: pipe(&plate, "seed"),
            plate_apply: pipe(&plate, "apply"),
            grind: pipe(&module("grind"), "main"),
            flip: pipe(&module("flip"), "main"),
            bond_drop: pipe(&bond, "drop"),
            bond_place: pipe(&bond, "place"),
            ball_base: pipe(&ball, "base"),
            ball_fill: pipe(&ball, "fill"),
            wire_ends: pipe(&wire, "ends"),
            wire_fill: pipe(&wire, "fill"),
            connect_init: pipe(&connect, "init"),
            connect_sweep: pipe(&connect, "sweep"),
            connect_count: pipe(&connect, "count"),
            substrate: pipe(&module("substrate"), "main"),
            directional: pipe(&module("deposit_directional"), "main"),
            edt_x: pipe(&conformal, "edt_x"),
            edt_y: pipe(&conformal, "edt_y"),
            edt_z: pipe(&conformal, "edt_z"),
            conformal: pipe(&conformal, "apply"),
            planar_top: pipe(&planar, "top"),
            planar_apply: pipe(&planar, "apply"),
            flood_init: pipe(&flood, "init"),
            flood_sweep: pipe(&flood, "sweep"),
            pattern: pipe(&module("pattern"), "main"),
            anisotropic: pipe(&module("etch_anisotropic"), "main"),
            iso_init: pipe(&iso, "init"),
            iso_relax: pipe(&iso, "relax"),
            iso_apply: pipe(&iso, "apply"),
            iso_release: pipe(&iso, "release"),
            iso_extent: pipe(&iso, "extent"),
            strip: pipe(&module("strip"), "main"),
            stats: pipe(&module("stats"), "main"),
        }
    }
}
