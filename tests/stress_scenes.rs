//! The conventional-bump baseline with its board and thermal cycle: stress outputs,
//! the physics they must show, and the stress frame's pixels.

mod common;

use common::gpu;
use std::path::Path;
use voxfab::run::{RunOptions, run_scene};
use voxfab::scene::Scene;

#[test]
fn conventional_bump_thermal_cycle_solves_and_colours_its_frame() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/conventional_bump.toml");
    let scene = Scene::load(&path, &[]).unwrap();
    let out = std::env::temp_dir().join(format!("voxfab-test-{}-conventional", std::process::id()));
    let opts = RunOptions {
        frame_size: [640, 360],
        ..RunOptions::new(&out)
    };
    let r = run_scene(gpu(), &scene, &opts).unwrap();
    let st = r.stress.as_ref().expect("stress solved");
    assert!(st.residual < 1e-3, "residual {}", st.residual);
    common::assert_board_outshrinks_silicon(st);
    let m = &r.metrics.stress[0];
    // Every material in the stack carries stress; copper (stiff, 17 ppm/K on 2.6 ppm/K
    // silicon) carries the most on average.
    let cu = m.materials["cu"].mean_von_mises_mpa;
    for (name, s) in &m.materials {
        assert!(s.mean_von_mises_mpa > 0.1, "{name}: {s:?}");
        assert!(s.mean_von_mises_mpa <= cu, "{name} above copper: {s:?}");
    }
    // The stress frame colours the section with the colour map: many distinct hues and
    // none of the material palette's flat greys.
    let frame = image::open(r.frames.last().unwrap()).unwrap().to_rgba8();
    let layout = voxfab::render::Layout::new(
        [640, 360],
        &voxfab::stress::coarsen::coarse_spec(&scene.grid, 3),
        scene.view.section_axis,
    );
    let [sx, sy, sw, sh] = layout.section;
    let mut hues = std::collections::BTreeSet::new();
    for k in 0..40 {
        let px = frame.get_pixel(
            (sx + sw * (k as f32 + 0.5) / 40.0) as u32,
            (sy + sh * 0.8) as u32,
        );
        hues.insert((px[0] / 32, px[1] / 32, px[2] / 32));
    }
    assert!(hues.len() >= 4, "colour-mapped section, got {hues:?}");
    let _ = std::fs::remove_dir_all(&out);
}
