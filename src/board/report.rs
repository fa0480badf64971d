//! What a board-level comparison writes: per-design joints.csv and metrics.json, and for
//! the comparison compare.md / compare.csv (corner-joint figures, relief ratios
//! against the first design) and sections.png (the corner submodels side by side on
//! one colour scale).

use super::global::JointResult;
use super::{CornerView, DesignStudy};
use crate::gpu::GpuContext;
use crate::output::{WriteError, write_atomic};
use crate::render::{FRAME_FORMAT, FieldView, FrameInputs, Renderer};
use crate::scene::Scene;
use std::fmt::Write as _;
use std::path::Path;
use wgpu::util::DeviceExt;

/// One row per joint of the global model.
pub fn write_joints_csv(path: &Path, joints: &[JointResult]) -> Result<(), WriteError> {
    write_atomic(path, |w| {
        writeln!(
            w,
            "ix,iy,x_um,y_um,dnp_um,pad_shift_um,pad_shift_x_um,pad_shift_y_um,pad_shift_z_um,\
             column_mean_shear_mpa,column_mean_von_mises_mpa,force_x_mn,force_y_mn,force_z_mn"
        )?;
        for j in joints {
            writeln!(
                w,
                "{},{},{},{},{:.3},{:.6e},{:.6e},{:.6e},{:.6e},{:.5},{:.5},{:.6e},{:.6e},{:.6e}",
                j.index[0],
                j.index[1],
                j.centre_um[0],
                j.centre_um[1],
                j.dnp_um,
                j.pad_shift_um,
                j.pad_shift_xyz_um[0],
                j.pad_shift_xyz_um[1],
                j.pad_shift_xyz_um[2],
                j.mean_shear_mpa,
                j.mean_von_mises_mpa,
                j.force_mn[0],
                j.force_mn[1],
                j.force_mn[2]
            )?;
        }
        Ok(())
    })
}

/// The figures of the comparison table, for one design's joint: (column name, value).
pub fn joint_row(s: &DesignStudy, l: &super::LocalResult) -> Vec<(&'static str, f64)> {
    let f = &l.figures;
    let region = |name: &str| {
        f.regions
            .iter()
            .find(|r| r.material == name)
            .map_or(f64::NAN, |r| r.p99_strain_ppm)
    };
    vec![
        ("dnp_um", l.dnp_um),
        ("die_side_von_mises_mpa", f.die_side.von_mises_mpa),
        ("die_side_shear_mpa", f.die_side.shear_mpa),
        ("die_side_peel_mpa", f.die_side.peel_mpa),
        ("board_side_von_mises_mpa", f.board_side.von_mises_mpa),
        ("board_side_shear_mpa", f.board_side.shear_mpa),
        ("board_side_peel_mpa", f.board_side.peel_mpa),
        ("pad_shift_um", f.pad_shift_um),
        ("global_pad_shift_um", l.global_pad_shift_um),
        ("shear_force_ratio", l.shear_force_ratio),
        ("force_error", l.force_error),
        ("cu_p99_strain_ppm", region("cu")),
        ("polyimide_p99_strain_ppm", region("polyimide")),
        ("delta_t_k", s.delta_t),
    ]
}

/// The critical-layer figure of a joint: the larger of its die- and board-side von
/// Mises layer means (MPa), the number relief ratios compare.
pub fn critical_layer(l: &super::LocalResult) -> f64 {
    l.figures
        .die_side
        .von_mises_mpa
        .max(l.figures.board_side.von_mises_mpa)
}

