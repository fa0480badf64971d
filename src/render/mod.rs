//! The renderer: a raymarched 3D view, an axis-aligned cross-section and an overlay
//! (titles, legend, colour bar) drawn into any texture view. Headless frames, tests
//! and the window all call [`Renderer::draw`].

pub mod camera;
pub mod gpu_data;
mod pick;
pub mod text;

use crate::gpu::{
    GpuContext, buffer_layout, read_texture_rgba8, texture_2d, whole_buffers, window_layouts,
    windowed_buffers,
};
use crate::materials::MaterialTable;
use crate::process::params::MaterialSet;
use crate::scene::{Axis, GridSpec};
use crate::shaders::{self, Windows};
pub use camera::OrbitCamera;
use gpu_data::{Colouring, Quad, SectionUniform, ViewUniform};
pub use pick::Pick;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use text::Overlay;
use wgpu::util::DeviceExt;

/// Headless frames are rendered in this format (sRGB, so shaders work in linear light).
pub const FRAME_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8UnormSrgb;

/// The caption of a section: the voxel layer drawn and the µm range it covers (the
/// scene's plane snaps to a layer; on a coarser stress grid to a thicker one).
pub fn section_label(axis: Axis, index: u32, spec: &GridSpec) -> String {
    let layer = index.min(spec.dims[axis.index()].saturating_sub(1));
    let h = spec.voxel_um;
    format!(
        "section {}: voxel layer {layer} = {:.1}-{:.1} µm",
        axis.name(),
        f64::from(layer) * h,
        f64::from(layer + 1) * h
    )
}

/// A per-voxel scalar field to colour by (e.g. von Mises stress).
pub struct FieldView<'a> {
    pub buffer: &'a wgpu::Buffer,
    /// Values at the ends of the colour map.
    pub range: [f32; 2],
    /// Colour-bar caption with units, e.g. "von Mises (MPa)".
    pub label: &'a str,
    /// A line under the bar, e.g. where the range clips the data ("" for none).
    pub note: &'a str,
}

/// The deformed-shape view: voxels drawn moved by `scale` times their displacement.
pub struct Deformation<'a> {
    /// Nodal displacement in µm, one f32 buffer per axis, (nx+1)(ny+1)(nz+1) nodes
    /// in grid order (see [`crate::fields::Displacement`]).
    pub displacement: [&'a wgpu::Buffer; 3],
    /// Exaggeration factor.
    pub scale: f32,
}

/// Everything one frame shows.
pub struct FrameInputs<'a> {
    pub grid: &'a wgpu::Buffer,
    pub spec: &'a GridSpec,
    pub materials: &'a MaterialTable,
    /// Voxels per material id: the legend lists the materials present.
    pub counts: &'a [u64],
    pub camera: OrbitCamera,
    pub section_axis: Axis,
    pub section_index: u32,
    /// Cut the 3D view open at the section plane (keeps the far half).
    pub cutaway: bool,
    pub hidden: MaterialSet,
    /// Drawn semi-transparent over what lies behind (and never picked).
    pub ghost: MaterialSet,
    pub field: Option<FieldView<'a>>,
    /// Draw the 3D view deformed (the section stays undeformed).
    pub deformation: Option<Deformation<'a>>,
    pub title: String,
    pub subtitle: String,
}

/// Pixel rectangles of the frame's panels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layout {
    pub view3d: [f32; 4],
    pub section: [f32; 4],
    pub legend: [f32; 2],
}

impl Layout {
    pub fn new(size: [u32; 2], spec: &GridSpec, axis: Axis) -> Self {
        let (w, h) = (size[0] as f32, size[1] as f32);
        let split = (w * 0.6).round();
        // Section image keeps the plane's aspect inside the right panel's upper part.
        let (ua, va) = match axis {
            Axis::X => (1, 2),
            Axis::Y => (0, 2),
            Axis::Z => (0, 1),
        };
        let (pu, pv) = (spec.dims[ua] as f32, spec.dims[va] as f32);
        let (bx, by, bw, bh) = (split + 16.0, 44.0, w - split - 32.0, h * 0.55);
        let s = (bw / pu).min(bh / pv);
        let (sw, sh) = (pu * s, pv * s);
        Self {
            view3d: [0.0, 0.0, split, h],
            section: [bx + (bw - sw) * 0.5, by, sw, sh],
            legend: [split + 16.0, by + sh + 40.0],
        }
    }
}

