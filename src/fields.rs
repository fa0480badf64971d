//! Named per-voxel scalar fields (von Mises, stress components, displacement
//! magnitude) that views can colour by. [`FieldSet::from_stress`] makes them from a
//! stress solve; without one the viewer shows "no stress computed".

use crate::gpu::{GpuContext, read_buffer};
use crate::render::{Deformation, FieldView};
use crate::stress::StressResult;
use wgpu::util::DeviceExt;

/// One f32 per voxel, in grid order, on the GPU.
pub struct ScalarField {
    /// Short name, e.g. "von Mises" or "sigma_xz".
    pub name: String,
    /// Unit of the values, e.g. "MPa" or "µm".
    pub unit: String,
    /// Colour-bar caption: "name (unit)".
    pub label: String,
    pub buffer: wgpu::Buffer,
    /// Values at the ends of the colour map (the finite min and max by default).
    pub range: [f32; 2],
}

impl ScalarField {
    /// Uploads `values` (one per voxel) and takes the colour range from their finite extremes.
    pub fn from_values(gpu: &GpuContext, name: &str, unit: &str, values: &[f32]) -> Self {
        let (lo, hi) = values
            .iter()
            .filter(|v| v.is_finite())
            .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let range = if lo <= hi { [lo, hi] } else { [0.0, 1.0] };
        // Bindings may not be empty.
        let contents: &[f32] = if values.is_empty() { &[0.0] } else { values };
        let buffer = gpu
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("ScalarField::buffer"),
                contents: bytemuck::cast_slice(contents),
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            });
        Self {
            name: name.to_string(),
            unit: unit.to_string(),
            label: format!("{name} ({unit})"),
            buffer,
            range,
        }
    }

    /// Wraps a buffer that already holds one f32 per voxel (e.g. a solver's result),
    /// with the colour range given.
    pub fn from_buffer(name: &str, unit: &str, buffer: wgpu::Buffer, range: [f32; 2]) -> Self {
        Self {
            name: name.to_string(),
            unit: unit.to_string(),
            label: format!("{name} ({unit})"),
            buffer,
            range,
        }
    }

    pub fn view(&self) -> FieldView<'_> {
        FieldView {
            buffer: &self.buffer,
            range: self.range,
            label: &self.label,
            // The range spans the data's finite extremes: nothing clips.
            note: "",
        }
    }

    /// The value of voxel `index` (one 4-byte readback), or `None` past the end or
    /// when the buffer cannot be copied from (a [`Self::from_buffer`] without COPY_SRC).
    pub fn value_at(&self, gpu: &GpuContext, index: u64) -> Option<f32> {
        if !self.buffer.usage().contains(wgpu::BufferUsages::COPY_SRC) {
            return None;
        }
        let offset = index.checked_mul(4)?;
        if offset + 4 > self.buffer.size() {
            return None;
        }
        let raw = read_buffer(gpu, &self.buffer, offset, 4);
        Some(bytemuck::pod_read_unaligned(&raw[..4]))
    }
}

/// Nodal displacement in µm for the deformed-shape view: one f32 buffer per axis over
/// the (nx+1)(ny+1)(nz+1) voxel corners, x fastest (the stress solver's layout).
pub struct Displacement {
    pub components: [wgpu::Buffer; 3],
}

impl Displacement {
    /// Uploads per-node displacements (x, y, z in µm).
    pub fn from_nodes(gpu: &GpuContext, nodes: &[[f32; 3]]) -> Self {
        let components = [0, 1, 2].map(|axis| {
            let mut v: Vec<f32> = nodes.iter().map(|n| n[axis]).collect();
            if v.is_empty() {
                v.push(0.0);
            }
            gpu.device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("Displacement::component"),
                    contents: bytemuck::cast_slice(&v),
                    usage: wgpu::BufferUsages::STORAGE,
                })
        });
        Self { components }
    }

    /// The view of this displacement at `exaggeration`.
    pub fn deformation(&self, exaggeration: f32) -> Deformation<'_> {
        let [x, y, z] = &self.components;
        Deformation {
            displacement: [x, y, z],
            scale: exaggeration,
        }
    }
}

/// Names of the six stress components, in [`StressResult::stress`] order.
const COMPONENTS: [&str; 6] = [
    "sigma_xx", "sigma_yy", "sigma_zz", "sigma_yz", "sigma_xz", "sigma_xy",
];

/// The fields one state of the scene has. Empty until the stress solver fills it.
#[derive(Default)]
pub struct FieldSet {
    pub fields: Vec<ScalarField>,
    pub displacement: Option<Displacement>,
}

impl FieldSet {
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&ScalarField> {
        self.fields.get(i)
    }

    pub fn push(&mut self, field: ScalarField) {
        self.fields.push(field);
    }

    /// Every field of a stress solve: von Mises, largest principal stress, the six
    /// components (MPa), the displacement magnitude at voxel centres (µm), and the nodal
    /// displacement for the deformed view.
    pub fn from_stress(gpu: &GpuContext, r: &StressResult) -> Self {
        let mut set = Self::default();
        set.push(ScalarField::from_values(
            gpu,
            "von Mises",
            "MPa",
            &r.von_mises,
        ));
        set.push(ScalarField::from_values(
            gpu,
            "max principal",
            "MPa",
            &r.max_principal,
        ));
        for (k, name) in COMPONENTS.iter().enumerate() {
            let v: Vec<f32> = r.stress.iter().map(|s| s[k]).collect();
            set.push(ScalarField::from_values(gpu, name, "MPa", &v));
        }
        // |u| at a voxel centre: the mean of its 8 corners' displacements.
        let [nx, ny, nz] = r.dims;
        let mut mag = Vec::with_capacity(r.material.len());
        for z in 0..nz {
            for y in 0..ny {
                for x in 0..nx {
                    let mut u = [0.0f32; 3];
                    for k in 0..8u32 {
                        let n = r.node_index(x + (k & 1), y + ((k >> 1) & 1), z + (k >> 2));
                        let d = r.displacement.get(n).copied().unwrap_or_default();
                        for a in 0..3 {
                            u[a] += d[a] * 0.125;
                        }
                    }
                    mag.push((u[0] * u[0] + u[1] * u[1] + u[2] * u[2]).sqrt());
                }
            }
        }
        set.push(ScalarField::from_values(gpu, "|u|", "µm", &mag));
        set.displacement = Some(Displacement::from_nodes(gpu, &r.displacement));
        set
    }
}
