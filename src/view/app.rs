//! The window: winit events in, an egui side panel, and the renderer's frame shown as
//! an egui image in the central area. Dragging the image orbits and pans, the wheel
//! zooms, a click picks a voxel. The frame comes from the same [`Renderer::draw`] as
//! headless runs; this module only presents it.

use super::input::{frame_image, keys};
use super::panel::{self, PanelInfo};
use super::screenshot;
use super::solve::StressJob;
use super::state::{ColourBy, FrameKey, PickInfo, ViewState};
use super::target::FrameTarget;
use anyhow::Context as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use voxfab::budget::DEFAULT_GPU_MEMORY_MIB;
use voxfab::engine::{Engine, check_budget};
use voxfab::fields::FieldSet;
use voxfab::gpu::GpuContext;
use voxfab::grid::GpuGrid;
use voxfab::process::params::MaterialSet;
use voxfab::render::{FrameInputs, Renderer};
use voxfab::scene::Scene;
use voxfab::timeline::{Position, Timeline};
use winit::application::ApplicationHandler;
use winit::event::WindowEvent;
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop};
use winit::window::{Window, WindowId};

pub struct ViewOptions {
    /// Initial window size in pixels.
    pub size: [u32; 2],
    /// Partial frames per timed step on the timeline.
    pub substeps: u32,
    /// Draw this many frames, then exit (tests and fps measurements).
    pub frames: Option<u32>,
    /// Where screenshots go; without it, `voxfab_screenshot_N.png` in the working directory.
    pub screenshot: Option<PathBuf>,
    /// Step to start at (1-based); the last when `None`.
    pub step: Option<usize>,
    /// Solve the stress of the starting state right away.
    pub stress: bool,
    /// Deformed-shape exaggeration to start with (drawn once a solve exists).
    pub deform: Option<f32>,
    /// Materials ghosted and hidden at the start.
    pub ghost: MaterialSet,
    pub hidden: MaterialSet,
}

/// Opens the window on `scene` and runs until it is closed (or `--frames` are drawn).
pub fn run(opts: ViewOptions, scene: Scene) -> anyhow::Result<()> {
    let event_loop = EventLoop::new()
        .context("cannot open a window: no display (set DISPLAY or WAYLAND_DISPLAY)")?;
    let mut app = App {
        scene: Some(scene),
        opts,
        viewer: None,
        error: None,
    };
    event_loop.run_app(&mut app)?;
    app.error.map_or(Ok(()), Err)
}

struct App {
    /// Taken when the window is created.
    scene: Option<Scene>,
    opts: ViewOptions,
    viewer: Option<Viewer>,
    error: Option<anyhow::Error>,
}

enum Flow {
    Continue,
    Exit,
}

impl ApplicationHandler for App {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if self.viewer.is_some() {
            return;
        }
        let Some(scene) = self.scene.take() else {
            return;
        };
        match Viewer::new(event_loop, scene, &self.opts) {
            Ok(v) => {
                v.window.request_redraw();
                self.viewer = Some(v);
            }
            Err(e) => {
                self.error = Some(e);
                event_loop.exit();
            }
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, _: WindowId, event: WindowEvent) {
        let Some(v) = self.viewer.as_mut() else {
            return;
        };
        match v.on_event(&event) {
            Ok(Flow::Continue) => {}
            Ok(Flow::Exit) => event_loop.exit(),
            Err(e) => {
                self.error = Some(e);
                event_loop.exit();
            }
        }
    }

    fn about_to_wait(&mut self, event_loop: &ActiveEventLoop) {
        let Some(v) = self.viewer.as_mut() else {
            return;
        };
        // Sleep until input, a repaint egui asked for, or the next playback frame.
        match v.next_redraw {
            Some(at) if at <= Instant::now() => {
                v.next_redraw = None;
                v.window.request_redraw();
                event_loop.set_control_flow(ControlFlow::Wait);
            }
            Some(at) => event_loop.set_control_flow(ControlFlow::WaitUntil(at)),
            None => event_loop.set_control_flow(ControlFlow::Wait),
        }
    }
}

