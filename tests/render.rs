//! Pixels of rendered frames: the 3D view, the cross-section and the legend.

mod common;

use common::{gpu, spec};
use voxfab::materials::MaterialTable;
use voxfab::process::Processor;
use voxfab::process::params::MaterialSet;
use voxfab::render::{FRAME_FORMAT, FrameInputs, Layout, OrbitCamera, Renderer};
use voxfab::scene::{Axis, Op};

fn srgb(c: [u8; 3], px: &image::Rgba<u8>) -> bool {
    (0..3).all(|i| (i32::from(c[i]) - i32::from(px[i])).abs() <= 2)
}

/// A materials frame of `p`'s grid: default camera, section y through the middle, no
/// field, title "t", no subtitle.
fn plain_inputs<'a>(
    p: &'a Processor,
    s: &'a voxfab::scene::GridSpec,
    mats: &'a MaterialTable,
    counts: &'a [u64],
) -> FrameInputs<'a> {
    FrameInputs {
        grid: &p.grid().material,
        spec: s,
        materials: mats,
        counts,
        camera: OrbitCamera::default(),
        section_axis: Axis::Y,
        section_index: s.dims[1] / 2,
        cutaway: false,
        hidden: MaterialSet::default(),
        ghost: MaterialSet::default(),
        field: None,
        deformation: None,
        title: "t".into(),
        subtitle: String::new(),
    }
}

#[test]
fn frame_shows_materials_in_3d_section_and_legend() {
    let gpu = gpu();
    let s = spec(40, 30, 20, 1.0);
    let mut p = Processor::new(gpu, &s).unwrap();
    let mats = MaterialTable::builtin();
    let (si, cu) = (mats.id("si").unwrap(), mats.id("cu").unwrap());
    p.run(
        &Op::Substrate {
            material: si,
            z0: 0,
            z1: 8,
            mask: None,
        },
        &[],
    );
    let st = p.run(
        &Op::Substrate {
            material: cu,
            z0: 8,
            z1: 12,
            mask: None,
        },
        &[],
    );
    let r = Renderer::new(gpu, FRAME_FORMAT);
    let size = [640, 360];
    let inputs = FrameInputs {
        camera: OrbitCamera {
            elevation_deg: 89.0,
            ..Default::default()
        },
        section_index: 15,
        ..plain_inputs(&p, &s, &mats, &st.counts)
    };
    let img = r.render_image(gpu, size, &inputs);
    let layout = Layout::new(size, &s, Axis::Y);

    // Section panel: flat palette colours; z grows upwards, so copper above silicon.
    let [sx, sy, sw, sh] = layout.section;
    let px = |u: f32, v: f32| *img.get_pixel((sx + u * sw) as u32, (sy + v * sh) as u32);
    assert!(
        srgb(mats.get(si).color, &px(0.5, 0.9)),
        "silicon at the bottom of the section: {:?}",
        px(0.5, 0.9)
    );
    assert!(
        srgb(mats.get(cu).color, &px(0.5, 0.5)),
        "copper layer z 8..12: {:?}",
        px(0.5, 0.5)
    );
    let void = px(0.5, 0.2);
    assert!(
        void[0] < 40 && void[1] < 40 && void[2] < 40,
        "void above is dark: {void:?}"
    );

    // 3D view from (nearly) straight above: the centre shows the copper top face, lit,
    // so reddish-orange; the corner shows the background.
    let [vx, vy, vw, vh] = layout.view3d;
    let c = img.get_pixel((vx + vw / 2.0) as u32, (vy + vh / 2.0) as u32);
    assert!(
        c[0] > c[2] + 40 && c[0] > 80,
        "copper top seen from above: {c:?}"
    );
    let corner = img.get_pixel(2, (vh - 3.0) as u32);
    assert!(
        corner[0] < 100 && corner[0].abs_diff(corner[2]) < 30,
        "background: {corner:?}"
    );

    // Hiding copper reveals silicon (blue-grey) at the centre.
    let mut hidden = MaterialSet::default();
    hidden.insert(cu);
    let img2 = r.render_image(gpu, size, &FrameInputs { hidden, ..inputs });
    let c2 = img2.get_pixel((vx + vw / 2.0) as u32, (vy + vh / 2.0) as u32);
    assert!(c2[2] > c2[0], "silicon under hidden copper: {c2:?}");

    // The legend lists the two materials present with their swatch colours.
    let [lx, ly] = layout.legend;
    let sw0 = img.get_pixel((lx + 6.0) as u32, (ly + 16.0 + 6.0) as u32);
    let sw1 = img.get_pixel(
        (lx + (size[0] as f32 - lx) / 2.0 + 6.0) as u32,
        (ly + 16.0 + 6.0) as u32,
    );
    assert!(srgb(mats.get(si).color, sw0), "legend swatch si {sw0:?}");
    assert!(srgb(mats.get(cu).color, sw1), "legend swatch cu {sw1:?}");
}

#[test]
fn a_long_subtitle_wraps_inside_the_3d_panel_instead_of_being_cut() {
    let gpu = gpu();
    let s = spec(20, 16, 8, 1.0);
    let mut p = Processor::new(gpu, &s).unwrap();
    let mats = MaterialTable::builtin();
    let st = p.run(
        &Op::Substrate {
            material: mats.id("si").unwrap(),
            z0: 0,
            z1: 4,
            mask: None,
        },
        &[],
    );
    let r = Renderer::new(gpu, FRAME_FORMAT);
    let size = [640, 360];
    let frame = |subtitle: &str| {
        r.render_image(
            gpu,
            size,
            &FrameInputs {
                subtitle: subtitle.into(),
                ..plain_inputs(&p, &s, &mats, &st.counts)
            },
        )
    };
    // 3 x 20 characters: one line holds 44 (the 3D panel is 384 px wide).
    let long = "stress  |  dT -165 K  |  38 CG iterations, residual 6.8e-9  |  3.0 µm";
    let (plain, wrapped) = (frame(""), frame(long));
    let split = Layout::new(size, &s, Axis::Y).view3d[2] as u32;
    let changed = |x0: u32, x1: u32, y0: u32, y1: u32| {
        (y0..y1)
            .flat_map(|y| (x0..x1).map(move |x| (x, y)))
            .filter(|&(x, y)| plain.get_pixel(x, y) != wrapped.get_pixel(x, y))
            .count()
    };
    // The first line (y 38..46) and a second one (50..58) carry text ...
    assert!(changed(0, split, 38, 46) > 50, "first line");
    assert!(
        changed(0, split, 50, 58) > 50,
        "the rest wraps onto a second line"
    );
    // ... and none of it reaches the right panel.
    assert_eq!(changed(split, size[0], 0, size[1]), 0, "spills right");
}
