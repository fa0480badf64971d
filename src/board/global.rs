//! The quarter global model of a die on a board: generated from the cell's `[board]`
//! and the calibrated column, solved free with symmetry planes at x = 0 and y = 0 (one
//! point against rigid motion in z), and read per joint.

use super::cell;
use super::layout::{COLUMN_MATERIAL, Stack};
use crate::materials::Material;
use crate::scene::{BoardSpec, JointSite, Scene, StressSpec};
use crate::stress::StressResult;
use serde::Serialize;

/// One joint of the global model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JointResult {
    pub index: [u32; 2],
    pub centre_um: [f64; 2],
    pub dnp_um: f64,
    /// Board-side minus die-side pad displacement (column top face minus bottom face
    /// means), µm: in-plane magnitude, and its x, y, z components.
    pub pad_shift_um: f64,
    pub pad_shift_xyz_um: [f64; 3],
    /// Means over the column's elements, MPa (an index: the column is a calibrated
    /// stand-in, its stresses are not the solder's).
    pub mean_shear_mpa: f64,
    pub mean_von_mises_mpa: f64,
    /// Force through the column's middle layer (the whole joint, also where the column
    /// is cut by a symmetry plane), mN.
    pub force_mn: [f64; 3],
}

/// The quarter model's stack.
pub fn stack(
    scene: &Scene,
    spec: &BoardSpec,
    standoff: f64,
    column: Material,
    side: [f64; 2],
    radial: &[(f64, f64)],
    load: &StressSpec,
) -> Stack {
    let hg = spec.global_voxel;
    let standoff = ((standoff / hg).round().max(1.0)) * hg;
    let column = Material {
        e_gpa: radial.first().map_or(column.e_gpa, |r| r.1),
        ..column
    };
    let q = spec.quarter_size();
    let (dt, bt) = (spec.die_thickness, spec.board_thickness);
    Stack {
        title: format!("{}: board-level quarter model", scene.title),
        size: [q[0], q[1], dt + standoff + bt],
        voxel: hg,
        die_rect: [0.0, 0.0, spec.die[0] / 2.0, spec.die[1] / 2.0],
        die_z: [0.0, dt],
        columns: spec.sites().iter().map(|s| s.centre).collect(),
        column_side: side,
        // A radial bin per column: the first whose upper angle bound holds its angle.
        extra: radial
            .iter()
            .skip(1)
            .map(|&(_, e)| Material {
                e_gpa: e,
                ..column.clone()
            })
            .collect(),
        column_material: spec
            .sites()
            .iter()
            .map(|s| {
                let a = s.centre[1].atan2(s.centre[0]).to_degrees();
                radial
                    .iter()
                    .position(|&(hi, _)| a <= hi + 1e-9)
                    .unwrap_or(0)
            })
            .collect(),
        column_z: [dt, dt + standoff],
        board_z: [dt + standoff, dt + standoff + bt],
        die: scene.materials.get(spec.die_material).clone(),
        board: scene.materials.get(spec.board_material).clone(),
        column,
        delta_t: load.delta_t,
        quarter: true,
        tol: load.options.tol,
        max_iterations: load.options.max_iterations,
    }
}

/// The figures of every joint of a solved quarter model.
pub fn joints(
    spec: &BoardSpec,
    st: &Stack,
    column_ids: &[u8],
    r: &StressResult,
) -> Vec<JointResult> {
    let h = st.voxel;
    let z0 = (st.column_z[0] / h).round() as u32;
    let z1 = (st.column_z[1] / h).round() as u32;
    let [nx, ny, _] = r.dims;
    spec.sites()
        .iter()
        .map(|s| joint(s, st, column_ids, r, [z0, z1], [nx, ny]))
        .collect()
}

fn joint(
    s: &JointSite,
    st: &Stack,
    column_ids: &[u8],
    r: &StressResult,
    z: [u32; 2],
    n: [u32; 2],
) -> JointResult {
    let h = st.voxel;
    let half = st.column_side.map(|w| w / 2.0);
    let lo: [u32; 2] =
        std::array::from_fn(|a| (((s.centre[a] - half[a]) / h).round().max(0.0)) as u32);
    let hi: [u32; 2] =
        std::array::from_fn(|a| (((s.centre[a] + half[a]) / h).round() as u32).min(n[a]));
    let inside = |i: usize| {
        let x = (i % n[0] as usize) as u32;
        let y = ((i / n[0] as usize) % n[1] as usize) as u32;
        column_ids.contains(&r.material[i])
            && (lo[0]..hi[0]).contains(&x)
            && (lo[1]..hi[1]).contains(&y)
    };
    let (mut shear, mut vm, mut count) = (0.0, 0.0, 0u64);
    for k in z[0]..z[1] {
        for y in lo[1]..hi[1] {
            for x in lo[0]..hi[0] {
                let i = r.voxel_index(x, y, k);
                if inside(i) {
                    let t = r.stress[i];
                    shear += f64::from(t[4]).hypot(f64::from(t[3]));
                    vm += f64::from(r.von_mises[i]);
                    count += 1;
                }
            }
        }
    }
    let c = count.max(1) as f64;
    let bottom = cell::face_displacement(r, z[0], z[0], &inside);
    let top = cell::face_displacement(r, z[1] - 1, z[1], &inside);
    let d = [top[0] - bottom[0], top[1] - bottom[1], top[2] - bottom[2]];
    let mid = (z[0] + z[1]) / 2;
    let mut f = cell::layer_force(r, [mid, mid + 1], &inside);
    // A column cut by a symmetry plane holds half (or a quarter) of the joint: the
    // mirrored half carries the same normal force and in-plane force along the plane,
    // and the opposite force across it.
    if s.centre[0] == 0.0 {
        f = [0.0, 2.0 * f[1], 2.0 * f[2]];
    }
    if s.centre[1] == 0.0 {
        f = [2.0 * f[0], 0.0, 2.0 * f[2]];
    }
    JointResult {
        index: s.index,
        centre_um: s.centre,
        dnp_um: s.dnp(),
        pad_shift_um: d[0].hypot(d[1]),
        pad_shift_xyz_um: d,
        mean_shear_mpa: shear / c,
        mean_von_mises_mpa: vm / c,
        force_mn: f,
    }
}

/// The ids the generated scene gave its column materials.
pub fn column_ids(scene: &Scene) -> Vec<u8> {
    scene
        .materials
        .iter()
        .filter(|(_, m)| m.name.starts_with(COLUMN_MATERIAL))
        .map(|(id, _)| id)
        .collect()
}