/// Smoothed frames per second of the window.
struct Fps {
    last: Option<Instant>,
    fps: f32,
}

impl Fps {
    fn tick(&mut self, now: Instant) {
        if let Some(last) = self.last {
            let dt = now.duration_since(last).as_secs_f32().max(1e-6);
            // An idle window redraws only on input: long gaps are not frame times.
            if dt > 2.0 {
                self.last = Some(now);
                return;
            }
            self.fps = if self.fps == 0.0 {
                1.0 / dt
            } else {
                self.fps * 0.9 + 0.1 / dt
            };
        }
        self.last = Some(now);
    }
}

struct Viewer {
    window: Arc<Window>,
    /// Shared (cloned handles) with the processor, renderer and solves.
    gpu: GpuContext,
    surface: wgpu::Surface<'static>,
    config: wgpu::SurfaceConfiguration,
    scene: Scene,
    /// The timeline's parts; part 0 holds the state on screen.
    engine: Engine,
    timeline: Timeline,
    fields: FieldSet,
    /// The grid the fields were solved on (a coarsened copy when the scene's stress
    /// step coarsens) and its factor: drawn while the fields are shown.
    stress_grid: Option<(GpuGrid, u32)>,
    renderer: Arc<Renderer>,
    frame: Option<(FrameTarget, egui::TextureId)>,
    egui_ctx: egui::Context,
    egui_state: egui_winit::State,
    egui_renderer: egui_wgpu::Renderer,
    st: ViewState,
    /// The position the GPU grid holds, and its per-material counts.
    shown: Option<Position>,
    counts: Vec<u64>,
    /// The position `fields` were solved for, and the solve running on a worker.
    fields_at: Option<Position>,
    job: Option<StressJob>,
    /// What the offscreen target holds.
    drawn: Option<FrameKey>,
    fps: Fps,
    next_redraw: Option<Instant>,
    /// `--frames`: frames still to draw before exiting, and when the first was drawn.
    frames_left: Option<u32>,
    frames_drawn: u32,
    first_frame: Option<Instant>,
    screenshot: Option<PathBuf>,
    screenshots_taken: u32,
    status: String,
}

