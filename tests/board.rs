//! The board-level global–local study: the quarter global model against the free
//! die/board mismatch (closed form), the submodel's boundary interpolation, the whole
//! chain against a monolithic fine solve of a small array, and the [board] checks.

mod common;

use common::gpu;
use voxfab::board::calibrate::{self, CellStiffness};
use voxfab::board::cell::CellGeometry;
use voxfab::board::layout::Stack;
use voxfab::board::local::{self, GlobalField, JointFigures};
use voxfab::board::{global, study};
use voxfab::grid::GpuGrid;
use voxfab::materials::Material;
use voxfab::scene::Scene;
use voxfab::stress::{
    BoundaryConditions, SolveOptions, StressResult, StressSolver, Support, ThermalLoad,
};

fn mat(name: &str, e: f64, nu: f64, cte: f64) -> Material {
    Material {
        name: name.into(),
        description: String::new(),
        e_gpa: e,
        nu,
        cte_ppm: cte,
        color: [128, 128, 128],
        conductor: false,
    }
}

/// A tiny design: 40 µm pitch, Cu pads and a 16 µm SAC305 column joint, the cell
/// holding the whole die (40 µm) and board (40 µm), so only its sides are cut faces.
const CELL: &str = r#"
title = "tiny joint cell"
[grid]
size = [40.0, 40.0, 105.0]
voxel = 2.5
[view]
section = { axis = "y", at = 20.0 }
[board]
die = [240.0, 240.0]
die_thickness = 40.0
board_thickness = 40.0
overhang = 20.0
global_voxel = 10.0
column = 20.0
layer = 5.0
[masks.pad]
circle = [20.0, 20.0, 9.0]
[masks.bump]
circle = [20.0, 20.0, 8.0]
[[step]]
op = "substrate"
material = "si"
thickness = 40.0
[[step]]
op = "deposit"
mode = "directional"
material = "cu"
thickness = 2.5
mask = "pad"
[[step]]
name = "bump"
op = "deposit"
mode = "directional"
material = "sac305"
thickness = 15.0
mask = "bump"
[[step]]
part = "board"
op = "substrate"
material = "fr4"
thickness = 40.0
[[step]]
part = "board"
name = "board_pad"
op = "deposit"
mode = "directional"
material = "cu"
thickness = 2.5
mask = "pad"
[[step]]
part = "board"
op = "flip"
[[step]]
op = "bond"
place = "board"
method = "eutectic"
[[step]]
name = "cycle"
op = "stress"
delta_t = -165.0
support = "free"
"#;

#[test]
fn global_shift_follows_the_free_mismatch_for_a_stiff_die_on_a_stiff_board() {
    // Rigid-ish die and board on soft columns: each joint's interconnect shift is the
    // free expansion mismatch Δα·ΔT·DNP (DOMAIN.md), radial, at every joint.
    let g = gpu();
    let (da, dt) = (16.0 - 2.6, -165.0);
    let spec_scene = Scene::parse(CELL, "cell.toml", &[]).unwrap();
    let spec = spec_scene.board.clone().unwrap();
    let st = Stack {
        title: "closed form".into(),
        size: [140.0, 140.0, 100.0],
        voxel: 10.0,
        die_rect: [0.0, 0.0, 120.0, 120.0],
        die_z: [0.0, 40.0],
        columns: spec.sites().iter().map(|s| s.centre).collect(),
        column_side: [20.0, 20.0],
        column_z: [40.0, 60.0],
        board_z: [60.0, 100.0],
        die: mat("stiff_die", 2000.0, 0.3, 2.6),
        board: mat("stiff_board", 2000.0, 0.3, 16.0),
        column: mat("joint_eq", 2.0, 0.3, 20.0),
        extra: vec![],
        column_material: vec![],
        delta_t: dt,
        quarter: true,
        tol: 1e-9,
        max_iterations: 1000,
    };
    let (scene, engine) = calibrate::build(g, &st, "closed_form.toml").unwrap();
    let step = scene.steps.last().unwrap();
    let solved = engine
        .solve_stress(&scene, step, step.kind.stress().unwrap())
        .unwrap();
    assert!(solved.result.converged);
    let joints = global::joints(&spec, &st, &global::column_ids(&scene), &solved.result);
    assert_eq!(joints.len(), 9);
    for j in &joints {
        let expect = da * 1e-6 * dt.abs() * j.dnp_um;
        let rel = (j.pad_shift_um - expect).abs() / expect;
        assert!(
            rel < 0.02,
            "joint {:?} DNP {:.0}: shift {:.5} µm vs Δα·ΔT·DNP {expect:.5} ({:.1} %)",
            j.index,
            j.dnp_um,
            j.pad_shift_um,
            rel * 100.0
        );
        // Cooling: the board shrinks more, so its pad moves towards the centre.
        let d = j.pad_shift_xyz_um;
        assert!(
            d[0] * j.centre_um[0] <= 0.0 && d[1] * j.centre_um[1] <= 0.0,
            "{d:?}"
        );
    }
}

