//! What a packaging engineer reads: the stress summary and its warning, metrics.json in
//! the scene's own names with units, warpage and relative displacements against closed
//! forms, mask inversion, "did you mean" hints, the generated materials table.

mod common;

use common::gpu;
use voxfab::output::report::{convergence_warning, stress_summary};
use voxfab::run::{RunOptions, run_scene};
use voxfab::scene::Scene;

/// A free copper bar 10 x 4 x 4 µm heated by 100 K, with a probe and a point pair.
const BAR: &str = r#"
[grid]
size = [10.0, 4.0, 4.0]
voxel = 1.0

[stress_probes.middle]
box = [3.0, 0.0, 0.0, 7.0, 4.0, 4.0]

[relative_displacements.ends]
from = [0.0, 2.0, 2.0]
to = [10.0, 2.0, 2.0]

[[step]]
op = "substrate"
material = "cu"
thickness = 4.0

[[step]]
name = "heat"
op = "stress"
delta_t = 100.0
support = "free"
"#;

fn run(src: &str, name: &str, overrides: &[String]) -> voxfab::run::RunOutput {
    let scene = Scene::parse(src, name, overrides).unwrap();
    let out = std::env::temp_dir().join(format!("voxfab-report-{}-{name}", std::process::id()));
    let opts = RunOptions {
        frames: false,
        ..RunOptions::new(&out)
    };
    let r = run_scene(gpu(), &scene, &opts).unwrap();
    let _ = std::fs::remove_dir_all(&out);
    r
}

#[test]
fn free_bar_reports_its_expansion_no_warpage_and_scene_names() {
    let r = run(BAR, "bar.toml", &[]);
    let m = &r.metrics.stress[0];
    assert!(m.converged);
    // Free thermal expansion: u(to) - u(from) = alpha dT L along x, 0 across.
    let d = m.relative_displacements["ends"].delta_um;
    let want = 17e-6 * 100.0 * 10.0;
    assert!((d[0] - want).abs() < 1e-6 * want, "Δux {} vs {want}", d[0]);
    assert!(d[1].abs() < 1e-9 && d[2].abs() < 1e-9, "{d:?}");
    // A uniformly expanding body stays flat: no warpage about the best-fit plane.
    for side in ["top", "bottom"] {
        let w = &m.warpage[side];
        assert_eq!(w.nodes, 11 * 5, "{side}");
        assert!(w.warpage_um.abs() < 1e-9, "{side}: {}", w.warpage_um);
    }
    // The scene's own words, element and voxel counts named apart.
    assert_eq!(m.support, "free");
    assert_eq!(m.probes["middle"].field, "von_mises");
    let cu = &m.materials["cu"];
    assert_eq!(cu.elements, 160);
    assert_eq!(cu.process_voxels, 160);
    assert!(
        cu.peak_von_mises_mpa < 1e-3,
        "stress-free: {}",
        cu.peak_von_mises_mpa
    );
    let json = serde_json::to_string(&r.metrics).unwrap();
    for key in [
        "\"element_um\"",
        "\"p99_von_mises_mpa\"",
        "\"max_at_um\"",
        "\"warpage_um\"",
    ] {
        assert!(json.contains(key), "metrics.json lacks {key}");
    }
    assert!(!json.contains("BottomRoller") && !json.contains("VonMises"));
    // The summary says what was reached against what was asked, and warns of nothing.
    let text = stress_summary(m);
    assert!(
        text.contains("converged") && text.contains("tol 1e-8"),
        "{text}"
    );
    assert!(text.contains("mesh-dependent"), "{text}");
    assert!(text.contains("relative displacement ends"), "{text}");
    assert!(!text.contains("NOT CONVERGED"), "{text}");
    assert!(r.metrics.warnings.is_empty(), "{:?}", r.metrics.warnings);
}

