//! Bad scenes are refused with FILE:LINE:COL messages; good ones (all bundled scenes) pass.
//! No GPU needed, except the adapter-limit check at the end.

use voxfab::scene::{DepositMode, Op, Scene, SceneError, StepKind};

const GOOD: &str = r#"
[grid]
size = [100.0, 80.0, 60.0]
voxel = 2.0

[masks.m]
rect = [10.0, 10.0, 50.0, 40.0]

[[step]]
name = "base"
op = "substrate"
material = "si"
thickness = 20.0

[[step]]
name = "film"
op = "deposit"
mode = "conformal"
material = "cu"
thickness = 4.0
"#;

fn err(src: &str) -> SceneError {
    Scene::parse(src, "t.toml", &[]).expect_err("scene should be refused")
}

/// Line and column of the first occurrence of `needle` in `src`.
fn pos(src: &str, needle: &str) -> (usize, usize) {
    let at = src.find(needle).expect("needle in source");
    voxfab::scene::line_col(src, at)
}

#[test]
fn good_scene_parses_to_voxels() {
    let s = Scene::parse(GOOD, "t.toml", &[]).unwrap();
    assert_eq!(s.grid.dims, [50, 40, 30]);
    assert_eq!(s.steps.len(), 2);
    assert_eq!(
        s.steps[1].kind,
        StepKind::Process(Op::Deposit {
            material: s.materials.id("cu").unwrap(),
            mode: DepositMode::Conformal { thickness: 2 },
            mask: None
        })
    );
    assert_eq!(s.steps[1].line, pos(GOOD, "[[step]]\nname = \"film\"").0);
}

#[test]
fn unknown_op_lists_every_op() {
    let src = GOOD.replace("op = \"deposit\"", "op = \"anneal\"");
    let e = err(&src);
    for op in [
        "substrate",
        "deposit",
        "pattern",
        "etch",
        "drill",
        "plate",
        "grind",
        "flip",
        "bond",
        "dispense",
        "dice",
        "ball",
        "wirebond",
        "stress",
    ] {
        assert!(
            e.message.contains(&format!("{op},")) || e.message.ends_with(op),
            "{op}: {e}"
        );
    }
}

#[test]
fn unknown_op_points_at_the_op() {
    let src = GOOD.replace("op = \"deposit\"", "op = \"deposite\"");
    let e = err(&src);
    assert_eq!((e.line, e.col), pos(&src, "\"deposite\""));
    assert!(e.message.contains("unknown op `deposite`"), "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("t.toml:{}:{}: ", e.line, e.col)),
        "{e}"
    );
}

#[test]
fn unknown_material_lists_the_known_ones() {
    let src = GOOD.replace("material = \"cu\"", "material = \"copper\"");
    let e = err(&src);
    assert_eq!((e.line, e.col), pos(&src, "\"copper\""));
    assert!(
        e.message.contains("unknown material `copper`") && e.message.contains("sac305"),
        "{e}"
    );
}

#[test]
fn unknown_key_is_refused_where_it_stands() {
    let src = GOOD.replace("thickness = 4.0", "thicknes = 4.0");
    let e = err(&src);
    assert_eq!(e.line, pos(&src, "thicknes =").0, "{e}");
    assert!(e.message.contains("thicknes"), "{e}");
    let src = GOOD.replace("voxel = 2.0", "voxel = 2.0\nvoxels = 3");
    let e = err(&src);
    assert_eq!(e.line, pos(&src, "voxels = 3").0, "{e}");
}

#[test]
fn zero_or_negative_thickness_is_refused() {
    for bad in ["0.0", "-4.0", "0.5"] {
        let src = GOOD.replace("thickness = 4.0", &format!("thickness = {bad}"));
        let e = err(&src);
        assert_eq!(
            (e.line, e.col),
            pos(&src, &format!("thickness = {bad}")).into_col_of_value(),
            "{bad}: {e}"
        );
        assert!(e.message.contains("thickness"), "{e}");
    }
}

trait ValueCol {
    fn into_col_of_value(self) -> (usize, usize);
}
impl ValueCol for (usize, usize) {
    /// Column of the value in `key = value`.
    fn into_col_of_value(self) -> (usize, usize) {
        (self.0, self.1 + "thickness = ".len())
    }
}

#[test]
fn mask_outside_the_domain_is_refused() {
    let src = GOOD.replace(
        "rect = [10.0, 10.0, 50.0, 40.0]",
        "rect = [110.0, 10.0, 150.0, 40.0]",
    );
    let e = err(&src);
    assert_eq!(e.line, pos(&src, "rect = [110.0").0, "{e}");
    assert!(e.message.contains("outside the domain"), "{e}");
}

