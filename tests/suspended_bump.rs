//! The bundled seed-003 flow: geometry measured from the grid, and the run's outputs.

mod common;

use common::gpu;
use std::collections::VecDeque;
use std::path::Path;
use voxfab::run::{RunOptions, run_scene};
use voxfab::scene::Scene;

fn out_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("voxfab-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn suspended_portion_floats_over_an_air_gap_and_the_bump_reaches_the_pad() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/suspended_bump.toml");
    let scene = Scene::load(&path, &[]).unwrap();
    let out = out_dir("suspended");
    let opts = RunOptions {
        frame_size: [480, 270],
        ..RunOptions::new(&out)
    };
    let r = run_scene(gpu(), &scene, &opts).unwrap();
    let g = &r.materials;
    let [nx, ny, nz] = scene.grid.dims.map(|d| d as usize);
    let h = scene.grid.voxel_um;
    let id = |n: &str| scene.materials.id(n).unwrap();
    let at = |x: usize, y: usize, z: usize| g[x + nx * (y + ny * z)];

    // Column through the bump centre (190, 80) µm: silicon, then air, then polyimide 102.
    let (cx, cy) = ((190.0 / h) as usize, (80.0 / h) as usize);
    let si_top = (0..nz).take_while(|&z| at(cx, cy, z) == id("si")).count();
    let gap = (si_top..nz).take_while(|&z| at(cx, cy, z) == 0).count();
    assert_eq!(si_top as f64 * h, 40.0, "substrate top");
    assert_eq!(
        gap as f64 * h,
        8.0,
        "air gap under the bump = sacrificial thickness"
    );
    assert_eq!(
        at(cx, cy, si_top + gap),
        id("polyimide"),
        "suspended portion 102 above the gap"
    );
    // The whole released region under portion 102 is empty: no oxide left anywhere.
    assert_eq!(
        g.iter().filter(|&&m| m == id("sio2")).count(),
        0,
        "sacrificial oxide fully removed"
    );
    let released = (60..125)
        .flat_map(|x| (18..62).map(move |y| (x, y)))
        .filter(|&(x, y)| (si_top..si_top + gap).all(|z| at(x, y, z) == 0))
        .count();
    assert_eq!(released, 65 * 44, "air under the whole suspended portion");
    // Solder sits on copper over the suspended portion.
    let bump_bottom = (0..nz).find(|&z| at(cx, cy, z) == id("sac305")).unwrap();
    assert_eq!(at(cx, cy, bump_bottom - 1), id("cu"));

    // Electrical path: bump -> copper line -> aluminium pad through conductor voxels.
    let conductor = |m: u8| m != 0 && scene.materials.get(m).conductor;
    let mut seen = vec![false; g.len()];
    let mut q: VecDeque<usize> = (0..g.len()).filter(|&i| g[i] == id("sac305")).collect();
    for &i in &q {
        seen[i] = true;
    }
    let mut reached_pad = false;
    while let Some(i) = q.pop_front() {
        reached_pad |= g[i] == id("al");
        let (x, y, z) = (i % nx, (i / nx) % ny, i / (nx * ny));
        let n = [
            (x > 0).then(|| i - 1),
            (x + 1 < nx).then(|| i + 1),
            (y > 0).then(|| i - nx),
            (y + 1 < ny).then(|| i + nx),
            (z > 0).then(|| i - nx * ny),
            (z + 1 < nz).then(|| i + nx * ny),
        ];
        for j in n.into_iter().flatten() {
            if !seen[j] && conductor(g[j]) {
                seen[j] = true;
                q.push_back(j);
            }
        }
    }
    assert!(reached_pad, "bump 120 connects to pad 91 through metal");

    // Outputs: one frame per step, metrics and a VTK image.
    assert_eq!(r.frames.len(), scene.steps.len());
    for f in &r.frames {
        let img = image::open(f).unwrap();
        assert_eq!((img.width(), img.height()), (480, 270));
    }
    assert!(out.join("frames/22_release.png").exists());
    assert!(out.join("frames/27_thermal_cycle.png").exists());
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let steps = m["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 27);
    assert_eq!(steps[21]["op"], "etch:strip");
    assert_eq!(steps[21]["name"], "release");
    let oxide_before = steps[20]["materials"]["sio2"]["voxels"].as_u64().unwrap();
    assert_eq!(
        steps[21]["voxels_changed"].as_u64().unwrap(),
        oxide_before,
        "the release removes exactly the oxide"
    );
    assert_eq!(m["grid"]["dims"], serde_json::json!([150, 80, 75]));
    let cu = m["materials"]["cu"]["voxels"].as_u64().unwrap();
    assert_eq!(cu as usize, g.iter().filter(|&&v| v == id("cu")).count());
    assert!((m["materials"]["cu"]["volume_um3"].as_f64().unwrap() - cu as f64 * 8.0).abs() < 1e-6);

    let vti = std::fs::read(out.join("result.vti")).unwrap();
    let text = String::from_utf8_lossy(&vti[..600]);
    assert!(
        text.contains(r#"WholeExtent="0 150 0 80 0 75""#) && text.contains(r#"Spacing="2 2 2""#),
        "{text}"
    );
    let start = vti
        .windows(2)
        .position(|w| w == b"\n   _".get(3..5).unwrap())
        .unwrap()
        + 2;
    // With the stress solved on the process grid, result.vti carries its fields too:
    // find the material array by its offset in the header.
    let header = String::from_utf8_lossy(&vti[..start]);
    let at = header.find(r#"Name="material""#).expect("a material array");
    let off_key = r#"offset=""#;
    let o = at + header[at..].find(off_key).unwrap() + off_key.len();
    let offset: usize = header[o..o + header[o..].find('"').unwrap()]
        .parse()
        .unwrap();
    let start = start + offset;
    let n = u64::from_le_bytes(vti[start..start + 8].try_into().unwrap());
    assert_eq!(n as usize, g.len());
    assert_eq!(
        &vti[start + 8..start + 8 + g.len()],
        &g[..],
        "material array round-trips"
    );

    // Thermal cycling: the stress solve ran and wrote its fields.
    let st = r.stress.as_ref().expect("the scene solves stress");
    assert_eq!(st.dims, [150, 80, 75], "solved on the 2 µm process voxels");
    assert!(
        st.converged && st.residual <= 1e-8,
        "multigrid CG reaches the default tol: {} after {} iterations",
        st.residual,
        st.iterations
    );
    let ms = &m["stress"][0];
    assert_eq!(ms["delta_t_k"], -165.0);
    assert!(ms["probes"]["bump_joint"]["mean_mpa"].as_f64().unwrap() > 1.0);
    let vti = std::fs::read(out.join("stress.vti")).unwrap();
    let head = String::from_utf8_lossy(&vti[..1200]);
    for want in [
        r#"Name="stress" NumberOfComponents="6""#,
        r#"Name="von_mises""#,
        r#"Name="displacement" NumberOfComponents="3""#,
        r#"Spacing="2 2 2""#,
    ] {
        assert!(head.contains(want), "stress.vti lacks {want}: {head}");
    }
    common::assert_board_outshrinks_silicon(st);
    let _ = std::fs::remove_dir_all(&out);
}
