//! Every bundled scene builds, and the feature that defines it is measured from the grid.

mod common;

use common::gpu;
use std::path::Path;
use voxfab::output::metrics::Metrics;
use voxfab::run::{RunOptions, run_scene};
use voxfab::scene::Scene;

struct Built {
    scene: Scene,
    g: Vec<u8>,
    metrics: Metrics,
}

impl Built {
    fn id(&self, name: &str) -> u8 {
        self.scene
            .materials
            .id(name)
            .unwrap_or_else(|| panic!("material {name}"))
    }
    /// Material at a point in µm.
    fn at_um(&self, x: f64, y: f64, z: f64) -> u8 {
        let h = self.scene.grid.voxel_um;
        let [nx, ny, _] = self.scene.grid.dims.map(|d| d as usize);
        let (i, j, k) = ((x / h) as usize, (y / h) as usize, (z / h) as usize);
        self.g[i + nx * (j + ny * k)]
    }
    /// Materials up the column at (x, y) µm, run-length encoded as (name, µm).
    fn column(&self, x: f64, y: f64) -> Vec<(String, f64)> {
        let h = self.scene.grid.voxel_um;
        let mut out: Vec<(String, f64)> = Vec::new();
        for k in 0..self.scene.grid.dims[2] {
            let m = self.at_um(x, y, (f64::from(k) + 0.5) * h);
            let name = self.scene.materials.get(m).name.clone();
            match out.last_mut() {
                Some((n, t)) if *n == name => *t += h,
                _ => out.push((name, h)),
            }
        }
        out
    }
    fn connectivity_clean(&self) {
        let c = self
            .metrics
            .connectivity
            .as_ref()
            .expect("the scene has probes");
        assert!(c.shorts.is_empty(), "shorts: {:?}", c.shorts);
        assert!(c.opens.is_empty(), "opens: {:?}", c.opens);
        assert!(
            c.probes.iter().all(|p| p.net.is_some()),
            "every probe sits in a conductor: {:?}",
            c.probes
        );
    }
}

fn build(name: &str, set: &[&str]) -> Built {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenes")
        .join(name);
    let set: Vec<String> = set.iter().map(|s| s.to_string()).collect();
    let scene = Scene::load(&path, &set).unwrap_or_else(|e| panic!("{e}"));
    let out = std::env::temp_dir().join(format!("voxfab-scene-{}-{name}", std::process::id()));
    let opts = RunOptions {
        frames: false,
        ..RunOptions::new(&out)
    };
    let r = run_scene(gpu(), &scene, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
    let _ = std::fs::remove_dir_all(&out);
    Built {
        scene,
        g: r.materials,
        metrics: r.metrics,
    }
}

fn strip_void(col: &[(String, f64)]) -> Vec<(&str, f64)> {
    col.iter()
        .filter(|(n, _)| n != "void")
        .map(|(n, t)| (n.as_str(), *t))
        .collect()
}

#[test]
fn glass_wlcsp_via_plugs_join_balls_to_die_pads() {
    for method in ["eutectic", "acf"] {
        let b = build(
            "glass_wlcsp.toml",
            &[&format!("step.bond_wafer.method={method}")],
        );
        b.connectivity_clean();
        let c = b.metrics.connectivity.as_ref().unwrap();
        assert_eq!(
            c.joined.len(),
            3,
            "{method}: each ball joined to its die pad: {:?}",
            c.joined
        );
        // The plug is copper all the way from the glass's second surface (z = 300 µm) down
        // to the interconnect (z = 196..200 µm).
        for z in (198..300).step_by(4) {
            assert_eq!(
                b.at_um(180.0, 50.0, f64::from(z)),
                b.id("cu"),
                "{method}: plug at z {z}"
            );
        }
        assert_eq!(b.at_um(180.0, 50.0, 302.0), b.id("cu"), "RDL on the plug");
        if method == "acf" {
            assert_eq!(
                b.at_um(150.0, 50.0, 180.0),
                b.id("acf"),
                "ACF fills the gap beside the bump"
            );
        }
        // Diced: the kerf at x = 300 µm is empty top to bottom.
        assert!(b.column(300.0, 100.0).iter().all(|(n, _)| n == "void"));
    }
}

#[test]
fn glass_wlcsp_adhesive_plugs_land_on_the_pads_over_the_scribe_lines() {
    let b = build("glass_wlcsp_adhesive.toml", &[]);
    b.connectivity_clean();
    let col = b.column(256.0, 50.0);
    let col = strip_void(&col);
    // Bottom up: thinned wafer, pad, plug through adhesive and glass, RDL.
    assert_eq!(
        col.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        ["si", "al", "cu"],
        "{col:?}"
    );
    assert_eq!(
        col[2].1,
        300.0 - 192.0 + 4.0,
        "plug 108 µm through adhesive and glass plus 4 µm RDL"
    );
    // The scribe line's silicon was etched away from the wafer's back.
    let scribe = b.column(290.0, 100.0);
    let scribe = strip_void(&scribe);
    assert!(scribe.iter().all(|(n, _)| *n != "si"), "{scribe:?}");
}

#[test]
fn glass_flipchip_underfill_fills_the_gap_and_balls_reach_the_die() {
    let b = build("glass_flipchip.toml", &[]);
    b.connectivity_clean();
    assert_eq!(b.metrics.connectivity.as_ref().unwrap().joined.len(), 2);
    // Every voxel of the die-to-substrate gap (z 116..140 µm) under the die is underfill
    // or a bump or its pads.
    let (uf, bump, cu) = (b.id("underfill"), b.id("sac305"), b.id("cu"));
    let mut gap = 0;
    for x in (222..478).step_by(4) {
        for y in (52..248).step_by(4) {
            for z in (118..140).step_by(4) {
                let m = b.at_um(f64::from(x), f64::from(y), f64::from(z));
                assert!(
                    m == uf || m == bump || m == cu || m == b.id("al"),
                    "gap at ({x}, {y}, {z}) holds {m}"
                );
                gap += usize::from(m == uf);
            }
        }
    }
    assert!(gap > 2000, "underfill voxels in the gap: {gap}");
    let col = b.column(350.0, 150.0);
    let col = strip_void(&col);
    assert_eq!(
        col.last().unwrap().0,
        "cu",
        "heat spreader on the die's back: {col:?}"
    );
}

#[test]
fn glass_wirebond_wires_are_encapsulated_and_join_balls_to_die() {
    let b = build("glass_wirebond.toml", &[]);
    b.connectivity_clean();
    assert_eq!(b.metrics.connectivity.as_ref().unwrap().joined.len(), 2);
    let [nx, ny, nz] = b.scene.grid.dims.map(|d| d as usize);
    let gold = b.id("gold");
    let mut wires = 0;
    for z in 1..nz - 1 {
        for y in 1..ny - 1 {
            for x in 1..nx - 1 {
                let i = x + nx * (y + ny * z);
                if b.g[i] != gold {
                    continue;
                }
                wires += 1;
                for j in [i - 1, i + 1, i - nx, i + nx, i - nx * ny, i + nx * ny] {
                    assert_ne!(
                        b.g[j], 0,
                        "gold voxel {i} touches air: the encapsulant must cover the wires"
                    );
                }
            }
        }
    }
    assert!(wires > 100, "wire voxels {wires}");
}

#[test]
fn compliant_pins_stand_free_over_air_and_reach_their_pads() {
    let b = build("compliant_pin.toml", &[]);
    b.connectivity_clean();
    let c = b.metrics.connectivity.as_ref().unwrap();
    assert_eq!(
        c.joined.len(),
        2,
        "each tip joined to its own pad only: {:?}",
        c.joined
    );
    assert_eq!(
        b.metrics.materials.get("pr_pos"),
        None,
        "sacrificial resist fully removed"
    );
    for x in [120.0, 160.0, 220.0] {
        let col = b.column(x, 35.0);
        // Wafer, then air, then the SU-8 bar and the copper bar on it.
        let names: Vec<&str> = col.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            &names[..5],
            ["si", "void", "su8", "cu", "void"],
            "x {x}: {col:?}"
        );
        assert!(
            col[1].1 >= 20.0,
            "x {x}: at least the lowest block height of air under the pin: {col:?}"
        );
    }
}

