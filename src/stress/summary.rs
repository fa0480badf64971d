//! What engineers read off a solve: per-material region figures (means and 99th
//! percentiles, the maxima as mesh-dependent peaks with their locations), probe maxima,
//! surface warpage about the best-fit plane, and relative displacements. CPU
//! post-processing of the copies a [`StressResult`] already holds.

use super::{StressResult, VoxelField};

/// One material's figures over its solid elements, MPa.
#[derive(Debug, Clone, PartialEq)]
pub struct MaterialSummary {
    pub id: u8,
    pub elements: u64,
    pub mean_von_mises: f64,
    pub p99_von_mises: f64,
    pub mean_max_principal: f64,
    pub p99_max_principal: f64,
    /// The largest element value and its element centre (µm). At re-entrant corners and
    /// bimaterial edges it grows as the voxel shrinks: a peak, not a design value.
    pub peak_von_mises: (f64, [f64; 3]),
    pub peak_max_principal: (f64, [f64; 3]),
}

/// Out-of-plane displacement of one outer surface relative to its best-fit plane.
#[derive(Debug, Clone, PartialEq)]
pub struct Warpage {
    /// Surface nodes used (one per column that holds solid).
    pub nodes: u64,
    /// Peak-to-valley of uz about the best-fit plane, µm.
    pub warpage_um: f64,
    /// uz about the plane at the surface's centre column minus the mean at its
    /// corners' columns, µm: positive when the middle bulges up (convex up).
    pub bow_um: f64,
    /// The plane uz = c0 + c1 x + c2 y (µm, x and y in µm): its tilt.
    pub plane: [f64; 3],
}

fn percentile(mut v: Vec<f64>, q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let k = ((v.len() - 1) as f64 * q).round() as usize;
    let (_, x, _) = v.select_nth_unstable_by(k, f64::total_cmp);
    *x
}

impl StressResult {
    /// Centre of voxel `i`, µm.
    pub fn voxel_centre(&self, i: usize) -> [f64; 3] {
        let [nx, ny, _] = self.dims.map(|d| d as usize);
        let c = [i % nx, (i / nx) % ny, i / (nx * ny)];
        c.map(|v| (v as f64 + 0.5) * self.voxel_um)
    }