impl Viewer {
    fn new(event_loop: &ActiveEventLoop, scene: Scene, opts: &ViewOptions) -> anyhow::Result<Self> {
        let attrs = Window::default_attributes()
            .with_title(format!("voxfab: {}", scene.title))
            .with_inner_size(winit::dpi::PhysicalSize::new(opts.size[0], opts.size[1]));
        let window = Arc::new(event_loop.create_window(attrs)?);
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: wgpu::Backends::PRIMARY,
            memory_budget_thresholds: voxfab::gpu::MEMORY_THRESHOLDS,
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let surface = instance.create_surface(window.clone())?;
        let gpu = GpuContext::with_surface(instance, &surface)?;
        eprintln!("adapter: {gpu}");

        let inner = window.inner_size();
        let caps = surface.get_capabilities(&gpu.adapter);
        // egui wants a non-sRGB target (it blends in gamma space itself).
        let format = caps
            .formats
            .iter()
            .copied()
            .find(|f| !f.is_srgb())
            .or(caps.formats.first().copied())
            .context("the window surface offers no format")?;
        let mut config = surface
            .get_default_config(&gpu.adapter, inner.width.max(1), inner.height.max(1))
            .context("the adapter cannot present to this window")?;
        config.format = format;
        // COPY_SRC lets screenshots read the composed window back.
        if caps.usages.contains(wgpu::TextureUsages::COPY_SRC) {
            config.usage |= wgpu::TextureUsages::COPY_SRC;
        }
        // Fps measurements (--frames) must not wait for vsync.
        config.present_mode = if opts.frames.is_some() {
            wgpu::PresentMode::AutoNoVsync
        } else {
            wgpu::PresentMode::AutoVsync
        };
        surface.configure(&gpu.device, &config);

        check_budget(&gpu, &scene, None, DEFAULT_GPU_MEMORY_MIB)?;
        let mut engine = Engine::new(&gpu, &scene)?;
        let n = scene.steps.len();
        let timeline = Timeline::build_on(&mut engine, &scene, |i| {
            eprint!("\rrunning step {i}/{n}");
        })?;
        eprintln!();
        let renderer = engine.renderer();
        let egui_ctx = egui::Context::default();
        let egui_state = egui_winit::State::new(
            egui_ctx.clone(),
            egui::ViewportId::ROOT,
            &window,
            Some(window.scale_factor() as f32),
            None,
            Some(gpu.limits.max_texture_dimension_2d as usize),
        );
        let egui_renderer =
            egui_wgpu::Renderer::new(&gpu.device, format, egui_wgpu::RendererOptions::default());
        let mut st = ViewState::new(&scene, &timeline, opts.substeps);
        st.ghost = opts.ghost;
        st.solve_requested = opts.stress;
        if let Some(x) = opts.deform {
            st.deformed = true;
            st.exaggeration = x;
        }
        st.hidden = opts.hidden;
        if let Some(step) = opts.step {
            st.go_to_step(step);
        }
        Ok(Self {
            window,
            gpu,
            surface,
            config,
            scene,
            engine,
            timeline,
            fields: FieldSet::default(),
            stress_grid: None,
            renderer,
            frame: None,
            egui_ctx,
            egui_state,
            egui_renderer,
            st,
            shown: None,
            counts: Vec::new(),
            drawn: None,
            fields_at: None,
            job: None,
            fps: Fps {
                last: None,
                fps: 0.0,
            },
            next_redraw: None,
            frames_left: opts.frames,
            frames_drawn: 0,
            first_frame: None,
            screenshot: opts.screenshot.clone(),
            screenshots_taken: 0,
            status: String::new(),
        })
    }

    fn on_event(&mut self, event: &WindowEvent) -> anyhow::Result<Flow> {
        let response = self.egui_state.on_window_event(&self.window, event);
        match event {
            WindowEvent::CloseRequested => return Ok(Flow::Exit),
            WindowEvent::Resized(size) => {
                self.config.width = size.width.max(1);
                self.config.height = size.height.max(1);
                self.surface.configure(&self.gpu.device, &self.config);
                self.window.request_redraw();
            }
            WindowEvent::RedrawRequested => return self.redraw(),
            _ => {}
        }
        if response.repaint {
            self.window.request_redraw();
        }
        Ok(Flow::Continue)
    }

