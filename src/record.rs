//! `voxfab record`: a deterministic PNG sequence of the process (one frame per step,
//! plus sub-step frames of timed steps so fronts are seen advancing), with an optional
//! camera orbit and an animated GIF. Loops the same [`Renderer::draw`](crate::render::Renderer::draw) as every view.

use crate::budget::DEFAULT_GPU_MEMORY_MIB;
use crate::engine::{Engine, RunError, camera, check_budget};
use crate::gpu::GpuContext;
use crate::grid::GridError;
use crate::output::{self, WriteError};
use crate::process::params::MaterialSet;
use crate::render::FrameInputs;
use crate::scene::Scene;
use crate::timeline::{Position, Timeline};
use image::codecs::gif::{GifEncoder, Repeat};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    Grid(#[from] GridError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("cannot create {}: {source}", path.display())]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Gif {
        path: PathBuf,
        source: image::ImageError,
    },
}

#[derive(Debug, Clone)]
pub struct RecordOptions {
    pub out: PathBuf,
    /// Frame size in pixels.
    pub size: [u32; 2],
    /// Partial frames per timed step (thickness / etch distance / depth).
    pub substeps: u32,
    /// Total camera azimuth change over the sequence, degrees.
    pub orbit_deg: f32,
    /// Also write `process.gif`.
    pub gif: bool,
    /// GIF frames are downscaled to at most this width (keeps the file small).
    pub gif_width: u32,
    /// How long each GIF frame shows, ms (the last one three times as long).
    pub gif_delay_ms: u32,
}

impl RecordOptions {
    pub fn new(out: impl Into<PathBuf>) -> Self {
        Self {
            out: out.into(),
            size: [1600, 900],
            substeps: 4,
            orbit_deg: 0.0,
            gif: false,
            gif_width: 640,
            gif_delay_ms: 200,
        }
    }
}

/// What a recording produced.
pub struct Recording {
    /// The PNG frames, in order.
    pub frames: Vec<PathBuf>,
    /// Where each frame is in the process.
    pub positions: Vec<Position>,
    /// Voxels per material id in each frame.
    pub counts: Vec<Vec<u64>>,
    pub gif: Option<PathBuf>,
}

/// Renders every position of the process into `opts.out/frame_NNNN.png`.
pub fn record(
    gpu: &GpuContext,
    scene: &Scene,
    opts: &RecordOptions,
    mut progress: impl FnMut(usize, usize),
) -> Result<Recording, RecordError> {
    check_budget(gpu, scene, None, DEFAULT_GPU_MEMORY_MIB).map_err(RunError::from)?;
    // The timeline runs on the engine's parts; part 0 then shows each position.
    let mut engine = Engine::new(gpu, scene)?;
    std::fs::create_dir_all(&opts.out).map_err(|source| RecordError::Dir {
        path: opts.out.clone(),
        source,
    })?;
    let timeline = Timeline::build_on(&mut engine, scene, |_| {})?;
    let positions = timeline.positions(opts.substeps);
    let renderer = engine.renderer();
    let proc = engine.part_mut(0);
    let gif_path = opts.out.join("process.gif");
    let mut gif = if opts.gif {
        let file = std::fs::File::create(&gif_path).map_err(|source| {
            RecordError::Write(WriteError {
                path: gif_path.clone(),
                source,
            })
        })?;
        // Speed 10 of 1..30: NeuQuant quality that keeps material colours distinct.
        let mut enc = GifEncoder::new_with_speed(std::io::BufWriter::new(file), 10);
        enc.set_repeat(Repeat::Infinite)
            .map_err(|source| RecordError::Gif {
                path: gif_path.clone(),
                source,
            })?;
        Some(enc)
    } else {
        None
    };

    let mut frames = Vec::new();
    let mut counts_out = Vec::new();
    let last = positions.len().saturating_sub(1).max(1) as f32;
    for (k, &at) in positions.iter().enumerate() {
        let counts = timeline.show(proc, scene, at);
        let step = &scene.steps[at.step - 1];
        let mut cam = camera(scene);
        cam.azimuth_deg += opts.orbit_deg * k as f32 / last;
        let img = renderer.render_image(
            gpu,
            opts.size,
            &FrameInputs {
                grid: &proc.grid().material,
                spec: &scene.grid,
                materials: &scene.materials,
                counts: &counts,
                camera: cam,
                section_axis: scene.view.section_axis,
                section_index: scene.view.section_index,
                cutaway: scene.view.cutaway,
                hidden: MaterialSet::default(),
                ghost: MaterialSet::default(),
                field: None,
                deformation: None,
                title: at.title(scene),
                subtitle: format!(
                    "{}  |  frame {}/{}",
                    step.kind.label(),
                    k + 1,
                    positions.len()
                ),
            },
        );
        let path = opts.out.join(format!("frame_{:04}.png", k + 1));
        output::write_png(&path, &img)?;
        if let Some(enc) = gif.as_mut() {
            let delay = if k + 1 == positions.len() {
                opts.gif_delay_ms * 3
            } else {
                opts.gif_delay_ms
            };
            enc.encode_frame(gif_frame(&img, opts.gif_width, delay))
                .map_err(|source| RecordError::Gif {
                    path: gif_path.clone(),
                    source,
                })?;
        }
        frames.push(path);
        counts_out.push(counts);
        progress(k + 1, positions.len());
    }
    // Dropping the encoder writes the GIF trailer.
    let gif = gif.map(|enc| {
        drop(enc);
        gif_path
    });
    Ok(Recording {
        frames,
        positions,
        counts: counts_out,
        gif,
    })
}

/// A GIF frame no wider than `max_width`, shown for `delay_ms`.
fn gif_frame(img: &image::RgbaImage, max_width: u32, delay_ms: u32) -> image::Frame {
    let small = if img.width() > max_width {
        let h = (u64::from(img.height()) * u64::from(max_width) / u64::from(img.width())) as u32;
        image::imageops::resize(
            img,
            max_width,
            h.max(1),
            image::imageops::FilterType::Triangle,
        )
    } else {
        img.clone()
    };
    image::Frame::from_parts(small, 0, 0, image::Delay::from_numer_denom_ms(delay_ms, 1))
}
