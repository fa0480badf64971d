//! A processed pitch cell as the study sees it: its voxels read back once, the die
//! and board slabs that hold its cut faces measured, solves on its grid with plates or
//! prescribed cut faces, and the layer forces and region figures read off a result.

use super::BoardError;
use crate::gpu::GpuContext;
use crate::grid::GpuGrid;
use crate::materials::MaterialTable;
use crate::scene::{BoardSpec, Scene};
use crate::stress::{
    BoundaryConditions, Prescribed, SolveOptions, StressKernels, StressResult, StressSolver,
    Support, ThermalLoad,
};
use std::sync::Arc;

/// Voxel layers of a cell (or of any die / interconnect / board stack).
#[derive(Debug, Clone, PartialEq)]
pub struct CellGeometry {
    pub dims: [u32; 3],
    pub voxel: f64,
    pub ids: Vec<u8>,
    /// Layers [0, die_top) are all die material (the die slab the cut face lies in).
    pub die_top: u32,
    /// Layers [board_bottom, board_top) are all board material; any above are void
    /// (the bond leaves room above the board when the stack is lower than the grid).
    pub board_bottom: u32,
    pub board_top: u32,
    /// Solder layers [lo, hi).
    pub solder: [u32; 2],
}

impl CellGeometry {
    /// Measures the slabs and the solder of `ids` (a cell's materials, x fastest).
    pub fn measure(
        scene: &Scene,
        spec: &BoardSpec,
        dims: [u32; 3],
        voxel: f64,
        ids: Vec<u8>,
    ) -> Result<Self, BoardError> {
        let [nx, ny, nz] = dims.map(|d| d as usize);
        let layer_all =
            |z: usize, id: u8| ids[z * nx * ny..(z + 1) * nx * ny].iter().all(|&m| m == id);
        let die_top = (0..nz)
            .take_while(|&z| layer_all(z, spec.die_material))
            .count() as u32;
        let layer_void = |z: usize| ids[z * nx * ny..(z + 1) * nx * ny].iter().all(|&m| m == 0);
        let board_top = nz - (0..nz).rev().take_while(|&z| layer_void(z)).count();
        let board_bottom = board_top
            - (0..board_top)
                .rev()
                .take_while(|&z| layer_all(z, spec.board_material))
                .count();
        let name = |id: u8| scene.materials.get(id).name.clone();
        let bad = |msg: String| BoardError::Cell {
            file: scene.file.clone(),
            line: spec.line,
            message: msg,
        };
        if die_top == 0 {
            return Err(bad(format!(
                "the cell's bottom voxel layer must be all `{}` (the die slab its bottom and side cut faces lie in)",
                name(spec.die_material)
            )));
        }
        if board_bottom == board_top {
            return Err(bad(format!(
                "the cell's top solid voxel layer must be all `{}` (the board slab its top and side cut faces lie in): \
                 bond the board part on the cell",
                name(spec.board_material)
            )));
        }
        let (board_bottom, board_top) = (board_bottom as u32, board_top as u32);
        if board_bottom <= die_top {
            return Err(bad(
                "the cell has no interconnect between its die and board slabs".into(),
            ));
        }
        let layers: Vec<u32> = (die_top..board_bottom)
            .filter(|&z| {
                let z = z as usize;
                ids[z * nx * ny..(z + 1) * nx * ny].contains(&spec.solder)
            })
            .collect();
        let (Some(&lo), Some(&hi)) = (layers.first(), layers.last()) else {
            return Err(bad(format!(
                "the cell has no `{}` between its die and board slabs (the joint the figures average)",
                name(spec.solder)
            )));
        };
        Ok(Self {
            dims,
            voxel,
            ids,
            die_top,
            board_bottom,
            board_top,
            solder: [lo, hi + 1],
        })
    }

    pub fn voxel_index(&self, x: u32, y: u32, z: u32) -> usize {
        let [nx, ny, _] = self.dims.map(|d| d as usize);
        x as usize + nx * (y as usize + ny * z as usize)
    }

    /// True when the cell's voxels are their own mirror image (to 0.1 % of its voxels)
    /// across the plane through its centre normal to `axis` (0: x, 1: y).
    pub fn mirror_symmetric(&self, axis: usize) -> bool {
        let [nx, ny, nz] = self.dims;
        let mut differ = 0u64;
        for z in 0..nz {
            for y in 0..ny {
                for x in 0..nx {
                    let (mx, my) = if axis == 0 {
                        (nx - 1 - x, y)
                    } else {
                        (x, ny - 1 - y)
                    };
                    differ += u64::from(
                        self.ids[self.voxel_index(x, y, z)]
                            != self.ids[self.voxel_index(mx, my, z)],
                    );
                }
            }
        }
        // Rasterised circles and rounded film edges can miss a mirror image by a few
        // voxels; an oriented structure (a cantilever) differs in far more.
        differ * 1000 <= self.ids.len() as u64
    }