    /// Per-material figures, by id (void excluded).
    pub fn material_summary(&self) -> Vec<MaterialSummary> {
        let mut vm: Vec<Vec<f64>> = vec![Vec::new(); 256];
        let mut p1: Vec<Vec<f64>> = vec![Vec::new(); 256];
        let mut peak_vm = vec![(f64::NEG_INFINITY, 0usize); 256];
        let mut peak_p1 = vec![(f64::NEG_INFINITY, 0usize); 256];
        for (i, &m) in self.material.iter().enumerate() {
            if m == 0 {
                continue;
            }
            let m = usize::from(m);
            let (a, b) = (
                f64::from(self.von_mises[i]),
                f64::from(self.max_principal[i]),
            );
            vm[m].push(a);
            p1[m].push(b);
            if a > peak_vm[m].0 {
                peak_vm[m] = (a, i);
            }
            if b > peak_p1[m].0 {
                peak_p1[m] = (b, i);
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        (1..256)
            .filter(|&m| !vm[m].is_empty())
            .map(|m| MaterialSummary {
                id: m as u8,
                elements: vm[m].len() as u64,
                mean_von_mises: mean(&vm[m]),
                mean_max_principal: mean(&p1[m]),
                p99_von_mises: percentile(vm[m].clone(), 0.99),
                p99_max_principal: percentile(p1[m].clone(), 0.99),
                peak_von_mises: (peak_vm[m].0, self.voxel_centre(peak_vm[m].1)),
                peak_max_principal: (peak_p1[m].0, self.voxel_centre(peak_p1[m].1)),
            })
            .collect()
    }

    /// The largest `field` value over the solid voxels whose centres lie in the box
    /// (µm), with that voxel's centre; `None` when the box holds no solid.
    pub fn box_max(
        &self,
        field: VoxelField,
        min_um: [f64; 3],
        max_um: [f64; 3],
    ) -> Option<(f64, [f64; 3])> {
        let mut best: Option<(f64, [f64; 3])> = None;
        for i in 0..self.material.len() {
            if self.material[i] == 0 {
                continue;
            }
            let c = self.voxel_centre(i);
            if (0..3).all(|k| c[k] >= min_um[k] && c[k] <= max_um[k]) {
                let v = self.value(field, i);
                if best.is_none_or(|(b, _)| v > b) {
                    best = Some((v, c));
                }
            }
        }
        best
    }

    /// Whether node (x, y, z) touches a solid voxel (one of its 2x2x2 neighbours).
    pub(super) fn node_on_solid(&self, x: u32, y: u32, z: u32) -> bool {
        crate::grid::node_on_solid(&self.material, self.dims, [x, y, z])
    }

    /// Warpage of the top (`top = true`: the highest solid node of every node column)
    /// or bottom surface; `None` with fewer than 3 columns holding solid.
    pub fn warpage(&self, top: bool) -> Option<Warpage> {
        let [nx, ny, nz] = self.dims;
        let h = self.voxel_um;
        let mut pts: Vec<(f64, f64, f64)> = Vec::new();
        let mut at = vec![None; ((nx + 1) * (ny + 1)) as usize];
        for y in 0..=ny {
            for x in 0..=nx {
                let mut zs = 0..=nz;
                let z = if top {
                    zs.rfind(|&z| self.node_on_solid(x, y, z))
                } else {
                    zs.find(|&z| self.node_on_solid(x, y, z))
                };
                if let Some(z) = z {
                    let uz = self.displacement_f64[self.node_index(x, y, z)][2];
                    at[(x + (nx + 1) * y) as usize] = Some(pts.len());
                    pts.push((f64::from(x) * h, f64::from(y) * h, uz));
                }
            }
        }
        if pts.len() < 3 {
            return None;
        }
        // Least squares uz = c0 + c1 x + c2 y (normal equations, centred for conditioning).
        let n = pts.len() as f64;
        let (mx, my) = (
            pts.iter().map(|p| p.0).sum::<f64>() / n,
            pts.iter().map(|p| p.1).sum::<f64>() / n,
        );
        let mut s = [0.0f64; 6]; // xx, xy, yy, xz, yz, z
        for &(x, y, z) in &pts {
            let (dx, dy) = (x - mx, y - my);
            s[0] += dx * dx;
            s[1] += dx * dy;
            s[2] += dy * dy;
            s[3] += dx * z;
            s[4] += dy * z;
            s[5] += z;
        }
        let det = s[0] * s[2] - s[1] * s[1];
        let (c1, c2) = if det.abs() > 1e-30 {
            (
                (s[3] * s[2] - s[4] * s[1]) / det,
                (s[4] * s[0] - s[3] * s[1]) / det,
            )
        } else {
            (0.0, 0.0)
        };
        let c0 = s[5] / n - c1 * mx - c2 * my;
        let dev = |p: &(f64, f64, f64)| p.2 - (c0 + c1 * p.0 + c2 * p.1);
        let (lo, hi) = pts
            .iter()
            .map(dev)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), d| {
                (a.min(d), b.max(d))
            });
        let col = |x: u32, y: u32| at[(x + (nx + 1) * y) as usize].map(|k| dev(&pts[k]));
        let corners: Vec<f64> = [(0, 0), (nx, 0), (0, ny), (nx, ny)]
            .iter()
            .filter_map(|&(x, y)| col(x, y))
            .collect();
        let bow = match (col(nx / 2, ny / 2), corners.is_empty()) {
            (Some(c), false) => c - corners.iter().sum::<f64>() / corners.len() as f64,
            _ => 0.0,
        };
        Some(Warpage {
            nodes: pts.len() as u64,
            warpage_um: hi - lo,
            bow_um: bow,
            plane: [c0, c1, c2],
        })
    }

    /// Displacement (µm) of the solid node nearest to `p` (µm), and that node (µm).
    pub fn displacement_near(&self, p: [f64; 3]) -> Option<([f64; 3], [f64; 3])> {
        let h = self.voxel_um;
        let [nx, ny, nz] = self.dims;
        let near = |v: f64, n: u32| ((v / h).round().max(0.0) as u32).min(n);
        let c = [near(p[0], nx), near(p[1], ny), near(p[2], nz)];
        // The nearest node on solid within a few nodes of the rounded one.
        let mut best: Option<(f64, [u32; 3])> = None;
        for dz in -2i64..=2 {
            for dy in -2i64..=2 {
                for dx in -2i64..=2 {
                    let q = [
                        i64::from(c[0]) + dx,
                        i64::from(c[1]) + dy,
                        i64::from(c[2]) + dz,
                    ];
                    if q.iter()
                        .zip([nx, ny, nz])
                        .any(|(&v, n)| v < 0 || v > i64::from(n))
                    {
                        continue;
                    }
                    let q = q.map(|v| v as u32);
                    if !self.node_on_solid(q[0], q[1], q[2]) {
                        continue;
                    }
                    let d: f64 = (0..3).map(|k| (f64::from(q[k]) * h - p[k]).powi(2)).sum();
                    if best.is_none_or(|(b, _)| d < b) {
                        best = Some((d, q));
                    }
                }
            }
        }
        let (_, q) = best?;
        let u = self.displacement_f64[self.node_index(q[0], q[1], q[2])];
        Some((u, q.map(|v| f64::from(v) * h)))
    }
}