#[test]
fn unknown_mask_and_bad_mode_are_refused() {
    let src = GOOD.replace(
        "mode = \"conformal\"",
        "mode = \"conformal\"\nmask = \"nope\"",
    );
    let e = err(&src);
    assert_eq!((e.line, e.col), pos(&src, "\"nope\""), "{e}");
    assert!(
        e.message.contains("unknown mask `nope`; defined: m"),
        "names the masks the scene defines: {e}"
    );
    let src = GOOD.replace("mode = \"conformal\"", "mode = \"sideways\"");
    let e = err(&src);
    assert_eq!(e.line, pos(&src, "\"sideways\"").0, "{e}");
    assert!(e.message.contains("sideways"), "{e}");
}

#[test]
fn syntax_errors_have_positions() {
    // The array never closes: the parser stops at the end of line 2, after `2.0`.
    let e = err("[grid]\nsize = [1.0, 2.0\n");
    assert_eq!((e.line, e.col), (2, 17), "{e}");
    assert!(e.message.contains("unclosed array"), "{e}");
}

#[test]
fn overrides_change_values_and_name_themselves_in_errors() {
    let s = Scene::parse(
        GOOD,
        "t.toml",
        &["grid.voxel=4.0".into(), "step.film.material=al".into()],
    )
    .unwrap();
    assert_eq!(s.grid.dims, [25, 20, 15]);
    let StepKind::Process(Op::Deposit { material, .. }) = s.steps[1].kind else {
        panic!()
    };
    assert_eq!(material, s.materials.id("al").unwrap());
    let e = Scene::parse(GOOD, "t.toml", &["step.film.thickness=-1".into()]).unwrap_err();
    assert!(e.message.contains("--set step.film.thickness"), "{e}");
    assert_eq!(e.line, pos(GOOD, "thickness = 4.0").0);
    let e = Scene::parse(GOOD, "t.toml", &["step.nope.thickness=1".into()]).unwrap_err();
    assert!(e.message.contains("no `step` entry named `nope`"), "{e}");
}

#[test]
fn missing_file_is_named() {
    let e = Scene::load(std::path::Path::new("/no/such/scene.toml"), &[]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/no/such/scene.toml: cannot read scene"),
        "{e}"
    );
}

#[test]
fn every_bundled_scene_checks() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(root.join("scenes")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            Scene::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
            checked.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    // The board-level pitch cells: each a scene with a [board] study.
    let mut cells = 0;
    for entry in std::fs::read_dir(root.join("scenes/board")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let s = Scene::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
            assert!(s.board.is_some(), "{} has no [board]", path.display());
            cells += 1;
        }
    }
    assert!(cells >= 2, "scenes/board holds {cells} cells");
    // Every scene the README lists is bundled and was checked (12 today).
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let listed: std::collections::BTreeSet<&str> = readme
        .split('`')
        .filter(|w| w.ends_with(".toml") && !w.contains(['/', ' ']))
        .collect();
    assert!(listed.len() >= 12, "README lists {listed:?}");
    for name in &listed {
        assert!(checked.iter().any(|c| c == name), "{name} not in scenes/");
    }
}

#[test]
fn grids_too_large_for_the_adapter_are_refused_before_allocation() {
    // A grid whose voxel fields exceed what the adapter binds of one (windows of its
    // storage binding): the error names the grid, the need and the limit. Nothing is
    // allocated (check_fits reads limits).
    let gpu = voxfab::gpu::GpuContext::new().expect("an adapter (lavapipe on CI)");
    let limit = voxfab::grid::max_field_bytes(&gpu);
    assert!(
        limit > gpu.max_binding_bytes(),
        "fields past one binding are bound in windows"
    );
    let edge = ((limit / 4) as f64).cbrt().ceil() as u32 + 8;
    let spec = voxfab::scene::GridSpec {
        dims: [edge, edge, edge],
        voxel_um: 1.0,
    };
    let e = voxfab::grid::check_fits(&spec, &gpu)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&format!("{edge}x{edge}x{edge}")) && e.contains("MiB"),
        "{e}"
    );
    assert!(
        e.contains(&(limit >> 20).to_string()),
        "names the limit: {e}"
    );
    let ok = voxfab::scene::GridSpec {
        dims: [16, 16, 16],
        voxel_um: 1.0,
    };
    voxfab::grid::check_fits(&ok, &gpu).unwrap();
}

/// GOOD with a wet etch step of `body` (lines after `op = "etch"`).
fn with_etch(body: &str) -> String {
    format!("{GOOD}\n[[step]]\nname = \"wet\"\nop = \"etch\"\n{body}\n")
}