#[test]
fn an_unconverged_solve_warns_with_what_to_do() {
    // A bimaterial stack cut off after one iteration.
    let src = BAR.replace("thickness = 4.0", "thickness = 2.0\n\n[[step]]\nop = \"deposit\"\nmode = \"directional\"\nmaterial = \"polyimide\"\nthickness = 2.0");
    let r = run(
        &src,
        "cut.toml",
        &["step.heat.max_iterations=1".to_string()],
    );
    let m = &r.metrics.stress[0];
    assert!(!m.converged);
    let w = convergence_warning(m).expect("a warning");
    assert!(
        w.starts_with("WARNING: stress step `heat` did not converge"),
        "{w}"
    );
    assert!(w.contains("max_iterations"), "{w}");
    assert!(stress_summary(m).contains("NOT CONVERGED"));
    // The same warning, located, in metrics.json.
    assert!(
        r.metrics
            .warnings
            .iter()
            .any(|x| x.starts_with("cut.toml:") && x.ends_with(&w)),
        "{:?}",
        r.metrics.warnings
    );
}

#[test]
fn an_inverted_mask_patterns_the_complement() {
    let src = |mask: &str| {
        format!(
            r#"
[grid]
size = [20.0, 20.0, 4.0]
voxel = 1.0

[masks.pad]
rect = [5.0, 5.0, 15.0, 10.0]

[[step]]
op = "substrate"
material = "si"
thickness = 1.0

[[step]]
op = "deposit"
mode = "directional"
material = "cu"
thickness = 1.0
mask = "{mask}"
"#
        )
    };
    let cu = |mask: &str| {
        let r = run(&src(mask), &format!("mask{}.toml", mask.len()), &[]);
        r.metrics.materials["cu"].voxels
    };
    let (inside, outside) = (cu("pad"), cu("!pad"));
    assert_eq!(inside, 10 * 5);
    assert_eq!(inside + outside, 20 * 20, "the two cover the plane once");
    // A mask over nothing changes no voxel, and says so with its line.
    let nothing = src("pad").replace(
        "rect = [5.0, 5.0, 15.0, 10.0]",
        "rect = [5.6, 5.6, 5.9, 5.9]",
    );
    let r = run(&nothing, "nothing.toml", &[]);
    assert!(
        r.metrics
            .warnings
            .iter()
            .any(|w| w.starts_with("nothing.toml:")
                && w.contains(": step 2 `")
                && w.contains("changed no voxel")),
        "{:?}",
        r.metrics.warnings
    );
    let e = Scene::parse(&src("!pda"), "typo.toml", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("did you mean `pad`"), "{e}");
}

#[test]
fn unknown_names_get_a_suggestion() {
    let e = Scene::parse(&BAR.replace("\"cu\"", "\"cuu\""), "m.toml", &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unknown material `cuu` (did you mean `cu`?)"),
        "{e}"
    );
    let e = Scene::parse(&BAR.replace("\"substrate\"", "\"substrat\""), "o.toml", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("did you mean `substrate`?"), "{e}");
    // Nothing close: no guess.
    let e = Scene::parse(&BAR.replace("\"cu\"", "\"unobtainium\""), "n.toml", &[])
        .unwrap_err()
        .to_string();
    assert!(!e.contains("did you mean"), "{e}");
}

#[test]
fn the_materials_doc_is_the_generated_table() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/MATERIALS.md")).unwrap();
    let table = voxfab::materials::builtin_markdown();
    assert!(
        doc.contains(&table),
        "docs/MATERIALS.md is stale: regenerate with `voxfab materials`"
    );
    assert!(
        table.contains("| si | silicon die / wafer | 130 | 0.28 | 2.6 |"),
        "{table}"
    );
}

