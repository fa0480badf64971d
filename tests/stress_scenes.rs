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
    // On 6 µm blocks, for speed: tests/suspended_bump.rs solves its sibling at 2 µm.
    let scene = Scene::load(&path, &["step.thermal_cycle.coarsen=3".to_string()]).unwrap();
    let out = std::env::temp_dir().join(format!("voxfab-test-{}-conventional", std::process::id()));
    let opts = RunOptions {
        frame_size: [640, 360],
        ..RunOptions::new(&out)
    };
    let r = run_scene(gpu(), &scene, &opts).unwrap();
    let st = r.stress.as_ref().expect("stress solved");
    assert!(
        st.converged && st.residual <= 1e-8,
        "residual {}",
        st.residual
    );
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

#[test]
fn a_full_resolution_stress_step_writes_its_fields_into_result_vti() {
    // Copper film on silicon, solved on the process grid itself.
    let src = r#"
[grid]
size = [16.0, 16.0, 8.0]
voxel = 1.0

[[step]]
op = "substrate"
material = "si"
thickness = 5.0

[[step]]
op = "deposit"
mode = "directional"
material = "cu"
thickness = 1.0

[[step]]
name = "cool"
op = "stress"
delta_t = -100.0
support = "bottom_roller"
symmetry = ["x", "y"]
"#;
    let scene = Scene::parse(src, "film.toml", &[]).unwrap();
    let out = std::env::temp_dir().join(format!("voxfab-test-{}-film", std::process::id()));
    let opts = RunOptions {
        frames: false,
        ..RunOptions::new(&out)
    };
    let r = run_scene(gpu(), &scene, &opts).unwrap();
    let st = r.stress.as_ref().unwrap();
    assert_eq!(st.dims, [16, 16, 8]);
    let vti = std::fs::read(out.join("result.vti")).unwrap();
    let head = String::from_utf8_lossy(&vti[..1200]);
    assert!(
        head.contains(r#"Name="material""#)
            && head.contains(r#"Name="stress" NumberOfComponents="6""#),
        "{head}"
    );
    assert!(
        head.contains(r#"Name="displacement" NumberOfComponents="3""#),
        "{head}"
    );
    // The copper film is in biaxial tension after cooling (it shrinks more than Si).
    let sxx = st
        .box_mean(
            voxfab::stress::VoxelField::Stress(0),
            [0.0, 0.0, 5.0],
            [4.0, 4.0, 6.0],
        )
        .unwrap();
    assert!(sxx > 100.0, "film σxx {sxx} MPa");
    let _ = std::fs::remove_dir_all(&out);
}