pub struct Renderer {
    format: wgpu::TextureFormat,
    /// The voxel passes per split of the voxel and node fields (`Windows::ONE` built
    /// with the renderer; a grid past one binding gets its own on first use).
    voxel: Mutex<HashMap<Windows, Arc<VoxelPipes>>>,
    /// A split every frame uses that it covers ([`Renderer::with_windows`], tests).
    forced: Option<Windows>,
    overlay_layout: wgpu::BindGroupLayout,
    overlay: wgpu::RenderPipeline,
    font: wgpu::TextureView,
    /// Stands in for the field when colouring by material, and for the windows past a
    /// field's end.
    no_field: wgpu::Buffer,
}

/// Bindings of the voxel passes split into windows: grid, field, displacement x, y, z.
const WINDOWED: [u32; 5] = [1, 3, 4, 5, 6];

/// The passes that read the voxel and node fields (3D view, section, picking), for one
/// split of them.
struct VoxelPipes {
    windows: Windows,
    layout: wgpu::BindGroupLayout,
    raymarch: wgpu::RenderPipeline,
    section: wgpu::RenderPipeline,
    picker: pick::Picker,
}

impl VoxelPipes {
    fn new(gpu: &GpuContext, format: wgpu::TextureFormat, windows: Windows) -> Self {
        let device = &gpu.device;
        let frag = wgpu::ShaderStages::FRAGMENT;
        let ro = wgpu::BufferBindingType::Storage { read_only: true };
        let mut entries = vec![buffer_layout(0, wgpu::BufferBindingType::Uniform, frag)];
        entries.extend((1..=6).map(|b| buffer_layout(b, ro, frag)));
        entries.extend(window_layouts(&entries, &WINDOWED, windows));
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("Renderer::voxel_layout"),
            entries: &entries,
        });
        let pipe = |name: &str| render_pipeline(device, name, windows, &layout, format, None);
        Self {
            windows,
            raymarch: pipe("raymarch"),
            section: pipe("section"),
            picker: pick::Picker::new(gpu, windows),
            layout,
        }
    }
}

/// A full-screen (or instanced-quad) pipeline of render shader `name`.
fn render_pipeline(
    device: &wgpu::Device,
    name: &str,
    windows: Windows,
    layout: &wgpu::BindGroupLayout,
    format: wgpu::TextureFormat,
    blend: Option<wgpu::BlendState>,
) -> wgpu::RenderPipeline {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(name),
        source: wgpu::ShaderSource::Wgsl(shaders::render(name, windows).into()),
    });
    let pl = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(name),
        bind_group_layouts: &[Some(layout)],
        immediate_size: 0,
    });
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some(name),
        layout: Some(&pl),
        vertex: wgpu::VertexState {
            module: &module,
            entry_point: Some("vs"),
            compilation_options: Default::default(),
            buffers: &[],
        },
        primitive: wgpu::PrimitiveState::default(),
        depth_stencil: None,
        multisample: wgpu::MultisampleState::default(),
        fragment: Some(wgpu::FragmentState {
            module: &module,
            entry_point: Some("fs"),
            compilation_options: Default::default(),
            targets: &[Some(wgpu::ColorTargetState {
                format,
                blend,
                write_mask: wgpu::ColorWrites::ALL,
            })],
        }),
        multiview_mask: None,
        cache: None,
    })
}