/// compare.md and compare.csv in `out`.
pub fn write_tables(out: &Path, studies: &[DesignStudy]) -> Result<(), WriteError> {
    let base = studies.first().and_then(|s| s.corner()).map(critical_layer);
    let base_shear = studies.first().and_then(|s| s.corner()).map(|c| {
        c.figures
            .die_side
            .shear_mpa
            .max(c.figures.board_side.shear_mpa)
    });
    let mut csv = String::from("design,joint");
    if let Some(s) = studies
        .first()
        .and_then(|s| s.local.first().map(|l| (s, l)))
    {
        for (k, _) in joint_row(s.0, s.1) {
            let _ = write!(csv, ",{k}");
        }
    }
    csv.push_str(",critical_layer_von_mises_mpa,relief_ratio,status\n");
    let mut md = String::from("# Board-level comparison (global–local, linear elastic)\n\n");
    let _ = writeln!(
        md,
        "Corner joint of each design (its worst placement where an oriented design sits \
         differently at the four die corners: `_mx` is the cell as drawn placed at the die's \
         −x side, i.e. mirrored in x relative to the +x corner); figures are volume means over solder only in the \
         critical layers at the die- and board-side interfaces (MPa), the relative pad \
         displacement (board-side minus die-side solder face, µm), and the elastic p99 \
         equivalent strain of the Cu line and the polyimide (von Mises / E). The relief \
         ratio is the corner's critical-layer von Mises against the first design's. In a \
         linear model every stress scales with ΔT and real solder yields at tens of MPa: \
         these are elastic indices for ranking designs, not stresses the joint carries; \
         creep is not modelled.\n"
    );
    let _ = writeln!(
        md,
        "| design | corner | ΔT K | DNP µm | die-side vM | die-side shear | die-side peel | board-side vM | board-side shear | board-side peel | solder shift µm (global interconnect) | Cu p99 strain ppm | PI p99 strain ppm | relief ratio (vM) | relief ratio (shear) | force check: shear ratio, vector error |"
    );
    let _ = writeln!(md, "|{}", "---|".repeat(16));
    for s in studies {
        for l in &s.local {
            let row = joint_row(s, l);
            let _ = write!(csv, "{},{}", s.name, l.site);
            for (_, v) in &row {
                let _ = write!(csv, ",{v:.6}");
            }
            let crit = critical_layer(l);
            let relief = base.map_or(f64::NAN, |b| crit / b);
            let status = if s.global.converged && l.solve.converged {
                "converged"
            } else {
                "unconverged"
            };
            let _ = writeln!(csv, ",{crit:.6},{relief:.6},{status}");
        }
        let Some(c) = s.corner() else { continue };
        let f = &c.figures;
        let region = |n: &str| {
            f.regions
                .iter()
                .find(|r| r.material == n)
                .map_or("–".to_string(), |r| format!("{:.0}", r.p99_strain_ppm))
        };
        let shear = f.die_side.shear_mpa.max(f.board_side.shear_mpa);
        let _ = writeln!(
            md,
            "| {} | {} | {:+.0} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.3} ({:.3}) | {} | {} | {:.3} | {:.3} | {:.3}, {:.3} |",
            s.name,
            c.site,
            s.delta_t,
            c.dnp_um,
            f.die_side.von_mises_mpa,
            f.die_side.shear_mpa,
            f.die_side.peel_mpa,
            f.board_side.von_mises_mpa,
            f.board_side.shear_mpa,
            f.board_side.peel_mpa,
            f.pad_shift_um,
            c.global_pad_shift_um,
            region("cu"),
            region("polyimide"),
            base.map_or(f64::NAN, |b| critical_layer(c) / b),
            base_shear.map_or(f64::NAN, |b| shear / b),
            c.shear_force_ratio,
            c.force_error,
        );
    }
    let _ = writeln!(md, "\n## Every critical joint (local models)\n");
    let _ = writeln!(
        md,
        "| design | joint | DNP µm | die-side vM | board-side vM | die-side shear | board-side shear | pad shift µm | local CG it | residual |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    for s in studies {
        for l in &s.local {
            let f = &l.figures;
            let _ = writeln!(
                md,
                "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.3} | {} | {:.1e} |",
                s.name,
                l.site,
                l.dnp_um,
                f.die_side.von_mises_mpa,
                f.board_side.von_mises_mpa,
                f.die_side.shear_mpa,
                f.board_side.shear_mpa,
                f.pad_shift_um,
                l.solve.iterations,
                l.solve.residual
            );
        }
    }
    let _ = writeln!(md, "\n## Models\n");
    let _ = writeln!(
        md,
        "| design | cell voxel µm | cell | global voxel µm | global | global CG it | column E GPa, ν, CTE | cell shear k (local / global) mN/µm | axial k (local / global) | study s |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    for s in studies {
        let c = &s.calibration;
        let _ = writeln!(
            md,
            "| {} | {} | {}x{}x{} | {} | {}x{}x{} | {} | {:.3}, {:.3}, {:.2} | {:.4} / {:.4} | {:.4} / {:.4} | {:.0} |",
            s.name,
            s.cell_voxel_um,
            s.cell_dims[0],
            s.cell_dims[1],
            s.cell_dims[2],
            s.global.voxel_um,
            s.global.dims[0],
            s.global.dims[1],
            s.global.dims[2],
            s.global.iterations,
            c.e_gpa,
            c.nu,
            c.cte_ppm,
            c.local.shear(),
            c.global.shear(),
            c.local.axial,
            c.global.axial,
            s.seconds
        );
    }
    write_atomic(&out.join("compare.csv"), |w| w.write_all(csv.as_bytes()))?;
    write_atomic(&out.join("compare.md"), |w| w.write_all(md.as_bytes()))
}