#[test]
fn a_rates_table_becomes_per_material_voxel_rates() {
    use voxfab::scene::{EtchMode, EtchRate};
    let src = with_etch(
        "mode = \"isotropic\"\nrates = { sio2 = 0.1, si3n4 = 0.001, polyimide = 0.0 }\ntime = 30.0",
    );
    let s = Scene::parse(&src, "t.toml", &[]).unwrap();
    let id = |n: &str| s.materials.id(n).unwrap();
    let StepKind::Process(Op::Etch {
        materials, mode, ..
    }) = &s.steps[2].kind
    else {
        panic!("an etch step")
    };
    let EtchMode::Rates { rates, time } = mode else {
        panic!("rates: {mode:?}")
    };
    assert_eq!(*time, Some(30.0));
    // 2 µm voxels: 0.1 µm/min is 0.05 voxels/min.
    let rate = |n: &str| rates.iter().find(|r| r.material == id(n)).unwrap();
    assert_eq!(
        *rate("sio2"),
        EtchRate {
            material: id("sio2"),
            name: "sio2".into(),
            voxels_per_min: 0.05
        }
    );
    assert_eq!(rate("polyimide").voxels_per_min, 0.0);
    // The attacked materials: those with a rate above 0.
    let mut want = vec![id("sio2"), id("si3n4")];
    want.sort();
    let mut got = materials.clone();
    got.sort();
    assert_eq!(got, want);
    let g = s.steps[2].kind.clone();
    let StepKind::Process(op) = g else { panic!() };
    let text = op.geometry(2.0);
    assert!(
        text.contains("30.00 min")
            && text.contains("sio2 0.1000 µm/min = 0.050 voxels/min, 3.00 µm"),
        "{text}"
    );
    assert!(op.is_timed() && !op.is_progressive());
}

#[test]
fn a_strip_with_a_rate_times_its_release() {
    use voxfab::scene::EtchMode;
    let src = with_etch("mode = \"strip\"\nmaterials = [\"sio2\"]\nrate = 0.2");
    let s = Scene::parse(&src, "t.toml", &[]).unwrap();
    let StepKind::Process(op) = &s.steps[2].kind else {
        panic!()
    };
    let Op::Etch {
        mode: EtchMode::Rates { rates, time: None },
        ..
    } = op
    else {
        panic!("{op:?}")
    };
    assert_eq!(rates.len(), 1);
    assert_eq!(rates[0].voxels_per_min, 0.1);
    assert_eq!(op.label(), "etch:strip");
    assert!(op.is_progressive(), "its frames follow the front in time");
    // A plain strip stays the flood-only strip.
    let plain = with_etch("mode = \"strip\"\nmaterials = [\"sio2\"]");
    let s = Scene::parse(&plain, "t.toml", &[]).unwrap();
    assert!(matches!(
        s.steps[2].kind,
        StepKind::Process(Op::Etch {
            mode: EtchMode::Strip,
            ..
        })
    ));
}

#[test]
fn bad_rates_are_refused_where_they_stand() {
    let cases = [
        (
            "mode = \"isotropic\"\nrates = { sio2 = 0.1, nitirde = 0.01 }\ntime = 3.0",
            "rates =",
            "unknown material `nitirde`",
        ),
        (
            "mode = \"isotropic\"\nrates = { sio2 = -0.1 }\ntime = 3.0",
            "rates =",
            "must be >= 0",
        ),
        (
            "mode = \"isotropic\"\nrates = { sio2 = 0.1 }",
            "rates =",
            "needs `time`",
        ),
        (
            "mode = \"isotropic\"\nrates = { sio2 = 0.1 }\ntime = 0.0",
            "time = 0.0",
            "time must be > 0",
        ),
        (
            "mode = \"isotropic\"\nrates = { sio2 = 0.1 }\ndistance = 2.0\ntime = 3.0",
            "distance = 2.0",
            "exclude each other",
        ),
        (
            "mode = \"isotropic\"\nrates = { sio2 = 0.0 }\ntime = 3.0",
            "rates =",
            "every rate in the table is 0",
        ),
        (
            "mode = \"isotropic\"\nmaterials = [\"sio2\"]\nrates = { sio2 = 0.1 }\ntime = 3.0",
            "materials =",
            "drop `materials`",
        ),
        (
            "mode = \"strip\"\nmaterials = [\"sio2\", \"si3n4\"]\nrates = { sio2 = 0.1 }",
            "\"si3n4\"]",
            "needs a rate > 0 for `si3n4`",
        ),
        (
            "mode = \"strip\"\nmaterials = [\"sio2\"]\nrate = 0.0",
            "rate = 0.0",
            "rate must be > 0",
        ),
        (
            "mode = \"anisotropic\"\nmaterials = [\"sio2\"]\nrates = { sio2 = 0.1 }",
            "rates =",
            "does not apply",
        ),
        (
            "mode = \"strip\"\nrate = 0.1",
            "mode = \"strip\"",
            "needs `materials`",
        ),
    ];
    for (body, at, says) in cases {
        let src = with_etch(body);
        let e = err(&src);
        assert_eq!(e.line, pos(&src, at).0, "{body}: {e}");
        assert!(e.message.contains(says), "{body}: {e}");
    }
}