    /// True where node (i, j, k) touches a solid voxel.
    pub fn node_on_solid(&self, i: u32, j: u32, k: u32) -> bool {
        crate::grid::node_on_solid(&self.ids, self.dims, [i, j, k])
    }

    /// Thickness of the board slab, µm.
    pub fn board_slab(&self) -> f64 {
        f64::from(self.board_top - self.board_bottom) * self.voxel
    }

    /// Thickness of the interconnect (die slab top to board slab bottom), µm.
    pub fn standoff(&self) -> f64 {
        f64::from(self.board_bottom - self.die_top) * self.voxel
    }
}

/// Rigid plates on the bottom (z = 0, held) and top (the board's top, moved by `top`)
/// node planes: the calibration load cases.
pub fn plates(g: &CellGeometry, top: [f64; 3]) -> Vec<Prescribed> {
    let [nx, ny, _] = g.dims;
    let nz = g.board_top;
    let mut out = Vec::with_capacity(2 * ((nx + 1) * (ny + 1)) as usize);
    for (k, v) in [(0, [0.0; 3]), (nz, top)] {
        for j in 0..=ny {
            for i in 0..=nx {
                if g.node_on_solid(i, j, k) {
                    out.push(Prescribed::all([i, j, k], v));
                }
            }
        }
    }
    out
}

/// One solve on `grid` under a thermal load, the body held only by its prescribed
/// nodes (cut faces or plates; `Support::Free` adds no pins then).
pub fn solve(
    gpu: &GpuContext,
    kernels: &Arc<StressKernels>,
    grid: &GpuGrid,
    materials: &MaterialTable,
    delta_t: f64,
    prescribed: &[Prescribed],
    opts: &SolveOptions,
) -> Result<StressResult, crate::stress::StressError> {
    let mut solver = StressSolver::with_kernels(gpu, kernels.clone(), grid, materials)?;
    solver.solve_prescribed(
        &ThermalLoad { delta_t },
        &BoundaryConditions::new(Support::Free),
        prescribed,
        opts,
    )
}

/// Force (N = MPa·mm²; reported in mN: MPa·µm² · 1e-3) carried through horizontal
/// layers [z0, z1) of `r` by voxels passing `keep`: (Fx, Fy, Fz) from σxz, σyz, σzz,
/// averaged over the layers (each carries the same total where the sides are free).
pub fn layer_force(r: &StressResult, z: [u32; 2], keep: &dyn Fn(usize) -> bool) -> [f64; 3] {
    let [nx, ny, _] = r.dims.map(|d| d as usize);
    let a = r.voxel_um * r.voxel_um * 1e-3;
    let mut f = [0.0; 3];
    for k in z[0]..z[1] {
        for i in k as usize * nx * ny..(k as usize + 1) * nx * ny {
            if r.material[i] != 0 && keep(i) {
                let s = r.stress[i];
                f[0] += f64::from(s[4]) * a;
                f[1] += f64::from(s[3]) * a;
                f[2] += f64::from(s[2]) * a;
            }
        }
    }
    let n = f64::from(z[1].saturating_sub(z[0]).max(1));
    f.map(|v| v / n)
}

/// Mean nodal displacement over the nodes of plane `k` that bound voxels of layer
/// `voxel_layer` passing `keep` (a pad face), µm.
pub fn face_displacement(
    r: &StressResult,
    voxel_layer: u32,
    k: u32,
    keep: &dyn Fn(usize) -> bool,
) -> [f64; 3] {
    let [nx, ny, _] = r.dims;
    let mut nodes = std::collections::BTreeSet::new();
    for y in 0..ny {
        for x in 0..nx {
            let i = r.voxel_index(x, y, voxel_layer);
            if r.material[i] != 0 && keep(i) {
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    nodes.insert(r.node_index(x + dx, y + dy, k));
                }
            }
        }
    }
    let mut m = [0.0; 3];
    for &n in &nodes {
        for (acc, v) in m.iter_mut().zip(r.displacement_f64[n]) {
            *acc += v;
        }
    }
    let c = nodes.len().max(1) as f64;
    m.map(|v| v / c)
}
