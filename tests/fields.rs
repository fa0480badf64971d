//! Stress results as viewer fields: names, units, values the GPU pick reads back, and
//! the nodal displacement for the deformed view.

mod common;

use common::{gpu, spec};
use voxfab::fields::FieldSet;
use voxfab::materials::MaterialTable;
use voxfab::process::params::MaterialSet;
use voxfab::render::{FRAME_FORMAT, FrameInputs, Layout, OrbitCamera, Renderer};
use voxfab::scene::Axis;
use voxfab::stress::{BoundaryConditions, SolveOptions, StressSolver, Support, ThermalLoad};

#[test]
fn stress_result_becomes_named_fields_the_view_reads() {
    let gpu = gpu();
    let s = spec(12, 10, 6, 2.0);
    let mats = MaterialTable::builtin();
    let (si, cu) = (mats.id("si").unwrap(), mats.id("cu").unwrap());
    let (p, counts) = common::slabs(gpu, &s, &[(si, 0, 3), (cu, 3, 5)]);
    let mut solver = StressSolver::new(gpu, p.grid(), &mats).unwrap();
    let r = solver
        .solve(
            &ThermalLoad::cooling(217.0, 25.0),
            &BoundaryConditions::new(Support::BottomRoller),
            &SolveOptions {
                tol: 1e-4,
                max_iterations: 5000,
            },
        )
        .unwrap();
    let fields = FieldSet::from_stress(gpu, &r);
    let labels: Vec<&str> = fields.fields.iter().map(|f| f.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "von Mises (MPa)",
            "max principal (MPa)",
            "sigma_xx (MPa)",
            "sigma_yy (MPa)",
            "sigma_zz (MPa)",
            "sigma_yz (MPa)",
            "sigma_xz (MPa)",
            "sigma_xy (MPa)",
            "|u| (µm)",
        ]
    );
    let vm = &fields.fields[0];
    let max = r.von_mises.iter().copied().fold(0.0f32, f32::max);
    assert!(max > 1.0, "cooling a Cu film on Si stresses it: {max} MPa");
    assert_eq!(vm.range[1], max);
    assert!(fields.displacement.is_some());

    // Colour by von Mises and pick the top copper voxel under the view's centre: the
    // value read back is the result's value at that voxel.
    let r_ = Renderer::new(gpu, FRAME_FORMAT);
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
        section_index: 5,
        cutaway: false,
        hidden: MaterialSet::default(),
        ghost: MaterialSet::default(),
        field: Some(vm.view()),
        deformation: None,
        title: String::new(),
        subtitle: String::new(),
    };
    let [vx, vy, vw, vh] = Layout::new(size, &s, Axis::Y).view3d;
    let hit = r_
        .pick(gpu, size, &inputs, [vx + vw / 2.0, vy + vh / 2.0])
        .expect("copper under the centre");
    assert_eq!((hit.material, hit.cell[2]), (cu, 4));
    assert_eq!(hit.value, Some(r.von_mises[hit.index as usize]));
    // The deformed view moves the drawn shape, in proportion to the exaggeration: at 0
    // it is the undeformed frame, at 50 the cooled film visibly moves.
    let disp = fields.displacement.as_ref().expect("nodal displacement");
    let draw = |deformation| {
        r_.render_image(
            gpu,
            size,
            &FrameInputs {
                grid: inputs.grid,
                spec: inputs.spec,
                materials: inputs.materials,
                counts: inputs.counts,
                camera: inputs.camera,
                section_axis: inputs.section_axis,
                section_index: inputs.section_index,
                cutaway: inputs.cutaway,
                hidden: inputs.hidden,
                ghost: inputs.ghost,
                field: None,
                deformation,
                title: String::new(),
                subtitle: String::new(),
            },
        )
    };
    let plain = draw(None);
    let changed = |img: &image::RgbaImage| {
        assert_eq!(img.dimensions(), (480, 270));
        img.pixels()
            .zip(plain.pixels())
            .filter(|(a, b)| (0..3).any(|i| a[i].abs_diff(b[i]) > 8))
            .count()
    };
    let at_zero = changed(&draw(Some(disp.deformation(0.0))));
    let small = changed(&draw(Some(disp.deformation(5.0))));
    let large = changed(&draw(Some(disp.deformation(50.0))));
    eprintln!("deformed pixels: x0 {at_zero}, x5 {small}, x50 {large}");
    assert!(
        at_zero <= 4,
        "no exaggeration draws the plain frame: {at_zero} px"
    );
    assert!(large > 50 && large > small, "x5 {small} px, x50 {large} px");
}