#[test]
fn displace_entries_are_checked_where_they_stand() {
    let stress = |entries: &str| {
        format!(
            "{GOOD}\n[[step]]\nname = \"pull\"\nop = \"stress\"\ndelta_t = 0.0\nsupport = \"free\"\n\
             displace = [\n{entries}\n]\n"
        )
    };
    let ok = stress(
        "  { face = \"x_min\", u = [0.0, 0.0, 0.0], dofs = [\"x\"] },\n  \
         { box = [0.0, 0.0, 0.0, 100.0, 80.0, 0.0], u = [0.1, 0.0, 0.0], grad = [[0.0, 0.0, 0.001], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]] },",
    );
    let s = Scene::parse(&ok, "t.toml", &[]).unwrap();
    let spec = s.steps[2].kind.stress().unwrap();
    assert_eq!(spec.displace.len(), 2);
    assert_eq!(spec.displace[0].dofs, 1);
    // x_min of 50x40x30 voxels: 41 x 31 nodes; the box is the bottom plane, 51 x 41.
    assert_eq!(
        spec.displace[0].node_count(s.grid.dims, s.grid.voxel_um),
        41 * 31
    );
    assert_eq!(
        spec.displace[1].node_count(s.grid.dims, s.grid.voxel_um),
        51 * 41
    );
    let nodes = spec.displace[1].nodes(s.grid.dims, s.grid.voxel_um);
    let (n, v) = nodes.last().unwrap();
    assert_eq!(*n, [50, 40, 0]);
    assert!(
        (v[0] - 0.1).abs() < 1e-12,
        "u + grad (X - origin) at z = 0: {v:?}"
    );

    for (entry, needle, words) in [
        (
            "  { face = \"x_mni\", u = [0.0, 0.0, 0.0] },",
            "\"x_mni\"",
            "did you mean `x_min`",
        ),
        (
            "  { face = \"x_min\", box = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0], u = [0.0, 0.0, 0.0] },",
            "{ face = \"x_min\", box",
            "exactly one of `face`",
        ),
        (
            "  { face = \"z_max\", u = [0.0, 0.0, 0.0], grad = [[0.5, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]] },",
            "[[0.5",
            "small strain",
        ),
        (
            "  { face = \"z_max\", u = [0.0, 0.0, 0.0], dofs = [\"x\", \"x\"] },",
            "\"x\"]",
            "listed twice",
        ),
        (
            "  { box = [1.0, 1.0, 1.0, 1.5, 1.5, 1.5], u = [0.0, 0.0, 0.0] },",
            "{ box = [1.0",
            "holds no node",
        ),
        (
            "  { box = [5.0, 1.0, 1.0, 1.0, 1.5, 1.5], u = [0.0, 0.0, 0.0] },",
            "[5.0, 1.0",
            "x0 <= x1",
        ),
        (
            "  { face = \"y_min\", u = [0.0, 0.0] },",
            "[0.0, 0.0] }",
            "",
        ),
        (
            "  { face = \"y_min\", u = [0.0, 0.0, 0.0], force = 1.0 },",
            "force",
            "force",
        ),
    ] {
        let src = stress(entry);
        let e = err(&src);
        assert_eq!(e.line, pos(&src, needle).0, "{entry}: {e}");
        assert!(e.message.contains(words), "{entry}: {e}");
    }
}

#[test]
fn displace_node_total_is_bounded() {
    let src = "[grid]\nsize = [2000.0, 2000.0, 10.0]\nvoxel = 1.0\n\n[[step]]\nname = \"s\"\n\
               op = \"substrate\"\nmaterial = \"si\"\nthickness = 10.0\n\n[[step]]\nname = \"pull\"\n\
               op = \"stress\"\ndelta_t = 0.0\ndisplace = [{ box = [0.0, 0.0, 0.0, 2000.0, 2000.0, 10.0], u = [0.0, 0.0, 0.0] }]\n";
    let e = err(src);
    assert!(e.message.contains("at most 4000000"), "{e}");
    assert_eq!(e.line, pos(src, "[[step]]\nname = \"pull\"").0, "{e}");
}
