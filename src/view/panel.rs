//! The egui side panel: timeline, colouring, materials, section, camera and pick readout.

use super::state::{ColourBy, ViewState};
use voxfab::fields::FieldSet;
use voxfab::scene::{Axis, Scene};
use voxfab::timeline::Timeline;

/// Read-only facts the panel shows.
pub struct PanelInfo<'a> {
    pub scene: &'a Scene,
    pub timeline: &'a Timeline,
    pub fields: &'a FieldSet,
    pub adapter: &'a str,
    /// Frames per second of the window, smoothed.
    pub fps: f32,
    pub status: &'a str,
    /// The running stress solve: (iterations, relative residual, seconds so far).
    pub solving: Option<(u32, f64, f64)>,
}

pub const PANEL_WIDTH: f32 = 300.0;

pub fn side_panel(ui: &mut egui::Ui, st: &mut ViewState, info: &PanelInfo) {
    egui::Panel::left("voxfab_panel")
        .resizable(false)
        .exact_size(PANEL_WIDTH)
        .show(ui, |ui| {
            ui.spacing_mut().slider_width = 140.0;
            egui::ScrollArea::vertical().show(ui, |ui| {
                ui.heading("voxfab");
                ui.label(egui::RichText::new(&info.scene.title).small());
                ui.label(
                    egui::RichText::new(format!("{}  |  {:.1} fps", info.adapter, info.fps))
                        .small()
                        .weak(),
                );
                ui.separator();
                timeline(ui, st, info);
                ui.separator();
                colouring(ui, st, info);
                ui.separator();
                materials(ui, st, info);
                ui.separator();
                section(ui, st, info.scene.grid.dims);
                ui.separator();
                camera(ui, st, info.fields);
                ui.separator();
                picked(ui, st, info.scene);
                if !info.status.is_empty() {
                    ui.separator();
                    ui.label(egui::RichText::new(info.status).small());
                }
                ui.separator();
                ui.label(
                    egui::RichText::new(
                        "left drag: orbit  |  right/middle drag: pan  |  wheel: zoom\n\
                         click (3D or section): pick a voxel  |  space: play  |  left/right: step  |  P/F12: screenshot",
                    )
                    .small()
                    .weak(),
                );
            });
        });
}

fn timeline(ui: &mut egui::Ui, st: &mut ViewState, info: &PanelInfo) {
    ui.strong("Process");
    let n = st.positions.len();
    if n == 0 {
        ui.label("the scene has no steps");
        return;
    }
    let at = st.position();
    let name = info
        .scene
        .steps
        .get(at.step.wrapping_sub(1))
        .map_or("", |s| s.name.as_str());
    let part = if at.is_partial() {
        format!("  ({:.0}%)", at.fraction * 100.0)
    } else {
        String::new()
    };
    ui.label(format!(
        "step {}/{}: {name}{part}",
        at.step,
        info.timeline.steps()
    ));
    let mut frame = st.frame;
    ui.add(egui::Slider::new(&mut frame, 0..=n - 1).show_value(false));
    if frame != st.frame {
        st.frame = frame;
        st.playing = false;
    }
    ui.horizontal(|ui| {
        if ui.button("|<").on_hover_text("first step").clicked() {
            st.frame = 0;
        }
        if ui.button("<").on_hover_text("previous frame").clicked() {
            st.seek(-1);
        }
        let play = if st.playing { "pause" } else { "play" };
        if ui.button(play).clicked() {
            st.toggle_play();
        }
        if ui.button(">").on_hover_text("next frame").clicked() {
            st.seek(1);
        }
        if ui.button(">|").on_hover_text("last step").clicked() {
            st.frame = n - 1;
        }
    });
    ui.add(egui::Slider::new(&mut st.play_rate, 0.5..=30.0).text("frames/s"));
    let mut sub = st.substeps;
    ui.add(egui::Slider::new(&mut sub, 0..=16).text("sub-steps"))
        .on_hover_text("partial frames of timed etches and depositions");
    if sub != st.substeps {
        st.set_substeps(info.timeline, sub);
    }
}

