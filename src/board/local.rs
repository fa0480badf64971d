//! The local submodel: the fine pitch cell at a critical joint, its cut faces (in the
//! die and board slabs) driven by the global displacement, interpolated with the global
//! element's trilinear shape functions, and the figures engineers compare read off it.

use super::cell::CellGeometry;
use super::layout::Stack;
use crate::materials::MaterialTable;
use crate::scene::{BoardSpec, JointSite};
use crate::stress::{Prescribed, StressResult};
use serde::Serialize;

/// Global displacement field (nodes of the quarter model) with its mirror images.
pub struct GlobalField<'a> {
    pub r: &'a StressResult,
    pub voxel: f64,
}

impl GlobalField<'_> {
    /// u at (x, y, z) µm in the quarter model's frame; x < 0 or y < 0 mirror through
    /// the symmetry planes (ux, resp. uy, changes sign). Points beyond the domain clamp.
    pub fn at(&self, p: [f64; 3]) -> [f64; 3] {
        let (sx, sy) = (p[0] < 0.0, p[1] < 0.0);
        let q = [p[0].abs(), p[1].abs(), p[2]];
        let n = self.r.dims;
        let mut base = [0u32; 3];
        let mut w = [0.0; 3];
        for a in 0..3 {
            let t = (q[a] / self.voxel).clamp(0.0, f64::from(n[a]));
            let i = (t.floor() as u32).min(n[a] - 1);
            base[a] = i;
            w[a] = t - f64::from(i);
        }
        let mut u = [0.0; 3];
        for c in 0..8u32 {
            let o = [c & 1, (c >> 1) & 1, (c >> 2) & 1];
            let wt: f64 = (0..3)
                .map(|a| if o[a] == 1 { w[a] } else { 1.0 - w[a] })
                .product();
            if wt == 0.0 {
                continue;
            }
            let v = self.r.displacement_f64[self.r.node_index(
                base[0] + o[0],
                base[1] + o[1],
                base[2] + o[2],
            )];
            for a in 0..3 {
                u[a] += wt * v[a];
            }
        }
        if sx {
            u[0] = -u[0];
        }
        if sy {
            u[1] = -u[1];
        }
        u
    }
}

/// Cut-face displacements of the cell placed at `site`: the side faces and, where the
/// cell holds less than the whole die or board, its bottom and top faces. Nodes in the
/// die slab map into the global die by their depth below the die face, nodes in the
/// board slab by their height above the board face; side-face nodes of the films
/// between (passivation, polyimide on the die face) take the nearer face's value.
pub fn cut_faces(
    g: &CellGeometry,
    spec: &BoardSpec,
    st: &Stack,
    site: &JointSite,
    field: &GlobalField,
) -> Vec<Prescribed> {
    let [nx, ny, _] = g.dims;
    let nz = g.board_top;
    let h = g.voxel;
    let die_face = st.die_z[1];
    let board_face = st.board_z[0];
    let cut_bottom = f64::from(g.die_top) * h < spec.die_thickness - 1e-9;
    let cut_top = g.board_slab() < spec.board_thickness - 1e-9;
    let origin = [
        site.centre[0] - spec.pitch / 2.0,
        site.centre[1] - spec.pitch / 2.0,
    ];
    let mid = 0.5 * f64::from(g.die_top + g.board_bottom);
    let mut out = Vec::new();
    for k in 0..=nz {
        let z_global = if k <= g.die_top {
            die_face - f64::from(g.die_top - k) * h
        } else if k >= g.board_bottom {
            board_face + f64::from(k - g.board_bottom) * h
        } else if f64::from(k) < mid {
            die_face
        } else {
            board_face
        };
        for j in 0..=ny {
            for i in 0..=nx {
                let side = i == 0 || j == 0 || i == nx || j == ny;
                let face = (k == 0 && cut_bottom) || (k == nz && cut_top);
                if !(side || face) || !g.node_on_solid(i, j, k) {
                    continue;
                }
                let p = [
                    origin[0] + f64::from(i) * h,
                    origin[1] + f64::from(j) * h,
                    z_global,
                ];
                out.push(Prescribed::all([i, j, k], field.at(p)));
            }
        }
    }
    out
}

