//! Masks read from a GDSII layer: boundaries, boxes, paths and translated references.

use gds21::{
    GdsBoundary, GdsBox, GdsElement, GdsLibrary, GdsPath, GdsPoint, GdsStruct, GdsStructRef,
};
use voxfab::scene::Scene;

fn p(x: i32, y: i32) -> GdsPoint {
    GdsPoint::new(x, y)
}

/// Database unit 1 nm: coordinates below are in nm.
fn library() -> GdsLibrary {
    let mut pad = GdsStruct::new("PAD");
    pad.elems.push(GdsElement::GdsBoundary(GdsBoundary {
        layer: 5,
        datatype: 0,
        xy: vec![
            p(0, 0),
            p(10_000, 0),
            p(10_000, 10_000),
            p(0, 10_000),
            p(0, 0),
        ],
        ..Default::default()
    }));
    let mut top = GdsStruct::new("TOP");
    top.elems.push(GdsElement::GdsBoundary(GdsBoundary {
        layer: 5,
        datatype: 0,
        xy: vec![
            p(5_000, 5_000),
            p(25_000, 5_000),
            p(15_000, 25_000),
            p(5_000, 5_000),
        ],
        ..Default::default()
    }));
    top.elems.push(GdsElement::GdsBox(GdsBox {
        layer: 5,
        boxtype: 0,
        xy: [
            p(60_000, 60_000),
            p(70_000, 60_000),
            p(70_000, 70_000),
            p(60_000, 70_000),
            p(60_000, 60_000),
        ],
        ..Default::default()
    }));
    top.elems.push(GdsElement::GdsPath(GdsPath {
        layer: 5,
        datatype: 0,
        xy: vec![p(30_000, 50_000), p(80_000, 50_000)],
        width: Some(4_000),
        ..Default::default()
    }));
    top.elems.push(GdsElement::GdsBoundary(GdsBoundary {
        layer: 6,
        datatype: 0,
        xy: vec![p(80_000, 0), p(90_000, 0), p(90_000, 10_000), p(80_000, 0)],
        ..Default::default()
    }));
    top.elems.push(GdsElement::GdsStructRef(GdsStructRef {
        name: "PAD".into(),
        xy: p(40_000, 10_000),
        ..Default::default()
    }));
    let mut lib = GdsLibrary::new("voxfab_test");
    lib.structs.push(pad);
    lib.structs.push(top);
    lib
}

fn scene(dir: &std::path::Path, gds: &str) -> Result<Scene, voxfab::scene::SceneError> {
    let src = format!(
        r#"
[grid]
size = [100.0, 100.0, 20.0]
voxel = 1.0

[masks.m1]
gds = {gds}

[[step]]
op = "substrate"
material = "si"
thickness = 5.0
mask = "m1"
"#
    );
    let path = dir.join("scene.toml");
    std::fs::write(&path, src).unwrap();
    Scene::load(&path, &[])
}

#[test]
fn gds_layer_becomes_a_mask() {
    let dir = std::env::temp_dir().join(format!("voxfab-gds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    library().save(dir.join("m.gds")).unwrap();
    let s = scene(&dir, r#"{ file = "m.gds", layer = 5 }"#).unwrap();
    let m = &s.masks[0];
    // Triangle, box, one path segment, the referenced pad; not the layer-6 shape.
    assert_eq!(m.shapes.len(), 4, "{:?}", m.shapes);
    for (pt, inside) in [
        ([15.0, 10.0], true),  // triangle
        ([65.0, 65.0], true),  // box
        ([50.0, 51.5], true),  // path, 4 µm wide around y = 50
        ([50.0, 52.5], false), // just outside the path
        ([45.0, 15.0], true),  // PAD placed at (40, 10) µm
        ([85.0, 2.0], false),  // layer 6 only
        ([35.0, 35.0], false),
    ] {
        assert_eq!(m.contains(pt), inside, "{pt:?}");
    }
    // Offsets move everything.
    let s = scene(
        &dir,
        r#"{ file = "m.gds", layer = 5, offset = [10.0, 0.0] }"#,
    )
    .unwrap();
    assert!(s.masks[0].contains([75.0, 65.0]) && !s.masks[0].contains([62.0, 65.0]));
    // Errors name the file, the line and the problem.
    let e = scene(&dir, r#"{ file = "m.gds", layer = 7 }"#).unwrap_err();
    assert!(
        e.line == 7 && e.message.contains("no shapes on layer 7"),
        "{e}"
    );
    let e = scene(&dir, r#"{ file = "m.gds", layer = 5, cell = "NOPE" }"#).unwrap_err();
    assert!(
        e.message.contains("no cell `NOPE`") && e.message.contains("TOP"),
        "{e}"
    );
    let e = scene(&dir, r#"{ file = "missing.gds", layer = 5 }"#).unwrap_err();
    assert!(e.message.contains("cannot read GDSII"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
