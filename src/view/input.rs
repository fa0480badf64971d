//! Keyboard shortcuts and the mouse gestures on the frame image.

use super::state::ViewState;

/// Keyboard shortcuts (egui sees the keys first; there are no text fields to steal them).
pub fn keys(ui: &egui::Ui, st: &mut ViewState) {
    use egui::Key;
    let (play, back, fwd, shot, home) = ui.input(|i| {
        (
            i.key_pressed(Key::Space),
            i.key_pressed(Key::ArrowLeft),
            i.key_pressed(Key::ArrowRight),
            i.key_pressed(Key::P) || i.key_pressed(Key::F12),
            i.key_pressed(Key::Home),
        )
    });
    if play {
        st.toggle_play();
    }
    if back {
        st.seek(-1);
    }
    if fwd {
        st.seek(1);
    }
    if home {
        st.camera = st.home;
    }
    st.screenshot_requested |= shot;
}

/// The frame image: left drag orbits, right or middle drag pans, the wheel zooms, a
/// click picks. Reports the pixel size the image wants and where a click landed
/// (fractions of the image's width and height).
pub fn frame_image(
    ui: &mut egui::Ui,
    st: &mut ViewState,
    tex: Option<egui::TextureId>,
    dims: [u32; 3],
    want: &mut [u32; 2],
    click: &mut Option<[f32; 2]>,
) {
    let rect = ui.available_rect_before_wrap();
    let ppp = ui.ctx().pixels_per_point();
    *want = [
        (rect.width() * ppp).round().max(1.0) as u32,
        (rect.height() * ppp).round().max(1.0) as u32,
    ];
    let sense = egui::Sense::click_and_drag();
    let response = match tex {
        Some(id) => ui.put(rect, egui::Image::new((id, rect.size())).sense(sense)),
        None => ui.allocate_rect(rect, sense),
    };
    let d = response.drag_delta() * ppp;
    if response.dragged_by(egui::PointerButton::Primary) {
        st.camera.orbit(d.x, d.y);
    } else if response.dragged_by(egui::PointerButton::Secondary)
        || response.dragged_by(egui::PointerButton::Middle)
    {
        st.camera.pan_by(dims, want[1] as f32, d.x, d.y);
    }
    let mut scrolled = false;
    if response.hovered() {
        let scroll = ui.input(|i| i.smooth_scroll_delta.y);
        if scroll != 0.0 {
            st.camera.zoom_by(scroll / 40.0);
            scrolled = true;
        }
    }
    if response.clicked()
        && let Some(p) = response.interact_pointer_pos()
    {
        let local = (p - rect.min) / rect.size();
        *click = Some([local.x, local.y]);
    }
    // While the camera moves, draw at half resolution (a quarter of the rays): keeps a
    // CPU adapter responsive; the full-size frame follows as soon as the motion stops.
    if response.dragged() || scrolled {
        *want = want.map(|w| (w / 2).max(1));
    }
}
