//! The trilinear 8-node hexahedron of a unit cube, integrated once on the CPU in f64.
//!
//! Local node `a` sits at corner `(a & 1, (a >> 1) & 1, a >> 2)`; its DOFs are
//! `3a + c` with `c` = x, y, z. Strains use Voigt order xx, yy, zz, yz, xz, xy with
//! engineering shears. For an isotropic material with Lamé constants λ, μ the
//! stiffness of a cube of edge h is `h·(λ·k_lambda + μ·k_mu)` and its thermal load is
//! `(3λ + 2μ)·α·ΔT·h²·g`, because B scales as 1/h and the volume as h³.

/// DOFs of one element.
pub const DOFS: usize = 24;

/// Unit-cube element matrices (see the module docs).
#[derive(Debug, Clone)]
pub struct UnitElement {
    /// ∫ Bᵀ m mᵀ B over the unit cube, m = [1,1,1,0,0,0].
    pub k_lambda: [[f64; DOFS]; DOFS],
    /// ∫ Bᵀ diag(2,2,2,1,1,1) B over the unit cube.
    pub k_mu: [[f64; DOFS]; DOFS],
    /// ∫ Bᵀ m over the unit cube.
    pub g: [f64; DOFS],
}

/// Corner of local node `a` (0 or 1 per axis).
pub fn corner(a: usize) -> [usize; 3] {
    [a & 1, (a >> 1) & 1, a >> 2]
}

/// Shape-function gradients of the unit cube at local point `xi` ∈ [0,1]³.
pub fn shape_gradients(xi: [f64; 3]) -> [[f64; 3]; 8] {
    let mut out = [[0.0; 3]; 8];
    for (a, grad) in out.iter_mut().enumerate() {
        let c = corner(a);
        // 1D factors and derivatives: N = ξ for the far corner, 1 − ξ for the near one.
        let f = |k: usize| if c[k] == 1 { xi[k] } else { 1.0 - xi[k] };
        let df = |k: usize| if c[k] == 1 { 1.0 } else { -1.0 };
        *grad = [
            df(0) * f(1) * f(2),
            f(0) * df(1) * f(2),
            f(0) * f(1) * df(2),
        ];
    }
    out
}

/// Strain-displacement matrix (6 x 24) for the given shape gradients.
pub fn b_matrix(grads: &[[f64; 3]; 8]) -> [[f64; DOFS]; 6] {
    let mut b = [[0.0; DOFS]; 6];
    for (a, d) in grads.iter().enumerate() {
        let (x, y, z) = (3 * a, 3 * a + 1, 3 * a + 2);
        b[0][x] = d[0];
        b[1][y] = d[1];
        b[2][z] = d[2];
        b[3][y] = d[2];
        b[3][z] = d[1];
        b[4][x] = d[2];
        b[4][z] = d[0];
        b[5][x] = d[1];
        b[5][y] = d[0];
    }
    b
}

impl UnitElement {
    /// Integrates with 2x2x2 Gauss points (exact for the trilinear element's stiffness).
    pub fn new() -> Self {
        let off = 0.5 / 3f64.sqrt();
        let pts = [0.5 - off, 0.5 + off];
        let w = 1.0 / 8.0;
        let mut e = Self {
            k_lambda: [[0.0; DOFS]; DOFS],
            k_mu: [[0.0; DOFS]; DOFS],
            g: [0.0; DOFS],
        };
        for &gz in &pts {
            for &gy in &pts {
                for &gx in &pts {
                    let b = b_matrix(&shape_gradients([gx, gy, gz]));
                    // mᵀB: the volumetric strain row.
                    let mut vol = [0.0; DOFS];
                    for (j, v) in vol.iter_mut().enumerate() {
                        *v = b[0][j] + b[1][j] + b[2][j];
                    }
                    for i in 0..DOFS {
                        e.g[i] += w * vol[i];
                        for j in 0..DOFS {
                            e.k_lambda[i][j] += w * vol[i] * vol[j];
                            let mut s = 0.0;
                            for (k, row) in b.iter().enumerate() {
                                let d = if k < 3 { 2.0 } else { 1.0 };
                                s += d * row[i] * row[j];
                            }
                            e.k_mu[i][j] += w * s;
                        }
                    }
                }
            }
        }
        e
    }

    /// The matrices as blocks for the GPU's element table, at full precision (the f32
    /// tables are cast from it): for each row r (0..24) and node b (0..8) the vec4
    /// (K[r][3b], K[r][3b+1], K[r][3b+2], 0), first of k_lambda, then of k_mu, then g per
    /// node as (g[3a], g[3a+1], g[3a+2], 0), then the stencils of
    /// [`UnitElement::stencil`]. Keep in sync with `KE_*` in shaders/stress_gather.wgsl.
    pub fn gpu_blocks(&self) -> Vec<[f64; 4]> {
        let block = |k: &[[f64; DOFS]; DOFS]| -> Vec<[f64; 4]> {
            k.iter()
                .flat_map(|row| {
                    (0..8).map(move |b| [row[3 * b], row[3 * b + 1], row[3 * b + 2], 0.0])
                })
                .collect()
        };
        let mut out = block(&self.k_lambda);
        out.extend(block(&self.k_mu));
        out.extend((0..8).map(|a| [self.g[3 * a], self.g[3 * a + 1], self.g[3 * a + 2], 0.0]));
        // Then the 27-point stencils, rows of each 3x3 block: λ part, μ part.
        let (sl, sm) = self.stencil();
        for st in [sl, sm] {
            for block in st {
                out.extend(block.map(|r| [r[0], r[1], r[2], 0.0]));
            }
        }
        out
    }