#[test]
fn suspended_variants_have_their_defining_layers_under_the_bump() {
    // Column through the bump centre, bottom up, without voids except where stated.
    let cases: [(&str, &[(&str, f64)]); 5] = [
        (
            "suspended_bump_beams.toml",
            &[
                ("si", 40.0),
                ("void", 8.0),
                ("polyimide", 6.0),
                ("cu", 4.0),
                ("sac305", 50.0),
            ],
        ),
        (
            "suspended_bump_sacrificial.toml",
            &[
                ("si", 40.0),
                ("sio2", 8.0),
                ("polyimide", 6.0),
                ("cu", 4.0),
                ("sac305", 50.0),
            ],
        ),
        (
            "suspended_bump_elastic_sacrificial.toml",
            &[
                ("si", 40.0),
                ("elastomer", 4.0),
                ("sio2", 4.0),
                ("polyimide", 6.0),
                ("cu", 4.0),
                ("sac305", 50.0),
            ],
        ),
        (
            "suspended_bump_elastic.toml",
            &[
                ("si", 40.0),
                ("elastomer", 8.0),
                ("polyimide", 6.0),
                ("cu", 4.0),
                ("sac305", 50.0),
            ],
        ),
        (
            "suspended_bump_two_insulators.toml",
            &[("si", 40.0), ("bcb", 6.0), ("cu", 4.0), ("sac305", 50.0)],
        ),
    ];
    for (name, want) in cases {
        let b = build(name, &[]);
        let col = b.column(190.0, 80.0);
        let got: Vec<(&str, f64)> = col
            .iter()
            .map(|(n, t)| (n.as_str(), *t))
            .take(want.len())
            .collect();
        assert_eq!(got, want.to_vec(), "{name}: {col:?}");
        if name.contains("beams") {
            assert_eq!(
                b.at_um(230.0, 80.0, 55.0),
                b.id("cu"),
                "beam 111 towards the free end"
            );
            assert_eq!(
                b.at_um(190.0, 42.0, 55.0),
                b.id("cu"),
                "beam 111 across the portion"
            );
            assert_eq!(b.at_um(230.0, 80.0, 43.0), 0, "air under the beam");
        }
        if name.contains("two_insulators") {
            let away = b.column(100.0, 80.0);
            let away = strip_void(&away);
            assert_eq!(
                away[0..3].iter().map(|(n, _)| *n).collect::<Vec<_>>(),
                ["si", "polyimide", "bcb"],
                "1041 on 103: {away:?}"
            );
        }
    }
}

#[test]
fn conventional_bump_stands_on_bonded_repassivation() {
    let b = build("conventional_bump.toml", &[]);
    let col = b.column(190.0, 80.0);
    let got: Vec<(&str, f64)> = col.iter().map(|(n, t)| (n.as_str(), *t)).take(4).collect();
    assert_eq!(
        got,
        [
            ("si", 40.0),
            ("polyimide", 6.0),
            ("cu", 4.0),
            ("sac305", 50.0)
        ],
        "{col:?}"
    );
    assert_eq!(b.metrics.materials.get("sio2"), None);
}
