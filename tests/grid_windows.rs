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

/// Bundled scene `file` at a voxel of `voxel` µm.
fn bundled(file: &str, voxel: &str) -> Scene {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenes")
        .join(file);
    Scene::load(&path, &[format!("grid.voxel={voxel}")]).unwrap()
}

/// Three windows over arrays of `need` bytes, the last partly past their end, so that
/// window boundaries fall inside every slab of neighbours the passes read.
fn three(need: u64) -> Windows {
    Windows::uniform(need.div_ceil(3).next_multiple_of(WINDOW_ALIGN), 3)
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
        let scene = bundled(file, voxel);
        let need = scene.grid.voxels() * 4;
        let windows = three(need);
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
    let short = Windows::uniform((need / 4).next_multiple_of(WINDOW_ALIGN), 2);
    let e = Processor::with_windows(gpu, &spec, short).err().unwrap();
    assert!(e.to_string().contains("2 windows"), "{e}");
    let unaligned = Windows::uniform(need.div_ceil(2) + 4, 2);
    assert!(Processor::with_windows(gpu, &spec, unaligned).is_err());
    // One binding's worth: bound whole, as Processor::new does.
    assert_eq!(Processor::windows_for(gpu, &spec), Windows::ONE);
}

#[test]
fn frames_and_picks_of_fields_split_over_windows_are_the_ones_bound_whole() {
    use voxfab::fields::{Displacement, ScalarField};
    use voxfab::render::{FRAME_FORMAT, FrameInputs, Layout, OrbitCamera, Renderer};
    use voxfab::scene::Axis;
    let gpu = common::gpu();
    let scene = bundled("conventional_bump.toml", "4");
    let (grids, _) = build(&scene, None);
    let s = &scene.grid;
    let [nx, ny, nz] = s.dims;
    let p = Processor::new(gpu, s).unwrap();
    p.grid().write_materials(gpu, &grids[0]);
    let counts = p.stats().1;
    // A field and a displacement that vary along every axis, so a window bound at the
    // wrong offset shows.
    let field: Vec<f32> = (0..s.voxels())
        .map(|i| (i % 97) as f32 + (i / u64::from(nx * ny)) as f32)
        .collect();
    let field = ScalarField::from_values(gpu, "f", "MPa", &field);
    let nodes: Vec<[f32; 3]> = (0..(nx + 1) * (ny + 1) * (nz + 1))
        .map(|n| {
            let (x, y) = (n % (nx + 1), (n / (nx + 1)) % (ny + 1));
            let z = n / ((nx + 1) * (ny + 1));
            [0.02 * z as f32, 0.01 * x as f32, 0.03 * (y % 7) as f32]
        })
        .collect();
    let disp = Displacement::from_nodes(gpu, &nodes);
    let need = u64::from((nx + 1) * (ny + 1) * (nz + 1)) * 4;
    let windows = three(need);
    assert!(
        2 * windows.bytes < s.voxels() * 4,
        "the grid reaches the third window"
    );
    let whole = Renderer::new(gpu, FRAME_FORMAT);
    let split = Renderer::with_windows(gpu, FRAME_FORMAT, windows);
    let size = [480, 270];
    for (case, with_field, cutaway) in [("materials", false, false), ("field", true, true)] {
        let inputs = FrameInputs {
            grid: &p.grid().material,
            spec: s,
            materials: &scene.materials,
            counts: &counts,
            camera: OrbitCamera::default(),
            section_axis: Axis::Y,
            section_index: ny / 2,
            cutaway,
            hidden: Default::default(),
            ghost: Default::default(),
            field: with_field.then(|| field.view()),
            deformation: with_field.then(|| disp.deformation(20.0)),
            title: case.into(),
            subtitle: String::new(),
        };
        let a = whole.render_image(gpu, size, &inputs);
        let b = split.render_image(gpu, size, &inputs);
        let differ = a.pixels().zip(b.pixels()).filter(|(x, y)| x != y).count();
        assert_eq!(differ, 0, "{case}: {differ} pixels differ");
        // The section shows several materials (the frame is not empty).
        let layout = Layout::new(size, s, Axis::Y);
        let [vx, vy, vw, vh] = layout.view3d;
        let mut hits = 0;
        for (u, v) in [(0.5, 0.5), (0.3, 0.6), (0.7, 0.4), (0.45, 0.7)] {
            let px = [vx + u * vw, vy + v * vh];
            let (pa, pb) = (
                whole.pick(gpu, size, &inputs, px),
                split.pick(gpu, size, &inputs, px),
            );
            assert_eq!(
                pa.as_ref().map(|h| (h.index, h.material, h.value)),
                pb.as_ref().map(|h| (h.index, h.material, h.value)),
                "{case}: picks differ at {px:?}"
            );
            hits += usize::from(pa.is_some());
        }
        assert!(hits > 0, "{case}: no pick hit the package");
    }
    assert!(gpu.take_error().is_none());
}

#[test]
fn the_stress_grid_coarsened_over_windows_is_the_one_coarsened_whole() {
    use voxfab::grid::GpuGrid;
    use voxfab::stress::coarsen::coarsen_in;
    let gpu = common::gpu();
    let scene = bundled("suspended_bump.toml", "4");
    let (grids, _) = build(&scene, None);
    let fine = GpuGrid::new(gpu, &scene.grid).unwrap();
    fine.write_materials(gpu, &grids[0]);
    let need = scene.grid.voxels() * 4;
    let windows = three(need);
    for factor in [1, 3] {
        let whole = coarsen_in(gpu, &fine, factor, None).unwrap();
        let split = coarsen_in(gpu, &fine, factor, Some(windows)).unwrap();
        let (a, b) = (whole.read_materials(gpu), split.read_materials(gpu));
        assert!(a.iter().filter(|&&m| m != 0).count() > a.len() / 4);
        assert_eq!(a, b, "coarsen {factor}");
    }
    // Windows that do not cover the fine grid are refused.
    let short = Windows::uniform(windows.bytes, 2);
    assert!(coarsen_in(gpu, &fine, 3, Some(short)).is_err());
    assert!(gpu.take_error().is_none());
}
