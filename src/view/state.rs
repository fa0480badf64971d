//! What the viewer shows, as plain data the side panel edits: camera, section,
//! per-material visibility, colouring, timeline position, playback and the last pick.

use std::time::{Duration, Instant};
use voxfab::engine::camera;
use voxfab::process::params::MaterialSet;
use voxfab::render::{OrbitCamera, Pick};
use voxfab::scene::{Axis, Scene, StressSpec};
use voxfab::stress::{BoundaryConditions, SolveOptions, Support};
use voxfab::timeline::{Position, Timeline};

/// What the voxels are coloured by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColourBy {
    Material,
    /// Index into the scene's [`voxfab::fields::FieldSet`].
    Field(usize),
}

/// What a click found, with the values of every field at that voxel.
pub struct PickInfo {
    pub pick: Pick,
    pub fields: Vec<(String, f32)>,
}

/// Everything the rendered frame depends on. The frame is redrawn only when this
/// changes, so egui repaints (hover highlights, panel animations) do not re-march the grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameKey {
    camera: OrbitCamera,
    section_axis: Axis,
    section_index: u32,
    cutaway: bool,
    hidden: MaterialSet,
    ghost: MaterialSet,
    colour_by: ColourBy,
    position: Position,
    size: [u32; 2],
    deformed: bool,
    exaggeration: f32,
}

pub struct ViewState {
    pub camera: OrbitCamera,
    /// The scene's own camera, for "reset view".
    pub home: OrbitCamera,
    pub section_axis: Axis,
    pub section_index: u32,
    pub cutaway: bool,
    pub hidden: MaterialSet,
    pub ghost: MaterialSet,
    pub colour_by: ColourBy,
    /// Partial frames per timed step on the timeline.
    pub substeps: u32,
    pub positions: Vec<Position>,
    /// Index into `positions` being shown.
    pub frame: usize,
    pub playing: bool,
    /// Timeline frames per second while playing.
    pub play_rate: f32,
    last_advance: Instant,
    pub picked: Option<PickInfo>,
    /// Deformed-shape view (needs a displacement field) and its exaggeration.
    pub deformed: bool,
    pub exaggeration: f32,
    pub screenshot_requested: bool,
    /// Thermal load of a stress solve: stress-free and final temperature, °C.
    pub stress_free_c: f64,
    pub final_c: f64,
    /// The scene's stress step (supports, symmetry, tol, iteration cap, coarsen) that a
    /// solve in the window uses; its ΔT comes from the two temperatures above.
    pub stress: StressSpec,
    /// Solve the stress of the state on screen (set by the panel or `--stress`).
    pub solve_requested: bool,
    /// Stop the running solve (the panel's Cancel button).
    pub cancel_requested: bool,
}

impl ViewState {
    pub fn new(scene: &Scene, timeline: &Timeline, substeps: u32) -> Self {
        let stress = scene.steps.iter().find_map(|s| s.kind.stress());
        let positions = timeline.positions(substeps);
        let home = camera(scene);
        Self {
            camera: home,
            home,
            section_axis: scene.view.section_axis,
            section_index: scene.view.section_index,
            cutaway: scene.view.cutaway,
            hidden: MaterialSet::default(),
            ghost: MaterialSet::default(),
            colour_by: ColourBy::Material,
            substeps,
            frame: positions.len().saturating_sub(1),
            positions,
            playing: false,
            play_rate: 4.0,
            last_advance: Instant::now(),
            picked: None,
            deformed: false,
            exaggeration: 100.0,
            screenshot_requested: false,
            // The scene's own stress step when it has one (same ΔT and supports), else
            // SAC305 solidification to room temperature on rollers.
            stress_free_c: stress.map_or(217.0, |s| 25.0 - s.delta_t),
            final_c: 25.0,
            stress: stress.cloned().unwrap_or(StressSpec {
                delta_t: 25.0 - 217.0,
                bc: BoundaryConditions::new(Support::BottomRoller),
                options: SolveOptions::default(),
                coarsen: 1,
                displace: Vec::new(),
            }),
            solve_requested: false,
            cancel_requested: false,
        }
    }

    /// The stress step to solve: the scene's, at the panel's temperatures.
    pub fn stress_spec(&self) -> StressSpec {
        StressSpec {
            delta_t: self.final_c - self.stress_free_c,
            ..self.stress.clone()
        }
    }

    pub fn frame_key(&self, size: [u32; 2]) -> FrameKey {
        FrameKey {
            camera: self.camera,
            section_axis: self.section_axis,
            section_index: self.section_index,
            cutaway: self.cutaway,
            hidden: self.hidden,
            ghost: self.ghost,
            colour_by: self.colour_by,
            position: self.position(),
            size,
            deformed: self.deformed,
            exaggeration: self.exaggeration,
        }
    }

    /// The process position on screen (step 0 when the scene has no steps).
    pub fn position(&self) -> Position {
        self.positions.get(self.frame).copied().unwrap_or(Position {
            step: 0,
            fraction: 1.0,
        })
    }

    /// Rebuilds the frame list for a new sub-step count, staying at the same step.
    pub fn set_substeps(&mut self, timeline: &Timeline, substeps: u32) {
        let step = self.position().step;
        self.substeps = substeps;
        self.positions = timeline.positions(substeps);
        self.frame = self
            .positions
            .iter()
            .position(|p| p.step == step && !p.is_partial())
            .unwrap_or(0);
    }

    /// Shows step `step` (1-based) finished; past the end, the last step.
    pub fn go_to_step(&mut self, step: usize) {
        self.frame = self
            .positions
            .iter()
            .position(|p| p.step >= step && !p.is_partial())
            .unwrap_or(self.positions.len().saturating_sub(1));
    }

    /// Moves `by` frames along the timeline, clamped to its ends.
    pub fn seek(&mut self, by: isize) {
        let last = self.positions.len().saturating_sub(1);
        self.frame = self.frame.saturating_add_signed(by).min(last);
    }

    /// Advances playback if its time has come; wraps from the end to the start.
    /// Returns the time until the next advance while playing.
    pub fn tick(&mut self, now: Instant) -> Option<Duration> {
        if !self.playing || self.positions.is_empty() {
            return None;
        }
        let period = Duration::from_secs_f32(1.0 / self.play_rate.clamp(0.5, 60.0));
        if now.duration_since(self.last_advance) >= period {
            self.last_advance = now;
            self.frame = (self.frame + 1) % self.positions.len();
        }
        Some(period.saturating_sub(now.duration_since(self.last_advance)))
    }

    pub fn toggle_play(&mut self) {
        self.playing = !self.playing;
        self.last_advance = Instant::now();
        if self.playing && self.frame + 1 == self.positions.len() {
            self.frame = 0;
        }
    }

    /// Moves the section plane to another axis, keeping it at the same relative depth.
    pub fn set_section_axis(&mut self, axis: Axis, dims: [u32; 3]) {
        if axis == self.section_axis {
            return;
        }
        let old = dims[self.section_axis.index()].max(1);
        let rel = (f64::from(self.section_index) + 0.5) / f64::from(old);
        let new = dims[axis.index()].max(1);
        self.section_axis = axis;
        self.section_index = ((rel * f64::from(new)) as u32).min(new - 1);
    }
}