fn colouring(ui: &mut egui::Ui, st: &mut ViewState, info: &PanelInfo) {
    let fields = info.fields;
    ui.strong("Colour by");
    ui.radio_value(&mut st.colour_by, ColourBy::Material, "material");
    if fields.is_empty() {
        ui.label(egui::RichText::new("no stress computed").weak());
    }
    for (i, f) in fields.fields.iter().enumerate() {
        ui.radio_value(&mut st.colour_by, ColourBy::Field(i), &f.label);
    }
    ui.horizontal(|ui| {
        ui.add(
            egui::DragValue::new(&mut st.stress_free_c)
                .range(-273.0..=1000.0)
                .suffix(" °C"),
        )
        .on_hover_text("stress-free temperature");
        ui.label("to");
        ui.add(
            egui::DragValue::new(&mut st.final_c)
                .range(-273.0..=1000.0)
                .suffix(" °C"),
        )
        .on_hover_text("final temperature");
    });
    let spec = &st.stress;
    ui.label(
        egui::RichText::new(format!(
            "{:?}, tol {:.0e}, {} iterations max, coarsen {}",
            spec.bc.support, spec.options.tol, spec.options.max_iterations, spec.coarsen
        ))
        .small()
        .weak(),
    );
    match info.solving {
        Some((iterations, residual, secs)) => {
            // The solve runs on a worker thread: the window keeps drawing meanwhile.
            let max = st.stress.options.max_iterations.max(1);
            ui.add(
                egui::ProgressBar::new(iterations as f32 / max as f32)
                    .text(format!("{iterations} / {max} iterations")),
            );
            ui.horizontal(|ui| {
                let res = if residual.is_finite() {
                    format!("residual {residual:.1e} (tol {:.0e})", st.stress.options.tol)
                } else {
                    "setting up".into()
                };
                ui.label(egui::RichText::new(format!("{res}, {secs:.1} s")).small());
                if ui.button("Cancel").clicked() {
                    st.cancel_requested = true;
                }
            });
        }
        None => {
            if ui
                .button("solve stress at this step")
                .on_hover_text("thermal-mismatch stress of the grid on screen, with the scene's stress step (solved on a worker thread)")
                .clicked()
            {
                st.solve_requested = true;
            }
        }
    }
}

fn materials(ui: &mut egui::Ui, st: &mut ViewState, info: &PanelInfo) {
    ui.strong("Materials");
    egui::Grid::new("materials")
        .num_columns(3)
        .spacing([8.0, 2.0])
        .show(ui, |ui| {
            ui.label("");
            ui.label(egui::RichText::new("show").small());
            ui.label(egui::RichText::new("ghost").small());
            ui.end_row();
            for (id, m) in info.scene.materials.iter().skip(1) {
                if !info.timeline.ever_present(id) {
                    continue;
                }
                let [r, g, b] = m.color;
                ui.horizontal(|ui| {
                    let (rect, _) =
                        ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
                    ui.painter()
                        .rect_filled(rect, 2.0, egui::Color32::from_rgb(r, g, b));
                    ui.label(&m.name);
                });
                let mut shown = !st.hidden.contains(id);
                if ui.checkbox(&mut shown, "").changed() {
                    toggle(&mut st.hidden, id, !shown);
                }
                let mut ghost = st.ghost.contains(id);
                if ui.checkbox(&mut ghost, "").changed() {
                    toggle(&mut st.ghost, id, ghost);
                }
                ui.end_row();
            }
        });
}

fn toggle(set: &mut voxfab::process::params::MaterialSet, id: u8, on: bool) {
    if on {
        set.insert(id);
    } else {
        set.0[usize::from(id) / 32] &= !(1 << (id % 32));
    }
}

fn section(ui: &mut egui::Ui, st: &mut ViewState, dims: [u32; 3]) {
    ui.strong("Cross-section");
    let mut axis = st.section_axis;
    ui.horizontal(|ui| {
        for a in [Axis::X, Axis::Y, Axis::Z] {
            ui.radio_value(&mut axis, a, a.name());
        }
        ui.checkbox(&mut st.cutaway, "cut 3D view");
    });
    st.set_section_axis(axis, dims);
    let max = dims[st.section_axis.index()].saturating_sub(1);
    ui.add(egui::Slider::new(&mut st.section_index, 0..=max).text("voxel"));
}

fn camera(ui: &mut egui::Ui, st: &mut ViewState, fields: &FieldSet) {
    ui.strong("Camera");
    ui.horizontal(|ui| {
        ui.add(
            egui::DragValue::new(&mut st.camera.azimuth_deg)
                .speed(1.0)
                .suffix("° az"),
        );
        ui.add(
            egui::DragValue::new(&mut st.camera.elevation_deg)
                .speed(1.0)
                .range(-89.0..=89.0)
                .suffix("° el"),
        );
        if ui.button("reset").clicked() {
            st.camera = st.home;
        }
    });
    // Deformed shape needs the displacement field of the stress solver.
    ui.add_enabled_ui(fields.displacement.is_some(), |ui| {
        ui.checkbox(&mut st.deformed, "deformed shape")
            .on_disabled_hover_text("needs a displacement field (no stress computed)");
        ui.add(
            egui::Slider::new(&mut st.exaggeration, 1.0..=10000.0)
                .logarithmic(true)
                .text("deformation x"),
        )
        .on_disabled_hover_text("deformed shape: needs a displacement field (no stress computed)");
    });
}

fn picked(ui: &mut egui::Ui, st: &mut ViewState, scene: &Scene) {
    ui.strong("Picked voxel");
    let Some(p) = &st.picked else {
        ui.label(egui::RichText::new("click the 3D view or the section").weak());
        return;
    };
    let [x, y, z] = p.pick.position_um;
    let [i, j, k] = p.pick.cell;
    ui.label(format!("at ({x:.1}, {y:.1}, {z:.1}) µm"));
    ui.label(format!("voxel ({i}, {j}, {k})"));
    let name = scene
        .materials
        .iter()
        .find(|(id, _)| *id == p.pick.material)
        .map_or("?", |(_, m)| m.name.as_str());
    ui.label(format!("material: {name} (id {})", p.pick.material));
    for (name, v) in &p.fields {
        ui.label(format!("{name}: {v:.4}"));
    }
}