    fn redraw(&mut self) -> anyhow::Result<Flow> {
        let now = Instant::now();
        self.fps.tick(now);
        let play_wait = self.st.tick(now);

        // UI pass: the panel edits `st`; the central image reports its size and gestures.
        let raw = self.egui_state.take_egui_input(&self.window);
        let tex = self.frame.as_ref().map(|(_, id)| *id);
        let dims = self.scene.grid.dims;
        let adapter = self.gpu.info.name.clone();
        let mut want = [64u32, 64u32];
        let mut click = None;
        // Fields belong to the state they were solved for.
        let no_fields = FieldSet::default();
        let fields = if self.fields_at == Some(self.st.position()) {
            &self.fields
        } else {
            &no_fields
        };
        let info = PanelInfo {
            scene: &self.scene,
            timeline: &self.timeline,
            fields,
            adapter: &adapter,
            fps: self.fps.fps,
            status: &self.status,
            solving: self.job.as_ref().map(|j| {
                let (it, res) = j.progress();
                (it, res, j.started.elapsed().as_secs_f64())
            }),
        };
        let st = &mut self.st;
        let mut full = self.egui_ctx.run_ui(raw, |ui| {
            keys(ui, st);
            panel::side_panel(ui, st, &info);
            egui::CentralPanel::no_frame().show(ui, |ui| {
                frame_image(ui, st, tex, dims, &mut want, &mut click);
            });
        });
        self.egui_state
            .handle_platform_output(&self.window, full.platform_output);

        // Bring the GPU grid and the offscreen target up to date with the UI.
        let at = self.st.position();
        if self.shown != Some(at) {
            self.counts = self.timeline.show(self.engine.part_mut(0), &self.scene, at);
            self.shown = Some(at);
        }
        self.follow_stress(at);
        self.ensure_target(want);
        let Some((target, _)) = self.frame.as_ref() else {
            return Ok(Flow::Continue);
        };
        let fields = if self.fields_at == Some(at) {
            Some(&self.fields)
        } else {
            None
        };
        let field = match self.st.colour_by {
            ColourBy::Field(i) => fields.and_then(|f| f.get(i)).map(|f| f.view()),
            ColourBy::Material => None,
        };
        let step = self.scene.steps.get(at.step.wrapping_sub(1));
        // Fields of a coarsened solve are drawn on the grid they were solved on.
        let solved_grid = fields.and(self.stress_grid.as_ref());
        let inputs = FrameInputs {
            grid: solved_grid.map_or(&self.engine.part(0).grid().material, |(g, _)| &g.material),
            spec: solved_grid.map_or(&self.scene.grid, |(g, _)| &g.spec),
            materials: &self.scene.materials,
            counts: &self.counts,
            camera: self.st.camera,
            section_axis: self.st.section_axis,
            section_index: self.st.section_index / solved_grid.map_or(1, |(_, c)| *c),
            cutaway: self.st.cutaway,
            hidden: self.st.hidden,
            ghost: self.st.ghost,
            field,
            deformation: fields
                .and_then(|f| f.displacement.as_ref())
                .filter(|_| self.st.deformed)
                .map(|d| d.deformation(self.st.exaggeration)),
            title: at.title(&self.scene),
            subtitle: step.map_or_else(String::new, |s| s.kind.label()),
        };
        if let Some([u, v]) = click {
            let px = [u * target.size[0] as f32, v * target.size[1] as f32];
            self.st.picked = self
                .renderer
                .pick(&self.gpu, target.size, &inputs, px)
                .map(|pick| PickInfo {
                    pick,
                    fields: fields.map_or_else(Vec::new, |fs| {
                        fs.fields
                            .iter()
                            .filter_map(|f| {
                                Some((f.label.clone(), f.value_at(&self.gpu, pick.index)?))
                            })
                            .collect()
                    }),
                });
        }

        let surface_texture = match self.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(t)
            | wgpu::CurrentSurfaceTexture::Suboptimal(t) => t,
            wgpu::CurrentSurfaceTexture::Outdated | wgpu::CurrentSurfaceTexture::Lost => {
                self.surface.configure(&self.gpu.device, &self.config);
                self.window.request_redraw();
                return Ok(Flow::Continue);
            }
            _ => {
                // Occluded or timed out: try again shortly.
                self.next_redraw = Some(now + Duration::from_millis(100));
                return Ok(Flow::Continue);
            }
        };
        // A handle clone (reference counted), so the frame can still borrow `self` mutably.
        let gpu = self.gpu.clone();
        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("Viewer::encoder"),
            });
        // `--frames` always redraws, so its fps measure the full frame.
        let key = self.st.frame_key(target.size);
        if self.frames_left.is_some() || self.drawn != Some(key) {
            self.renderer
                .draw(&gpu, &mut encoder, &target.view, target.size, &inputs);
            self.drawn = Some(key);
        }

        let shapes = std::mem::take(&mut full.shapes);
        self.paint_ui(
            encoder,
            &surface_texture.texture,
            shapes,
            &full.textures_delta,
            full.pixels_per_point,
        );

        self.frames_drawn += 1;
        if let Some(job) = self.job.as_mut() {
            job.frames += 1;
        }
        let first = *self.first_frame.get_or_insert(now);
        // `--frames` waits for a running or requested solve (and keeps drawing meanwhile).
        let last_frame = self.frames_left.is_some_and(|n| self.frames_drawn >= n)
            && self.job.is_none()
            && !self.st.solve_requested;
        if self.st.screenshot_requested || (last_frame && self.screenshot.is_some()) {
            self.st.screenshot_requested = false;
            self.status = match self.save_screenshot(&surface_texture.texture) {
                Ok(path) => format!("saved {}", path.display()),
                Err(e) => format!("screenshot failed: {e:#}"),
            };
            eprintln!("{}", self.status);
        }
        self.window.pre_present_notify();
        gpu.queue.present(surface_texture);

        if last_frame {
            // Frames after the first: the first includes pipeline warm-up.
            let secs = now.duration_since(first).as_secs_f64();
            if self.frames_drawn > 1 && secs > 0.0 {
                eprintln!(
                    "{} frames at {}x{} on {}: {:.2} fps",
                    self.frames_drawn,
                    self.config.width,
                    self.config.height,
                    gpu.info.name,
                    f64::from(self.frames_drawn - 1) / secs
                );
            }
            return Ok(Flow::Exit);
        }
        let egui_wait = full
            .viewport_output
            .get(&egui::ViewportId::ROOT)
            .map_or(Duration::MAX, |v| v.repaint_delay);
        // While a solve runs, redraw at 10 Hz for its progress (input redraws sooner).
        let solve_wait = self
            .job
            .as_ref()
            .map_or(Duration::MAX, |_| Duration::from_millis(100));
        let wait = if self.frames_left.is_some() {
            Duration::ZERO
        } else {
            egui_wait
                .min(play_wait.unwrap_or(Duration::MAX))
                .min(solve_wait)
        };
        if wait == Duration::ZERO {
            self.window.request_redraw();
        } else if wait < Duration::from_secs(3600) {
            self.next_redraw = Some(now + wait);
        }
        Ok(Flow::Continue)
    }

    /// Paints egui's output over the surface texture and submits it after the frame's
    /// commands already in `encoder`.
    fn paint_ui(
        &mut self,
        mut encoder: wgpu::CommandEncoder,
        surface: &wgpu::Texture,
        shapes: Vec<egui::epaint::ClippedShape>,
        textures: &egui::TexturesDelta,
        ppp: f32,
    ) {
        let gpu = &self.gpu;
        let screen = egui_wgpu::ScreenDescriptor {
            size_in_pixels: [self.config.width, self.config.height],
            pixels_per_point: ppp,
        };
        let jobs = self.egui_ctx.tessellate(shapes, ppp);
        for (id, deltas) in &textures.set {
            for delta in deltas {
                self.egui_renderer
                    .update_texture(&gpu.device, &gpu.queue, *id, delta);
            }
        }
        let extra = self.egui_renderer.update_buffers(
            &gpu.device,
            &gpu.queue,
            &mut encoder,
            &jobs,
            &screen,
        );
        let surface_view = surface.create_view(&wgpu::TextureViewDescriptor {
            label: Some("Viewer::surface_view"),
            ..Default::default()
        });
        {
            let pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("Viewer::egui_pass"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &surface_view,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: None,
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            self.egui_renderer
                .render(&mut pass.forget_lifetime(), &jobs, &screen);
        }
        gpu.queue
            .submit(extra.into_iter().chain([encoder.finish()]));
        for id in &textures.free {
            self.egui_renderer.free_texture(id);
        }
    }

    /// Starts a requested solve of the state on screen (`at`) on a worker thread,
    /// forwards a cancel, and takes a finished solve's fields.
    fn follow_stress(&mut self, at: Position) {
        if std::mem::take(&mut self.st.cancel_requested)
            && let Some(job) = &self.job
        {
            job.cancel();
        }
        if let Some(job) = self.job.take_if(|j| j.is_finished()) {
            self.finish_stress(job);
        }
        if let Some(job) = &self.job {
            let (it, res) = job.progress();
            self.status = format!(
                "solving stress at step {}: {it} iterations, residual {res:.1e} ...",
                job.at.step
            );
        } else if std::mem::take(&mut self.st.solve_requested) {
            let started = self.engine.stress_kernels().and_then(|kernels| {
                StressJob::start(
                    &self.gpu,
                    kernels,
                    self.engine.part(0).grid(),
                    &self.scene.materials,
                    self.st.stress_spec(),
                    at,
                )
            });
            match started {
                Ok(job) => {
                    self.status = format!("solving stress at step {} ...", at.step);
                    self.job = Some(job);
                }
                Err(e) => self.status = format!("stress solve failed: {e}"),
            }
            self.window.request_redraw();
        }
    }

    /// Makes a finished solve's fields the ones to colour by (or reports why not).
    fn finish_stress(&mut self, job: StressJob) {
        let (at, frames) = (job.at, job.frames);
        let secs = job.started.elapsed().as_secs_f64();
        // The window kept drawing while the worker solved: say how fast.
        eprintln!(
            "stress solve: {frames} frames drawn in {secs:.1} s while solving ({:.1} fps)",
            f64::from(frames) / secs.max(1e-9)
        );
        // A GPU error recorded meanwhile (out of memory, device loss) explains the rest.
        let gpu_error = self.gpu.take_error();
        self.status = match (job.join(), gpu_error) {
            (_, Some(e)) => format!("stress solve failed: GPU error: {e}"),
            (Ok(done), None) => {
                let r = &done.result;
                let max = r.von_mises.iter().copied().fold(0.0f32, f32::max);
                self.fields = FieldSet::from_stress(&self.gpu, r);
                self.fields_at = Some(at);
                self.st.colour_by = ColourBy::Field(0);
                let status = format!(
                    "stress at step {}: max von Mises {max:.0} MPa; {} CG iterations, residual {:.1e}{} ({:.1} s)",
                    at.step,
                    r.iterations,
                    r.residual,
                    if r.converged { "" } else { " (not converged)" },
                    r.ms / 1e3
                );
                self.stress_grid = Some((done.grid, done.coarsen));
                status
            }
            (Err(e), None) => format!("stress solve failed: {e}"),
        };
        eprintln!("{}", self.status);
        self.window.request_redraw();
    }

    /// (Re)creates the offscreen target at `size`, keeping its egui texture id.
    fn ensure_target(&mut self, size: [u32; 2]) {
        let max = self.gpu.limits.max_texture_dimension_2d;
        let size = size.map(|s| s.clamp(64, max));
        if self.frame.as_ref().is_some_and(|(t, _)| t.size == size) {
            return;
        }
        let target = FrameTarget::new(&self.gpu, size);
        let id = match self.frame.take() {
            Some((_, id)) => {
                self.egui_renderer.update_egui_texture_from_wgpu_texture(
                    &self.gpu.device,
                    &target.egui_view,
                    wgpu::FilterMode::Linear,
                    id,
                );
                id
            }
            None => self.egui_renderer.register_native_texture(
                &self.gpu.device,
                &target.egui_view,
                wgpu::FilterMode::Linear,
            ),
        };
        // A new size shows next frame; draw again so the image is not stretched.
        self.window.request_redraw();
        self.frame = Some((target, id));
    }

    /// Writes the window's composed image (panel included) as a PNG: the
    /// `--screenshot` path first, numbered variants of it (or of
    /// `voxfab_screenshot_N.png`) after.
    fn save_screenshot(&mut self, texture: &wgpu::Texture) -> anyhow::Result<PathBuf> {
        let path = screenshot::path(self.screenshot.as_deref(), self.screenshots_taken);
        screenshot::save(&self.gpu, texture, &self.config, &path)?;
        self.screenshots_taken += 1;
        Ok(path)
    }
}
