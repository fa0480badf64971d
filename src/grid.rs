//! The voxel grid on the GPU: one material id per voxel (u32, x fastest, then y, then z;
//! z up) plus the scratch fields the process passes share.

use crate::gpu::{GpuContext, read_buffer};
use crate::process::params::counter_words;
use crate::scene::GridSpec;
use crate::shaders::Windows;

/// Voxel-sized buffers the process needs: material, step snapshot, two scratch fields.
pub const VOXEL_BUFFERS: u64 = 4;
/// Bytes per voxel in each of them.
pub const BYTES_PER_VOXEL: u64 = 4;

#[derive(Debug, thiserror::Error)]
pub enum GridError {
    #[error(
        "grid {nx}x{ny}x{nz} ({voxels} voxels) needs {need} MiB per voxel field, but {adapter} \
         binds at most {limit} MiB of one (in windows of its storage-binding limit, within \
         its buffer limit): coarsen the voxel or shrink the domain (at most {max_voxels} \
         voxels here)"
    )]
    TooLarge {
        nx: u32,
        ny: u32,
        nz: u32,
        voxels: u64,
        need: u64,
        limit: u64,
        max_voxels: u64,
        adapter: String,
    },
    #[error(
        "{count} windows of {bytes} bytes cannot bind the grid's {need}-byte voxel fields on \
         {adapter} (at most {most} windows, each a multiple of 256 bytes within the binding \
         limit, together covering a field)"
    )]
    Windows {
        count: u32,
        bytes: u64,
        need: u64,
        most: u32,
        adapter: String,
    },
    #[error(
        "allocating the {nx}x{ny}x{nz} grid ({mib} MiB in {buffers} buffers) ran out of GPU \
         memory on {adapter}: {message}"
    )]
    OutOfMemory {
        nx: u32,
        ny: u32,
        nz: u32,
        mib: u64,
        buffers: usize,
        adapter: String,
        message: String,
    },
}

/// Whether node `n` (a voxel corner) of a grid of `dims` voxels with material `ids`
/// (read back, x fastest) touches a solid voxel, one of its 2x2x2 neighbours: the CPU
/// side of the stress kernels' `node_active`.
pub fn node_on_solid(ids: &[u8], dims: [u32; 3], n: [u32; 3]) -> bool {
    let [nx, ny, nz] = dims;
    (0..8u32).any(|v| {
        let o = [v & 1, (v >> 1) & 1, v >> 2];
        let [x, y, z] = [0, 1, 2].map(|k| (n[k] + o[k]).checked_sub(1));
        let (Some(x), Some(y), Some(z)) = (x, y, z) else {
            return false;
        };
        x < nx && y < ny && z < nz && ids[(x + nx * (y + ny * z)) as usize] != 0
    })
}

impl GridError {
    /// `windows` cannot bind voxel fields of `need` bytes on `gpu` (at most `most`).
    pub fn windows(windows: Windows, need: u64, most: u32, gpu: &GpuContext) -> Self {
        Self::Windows {
            count: windows.count,
            bytes: windows.bytes,
            need,
            most,
            adapter: gpu.info.name.clone(),
        }
    }
}

/// Most windows of one storage binding a voxel field may take on an adapter with
/// `limits`: what the process kernels and the renderer can both bind.
pub fn most_field_windows(limits: &wgpu::Limits) -> u32 {
    crate::process::most_windows(limits).min(crate::render::Renderer::most_windows(limits))
}

/// Bytes one voxel field may take on `gpu`: windows of its binding limit (process
/// kernels and renderer, [`Windows`](crate::shaders::Windows)), within its buffer limit.
pub fn max_field_bytes(gpu: &GpuContext) -> u64 {
    Windows::reach(
        gpu.max_binding_bytes(),
        most_field_windows(&gpu.limits),
        gpu.limits.max_buffer_size,
    )
}

/// Checks the grid against the adapter before anything is allocated.
pub fn check_fits(spec: &GridSpec, gpu: &GpuContext) -> Result<(), GridError> {
    let bytes = spec.voxels() * BYTES_PER_VOXEL;
    // The kernels index voxels in u32 (the scene parser caps grids at 2^31 voxels).
    let limit = max_field_bytes(gpu).min((u64::from(u32::MAX) + 1) * BYTES_PER_VOXEL);
    if bytes > limit {
        let [nx, ny, nz] = spec.dims;
        return Err(GridError::TooLarge {
            nx,
            ny,
            nz,
            voxels: spec.voxels(),
            need: bytes.div_ceil(1 << 20),
            limit: limit >> 20,
            max_voxels: limit / BYTES_PER_VOXEL,
            adapter: gpu.info.name.clone(),
        });
    }
    Ok(())
}