fn fake_result(dims: [u32; 3], h: f64, u: impl Fn([f64; 3]) -> [f64; 3]) -> StressResult {
    let nodes = ((dims[0] + 1) * (dims[1] + 1) * (dims[2] + 1)) as usize;
    let mut d = Vec::with_capacity(nodes);
    for k in 0..=dims[2] {
        for j in 0..=dims[1] {
            for i in 0..=dims[0] {
                d.push(u([i, j, k].map(|v| f64::from(v) * h)));
            }
        }
    }
    let voxels = (dims[0] * dims[1] * dims[2]) as usize;
    StressResult {
        dims,
        voxel_um: h,
        material: vec![1; voxels],
        stress: vec![[0.0; 6]; voxels],
        von_mises: vec![0.0; voxels],
        max_principal: vec![0.0; voxels],
        displacement: d.iter().map(|v| v.map(|x| x as f32)).collect(),
        displacement_f64: d,
        iterations: 0,
        residual: 0.0,
        converged: true,
        stalled: false,
        solve_ms: 0.0,
        ms: 0.0,
        reactions: Vec::new(),
    }
}

#[test]
fn cut_face_values_interpolate_the_global_field_and_mirror_through_symmetry_planes() {
    // An affine field (what trilinear shape functions reproduce exactly) that is
    // symmetric about x = 0 and y = 0 in the sense of the quarter model: ux odd in x,
    // uy odd in y, uz even in both.
    let a = 1e-3;
    let field = |p: [f64; 3]| [a * p[0], -2.0 * a * p[1], 0.5 * a * p[2] + 0.1];
    let r = fake_result([7, 5, 4], 10.0, field);
    let gf = GlobalField { r: &r, voxel: 10.0 };
    for p in [
        [3.3, 7.1, 2.2],
        [55.0, 41.9, 33.3],
        [-12.5, 20.0, 5.0],
        [8.0, -31.0, 17.0],
    ] {
        let got = gf.at(p);
        let want = field(p);
        for c in 0..3 {
            assert!(
                (got[c] - want[c]).abs() < 1e-12,
                "{p:?}: {got:?} vs {want:?}"
            );
        }
    }
}

