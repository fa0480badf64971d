//! Prescribed displacements from scene files (`displace = [...]` in a stress step),
//! through the `voxfab run` binary: closed forms for a bar pulled along x, an affine
//! patch field with a rotation part on all six faces, a thermally loaded block held by
//! displacements instead of a support, and a box that the coarsened grid misses.

use std::path::{Path, PathBuf};
use std::process::Command;
use voxfab::materials::MaterialTable;
use voxfab::stress::element::lame;

fn voxfab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_voxfab"))
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("voxfab-displace-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `voxfab run --no-frames` of `scene` in a scratch directory: the process output and
/// the output directory.
fn run_scene(name: &str, scene: &str) -> (std::process::Output, PathBuf) {
    let dir = scratch(name);
    let file = dir.join("scene.toml");
    std::fs::write(&file, scene).unwrap();
    let out = dir.join("out");
    let o = voxfab()
        .args(["run", "--no-frames", "--out"])
        .arg(&out)
        .arg(&file)
        .output()
        .unwrap();
    (o, out)
}

/// Runs `scene`; the first stress step's metrics.
fn run(name: &str, scene: &str) -> serde_json::Value {
    let (o, out) = run_scene(name, scene);
    assert!(
        o.status.success(),
        "voxfab run failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    // The scratch directory goes once read (a failed run above keeps it to look at).
    let _ = std::fs::remove_dir_all(out.parent().unwrap());
    m["stress"][0].clone()
}

fn probe(m: &serde_json::Value, name: &str) -> f64 {
    m["probes"][name]["mean_mpa"].as_f64().unwrap()
}

fn props(name: &str) -> (f64, f64, f64) {
    let t = MaterialTable::builtin();
    let p = t.get(t.id(name).unwrap());
    (p.e_gpa, p.nu, p.cte_ppm * 1e-6)
}

fn probes(box_um: &str) -> String {
    ["xx", "yy", "zz", "yz", "xz", "xy", "von_mises"]
        .iter()
        .map(|f| format!("[stress_probes.{f}]\nbox = {box_um}\nfield = \"{f}\"\n\n"))
        .collect()
}

fn close(got: f64, want: f64, scale: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-6 * scale,
        "{what}: {got} MPa, closed form {want} MPa"
    );
}

#[test]
fn bar_pulled_along_x_is_uniaxial() {
    // 40 x 10 x 10 µm Cu; x_min held in x, x_max moved 0.04 µm in x (strain 1e-3); three
    // points remove the lateral rigid motion without restraining the contraction.
    let scene = format!(
        "[grid]\nsize = [40.0, 10.0, 10.0]\nvoxel = 1.0\n\n{}\
         [relative_displacements.width]\nfrom = [20.0, 0.0, 5.0]\nto = [20.0, 10.0, 5.0]\n\n\
         [[step]]\nname = \"bar\"\nop = \"substrate\"\nmaterial = \"cu\"\nthickness = 10.0\n\n\
         [[step]]\nname = \"pull\"\nop = \"stress\"\ndelta_t = 0.0\nsupport = \"free\"\n\
         displace = [\n\
           {{ face = \"x_min\", u = [0.0, 0.0, 0.0], dofs = [\"x\"] }},\n\
           {{ face = \"x_max\", u = [0.04, 0.0, 0.0], dofs = [\"x\"] }},\n\
           {{ box = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0], u = [0.0, 0.0, 0.0] }},\n\
           {{ box = [0.0, 10.0, 0.0, 0.0, 10.0, 0.0], u = [0.0, 0.0, 0.0], dofs = [\"z\"] }},\n\
           {{ box = [0.0, 0.0, 10.0, 0.0, 0.0, 10.0], u = [0.0, 0.0, 0.0], dofs = [\"y\"] }},\n\
         ]\n",
        probes("[5.0, 1.0, 1.0, 35.0, 9.0, 9.0]")
    );
    let m = run("bar", &scene);
    assert_eq!(m["converged"], true, "{m}");
    let (e, nu, _) = props("cu");
    let sxx = e * 1e3 * 1e-3;
    close(probe(&m, "xx"), sxx, sxx, "sxx");
    for f in ["yy", "zz", "yz", "xz", "xy"] {
        close(probe(&m, f), 0.0, sxx, f);
    }
    let dy = m["relative_displacements"]["width"]["delta_um"][1]
        .as_f64()
        .unwrap();
    let want = -nu * 1e-3 * 10.0;
    assert!(
        (dy - want).abs() <= 1e-6 * want.abs(),
        "lateral contraction {dy} µm, closed form {want} µm"
    );
    // The metrics and the summary name what was held.
    let held: Vec<u64> = m["displace"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["nodes"].as_u64().unwrap())
        .collect();
    assert_eq!(held, [121, 121, 1, 1, 1]);
    assert_eq!(m["displace"][0]["region"], "x_min");
    assert_eq!(m["displace"][0]["dofs"], "x");
    // Reactions: sigma A = 117 MPa x 100 µm² = 11.7 mN, pulling at x_max, holding at
    // x_min; nothing across the bar.
    let force = |i: usize| -> Vec<f64> {
        m["displace"][i]["force_mn"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    let pull = sxx * 100.0 * 1e-3;
    for (i, sign) in [(0, -1.0), (1, 1.0)] {
        let f = force(i);
        assert!(
            (f[0] - sign * pull).abs() <= 1e-6 * pull
                && f[1].abs() < 1e-6 * pull
                && f[2].abs() < 1e-6 * pull,
            "entry {i}: force {f:?} mN, closed form {} mN along x",
            sign * pull
        );
    }
}

#[test]
fn affine_field_on_all_faces_gives_uniform_stress() {
    // u = u0 + G (X - origin) on the six faces of an Si block: the interior follows the
    // affine field, so the stress is D : sym(G) everywhere; the skew part of G (a small
    // rotation) and u0 carry no stress.
    let g = [
        [1.0e-3, 0.4e-3, -0.3e-3],
        [0.0, -0.5e-3, 0.8e-3],
        [0.5e-3, 0.2e-3, 0.7e-3],
    ];
    let faces: String = ["x_min", "x_max", "y_min", "y_max", "z_min", "z_max"]
        .iter()
        .map(|f| {
            format!(
                "  {{ face = \"{f}\", u = [0.01, -0.02, 0.005], origin = [6.0, 5.0, 4.0], \
                 grad = [[{}, {}, {}], [{}, {}, {}], [{}, {}, {}]] }},\n",
                g[0][0], g[0][1], g[0][2], g[1][0], g[1][1], g[1][2], g[2][0], g[2][1], g[2][2]
            )
        })
        .collect();
    let scene = format!(
        "[grid]\nsize = [12.0, 10.0, 8.0]\nvoxel = 1.0\n\n{}\
         [[step]]\nname = \"block\"\nop = \"substrate\"\nmaterial = \"si\"\nthickness = 8.0\n\n\
         [[step]]\nname = \"patch\"\nop = \"stress\"\ndelta_t = 0.0\nsupport = \"free\"\n\
         displace = [\n{faces}]\n",
        probes("[0.0, 0.0, 0.0, 12.0, 10.0, 8.0]")
    );
    let m = run("patch", &scene);
    assert_eq!(m["converged"], true, "{m}");
    let (e, nu, _) = props("si");
    let (lam, mu) = lame(e, nu);
    let eps = |i: usize, j: usize| 0.5 * (g[i][j] + g[j][i]);
    let tr = eps(0, 0) + eps(1, 1) + eps(2, 2);
    // GPa -> MPa.
    let s = |i: usize, j: usize| 1e3 * (2.0 * mu * eps(i, j) + if i == j { lam * tr } else { 0.0 });
    let scale = s(0, 0).abs().max(s(2, 2).abs());
    for (f, (i, j)) in [
        ("xx", (0, 0)),
        ("yy", (1, 1)),
        ("zz", (2, 2)),
        ("yz", (1, 2)),
        ("xz", (0, 2)),
        ("xy", (0, 1)),
    ] {
        close(probe(&m, f), s(i, j), scale, f);
        // Uniform: the peak equals the mean (to f32 stress-field rounding).
        let max = m["probes"][f]["max_mpa"].as_f64().unwrap();
        assert!(
            max <= s(i, j) + 1e-5 * scale,
            "{f}: peak {max} above the uniform {}",
            s(i, j)
        );
    }
}

#[test]
fn thermal_block_held_by_displacements_is_hydrostatic() {
    // All six faces held at zero by `displace` with support = free: the same as a
    // clamped support, sigma = -E alpha dT / (1 - 2 nu) in every direction.
    let faces: String = ["x_min", "x_max", "y_min", "y_max", "z_min", "z_max"]
        .iter()
        .map(|f| format!("  {{ face = \"{f}\", u = [0.0, 0.0, 0.0] }},\n"))
        .collect();
    let scene = format!(
        "[grid]\nsize = [8.0, 8.0, 8.0]\nvoxel = 2.0\n\n{}\
         [[step]]\nname = \"block\"\nop = \"substrate\"\nmaterial = \"cu\"\nthickness = 8.0\n\n\
         [[step]]\nname = \"cool\"\nop = \"stress\"\ndelta_t = -100.0\nsupport = \"free\"\n\
         displace = [\n{faces}]\n",
        probes("[0.0, 0.0, 0.0, 8.0, 8.0, 8.0]")
    );
    let m = run("thermal", &scene);
    let (e, nu, alpha) = props("cu");
    let want = -e * 1e3 * alpha * -100.0 / (1.0 - 2.0 * nu);
    for f in ["xx", "yy", "zz"] {
        close(probe(&m, f), want, want.abs(), f);
    }
    close(probe(&m, "von_mises"), 0.0, want.abs(), "von Mises");
    // The faces push back with sigma A (64 µm² each), along their outward normals.
    for (i, axis, sign) in [
        (0, 0, -1.0),
        (1, 0, 1.0),
        (2, 1, -1.0),
        (3, 1, 1.0),
        (4, 2, -1.0),
        (5, 2, 1.0),
    ] {
        let f = m["displace"][i]["force_mn"][axis].as_f64().unwrap();
        let r = sign * want * 64.0 * 1e-3;
        assert!(
            (f - r).abs() <= 1e-6 * r.abs(),
            "face {i}: normal force {f} mN, closed form {r} mN"
        );
    }
}

#[test]
fn a_box_between_coarse_nodes_is_an_error() {
    // At coarsen = 2 the nodes sit every 2 µm: a box around x = 1 µm holds none of them.
    let (o, out) = run_scene(
        "coarse",
        "[grid]\nsize = [8.0, 8.0, 8.0]\nvoxel = 1.0\n\n\
         [[step]]\nname = \"block\"\nop = \"substrate\"\nmaterial = \"cu\"\nthickness = 8.0\n\n\
         [[step]]\nname = \"pull\"\nop = \"stress\"\ndelta_t = 0.0\ncoarsen = 2\n\
         displace = [{ box = [1.0, 0.0, 0.0, 1.0, 8.0, 8.0], u = [0.01, 0.0, 0.0] }]\n",
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "the run should fail");
    assert!(
        err.contains("displace entry 1") && err.contains("holds no solid node"),
        "{err}"
    );
    // Nothing half-written: the run stops before it writes its outputs.
    assert!(
        !Path::new(&out).join("metrics.json").exists(),
        "metrics.json written"
    );
    let _ = std::fs::remove_dir_all(out.parent().unwrap());
}