pub struct GpuGrid {
    pub spec: GridSpec,
    /// Material id per voxel.
    pub material: wgpu::Buffer,
    /// Snapshot of `material` at the start of a step (for "voxels changed").
    pub prev: wgpu::Buffer,
    pub scratch_a: wgpu::Buffer,
    pub scratch_b: wgpu::Buffer,
    /// Rasterised plan-view mask, one u32 per column.
    pub mask: wgpu::Buffer,
    /// Atomic tallies: per-material counts, change flags.
    pub counters: wgpu::Buffer,
}

impl GpuGrid {
    pub fn new(gpu: &GpuContext, spec: &GridSpec) -> Result<Self, GridError> {
        Self::allocate(gpu, spec, true)
    }

    /// A grid of material ids only, for a stress solve's copy (src/stress/coarsen.rs):
    /// the process fields are 4-byte stand-ins (no process step runs on it), which saves
    /// 12 bytes per voxel.
    pub fn material_only(gpu: &GpuContext, spec: &GridSpec) -> Result<Self, GridError> {
        Self::allocate(gpu, spec, false)
    }

    fn allocate(gpu: &GpuContext, spec: &GridSpec, process: bool) -> Result<Self, GridError> {
        check_fits(spec, gpu)?;
        let voxel_bytes = spec.voxels() * BYTES_PER_VOXEL;
        let field = if process { voxel_bytes } else { 4 };
        let storage = wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_SRC
            | wgpu::BufferUsages::COPY_DST;
        let make = |label: &str, size: u64| {
            gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: size.max(4),
                usage: storage,
                mapped_at_creation: false,
            })
        };
        // An allocation the device cannot satisfy is an error here, not a panic later.
        let scope = gpu.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let grid = Self {
            spec: spec.clone(),
            material: make("GpuGrid::material", voxel_bytes),
            prev: make("GpuGrid::prev", field),
            scratch_a: make("GpuGrid::scratch_a", field),
            scratch_b: make("GpuGrid::scratch_b", field),
            mask: make(
                "GpuGrid::mask",
                if process {
                    u64::from(spec.dims[0]) * u64::from(spec.dims[1]) * 4
                } else {
                    4
                },
            ),
            counters: make(
                "GpuGrid::counters",
                if process {
                    counter_words(spec.dims) * 4
                } else {
                    4
                },
            ),
        };
        if let Some(e) = pollster::block_on(scope.pop()) {
            let [nx, ny, nz] = spec.dims;
            return Err(GridError::OutOfMemory {
                nx,
                ny,
                nz,
                mib: (voxel_bytes + (VOXEL_BUFFERS - 1) * field).div_ceil(1 << 20),
                buffers: 6,
                adapter: gpu.info.name.clone(),
                message: e.to_string(),
            });
        }
        Ok(grid)
    }

    /// Material ids, one byte per voxel, in grid order.
    pub fn read_materials(&self, gpu: &GpuContext) -> Vec<u8> {
        let raw = read_buffer(gpu, &self.material, 0, self.spec.voxels() * 4);
        bytemuck::pod_collect_to_vec::<u8, u32>(&raw)
            .into_iter()
            .map(|m| m as u8)
            .collect()
    }

    /// Replaces the whole grid (tests and restored snapshots).
    pub fn write_materials(&self, gpu: &GpuContext, ids: &[u8]) {
        assert_eq!(ids.len() as u64, self.spec.voxels(), "grid size mismatch");
        let words: Vec<u32> = ids.iter().map(|&m| u32::from(m)).collect();
        gpu.queue
            .write_buffer(&self.material, 0, bytemuck::cast_slice(&words));
    }

    /// A u32 field (e.g. a scratch buffer) back on the CPU.
    pub fn read_u32(&self, gpu: &GpuContext, buffer: &wgpu::Buffer, len: u64) -> Vec<u32> {
        bytemuck::pod_collect_to_vec(&read_buffer(gpu, buffer, 0, len * 4))
    }
}
