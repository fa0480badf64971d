//! Picking on the GPU hits what the 3D view draws: the top voxel under the cursor,
//! through ghosted and past hidden materials, with the field value when colouring by one.

mod common;

use common::{gpu, spec};
use voxfab::fields::{Displacement, ScalarField};
use voxfab::materials::MaterialTable;
use voxfab::process::Processor;
use voxfab::process::params::MaterialSet;
use voxfab::render::{FRAME_FORMAT, FrameInputs, Layout, OrbitCamera, Renderer};
use voxfab::scene::Axis;

#[test]
fn pick_finds_the_drawn_voxel_through_ghosts_and_reads_fields() {
    let gpu = gpu();
    let s = spec(40, 30, 20, 2.0);
    let mats = MaterialTable::builtin();
    let (si, cu) = (mats.id("si").unwrap(), mats.id("cu").unwrap());
    let (p, counts) = common::slabs(gpu, &s, &[(si, 0, 8), (cu, 8, 12)]);
    let r = Renderer::new(gpu, FRAME_FORMAT);
    let size = [480, 270];
    let inputs = FrameInputs {
        grid: &p.grid().material,
        spec: &s,
        materials: &mats,
        counts: &counts,
        camera: OrbitCamera {
            elevation_deg: 89.0,
            ..Default::default()
        },
        section_axis: Axis::Y,
        section_index: 15,
        cutaway: false,
        hidden: MaterialSet::default(),
        ghost: MaterialSet::default(),
        field: None,
        deformation: None,
        title: String::new(),
        subtitle: String::new(),
    };
    let [vx, vy, vw, vh] = Layout::new(size, &s, Axis::Y).view3d;
    let centre = [vx + vw / 2.0, vy + vh / 2.0];

    let hit = r
        .pick(gpu, size, &inputs, centre)
        .expect("copper under the centre");
    assert_eq!(hit.material, cu);
    assert_eq!(hit.cell[2], 11, "top copper layer: {hit:?}");
    assert!((hit.position_um[2] - 23.0).abs() < 1e-9, "{hit:?}");
    assert!(hit.value.is_none());

    // Background and the legend pick nothing.
    assert!(r.pick(gpu, size, &inputs, [vx + 2.0, vy + 2.0]).is_none());
    assert!(r.pick(gpu, size, &inputs, [vw + 10.0, vh - 4.0]).is_none());

    // The cross-section (plane y = 15, x right, z up) picks the voxel shown there:
    // copper at z = 9, silicon at z = 2, void above z = 12.
    let [sx, sy, sw, sh] = Layout::new(size, &s, Axis::Y).section;
    let at = |x: f32, z: f32| {
        [
            sx + (x + 0.5) / 40.0 * sw,
            sy + (1.0 - (z + 0.5) / 20.0) * sh,
        ]
    };
    let sec = r
        .pick(gpu, size, &inputs, at(5.0, 9.0))
        .expect("copper in the section");
    assert_eq!((sec.material, sec.cell), (cu, [5, 15, 9]));
    let sec = r
        .pick(gpu, size, &inputs, at(30.0, 2.0))
        .expect("silicon in the section");
    assert_eq!((sec.material, sec.cell), (si, [30, 15, 2]));
    assert!(r.pick(gpu, size, &inputs, at(5.0, 15.0)).is_none(), "void");

    // Ghosted copper is seen through (and tints the view); the pick lands on silicon.
    let ghost = MaterialSet::of(&[cu]);
    let hit = r
        .pick(
            gpu,
            size,
            &FrameInputs {
                ghost,
                ..inputs_clone(&inputs)
            },
            centre,
        )
        .unwrap();
    assert_eq!((hit.material, hit.cell[2]), (si, 7));
    let px = |f: &FrameInputs| {
        let img = r.render_image(gpu, size, f);
        *img.get_pixel(centre[0] as u32, centre[1] as u32)
    };
    let solid = px(&inputs);
    let ghosted = px(&FrameInputs {
        ghost,
        ..inputs_clone(&inputs)
    });
    let hidden = px(&FrameInputs {
        hidden: ghost,
        ..inputs_clone(&inputs)
    });
    assert!(
        ghosted != solid && ghosted != hidden,
        "ghost blends copper over silicon: {solid:?} {ghosted:?} {hidden:?}"
    );
    assert!(
        ghosted[0] > hidden[0] && ghosted[0] < solid[0],
        "red between silicon and copper: {solid:?} {ghosted:?} {hidden:?}"
    );

    // A field: value = z index of the voxel; the pick reads it back.
    let [nx, ny, nz] = s.dims;
    let values: Vec<f32> = (0..nx * ny * nz).map(|i| (i / (nx * ny)) as f32).collect();
    let field = ScalarField::from_values(gpu, "height", "voxels", &values);
    assert_eq!(field.range, [0.0, 19.0]);
    let hit = r
        .pick(
            gpu,
            size,
            &FrameInputs {
                field: Some(field.view()),
                ..inputs_clone(&inputs)
            },
            centre,
        )
        .unwrap();
    assert_eq!(hit.value, Some(11.0));
    assert_eq!(field.value_at(gpu, hit.index), Some(11.0));
    assert_eq!(field.value_at(gpu, u64::from(nx * ny * nz)), None);
}