/// The corner submodels' sections side by side, on one von Mises scale (0 to the
/// largest of the designs' 99th percentiles).
pub fn write_sections(
    gpu: &GpuContext,
    path: &Path,
    views: &[(&Scene, &CornerView)],
    size: [u32; 2],
) -> Result<(), WriteError> {
    if views.is_empty() {
        return Ok(());
    }
    let top = views
        .iter()
        .map(|(_, v)| crate::run::stress_colour_bar(&v.result).0[1])
        .fold(1e-3f32, f32::max);
    let renderer = Renderer::new(gpu, FRAME_FORMAT);
    let mut tiles = Vec::new();
    for (scene, v) in views {
        let field = gpu
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("board::sections::von_mises"),
                contents: bytemuck::cast_slice(&v.result.von_mises),
                usage: wgpu::BufferUsages::STORAGE,
            });
        let mut counts = vec![0u64; 256];
        for &m in &v.result.material {
            counts[m as usize] += 1;
        }
        let coarsen = (v.grid.spec.voxel_um / scene.grid.voxel_um)
            .round()
            .max(1.0) as u32;
        let note = format!("one scale for all designs: 0 to {top:.1} MPa");
        let img = renderer.render_image(
            gpu,
            size,
            &FrameInputs {
                grid: &v.grid.material,
                spec: &v.grid.spec,
                materials: &scene.materials,
                counts: &counts,
                camera: crate::engine::camera(scene),
                section_axis: scene.view.section_axis,
                section_index: scene.view.section_index / coarsen,
                cutaway: scene.view.cutaway,
                hidden: Default::default(),
                ghost: Default::default(),
                field: Some(FieldView {
                    buffer: &field,
                    range: [0.0, top],
                    label: "von Mises (MPa)",
                    note: &note,
                }),
                deformation: None,
                title: scene.title.clone(),
                subtitle: format!(
                    "corner joint submodel  |  {:.1} µm voxels  |  cut faces from the global model",
                    v.grid.spec.voxel_um
                ),
            },
        );
        tiles.push(img);
    }
    let (w, h) = (size[0], size[1]);
    let mut sheet = image::RgbaImage::new(w * tiles.len() as u32, h);
    for (i, t) in tiles.iter().enumerate() {
        image::imageops::overlay(&mut sheet, t, i64::from(w) * i as i64, 0);
    }
    crate::output::write_png(path, &sheet)
}

/// dnp_shift.png and dnp_force.png: per joint of the global models, the interconnect
/// shift (board side minus die side) and the shear force a joint carries against its
/// DNP, one line per design; the shift plot adds Δα·ΔT·DNP, the free mismatch of die
/// and board that rigid joints would see.
pub fn write_dnp_plots(
    out: &Path,
    scenes: &[Scene],
    studies: &[DesignStudy],
) -> Result<Vec<std::path::PathBuf>, super::BoardError> {
    use crate::output::plot::{LinePlot, Series, line_plot};
    let sorted = |mut v: Vec<(f64, f64)>| {
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v
    };
    let mut shift = Vec::new();
    let mut force = Vec::new();
    for s in studies {
        shift.push(Series {
            name: s.name.clone(),
            points: sorted(
                s.global_joints
                    .iter()
                    .map(|j| (j.dnp_um, j.pad_shift_um))
                    .collect(),
            ),
        });
        force.push(Series {
            name: s.name.clone(),
            points: sorted(
                s.global_joints
                    .iter()
                    .map(|j| (j.dnp_um, j.force_mn[0].hypot(j.force_mn[1])))
                    .collect(),
            ),
        });
    }
    if let (Some(s), Some(scene)) = (studies.first(), scenes.first())
        && let Some(b) = scene.board.as_ref()
    {
        let da = scene.materials.get(b.board_material).cte_ppm
            - scene.materials.get(b.die_material).cte_ppm;
        let max = s.global_joints.iter().map(|j| j.dnp_um).fold(0.0, f64::max);
        shift.push(Series {
            name: "free mismatch Δα·ΔT·DNP".into(),
            points: vec![(0.0, 0.0), (max, (da * 1e-6 * s.delta_t * max).abs())],
        });
    }
    let err = |e: crate::output::plot::PlotError| super::BoardError::Plot(e.to_string());
    let a = out.join("dnp_shift.png");
    line_plot(
        &a,
        &LinePlot {
            title: "global model: interconnect shift per joint".into(),
            x_label: "DNP (µm)".into(),
            y_label: "board side − die side (µm)".into(),
            series: shift,
        },
        [1000, 650],
    )
    .map_err(err)?;
    let b = out.join("dnp_force.png");
    line_plot(
        &b,
        &LinePlot {
            title: "global model: shear force per joint".into(),
            x_label: "DNP (µm)".into(),
            y_label: "in-plane force (mN)".into(),
            series: force,
        },
        [1000, 650],
    )
    .map_err(err)?;
    Ok(vec![a, b])
}