    /// The assembled 27-point stencil of a node whose eight neighbouring voxels are all
    /// of one material: 3x3 blocks (row = the node's DOF, column = the neighbour's) for
    /// neighbour offset o ∈ {−1,0,1}³ at index (ox+1) + 3(oy+1) + 9(oz+1); first of
    /// k_lambda, then of k_mu. Interior nodes of homogeneous regions use it instead of
    /// the per-voxel gather (26 neighbour loads instead of 64).
    #[allow(clippy::type_complexity, reason = "two fixed-size block tables")]
    pub fn stencil(&self) -> ([[[f64; 3]; 3]; 27], [[[f64; 3]; 3]; 27]) {
        let mut sl = [[[0.0; 3]; 3]; 27];
        let mut sm = sl;
        for v in 0..8 {
            // The node is local corner a = 7 − v of voxel v of its 2x2x2 neighbourhood.
            let (a, cv) = (7 - v, corner(v));
            for b in 0..8 {
                let cb = corner(b);
                // Neighbour offset + 1 per axis.
                let o: [usize; 3] = std::array::from_fn(|k| cv[k] + cb[k]);
                let j = o[0] + 3 * o[1] + 9 * o[2];
                for c in 0..3 {
                    for d in 0..3 {
                        sl[j][c][d] += self.k_lambda[3 * a + c][3 * b + d];
                        sm[j][c][d] += self.k_mu[3 * a + c][3 * b + d];
                    }
                }
            }
        }
        (sl, sm)
    }
}

impl Default for UnitElement {
    fn default() -> Self {
        Self::new()
    }
}

/// Lamé constants (λ, μ) in GPa from E in GPa and Poisson's ratio.
pub fn lame(e_gpa: f64, nu: f64) -> (f64, f64) {
    let lambda = e_gpa * nu / ((1.0 + nu) * (1.0 - 2.0 * nu));
    let mu = e_gpa / (2.0 * (1.0 + nu));
    (lambda, mu)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mul(k: &[[f64; DOFS]; DOFS], u: &[f64; DOFS]) -> [f64; DOFS] {
        let mut out = [0.0; DOFS];
        for i in 0..DOFS {
            out[i] = (0..DOFS).map(|j| k[i][j] * u[j]).sum();
        }
        out
    }

    #[test]
    fn symmetric_with_rigid_null_space() {
        let e = UnitElement::new();
        for i in 0..DOFS {
            for j in 0..DOFS {
                assert!((e.k_lambda[i][j] - e.k_lambda[j][i]).abs() < 1e-14);
                assert!((e.k_mu[i][j] - e.k_mu[j][i]).abs() < 1e-14);
            }
        }
        // Translations and a rotation about z produce no force.
        let mut modes = Vec::new();
        for c in 0..3 {
            let mut u = [0.0; DOFS];
            for a in 0..8 {
                u[3 * a + c] = 1.0;
            }
            modes.push(u);
        }
        let mut rot = [0.0; DOFS];
        for a in 0..8 {
            let [x, y, _] = corner(a).map(|v| v as f64);
            rot[3 * a] = -y;
            rot[3 * a + 1] = x;
        }
        modes.push(rot);
        for u in &modes {
            for f in mul(&e.k_lambda, u).iter().chain(mul(&e.k_mu, u).iter()) {
                assert!(f.abs() < 1e-13, "rigid mode loaded: {f}");
            }
        }
    }

    #[test]
    fn uniform_expansion_matches_thermal_vector() {
        // u = X gives ε = m, so K_λ u = 3g and K_μ u = 2g.
        let e = UnitElement::new();
        let mut u = [0.0; DOFS];
        for a in 0..8 {
            for (c, &x) in corner(a).iter().enumerate() {
                u[3 * a + c] = x as f64;
            }
        }
        let (kl, km) = (mul(&e.k_lambda, &u), mul(&e.k_mu, &u));
        for i in 0..DOFS {
            assert!((kl[i] - 3.0 * e.g[i]).abs() < 1e-13);
            assert!((km[i] - 2.0 * e.g[i]).abs() < 1e-13);
            assert!((e.g[i].abs() - 0.25).abs() < 1e-13, "g = ±1/4 per DOF");
        }
    }

    #[test]
    fn stencil_rows_annihilate_translations() {
        let (sl, sm) = UnitElement::new().stencil();
        for st in [sl, sm] {
            for c in 0..3 {
                for d in 0..3 {
                    let sum: f64 = st.iter().map(|b| b[c][d]).sum();
                    assert!(sum.abs() < 1e-12);
                }
            }
            // Symmetric: block(o)[c][d] = block(−o)[d][c].
            for (block, mirror) in st.iter().zip(st.iter().rev()) {
                for (c, row) in block.iter().enumerate() {
                    for (d, v) in row.iter().enumerate() {
                        assert!((v - mirror[d][c]).abs() < 1e-13);
                    }
                }
            }
        }
    }
}