fn srgb_to_linear(c: u8) -> f32 {
    let c = f32::from(c) / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

const TEXT: [f32; 4] = [0.92, 0.93, 0.95, 1.0];
const DIM_TEXT: [f32; 4] = [0.6, 0.63, 0.68, 1.0];

impl Renderer {
    pub fn new(gpu: &GpuContext, format: wgpu::TextureFormat) -> Self {
        let device = &gpu.device;
        let buffer_entry = buffer_layout;
        let frag = wgpu::ShaderStages::FRAGMENT;
        let ro = wgpu::BufferBindingType::Storage { read_only: true };
        let vf = wgpu::ShaderStages::VERTEX_FRAGMENT;
        let overlay_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("Renderer::overlay_layout"),
            entries: &[
                buffer_entry(0, wgpu::BufferBindingType::Uniform, vf),
                buffer_entry(1, ro, vf),
                wgpu::BindGroupLayoutEntry {
                    binding: 2,
                    visibility: frag,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: false },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    count: None,
                },
            ],
        });
        let overlay = render_pipeline(
            device,
            "overlay",
            Windows::ONE,
            &overlay_layout,
            format,
            Some(wgpu::BlendState::ALPHA_BLENDING),
        );
        let one = Arc::new(VoxelPipes::new(gpu, format, Windows::ONE));

        let (fw, fh, pixels) = text::atlas();
        let font = device.create_texture_with_data(
            &gpu.queue,
            &wgpu::TextureDescriptor {
                label: Some("Renderer::font"),
                size: wgpu::Extent3d {
                    width: fw,
                    height: fh,
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: wgpu::TextureFormat::R8Unorm,
                usage: wgpu::TextureUsages::TEXTURE_BINDING,
                view_formats: &[],
            },
            wgpu::util::TextureDataOrder::LayerMajor,
            &pixels,
        );
        let no_field = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("Renderer::no_field"),
            size: 16,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        Self {
            format,
            voxel: Mutex::new(HashMap::from([(Windows::ONE, one)])),
            forced: None,
            overlay_layout,
            overlay,
            font: font.create_view(&Default::default()),
            no_field,
        }
    }

    /// [`Renderer::new`] whose frames bind their voxel and node fields in `windows`
    /// wherever those cover them (tests split small grids), else as `new` would.
    pub fn with_windows(gpu: &GpuContext, format: wgpu::TextureFormat, windows: Windows) -> Self {
        Self {
            forced: Some(windows),
            ..Self::new(gpu, format)
        }
    }

    /// Most windows per voxel or node field the adapter's storage bindings per stage
    /// allow (the picking pass binds one buffer more than the draws).
    pub fn most_windows(limits: &wgpu::Limits) -> u32 {
        Windows::most(
            limits.max_storage_buffers_per_shader_stage,
            7,
            WINDOWED.len() as u32,
        )
    }

    /// The voxel passes for a frame of `f`: its voxel and node fields bound whole while
    /// they fit one binding, else in windows (built on first use).
    fn voxel_pipes(&self, gpu: &GpuContext, f: &FrameInputs) -> Arc<VoxelPipes> {
        // The grid and the field are per voxel; the displacement, bound only for the
        // deformed view, per node.
        let need = if f.deformation.is_some() {
            f.spec
                .dims
                .iter()
                .map(|&d| u64::from(d) + 1)
                .product::<u64>()
                * 4
        } else {
            f.spec.voxels() * 4
        };
        let max_binding = gpu.max_binding_bytes();
        let windows = match self.forced {
            Some(w) if w.fits(need, Self::most_windows(&gpu.limits), max_binding) => w,
            _ => Windows::covering(need, max_binding),
        };
        let mut map = self.voxel.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(windows)
            .or_insert_with(|| Arc::new(VoxelPipes::new(gpu, self.format, windows)))
            .clone()
    }

    pub fn format(&self) -> wgpu::TextureFormat {
        self.format
    }

    fn palette(gpu: &GpuContext, materials: &MaterialTable) -> wgpu::Buffer {
        let mut pal = vec![[0.0f32; 4]; 256];
        for (id, m) in materials.iter() {
            pal[id as usize] = [
                srgb_to_linear(m.color[0]),
                srgb_to_linear(m.color[1]),
                srgb_to_linear(m.color[2]),
                1.0,
            ];
        }
        gpu.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("Renderer::palette"),
                contents: bytemuck::cast_slice(&pal),
                usage: wgpu::BufferUsages::STORAGE,
            })
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "the frame's bindings, passed through"
    )]
    fn voxel_bind(
        &self,
        gpu: &GpuContext,
        pipes: &VoxelPipes,
        uniform: &[u8],
        grid: &wgpu::Buffer,
        palette: &wgpu::Buffer,
        field: &wgpu::Buffer,
        displacement: [&wgpu::Buffer; 3],
    ) -> wgpu::BindGroup {
        let ubuf = gpu
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("Renderer::uniform"),
                contents: uniform,
                usage: wgpu::BufferUsages::UNIFORM,
            });
        gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("Renderer::voxel_bind"),
            layout: &pipes.layout,
            entries: &windowed_buffers(
                0,
                &[
                    &ubuf,
                    grid,
                    palette,
                    field,
                    displacement[0],
                    displacement[1],
                    displacement[2],
                ],
                &WINDOWED,
                pipes.windows,
                &self.no_field,
            ),
        })
    }

    fn colouring(f: &FrameInputs) -> Colouring {
        match &f.field {
            Some(fv) => Colouring {
                mode: 1,
                _pad: 0,
                range: fv.range,
            },
            None => Colouring::default(),
        }
    }

    /// The 3D view's uniform; drawing and picking share it.
    fn view_uniform(layout: &Layout, f: &FrameInputs, colouring: Colouring) -> ViewUniform {
        let dims = f.spec.dims;
        let [vx, vy, vw, vh] = layout.view3d;
        let (vp, eye) = f.camera.matrices(dims, vw / vh);
        let mut clip_lo = [0.0f32; 4];
        let mut clip_hi = [dims[0] as f32, dims[1] as f32, dims[2] as f32, 0.0];
        if f.cutaway {
            // Keep the half behind the plane as seen from the camera, plus the plane itself.
            let a = f.section_axis.index();
            let index = f.section_index.min(dims[a].saturating_sub(1));
            if eye[a] > clip_hi[a] * 0.5 {
                clip_hi[a] = (index + 1) as f32;
            } else {
                clip_lo[a] = index as f32;
            }
        }
        let light = glam::Vec3::new(0.45, -0.35, 0.82).normalize();
        ViewUniform {
            inv_view_proj: vp.inverse().to_cols_array_2d(),
            eye: [eye.x, eye.y, eye.z, 1.0],
            dims: [dims[0], dims[1], dims[2], 0],
            viewport: [vx, vy, vw, vh],
            clip_lo,
            clip_hi,
            light_dir: [light.x, light.y, light.z, 0.0],
            hidden: f.hidden.0,
            ghost: f.ghost.0,
            colouring,
            deform: match &f.deformation {
                Some(d) => [d.scale / f.spec.voxel_um as f32, 1.0, 0.0, 0.0],
                None => [0.0; 4],
            },
        }
    }

    /// The displacement buffers to bind: the frame's, or dummies when not deformed.
    fn displacement<'a>(&'a self, f: &FrameInputs<'a>) -> [&'a wgpu::Buffer; 3] {
        f.deformation
            .as_ref()
            .map_or([&self.no_field; 3], |d| d.displacement)
    }

    /// The voxel under pixel `pixel` of a frame of `size` drawn from `f`: in the 3D view
    /// the first visible, non-ghost voxel along the same ray the view marches, in the
    /// cross-section the voxel shown there; read on the GPU either way. `None` elsewhere,
    /// or when the ray hits nothing or the section shows void.
    pub fn pick(
        &self,
        gpu: &GpuContext,
        size: [u32; 2],
        f: &FrameInputs,
        pixel: [f32; 2],
    ) -> Option<Pick> {
        let layout = Layout::new(size, f.spec, f.section_axis);
        let [vx, vy, vw, vh] = layout.view3d;
        let in_view = pixel[0] >= vx && pixel[0] < vx + vw && pixel[1] >= vy && pixel[1] < vy + vh;
        let target = if in_view {
            pick::Target::Ray(pixel)
        } else {
            let axis = f.section_axis.index();
            let cell =
                pick::section_cell(layout.section, f.spec.dims, axis, f.section_index, pixel)?;
            pick::Target::Voxel(cell)
        };
        let view = Self::view_uniform(&layout, f, Self::colouring(f));
        let palette = Self::palette(gpu, f.materials);
        let field = f.field.as_ref().map_or(&self.no_field, |fv| fv.buffer);
        self.voxel_pipes(gpu, f).picker.pick(
            gpu,
            &view,
            [f.grid, &palette, field],
            self.displacement(f),
            &self.no_field,
            target,
            f.spec,
        )
    }

    /// Records the frame into `encoder`, drawing into `target` of `size` pixels.
    pub fn draw(
        &self,
        gpu: &GpuContext,
        encoder: &mut wgpu::CommandEncoder,
        target: &wgpu::TextureView,
        size: [u32; 2],
        f: &FrameInputs,
    ) {
        let layout = Layout::new(size, f.spec, f.section_axis);
        let dims = f.spec.dims;
        let palette = Self::palette(gpu, f.materials);
        let colouring = Self::colouring(f);
        let field_buf = f.field.as_ref().map_or(&self.no_field, |fv| fv.buffer);

        let view = Self::view_uniform(&layout, f, colouring);
        let section = SectionUniform {
            dims: [dims[0], dims[1], dims[2], 0],
            rect: layout.section,
            axis: f.section_axis.index() as u32,
            index: f
                .section_index
                .min(dims[f.section_axis.index()].saturating_sub(1)),
            _pad: [0; 2],
            colouring,
        };
        let pipes = self.voxel_pipes(gpu, f);
        let view_bind = self.voxel_bind(
            gpu,
            &pipes,
            bytemuck::bytes_of(&view),
            f.grid,
            &palette,
            field_buf,
            self.displacement(f),
        );
        let sec_bind = self.voxel_bind(
            gpu,
            &pipes,
            bytemuck::bytes_of(&section),
            f.grid,
            &palette,
            field_buf,
            [&self.no_field; 3],
        );
        let quads = self.overlay_quads(size, &layout, f);
        let screen = gpu
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("Renderer::screen"),
                contents: bytemuck::cast_slice(&[size[0] as f32, size[1] as f32, 0.0, 0.0]),
                usage: wgpu::BufferUsages::UNIFORM,
            });
        let quad_buf = gpu
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("Renderer::quads"),
                contents: bytemuck::cast_slice(&quads),
                usage: wgpu::BufferUsages::STORAGE,
            });
        let overlay_bind = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("Renderer::overlay_bind"),
            layout: &self.overlay_layout,
            entries: &[
                whole_buffers(0, &[&screen, &quad_buf]),
                vec![wgpu::BindGroupEntry {
                    binding: 2,
                    resource: wgpu::BindingResource::TextureView(&self.font),
                }],
            ]
            .concat(),
        });

        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("Renderer::pass"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: target,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(wgpu::Color {
                        r: 0.05,
                        g: 0.055,
                        b: 0.07,
                        a: 1.0,
                    }),
                    store: wgpu::StoreOp::Store,
                },
            })],
            depth_stencil_attachment: None,
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        let [vx, vy, vw, vh] = layout.view3d;
        pass.set_viewport(vx, vy, vw, vh, 0.0, 1.0);
        pass.set_pipeline(&pipes.raymarch);
        pass.set_bind_group(0, &view_bind, &[]);
        pass.draw(0..3, 0..1);
        pass.set_viewport(0.0, 0.0, size[0] as f32, size[1] as f32, 0.0, 1.0);
        let [sx, sy, sw, sh] = layout.section;
        pass.set_scissor_rect(sx as u32, sy as u32, (sw as u32).max(1), (sh as u32).max(1));
        pass.set_pipeline(&pipes.section);
        pass.set_bind_group(0, &sec_bind, &[]);
        pass.draw(0..3, 0..1);
        pass.set_scissor_rect(0, 0, size[0], size[1]);
        if !quads.is_empty() {
            pass.set_pipeline(&self.overlay);
            pass.set_bind_group(0, &overlay_bind, &[]);
            pass.draw(0..6, 0..quads.len() as u32);
        }
    }

    fn overlay_quads(&self, size: [u32; 2], layout: &Layout, f: &FrameInputs) -> Vec<Quad> {
        let mut o = Overlay::default();
        let h = f.spec.voxel_um;
        let [sx, sy, sw, sh] = layout.section;
        o.text(16.0, 14.0, 2.0, TEXT, &f.title);
        // Keep the subtitle inside the 3D panel: wrapped after its separators, never cut.
        let fit = ((layout.view3d[2] - 32.0) / text::CELL as f32) as usize;
        for (k, line) in text::wrap(&f.subtitle, "|", fit).iter().enumerate() {
            o.text(16.0, 38.0 + 12.0 * k as f32, 1.0, DIM_TEXT, line);
        }
        let size_um = f.spec.size_um();
        o.text(
            16.0,
            size[1] as f32 - 20.0,
            1.0,
            DIM_TEXT,
            &format!(
                "grid {}x{}x{} voxels of {} µm = {:.0} x {:.0} x {:.0} µm",
                f.spec.dims[0],
                f.spec.dims[1],
                f.spec.dims[2],
                h,
                size_um[0],
                size_um[1],
                size_um[2]
            ),
        );
        let a = f.section_axis;
        let (u, v) = match a {
            Axis::X => ("y", "z"),
            Axis::Y => ("x", "z"),
            Axis::Z => ("x", "y"),
        };
        // The section's label above it, wrapped upwards inside the right panel.
        let label = format!(
            "{}   ({u} right, {v} up)",
            section_label(a, f.section_index, f.spec)
        );
        let fit = ((size[0] as f32 - sx - 8.0) / text::CELL as f32) as usize;
        let lines = text::wrap(&label, "   ", fit);
        for (k, line) in lines.iter().enumerate() {
            let up = (lines.len() - 1 - k) as f32 * 12.0;
            o.text(sx, sy - 18.0 - up, 1.0, TEXT, line);
        }
        // Scale bar: a round length near a quarter of the section's width.
        let plane_um = f64::from(
            f.spec.dims[match a {
                Axis::X => 1,
                _ => 0,
            }],
        ) * h;
        let target = plane_um / 4.0;
        let bar_um = [1.0, 2.0, 5.0]
            .iter()
            .flat_map(|m| (-2..5).map(move |e| m * 10f64.powi(e)))
            .filter(|&b| b <= target)
            .fold(h, f64::max);
        let bar_px = (bar_um / plane_um) as f32 * sw;
        o.rect(sx, sy + sh + 6.0, bar_px, 3.0, TEXT);
        o.text(
            sx + bar_px + 6.0,
            sy + sh + 2.0,
            1.0,
            TEXT,
            &format!("{bar_um} µm"),
        );

        let [lx, mut ly] = layout.legend;
        if let Some(fv) = &f.field {
            // The note (where the bar is clipped) wrapped inside the right panel, under a
            // bar short enough to leave it room.
            let fit = ((size[0] as f32 - lx - 8.0) / text::CELL as f32) as usize;
            let note = text::wrap(fv.note, ";", fit);
            let bar_h = (size[1] as f32 - ly - 34.0 - 12.0 * note.len() as f32).clamp(60.0, 240.0);
            o.text(lx, ly, 1.0, TEXT, fv.label);
            o.colormap(lx, ly + 14.0, 18.0, bar_h);
            for k in 0..=4 {
                let t = k as f32 / 4.0;
                let val = fv.range[0] + (fv.range[1] - fv.range[0]) * (1.0 - t);
                o.text(
                    lx + 26.0,
                    ly + 14.0 + t * bar_h - 4.0,
                    1.0,
                    TEXT,
                    &format!("{val:.1}"),
                );
            }
            for (k, line) in note.iter().enumerate() {
                o.text(lx, ly + 24.0 + bar_h + 12.0 * k as f32, 1.0, TEXT, line);
            }
            return o.quads;
        }
        o.text(lx, ly, 1.0, TEXT, "materials");
        ly += 16.0;
        let col_w = (size[0] as f32 - lx) / 2.0;
        let mut i = 0;
        for (id, m) in f.materials.iter().skip(1) {
            if f.counts.get(id as usize).copied().unwrap_or(0) == 0 {
                continue;
            }
            let (x, y) = (lx + (i % 2) as f32 * col_w, ly + (i / 2) as f32 * 16.0);
            let c = [
                srgb_to_linear(m.color[0]),
                srgb_to_linear(m.color[1]),
                srgb_to_linear(m.color[2]),
                1.0,
            ];
            o.rect(x, y, 12.0, 12.0, c);
            o.text(x + 18.0, y + 2.0, 1.0, TEXT, &m.name);
            i += 1;
        }
        o.quads
    }

    /// Draws a frame into a new texture and reads it back as an image.
    pub fn render_image(
        &self,
        gpu: &GpuContext,
        size: [u32; 2],
        f: &FrameInputs,
    ) -> image::RgbaImage {
        let texture = texture_2d(
            gpu,
            "Renderer::frame",
            size,
            self.format,
            wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            &[],
        );
        let view = texture.create_view(&Default::default());
        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("Renderer::encoder"),
            });
        self.draw(gpu, &mut encoder, &view, size, f);
        gpu.queue.submit([encoder.finish()]);
        let (w, h, px) = read_texture_rgba8(gpu, &texture);
        image::RgbaImage::from_raw(w, h, px).expect("readback has w*h*4 bytes")
    }
}
