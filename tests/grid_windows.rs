//! Voxel fields bound in windows (grids whose 4 B fields outgrow one storage binding):
//! every process op must build the grid it builds with each field bound whole.

mod common;

use std::path::Path;
use voxfab::process::Processor;
use voxfab::scene::{Scene, StepKind};
use voxfab::shaders::{WINDOW_ALIGN, Windows};

/// Every part's material ids after the scene's process steps, and each step's figures,
/// with the voxel fields split as `windows` says (`None`: as the adapter would).
fn build(scene: &Scene, windows: Option<Windows>) -> (Vec<Vec<u8>>, Vec<String>) {
    let gpu = common::gpu();
    let mut parts: Vec<Processor> = (0..scene.parts.len().max(1))
        .map(|_| match windows {
            Some(w) => Processor::with_windows(gpu, &scene.grid, w).unwrap(),
            None => Processor::new(gpu, &scene.grid).unwrap(),
        })
        .collect();
    let mut log = Vec::new();
    for step in &scene.steps {
        let stats = match &step.kind {
            StepKind::Process(op) => parts[step.part].run(op, &scene.masks),
            StepKind::Bond(b) => {
                let (lo, hi) = parts.split_at_mut(step.part.max(b.part));
                let (base, placed) = if step.part < b.part {
                    (&mut lo[step.part], &hi[0])
                } else {
                    (&mut hi[0], &lo[b.part])
                };
                base.bond(placed, b.offset, b.method, b.film, b.gap)
                    .unwrap()
            }
            StepKind::Stress(_) => continue,
        };
        log.push(format!(
            "{}: changed {}, counts {:?}, iterations {}, release {:?}",
            step.name, stats.voxels_changed, stats.counts, stats.iterations, stats.release_min
        ));
    }
    let grids = parts.iter().map(|p| p.grid().read_materials(gpu)).collect();
    (grids, log)
}

#[test]
fn process_ops_on_fields_split_over_windows_build_the_same_grids() {
    let gpu = common::gpu();
    // Together the three flows run every op: deposits of each mode, patterning,
    // anisotropic and wet etches, strips, flips, bonds, grinding, drilling, plating,
    // dispensing, dicing, balls and wire bonds.
    for (file, voxel) in [
        ("conventional_bump.toml", "4"),
        ("glass_wlcsp_adhesive.toml", "8"),
        ("glass_wirebond.toml", "8"),
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenes")
            .join(file);
        let scene = Scene::load(&path, &[format!("grid.voxel={voxel}")]).unwrap();
        let need = scene.grid.voxels() * 4;
        // Three windows, the last one partly past the field's end, so that window
        // boundaries fall inside every slab of neighbours the ops read.
        let windows = Windows {
            bytes: need.div_ceil(3).next_multiple_of(WINDOW_ALIGN),
            count: 3,
        };
        assert!(
            2 * windows.bytes < need,
            "{file}: the third window is unused"
        );
        let (whole, whole_log) = build(&scene, None);
        let (split, split_log) = build(&scene, Some(windows));
        assert_eq!(whole_log, split_log, "{file}: step figures differ");
        for (k, (a, b)) in whole.iter().zip(&split).enumerate() {
            let differ = a.iter().zip(b).filter(|(x, y)| x != y).count();
            assert_eq!(differ, 0, "{file}: part {k}: {differ} voxels differ");
        }
        // Something was built, in every window.
        let solid = whole[0].iter().filter(|&&m| m != 0).count();
        let third = whole[0].len() / 3;
        for w in 0..3 {
            let part = &whole[0][w * third..(w + 1) * third];
            assert!(
                part.iter().any(|&m| m != 0),
                "{file}: window {w} holds no solid voxel ({solid} in all)"
            );
        }
    }
    assert!(gpu.take_error().is_none());
}

#[test]
fn windows_that_do_not_cover_the_grid_are_refused() {
    let gpu = common::gpu();
    let spec = common::spec(40, 30, 20, 1.0);
    let need = spec.voxels() * 4;
    let short = Windows {
        bytes: (need / 4).next_multiple_of(WINDOW_ALIGN),
        count: 2,
    };
    let e = Processor::with_windows(gpu, &spec, short).err().unwrap();
    assert!(e.to_string().contains("2 windows"), "{e}");
    let unaligned = Windows {
        bytes: need.div_ceil(2) + 4,
        count: 2,
    };
    assert!(Processor::with_windows(gpu, &spec, unaligned).is_err());
    // One binding's worth: bound whole, as Processor::new does.
    assert_eq!(Processor::windows_for(gpu, &spec), Windows::ONE);
}
