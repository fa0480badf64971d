//! CPU copies of a stress solve, with the summaries outputs and probes need.

use super::VoxelField;

/// Outcome of one [`super::StressSolver::solve`].
#[derive(Debug, Clone)]
pub struct StressResult {
    /// Voxel grid size.
    pub dims: [u32; 3],
    pub voxel_um: f64,
    /// Material id per voxel at solve time.
    pub material: Vec<u8>,
    /// Stress at each voxel's centroid in MPa: xx, yy, zz, yz, xz, xy (0 in void).
    pub stress: Vec<[f32; 6]>,
    /// Von Mises stress per voxel, MPa.
    pub von_mises: Vec<f32>,
    /// Largest principal stress per voxel, MPa.
    pub max_principal: Vec<f32>,
    /// Displacement per node (voxel corner, (nx+1)(ny+1)(nz+1), x fastest), µm.
    pub displacement: Vec<[f32; 3]>,
    /// The same at the outer iteration's precision (f64 where the adapter has it), for
    /// checks and submodel boundary values that need more than f32.
    pub displacement_f64: Vec<[f64; 3]>,
    /// CG iterations run.
    pub iterations: u32,
    /// True relative residual ‖f − K u‖ / ‖f‖ reached (see [`super::SolveOptions::tol`]).
    pub residual: f64,
    /// `residual` ≤ tol.
    pub converged: bool,
    /// Stopped before `max_iterations` because the residual stopped falling (f32 floor).
    pub stalled: bool,
    /// Wall time of setup and iterations, ms.
    pub solve_ms: f64,
    /// Wall time of the whole call including the stress kernel and readback, ms.
    pub ms: f64,
    /// Reaction at each prescribed node (K u − f: the force the prescription applies
    /// to the body, mN), in node-index order; empty without prescribed displacements.
    /// Only the prescribed components carry load; the others are residual-sized.
    pub reactions: Vec<([u32; 3], [f64; 3])>,
}

/// Von Mises summary of one material.
#[derive(Debug, Clone, PartialEq)]
pub struct MaterialStats {
    pub id: u8,
    pub voxels: u64,
    /// MPa.
    pub max_von_mises: f64,
    /// MPa.
    pub mean_von_mises: f64,
}

impl StressResult {
    pub fn voxel_index(&self, x: u32, y: u32, z: u32) -> usize {
        let [nx, ny, _] = self.dims.map(|d| d as usize);
        x as usize + nx * (y as usize + ny * z as usize)
    }

    pub fn node_index(&self, x: u32, y: u32, z: u32) -> usize {
        let [nx, ny, _] = self.dims.map(|d| d as usize + 1);
        x as usize + nx * (y as usize + ny * z as usize)
    }

    /// Value of `field` at voxel `i`.
    pub fn value(&self, field: VoxelField, i: usize) -> f64 {
        f64::from(match field {
            VoxelField::Stress(k) => self.stress[i][k.min(5)],
            VoxelField::VonMises => self.von_mises[i],
            VoxelField::MaxPrincipal => self.max_principal[i],
        })
    }

    /// Max and mean von Mises per material present (void excluded), by id.
    pub fn material_stats(&self) -> Vec<MaterialStats> {
        let mut acc: Vec<(u64, f64, f64)> = vec![(0, 0.0, 0.0); 256];
        for (&m, &vm) in self.material.iter().zip(&self.von_mises) {
            let a = &mut acc[usize::from(m)];
            a.0 += 1;
            a.1 = a.1.max(f64::from(vm));
            a.2 += f64::from(vm);
        }
        acc.iter()
            .enumerate()
            .skip(1)
            .filter(|(_, a)| a.0 > 0)
            .map(|(id, &(n, max, sum))| MaterialStats {
                id: id as u8,
                voxels: n,
                max_von_mises: max,
                mean_von_mises: sum / n as f64,
            })
            .collect()
    }

    /// Mean of `field` over the solid voxels whose centroids lie in the box
    /// `[min_um, max_um]` (µm); `None` when the box holds none.
    pub fn box_mean(&self, field: VoxelField, min_um: [f64; 3], max_um: [f64; 3]) -> Option<f64> {
        let h = self.voxel_um;
        let [nx, ny, nz] = self.dims;
        let (mut sum, mut n) = (0.0, 0u64);
        for z in 0..nz {
            for y in 0..ny {
                for x in 0..nx {
                    let c = [x, y, z].map(|v| (f64::from(v) + 0.5) * h);
                    if (0..3).all(|k| c[k] >= min_um[k] && c[k] <= max_um[k]) {
                        let i = self.voxel_index(x, y, z);
                        if self.material[i] != 0 {
                            sum += self.value(field, i);
                            n += 1;
                        }
                    }
                }
            }
        }
        (n > 0).then(|| sum / n as f64)
    }

    /// Mean displacement (µm) of the nodes in the box `[min_um, max_um]` (µm) that touch
    /// a solid voxel; `None` when there are none.
    pub fn displacement_box_mean(&self, min_um: [f64; 3], max_um: [f64; 3]) -> Option<[f64; 3]> {
        let h = self.voxel_um;
        let [nx, ny, nz] = self.dims;
        let touches = |x: u32, y: u32, z: u32| self.node_on_solid(x, y, z);
        let (mut sum, mut n) = ([0.0; 3], 0u64);
        for z in 0..=nz {
            for y in 0..=ny {
                for x in 0..=nx {
                    let c = [x, y, z].map(|v| f64::from(v) * h);
                    if (0..3).all(|k| c[k] >= min_um[k] && c[k] <= max_um[k]) && touches(x, y, z) {
                        let d = self.displacement[self.node_index(x, y, z)];
                        for k in 0..3 {
                            sum[k] += f64::from(d[k]);
                        }
                        n += 1;
                    }
                }
            }
        }
        (n > 0).then(|| sum.map(|s| s / n as f64))
    }
}