/// FrameInputs holds Strings, so struct-update needs a fresh copy.
fn inputs_clone<'a>(f: &FrameInputs<'a>) -> FrameInputs<'a> {
    FrameInputs {
        grid: f.grid,
        spec: f.spec,
        materials: f.materials,
        counts: f.counts,
        camera: f.camera,
        section_axis: f.section_axis,
        section_index: f.section_index,
        cutaway: f.cutaway,
        hidden: f.hidden,
        ghost: f.ghost,
        field: None,
        deformation: None,
        title: f.title.clone(),
        subtitle: f.subtitle.clone(),
    }
}

#[test]
fn deformed_view_draws_and_picks_voxels_at_their_displaced_place() {
    let gpu = gpu();
    let s = spec(40, 30, 20, 1.0);
    let p = Processor::new(gpu, &s).unwrap();
    let mats = MaterialTable::builtin();
    let cu = mats.id("cu").unwrap();
    let [nx, ny, nz] = s.dims;
    // A copper block at x 16..24, y 11..19, z 0..6 in an empty grid.
    let ids: Vec<u8> = (0..nx * ny * nz)
        .map(|i| {
            let (x, y, z) = (i % nx, (i / nx) % ny, i / (nx * ny));
            if (16..24).contains(&x) && (11..19).contains(&y) && z < 6 {
                cu
            } else {
                0
            }
        })
        .collect();
    p.grid().write_materials(gpu, &ids);
    // Every node moves 4 µm in +x; at exaggeration 2 the block shows at x 24..32.
    let nodes = vec![[4.0f32, 0.0, 0.0]; ((nx + 1) * (ny + 1) * (nz + 1)) as usize];
    let disp = Displacement::from_nodes(gpu, &nodes);
    let counts = vec![0u64; 256];
    let r = Renderer::new(gpu, FRAME_FORMAT);
    let size = [480, 270];
    let camera = OrbitCamera {
        elevation_deg: 89.0,
        ..Default::default()
    };
    let inputs = |deformation| FrameInputs {
        grid: &p.grid().material,
        spec: &s,
        materials: &mats,
        counts: &counts,
        camera,
        section_axis: Axis::Y,
        section_index: 15,
        cutaway: false,
        hidden: MaterialSet::default(),
        ghost: MaterialSet::default(),
        field: None,
        deformation,
        title: String::new(),
        subtitle: String::new(),
    };
    let [vx, vy, vw, vh] = Layout::new(size, &s, Axis::Y).view3d;
    let (vp, _) = camera.matrices(s.dims, vw / vh);
    let pixel = |x: f32, y: f32, z: f32| {
        let ndc = vp.project_point3(glam::Vec3::new(x, y, z));
        [vx + (ndc.x + 1.0) * 0.5 * vw, vy + (1.0 - ndc.y) * 0.5 * vh]
    };
    let (home, moved) = (pixel(20.0, 15.0, 6.0), pixel(28.0, 15.0, 6.0));

    let plain = r
        .pick(gpu, size, &inputs(None), home)
        .expect("block at home");
    assert_eq!(plain.material, cu);
    assert!(r.pick(gpu, size, &inputs(None), moved).is_none());

    let deformed = || Some(disp.deformation(2.0));
    assert!(
        r.pick(gpu, size, &inputs(deformed()), home).is_none(),
        "the block has moved away"
    );
    let hit = r
        .pick(gpu, size, &inputs(deformed()), moved)
        .expect("block at its displaced place");
    assert_eq!(hit.material, cu);
    assert!(
        (16..24).contains(&hit.cell[0]),
        "the pick names the undeformed voxel: {hit:?}"
    );
    // The drawn image agrees: copper-red at the displaced place only.
    let img = r.render_image(gpu, size, &inputs(deformed()));
    let red = |p: [f32; 2]| {
        let c = img.get_pixel(p[0] as u32, p[1] as u32);
        c[0] > c[2] + 40
    };
    assert!(red(moved) && !red(home));
}