#[test]
fn nets_are_named_by_their_probes_labels() {
    let src = r#"
[grid]
size = [20.0, 10.0, 4.0]
voxel = 1.0

[masks.pads]
shapes = [{ rect = [1.0, 1.0, 8.0, 9.0] }, { rect = [12.0, 1.0, 19.0, 9.0] }]

[probes.a]
at = [3.5, 5.5, 1.5]
net = "VDD"

[probes.a2]
at = [6.5, 5.5, 1.5]

[probes.b]
at = [15.5, 5.5, 1.5]
net = "GND"

[probes.air]
at = [10.5, 5.5, 3.5]

[[step]]
op = "substrate"
material = "si"
thickness = 1.0

[[step]]
op = "deposit"
mode = "directional"
material = "cu"
thickness = 1.0
mask = "pads"
"#;
    let r = run(src, "nets.toml", &[]);
    let c = r.metrics.connectivity.as_ref().unwrap();
    let name = |p: &str| {
        c.probes
            .iter()
            .find(|q| q.name == p)
            .unwrap()
            .net_name
            .clone()
    };
    assert_eq!(name("a").as_deref(), Some("VDD"));
    assert_eq!(
        name("a2").as_deref(),
        Some("VDD"),
        "named by its net's labelled probe"
    );
    assert_eq!(name("b").as_deref(), Some("GND"));
    assert_eq!(name("air"), None, "not in a conductor");
}

#[test]
fn check_prints_each_steps_resolved_geometry() {
    let src = BAR
        .replace("voxel = 1.0", "voxel = 2.5")
        .replace("size = [10.0, 4.0, 4.0]", "size = [10.0, 5.0, 10.0]")
        .replace("thickness = 4.0", "thickness = 5.0");
    let path = std::env::temp_dir().join(format!("voxfab-geometry-{}.toml", std::process::id()));
    std::fs::write(&path, &src).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_voxfab"))
        .arg("check")
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    // 5 µm on 2.5 µm voxels: 2 whole voxels, shown before anything runs.
    assert!(text.contains("thickness 2 voxels = 5.00 µm"), "{text}");
    assert!(
        text.contains("elements of 1 voxel(s) = 2.50 µm, tol 1e-8"),
        "{text}"
    );
}

#[test]
fn the_stress_colour_bar_clips_at_p99_and_says_so() {
    // Cu on Si, cooled: corner peaks above the bulk film stress.
    let src = BAR
        .replace("thickness = 4.0", "thickness = 2.0\n\n[[step]]\nop = \"deposit\"\nmode = \"directional\"\nmaterial = \"si\"\nthickness = 2.0")
        .replace("delta_t = 100.0", "delta_t = -100.0");
    let r = run(&src, "bar2.toml", &[]);
    let st = r.stress.as_ref().unwrap();
    let (range, note) = voxfab::run::stress_colour_bar(st);
    let mut vm: Vec<f32> = st
        .von_mises
        .iter()
        .zip(&st.material)
        .filter(|(_, m)| **m != 0)
        .map(|(v, _)| *v)
        .collect();
    vm.sort_by(f32::total_cmp);
    let p99 = vm[((vm.len() - 1) as f64 * 0.99) as usize];
    let max = *vm.last().unwrap();
    assert_eq!(range, [0.0, p99]);
    assert!(max > p99, "the field has peaks above p99");
    assert_eq!(
        note,
        format!("bar clipped at p99 = {p99:.1}; max {max:.1} MPa")
    );
}

#[test]
fn the_section_caption_names_the_layer_the_plane_snapped_to() {
    let src = BAR
        .replace("voxel = 1.0", "voxel = 2.0")
        .replace("size = [10.0, 4.0, 4.0]", "size = [100.0, 100.0, 4.0]")
        .replace(
            "[[step]]\nop = \"substrate\"",
            "[view]\nsection = { axis = \"y\", at = 50.0 }\n\n[[step]]\nop = \"substrate\"",
        );
    let scene = Scene::parse(&src, "section.toml", &[]).unwrap();
    let idx = scene.view.section_index;
    let label = voxfab::render::section_label(scene.view.section_axis, idx, &scene.grid);
    assert_eq!(label, "section y: voxel layer 25 = 50.0-52.0 µm");
    // On 6 µm stress blocks the same plane is the thicker layer that holds 50 µm.
    let coarse = voxfab::stress::coarsen::coarse_spec(&scene.grid, 3);
    let label = voxfab::render::section_label(scene.view.section_axis, idx / 3, &coarse);
    assert_eq!(label, "section y: voxel layer 8 = 48.0-54.0 µm");
}