/// The corner figures two solves are compared on: (name, a's value, b's value).
fn corner_figures(a: &JointFigures, b: &JointFigures) -> [(&'static str, f64, f64); 5] {
    [
        (
            "die-side von Mises",
            a.die_side.von_mises_mpa,
            b.die_side.von_mises_mpa,
        ),
        (
            "board-side von Mises",
            a.board_side.von_mises_mpa,
            b.board_side.von_mises_mpa,
        ),
        ("die-side shear", a.die_side.shear_mpa, b.die_side.shear_mpa),
        (
            "board-side shear",
            a.board_side.shear_mpa,
            b.board_side.shear_mpa,
        ),
        ("solder shift", a.pad_shift_um, b.pad_shift_um),
    ]
}

fn sub_result(r: &StressResult, lo: [u32; 2], n: [u32; 2]) -> StressResult {
    let nz = r.dims[2];
    let dims = [n[0], n[1], nz];
    let mut out = fake_result(dims, r.voxel_um, |_| [0.0; 3]);
    for k in 0..nz {
        for j in 0..n[1] {
            for i in 0..n[0] {
                let s = r.voxel_index(lo[0] + i, lo[1] + j, k);
                let d = out.voxel_index(i, j, k);
                out.material[d] = r.material[s];
                out.stress[d] = r.stress[s];
                out.von_mises[d] = r.von_mises[s];
            }
        }
    }
    for k in 0..=nz {
        for j in 0..=n[1] {
            for i in 0..=n[0] {
                let s = r.node_index(lo[0] + i, lo[1] + j, k);
                let d = out.node_index(i, j, k);
                out.displacement_f64[d] = r.displacement_f64[s];
            }
        }
    }
    out
}

#[test]
fn global_local_matches_a_monolithic_fine_solve_of_a_small_array() {
    // A 6 x 6 array (quarter 3 x 3) solved twice: global–local (5 µm global model with
    // calibrated columns, 2.5 µm submodel at the corner) and monolithic (every joint
    // at 2.5 µm in one quarter model, built by tiling the processed cell). The corner
    // joint's figures agree within 5 %.
    let g = gpu();
    // Global voxel 5 µm: eight through the die. At 10 µm (four through the die, whose
    // bending trilinear voxels then over-stiffen) the figures are 4–5 % high; the
    // error halves with the global voxel (docs/BOARD.md).
    let scene = Scene::parse(CELL, "cell.toml", &["board.global_voxel=5".into()]).unwrap();
    let dir = std::env::temp_dir().join(format!("voxfab-board-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (s, view) = study(g, &scene, &dir, &mut |_| {}).unwrap();
    let corner = s.corner().unwrap();
    assert_eq!(corner.index, [2, 2]);
    assert!(s.global.converged && corner.solve.converged);
    eprintln!(
        "calibration {:?}\nglobal {:?}\ncorner {:#?}",
        s.calibration, s.global, corner
    );
    let view = view.unwrap();
    let spec = scene.board.clone().unwrap();
    let cell = CellGeometry::measure(
        &scene,
        &spec,
        view.grid.spec.dims,
        view.grid.spec.voxel_um,
        view.grid.read_materials(g),
    )
    .unwrap();

    // The monolithic quarter: cells tiled over the die, the board alone beyond it.
    let [cx, cy, cz] = cell.dims;
    let h = cell.voxel;
    let n = [56u32, 56, cz];
    let die_cells = 3;
    let mut ids = vec![0u8; (n[0] * n[1] * n[2]) as usize];
    for k in 0..n[2] {
        for j in 0..n[1] {
            for i in 0..n[0] {
                let src = cell.ids[cell.voxel_index(i % cx, j % cy, k)];
                let inside = i < die_cells * cx && j < die_cells * cy;
                let keep = inside || (src == spec.board_material && k >= cell.board_bottom);
                if keep {
                    ids[(i + n[0] * (j + n[1] * k)) as usize] = src;
                }
            }
        }
    }
    let mspec = voxfab::scene::GridSpec {
        dims: n,
        voxel_um: h,
    };
    let grid = GpuGrid::new(g, &mspec).unwrap();
    grid.write_materials(g, &ids);
    let mut solver = StressSolver::new(g, &grid, &scene.materials).unwrap();
    let mono = solver
        .solve(
            &ThermalLoad { delta_t: -165.0 },
            &BoundaryConditions::new(Support::Free).with_symmetry(true, true),
            &SolveOptions::default(),
        )
        .unwrap();
    assert!(mono.converged, "monolithic residual {}", mono.residual);
    let sub = sub_result(&mono, [2 * cx, 2 * cy], [cx, cy]);
    let m = local::figures(&cell, &spec, &scene.materials, &sub);
    let l = &corner.figures;
    eprintln!("monolithic corner {m:#?}");
    let mut worst: Vec<String> = Vec::new();
    let mut close = |what: &str, a: f64, b: f64| {
        let rel = (a - b).abs() / b.abs();
        let line = format!(
            "{what}: global–local {a:.4} vs monolithic {b:.4} ({:.1} %)",
            rel * 100.0
        );
        eprintln!("{line}");
        if rel >= 0.05 {
            worst.push(line);
        }
    };
    for (what, a, b) in corner_figures(l, &m) {
        close(what, a, b);
    }
    // The calibration reproduces the cell's plate stiffness in shear.
    let c: &CellStiffness = &s.calibration.global;
    close(
        "cell shear stiffness",
        c.shear(),
        s.calibration.local.shear(),
    );
    assert!(worst.is_empty(), "{worst:#?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn board_table_errors_name_the_line_and_the_rule() {
    let with = |from: &str, to: &str| CELL.replacen(from, to, 1);
    let cases = [
        (
            with("global_voxel = 10.0", "global_voxel = 7.0"),
            "whole multiple of the cell's voxel",
        ),
        (
            with("size = [40.0, 40.0, 105.0]", "size = [40.0, 50.0, 105.0]"),
            "one pitch square",
        ),
        (
            with("die_thickness = 40.0", "die_thickness = 45.0"),
            "die_thickness = 45 µm must be a whole multiple of 10 µm",
        ),
        (
            with("column = 20.0", "column = 40.0"),
            "narrower than the pitch",
        ),
        (
            with("layer = 5.0", "solder = \"sac350\"\nlayer = 5.0"),
            "did you mean `sac305`",
        ),
        (
            with(
                "die = [240.0, 240.0]",
                "die = [240.0, 240.0]\njoints = [9, 6]",
            ),
            "do not fit",
        ),
        (
            with("overhang = 20.0", "overhang = -20.0"),
            "positive length",
        ),
    ];
    for (src, want) in cases {
        let e = Scene::parse(&src, "cell.toml", &[])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("cell.toml:"), "{e}");
        assert!(e.contains(want), "{e} lacks {want:?}");
    }
}

#[test]
fn corner_figures_barely_move_when_the_cut_faces_move_from_half_to_one_pitch_away() {
    // St-Venant check of the submodel's cut faces in the die and the board: the tiny
    // design on an 80 µm die and an 80 µm board, its cell holding 20 µm (½ pitch) or
    // 40 µm (1 pitch) of each, so the bottom and top cut faces lie ½ or 1 pitch from
    // the joint. The corner figures change by less than 3 %.
    let g = gpu();
    let cell = |slab: f64| {
        let src = CELL
            .replace("die_thickness = 40.0", "die_thickness = 80.0")
            .replace("board_thickness = 40.0", "board_thickness = 80.0")
            .replace(
                "size = [40.0, 40.0, 105.0]",
                &format!("size = [40.0, 40.0, {:?}]", 2.0 * slab + 25.0),
            )
            .replace(
                "material = \"si\"\nthickness = 40.0",
                &format!("material = \"si\"\nthickness = {slab:?}"),
            )
            .replace(
                "material = \"fr4\"\nthickness = 40.0",
                &format!("material = \"fr4\"\nthickness = {slab:?}"),
            );
        Scene::parse(&src, "cell.toml", &[]).unwrap()
    };
    let dir = std::env::temp_dir().join(format!("voxfab-board-cut-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, _) = study(g, &cell(20.0), &dir, &mut |_| {}).unwrap();
    let (b, _) = study(g, &cell(40.0), &dir, &mut |_| {}).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!((a.cell_die_um, b.cell_die_um), (20.0, 40.0));
    assert_eq!((a.cell_board_um, b.cell_board_um), (20.0, 40.0));
    let (ca, cb) = (a.corner().unwrap(), b.corner().unwrap());
    let mut bad = Vec::new();
    for (what, x, y) in corner_figures(&ca.figures, &cb.figures) {
        let rel = (x - y).abs() / y.abs();
        eprintln!(
            "{what}: cut ½ pitch away {x:.4}, 1 pitch away {y:.4} ({:.2} %)",
            rel * 100.0
        );
        if rel >= 0.03 {
            bad.push(what);
        }
    }
    assert!(bad.is_empty(), "{bad:?}");
}

#[test]
fn a_sweep_of_a_pitch_cell_tabulates_its_corner_joint() {
    // `voxfab sweep` on a scene with [board] runs the board-level study of every
    // variant: the corner joint's figures are columns of results.csv, and a taller
    // joint (more solder between the same die and board) changes them.
    let dir = std::env::temp_dir().join(format!("voxfab-board-sweep-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let scene = dir.join("cell.toml");
    std::fs::write(&scene, CELL).unwrap();
    let out = dir.join("sweep");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_voxfab"))
        .args([
            "sweep",
            scene.to_str().unwrap(),
            "--vary",
            "step.bump.thickness=10,15",
        ])
        .args(["--out", out.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    // Cells may be quoted (lists, errors): split outside quotes only.
    let split = |l: &str| -> Vec<String> {
        let (mut cells, mut cur, mut quoted) = (Vec::new(), String::new(), false);
        for c in l.chars() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => cells.push(std::mem::take(&mut cur)),
                _ => cur.push(c),
            }
        }
        cells.push(cur);
        cells
    };
    let mut lines = csv.lines();
    let header = split(lines.next().unwrap());
    let col = header
        .iter()
        .position(|h| h == "board.corner_critical_layer_von_mises_mpa")
        .unwrap_or_else(|| panic!("no corner column in {header:?}"));
    let values: Vec<f64> = lines.map(|l| split(l)[col].parse().unwrap()).collect();
    assert_eq!(values.len(), 2);
    assert!(values.iter().all(|v| *v > 1.0), "{values:?}");
    assert!(
        (values[0] - values[1]).abs() > 0.01 * values[1],
        "{values:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