/// Volume averages over one solder layer, MPa.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LayerFigures {
    /// Elements averaged and the layer's z range in the cell, µm.
    pub elements: u64,
    pub z_um: [f64; 2],
    /// Mean of √(σxz² + σyz²).
    pub shear_mpa: f64,
    /// Mean σzz (positive: peel).
    pub peel_mpa: f64,
    pub von_mises_mpa: f64,
}

/// A material's figures in the cell: where failure may move to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionFigures {
    pub material: String,
    pub elements: u64,
    pub mean_von_mises_mpa: f64,
    pub p99_von_mises_mpa: f64,
    /// p99 von Mises / E: an elastic equivalent strain, ×1e-6.
    pub p99_strain_ppm: f64,
    /// Peak element (mesh-dependent at corners) and its centre in the cell, µm.
    pub peak_von_mises_mpa: f64,
    pub peak_at_um: [f64; 3],
}

/// What the local model says about one joint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JointFigures {
    pub die_side: LayerFigures,
    pub board_side: LayerFigures,
    /// Board-side minus die-side solder face displacement, µm (in-plane magnitude;
    /// components).
    pub pad_shift_um: f64,
    pub pad_shift_xyz_um: [f64; 3],
    /// Force through the solder's middle layer, mN (checked against the global joint).
    pub force_mn: [f64; 3],
    pub regions: Vec<RegionFigures>,
}

fn layer(r: &StressResult, solder: u8, z: [u32; 2]) -> LayerFigures {
    let (mut n, mut t, mut p, mut v) = (0u64, 0.0, 0.0, 0.0);
    let [nx, ny, _] = r.dims.map(|d| d as usize);
    for k in z[0]..z[1] {
        for i in k as usize * nx * ny..(k as usize + 1) * nx * ny {
            if r.material[i] == solder {
                let s = r.stress[i];
                t += f64::from(s[4]).hypot(f64::from(s[3]));
                p += f64::from(s[2]);
                v += f64::from(r.von_mises[i]);
                n += 1;
            }
        }
    }
    let c = n.max(1) as f64;
    LayerFigures {
        elements: n,
        z_um: [f64::from(z[0]) * r.voxel_um, f64::from(z[1]) * r.voxel_um],
        shear_mpa: t / c,
        peel_mpa: p / c,
        von_mises_mpa: v / c,
    }
}

/// The figures of a solved cell.
pub fn figures(
    g: &CellGeometry,
    spec: &BoardSpec,
    materials: &MaterialTable,
    r: &StressResult,
) -> JointFigures {
    let n = ((spec.layer / g.voxel).round() as u32).max(1);
    let [lo, hi] = g.solder;
    let n = n.min(hi - lo);
    let solder = spec.solder;
    let is_solder = |i: usize| r.material[i] == solder;
    let bottom = super::cell::face_displacement(r, lo, lo, &is_solder);
    let top = super::cell::face_displacement(r, hi - 1, hi, &is_solder);
    let d = [top[0] - bottom[0], top[1] - bottom[1], top[2] - bottom[2]];
    let mid = (lo + hi) / 2;
    let regions = r
        .material_summary()
        .into_iter()
        .filter(|m| m.id != spec.die_material && m.id != spec.board_material)
        .map(|m| {
            let mat = materials.get(m.id);
            RegionFigures {
                material: mat.name.clone(),
                elements: m.elements,
                mean_von_mises_mpa: m.mean_von_mises,
                p99_von_mises_mpa: m.p99_von_mises,
                p99_strain_ppm: if mat.e_gpa > 0.0 {
                    m.p99_von_mises / (mat.e_gpa * 1e3) * 1e6
                } else {
                    0.0
                },
                peak_von_mises_mpa: m.peak_von_mises.0,
                peak_at_um: m.peak_von_mises.1,
            }
        })
        .collect();
    JointFigures {
        die_side: layer(r, solder, [lo, lo + n]),
        board_side: layer(r, solder, [hi - n, hi]),
        pad_shift_um: d[0].hypot(d[1]),
        pad_shift_xyz_um: d,
        force_mn: super::cell::layer_force(r, [mid, mid + 1], &is_solder),
        regions,
    }
}
