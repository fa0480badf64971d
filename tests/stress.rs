//! The thermoelastic solver against closed forms (shared/materials.md) and against a
//! dense f64 CPU solve of the same hex8 discretisation on a tiny grid.

mod common;

use common::{Rng, fill, gpu, spec};
use voxfab::grid::GpuGrid;
use voxfab::materials::MaterialTable;
use voxfab::stress::element::{DOFS, UnitElement, b_matrix, corner, lame, shape_gradients};
use voxfab::stress::{
    BoundaryConditions, SolveOptions, StressError, StressResult, StressSolver, Support,
    ThermalLoad, VoxelField,
};

/// Cooling from SAC305 solidification to room temperature.
const DT: f64 = -192.0;

fn table() -> MaterialTable {
    MaterialTable::builtin()
}

fn id(name: &str) -> u8 {
    table().id(name).unwrap()
}

/// Solves on a fresh grid holding `ids` (x fastest, then y, then z).
fn solve(
    dims: [u32; 3],
    voxel_um: f64,
    ids: &[u8],
    bc: BoundaryConditions,
    tol: f64,
) -> StressResult {
    let g = gpu();
    let grid = GpuGrid::new(g, &spec(dims[0], dims[1], dims[2], voxel_um)).unwrap();
    grid.write_materials(g, ids);
    let mut solver = StressSolver::new(g, &grid, &table()).unwrap();
    let r = solver
        .solve(
            &ThermalLoad { delta_t: DT },
            &bc,
            &SolveOptions {
                tol,
                max_iterations: 20_000,
            },
        )
        .unwrap();
    eprintln!(
        "grid {:?} h={voxel_um} µm: {} iterations, residual {:.2e} (converged {}, stalled {}), \
         solve {:.0} ms, total {:.0} ms",
        dims, r.iterations, r.residual, r.converged, r.stalled, r.solve_ms, r.ms
    );
    r
}

/// (E in MPa, ν, α in 1/K) of a built-in material.
fn props(name: &str) -> (f64, f64, f64) {
    let t = table();
    let m = t.get(t.id(name).unwrap());
    (m.e_gpa * 1e3, m.nu, m.cte_ppm * 1e-6)
}

#[test]
fn free_homogeneous_body_is_stress_free() {
    // A silicon block with a notch (void) through part of it: any free homogeneous
    // body expands without stress, u = αΔT (X − X_anchor).
    let dims = [8, 6, 5];
    let si = id("si");
    let ids = fill(
        dims,
        |x, y, z| if x >= 5 && y < 3 && z >= 2 { 0 } else { si },
    );
    let r = solve(
        dims,
        1.0,
        &ids,
        BoundaryConditions::new(Support::Free),
        1e-6,
    );
    let (e, _, a) = props("si");
    let scale = e * a * DT.abs();
    let worst = r
        .stress
        .iter()
        .flatten()
        .fold(0f64, |m, &s| m.max(f64::from(s).abs()));
    eprintln!("free block: max |σ| = {worst:.3e} MPa vs EαΔT = {scale:.1} MPa");
    // f32 floors the true residual near 1e-6 here; the stresses are what must be right.
    assert!(r.residual < 1e-5, "residual {}", r.residual);
    assert!(worst < 1e-3 * scale, "max |σ| {worst} MPa");
    // Anchor of the 3-2-1 constraint: the first solid voxel's corner (the origin here).
    let mut err = 0f64;
    for z in 0..=dims[2] {
        for y in 0..=dims[1] {
            for x in 0..=dims[0] {
                if x > 5 && y < 3 && z > 2 {
                    continue; // inside the notch: inactive node
                }
                let d = r.displacement[r.node_index(x, y, z)];
                for (k, c) in [x, y, z].into_iter().enumerate() {
                    err = err.max((f64::from(d[k]) - a * DT * f64::from(c)).abs());
                }
            }
        }
    }
    let umax = a * DT.abs() * 8.0;
    assert!(
        err < 1e-4 * umax,
        "displacement error {err:.3e} µm of {umax:.3e}"
    );
}

#[test]
fn clamped_block_is_hydrostatic() {
    let dims = [6, 6, 6];
    let cu = id("cu");
    let r = solve(
        dims,
        2.0,
        &vec![cu; 216],
        BoundaryConditions::new(Support::Clamped),
        1e-6,
    );
    let (e, nu, a) = props("cu");
    let want = -e * a * DT / (1.0 - 2.0 * nu);
    for z in 1..5 {
        for y in 1..5 {
            for x in 1..5 {
                let s = r.stress[r.voxel_index(x, y, z)];
                for &v in &s[..3] {
                    let rel = (f64::from(v) - want).abs() / want.abs();
                    assert!(rel < 0.01, "normal stress {v} vs {want} MPa");
                }
                for &v in &s[3..] {
                    assert!(f64::from(v).abs() < 1e-3 * want.abs(), "shear {v}");
                }
            }
        }
    }
    let p = r
        .box_mean(VoxelField::Stress(0), [2.0; 3], [10.0; 3])
        .unwrap();
    eprintln!("clamped Cu: σ = {p:.2} MPa, closed form {want:.2} MPa");
    let vm = r
        .box_mean(VoxelField::VonMises, [2.0; 3], [10.0; 3])
        .unwrap();
    assert!(
        vm < 1e-3 * want.abs(),
        "hydrostatic state has von Mises {vm}"
    );
    let p1 = r
        .box_mean(VoxelField::MaxPrincipal, [2.0; 3], [10.0; 3])
        .unwrap();
    assert!((p1 - want).abs() < 0.01 * want.abs(), "max principal {p1}");
}

/// In-plane stress of layer `f` in a laterally infinite stack that cannot bend:
/// common strain ε = Σ tᵢMᵢαᵢΔT / Σ tᵢMᵢ with the biaxial modulus M = E/(1−ν), and
/// σ = M_f (ε − α_f ΔT).
fn unbent_stack_stress(layers: &[(&str, f64)], f: &str) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for &(name, t) in layers {
        let (e, nu, a) = props(name);
        num += t * e / (1.0 - nu) * a * DT;
        den += t * e / (1.0 - nu);
    }
    let (e, nu, a) = props(f);
    e / (1.0 - nu) * (num / den - a * DT)
}

#[test]
fn thin_film_on_unbent_substrate() {
    // Quarter model of a wide Cu film on Si: symmetry planes x = 0 and y = 0, roller
    // bottom (uz = 0 stops bending, in-plane expansion is free), free outer edges.
    // Far from the edges this is the laterally infinite stack, solved exactly above.
    let dims = [24, 24, 8];
    let (si, cu) = (id("si"), id("cu"));
    let ids = fill(dims, |_, _, z| if z < 7 { si } else { cu });
    let bc = BoundaryConditions::new(Support::BottomRoller).with_symmetry(true, true);
    let r = solve(dims, 1.0, &ids, bc, 1e-6);
    let want = unbent_stack_stress(&[("si", 7.0), ("cu", 1.0)], "cu");
    let (e, nu, af) = props("cu");
    let thin = e / (1.0 - nu) * (props("si").2 - af) * DT;
    let probe = |k| {
        r.box_mean(VoxelField::Stress(k), [0.0, 0.0, 7.0], [4.0, 4.0, 8.0])
            .unwrap()
    };
    let (sxx, syy, szz) = (probe(0), probe(1), probe(2));
    eprintln!(
        "film: σxx {sxx:.2}, σyy {syy:.2}, σzz {szz:.3} MPa; exact {want:.2} MPa \
         (thin-film limit E/(1−ν)·Δα·ΔT = {thin:.2} MPa)"
    );
    for s in [sxx, syy] {
        assert!((s - want).abs() < 0.02 * want.abs(), "σ {s} vs {want}");
    }
    assert!(szz.abs() < 0.02 * want.abs(), "σzz {szz}");
}

/// Curvature of the bottom face's centre line (least-squares parabola over the middle
/// half of the strip).
fn strip_curvature(r: &StressResult, length_nodes: u32, mid_y: u32) -> f64 {
    let h = r.voxel_um;
    let (lo, hi) = (length_nodes / 4, 3 * length_nodes / 4);
    // Normal equations of uz = c0 + c1 x + c2 x² (x centred for conditioning).
    let xc = f64::from(length_nodes) * h / 2.0;
    let mut m = [[0.0; 3]; 3];
    let mut b = [0.0; 3];
    for i in lo..=hi {
        let x = f64::from(i) * h - xc;
        let uz = f64::from(r.displacement[r.node_index(i, mid_y, 0)][2]);
        let p = [1.0, x, x * x];
        for j in 0..3 {
            b[j] += p[j] * uz;
            for k in 0..3 {
                m[j][k] += p[j] * p[k];
            }
        }
    }
    let c = solve_dense(&mut m.map(|r| r.to_vec()), &b);
    2.0 * c[2]
}

#[test]
fn bimetal_strip_matches_timoshenko() {
    // Si (bottom, t1) on FR-4 (top, t2), both ν = 0.28: with equal ν the plane-stress
    // (narrow strip, E) and wide-plate (E/(1−ν)) forms give the same n = E1/E2 and so the
    // same curvature; this strip is narrow (width = thickness / 2).
    let (t1, t2, length, width): (f64, f64, f64, f64) = (2.0, 2.0, 32.0, 2.0);
    let (e1, _, a1) = props("si");
    let (e2, _, a2) = props("fr4");
    let (m, n, htot) = (t1 / t2, e1 / e2, t1 + t2);
    let kappa = 6.0 * (a2 - a1) * DT * (1.0 + m).powi(2)
        / (htot * (3.0 * (1.0 + m).powi(2) + (1.0 + m * n) * (m * m + 1.0 / (m * n))));
    let (si, fr4) = (id("si"), id("fr4"));
    let mut errors = Vec::new();
    for voxel in [1.0, 0.5] {
        let d = |v: f64| (v / voxel).round() as u32;
        let dims = [d(length), d(width), d(t1 + t2)];
        let split = d(t1);
        let ids = fill(dims, |_, _, z| if z < split { si } else { fr4 });
        let r = solve(
            dims,
            voxel,
            &ids,
            BoundaryConditions::new(Support::Free),
            1e-6,
        );
        // uz = κ x²/2 + …; cooling shrinks the top (FR-4) layer more, so the ends rise:
        // κ > 0 here (the formula's sign convention differs, so magnitudes are compared).
        let k = strip_curvature(&r, dims[0], dims[1] / 2);
        assert!(
            k > 0.0,
            "strip must bend towards the high-CTE top layer, κ = {k}"
        );
        let err = (k.abs() - kappa.abs()) / kappa.abs();
        eprintln!(
            "bimetal h = {voxel} µm ({} voxels thick): κ = {k:.4e} /µm, Timoshenko {kappa:.4e}, \
             error {:+.2} %",
            dims[2],
            100.0 * err
        );
        assert!(r.residual < 1e-4, "residual {}", r.residual);
        errors.push(err.abs());
    }
    assert!(errors[1] < 0.03, "fine error {}", errors[1]);
    assert!(
        errors[1] < errors[0],
        "error must shrink with the voxel: {errors:?}"
    );
}

/// Dense symmetric positive definite solve (Cholesky, f64).
#[allow(
    clippy::needless_range_loop,
    reason = "textbook index form of the factorisation"
)]
fn solve_dense(a: &mut [Vec<f64>], b: &[f64]) -> Vec<f64> {
    let n = b.len();
    for j in 0..n {
        let mut d = a[j][j];
        for k in 0..j {
            d -= a[j][k] * a[j][k];
        }
        assert!(d > 0.0, "matrix not positive definite at {j}");
        let d = d.sqrt();
        a[j][j] = d;
        for i in j + 1..n {
            let mut s = a[i][j];
            for k in 0..j {
                s -= a[i][k] * a[j][k];
            }
            a[i][j] = s / d;
        }
    }
    let mut y = b.to_vec();
    for i in 0..n {
        for k in 0..i {
            y[i] -= a[i][k] * y[k];
        }
        y[i] /= a[i][i];
    }
    for i in (0..n).rev() {
        for k in i + 1..n {
            y[i] -= a[k][i] * y[k];
        }
        y[i] /= a[i][i];
    }
    y
}

/// The same discretisation assembled densely in f64.
struct CpuReference {
    /// Displacement per DOF, µm.
    u: Vec<f64>,
    /// Centroid stress per voxel, MPa.
    stress: Vec<[f64; 6]>,
    k: Vec<Vec<f64>>,
    f: Vec<f64>,
    free: Vec<usize>,
}

impl CpuReference {
    /// ‖f − K u‖ over the free DOFs / ‖f‖ over all DOFs, in f64, for any `u`.
    fn relative_residual(&self, u: &[f64]) -> f64 {
        let rr: f64 = self
            .free
            .iter()
            .map(|&i| {
                let ku: f64 = self.k[i].iter().zip(u).map(|(a, b)| a * b).sum();
                (self.f[i] - ku).powi(2)
            })
            .sum();
        let ff: f64 = self.f.iter().map(|v| v * v).sum();
        (rr / ff).sqrt()
    }
}

/// Solves the discretisation densely in f64. `fixed(x, y, z)` gives the node's
/// constrained DOF bits.
fn cpu_reference(
    dims: [u32; 3],
    h: f64,
    ids: &[u8],
    fixed: impl Fn(u32, u32, u32) -> u32,
) -> CpuReference {
    let t = table();
    let el = UnitElement::new();
    let [nx, ny, nz] = dims.map(|d| d as usize);
    let nn = (nx + 1) * (ny + 1) * (nz + 1);
    let node = |x: usize, y: usize, z: usize| x + (nx + 1) * (y + (ny + 1) * z);
    let mut k = vec![vec![0.0; 3 * nn]; 3 * nn];
    let mut f = vec![0.0; 3 * nn];
    let voxel = |x, y, z| ids[x + nx * (y + ny * z)];
    let dofs = |x: usize, y: usize, z: usize| -> Vec<usize> {
        (0..8)
            .flat_map(|a| {
                let c = corner(a);
                let n = node(x + c[0], y + c[1], z + c[2]);
                (0..3).map(move |d| 3 * n + d)
            })
            .collect()
    };
    let mat = |m: u8| {
        let p = t.get(m);
        let (l, mu) = lame(p.e_gpa, p.nu);
        (l, mu, p.cte_ppm * 1e-6 * DT)
    };
    for z in 0..nz {
        for y in 0..ny {
            for x in 0..nx {
                let m = voxel(x, y, z);
                if m == 0 {
                    continue;
                }
                let (l, mu, eig) = mat(m);
                let g = dofs(x, y, z);
                for i in 0..DOFS {
                    f[g[i]] += (3.0 * l + 2.0 * mu) * eig * h * h * el.g[i];
                    for j in 0..DOFS {
                        k[g[i]][g[j]] += h * (l * el.k_lambda[i][j] + mu * el.k_mu[i][j]);
                    }
                }
            }
        }
    }
    // Free DOFs: not constrained and with stiffness (active nodes).
    let mut free = Vec::new();
    for z in 0..=nz {
        for y in 0..=ny {
            for x in 0..=nx {
                let bits = fixed(x as u32, y as u32, z as u32);
                for d in 0..3 {
                    let i = 3 * node(x, y, z) + d;
                    if bits >> d & 1 == 0 && k[i][i] > 0.0 {
                        free.push(i);
                    }
                }
            }
        }
    }
    let mut kr: Vec<Vec<f64>> = free
        .iter()
        .map(|&i| free.iter().map(|&j| k[i][j]).collect())
        .collect();
    let fr: Vec<f64> = free.iter().map(|&i| f[i]).collect();
    let ur = solve_dense(&mut kr, &fr);
    let mut u = vec![0.0; 3 * nn];
    for (&i, v) in free.iter().zip(ur) {
        u[i] = v;
    }
    // Centroid stresses.
    let b = b_matrix(&shape_gradients([0.5; 3]));
    let mut stress = Vec::new();
    for z in 0..nz {
        for y in 0..ny {
            for x in 0..nx {
                let m = voxel(x, y, z);
                if m == 0 {
                    stress.push([0.0; 6]);
                    continue;
                }
                let (l, mu, eig) = mat(m);
                let g = dofs(x, y, z);
                let mut e = [0.0; 6];
                for (r, row) in b.iter().enumerate() {
                    e[r] = (0..DOFS).map(|i| row[i] * u[g[i]]).sum::<f64>() / h;
                }
                let tr = e[0] + e[1] + e[2] - 3.0 * eig;
                let s: [f64; 6] = std::array::from_fn(|r| {
                    if r < 3 {
                        l * tr + 2.0 * mu * (e[r] - eig)
                    } else {
                        mu * e[r]
                    }
                });
                stress.push(s.map(|v| v * 1e3));
            }
        }
    }
    CpuReference {
        u,
        stress,
        k,
        f,
        free,
    }
}

/// 3x3x2 voxels: Si bottom layer, Cu and polyimide (40x softer than Si) on top, one
/// void corner on top. Every node touches two materials or the boundary.
fn small_mixed() -> ([u32; 3], Vec<u8>) {
    let dims = [3, 3, 2];
    let (si, cu, pi) = (id("si"), id("cu"), id("polyimide"));
    let ids = fill(dims, |x, y, z| match (x, y, z) {
        (_, _, 0) => si,
        (2, 2, 1) => 0,
        (0, _, 1) => pi,
        _ => cu,
    });
    (dims, ids)
}

fn compare_with_cpu(
    (dims, ids): ([u32; 3], Vec<u8>),
    bc: BoundaryConditions,
    fixed: impl Fn(u32, u32, u32) -> u32,
) {
    let h = 1.5;
    let r = solve(dims, h, &ids, bc, 1e-10);
    let cpu = cpu_reference(dims, h, &ids, fixed);
    let (u, s) = (&cpu.u, &cpu.stress);
    let umax = u.iter().fold(0f64, |m, v| m.max(v.abs()));
    let mut uerr = 0f64;
    for (n, d) in r.displacement_f64.iter().enumerate() {
        for k in 0..3 {
            uerr = uerr.max((d[k] - u[3 * n + k]).abs());
        }
    }
    let smax = s.iter().flatten().fold(0f64, |m, v| m.max(v.abs()));
    let mut serr = 0f64;
    for (g, c) in r.stress.iter().zip(s) {
        for k in 0..6 {
            serr = serr.max((f64::from(g[k]) - c[k]).abs());
        }
    }
    eprintln!(
        "CPU reference ({:?}): max |Δu| / max |u| = {:.2e}, max |Δσ| / max |σ| = {:.2e}",
        bc.support,
        uerr / umax,
        serr / smax
    );
    // f64 outer iteration: the dense f64 solution to 1e-6 (max norm, relative).
    assert!(umax > 0.0 && uerr < 1e-6 * umax, "u error {uerr} of {umax}");
    // The residual the solver reports is the one its displacements really reach.
    let u_gpu: Vec<f64> = r.displacement_f64.iter().flatten().copied().collect();
    let exact = cpu.relative_residual(&u_gpu);
    eprintln!(
        "  residual: reported {:.2e}, f64 of GPU u {exact:.2e}",
        r.residual
    );
    assert!(
        exact < 3.0 * r.residual + 1e-12 && r.residual < 3.0 * exact + 1e-12,
        "reported residual {} vs actual {exact}",
        r.residual
    );
    assert!(serr < 1e-3 * smax, "σ error {serr} of {smax}");
    // Von Mises and the largest principal stress from the CPU tensor (eigenvalues by
    // Jacobi rotations, independent of the GPU's trigonometric closed form).
    let (mut vm_err, mut p1_err) = (0f64, 0f64);
    for (i, c) in s.iter().enumerate() {
        let [xx, yy, zz, yz, xz, xy] = *c;
        let vm = (0.5 * ((xx - yy).powi(2) + (yy - zz).powi(2) + (zz - xx).powi(2))
            + 3.0 * (yz * yz + xz * xz + xy * xy))
            .sqrt();
        let eig = jacobi_eigenvalues([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]]);
        let p1 = eig.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        vm_err = vm_err.max((f64::from(r.von_mises[i]) - vm).abs());
        p1_err = p1_err.max((f64::from(r.max_principal[i]) - p1).abs());
    }
    eprintln!(
        "  von Mises error {:.2e}, max principal error {:.2e} (of max |σ| {smax:.1} MPa)",
        vm_err / smax,
        p1_err / smax
    );
    assert!(vm_err < 1e-3 * smax, "von Mises error {vm_err}");
    assert!(p1_err < 1e-3 * smax, "max principal error {p1_err}");
}

/// Eigenvalues of a symmetric 3x3 matrix by cyclic Jacobi rotations (f64).
fn jacobi_eigenvalues(mut a: [[f64; 3]; 3]) -> [f64; 3] {
    for _ in 0..50 {
        for (p, q) in [(0, 1), (0, 2), (1, 2)] {
            if a[p][q].abs() < 1e-300 {
                continue;
            }
            let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
            let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
            let t = if theta == 0.0 { 1.0 } else { t };
            let (c, s) = (1.0 / (t * t + 1.0).sqrt(), t / (t * t + 1.0).sqrt());
            // a ← Jᵀ a J with J the rotation in the (p, q) plane.
            let mut b = a;
            for k in 0..3 {
                b[k][p] = c * a[k][p] - s * a[k][q];
                b[k][q] = s * a[k][p] + c * a[k][q];
            }
            let mut d = b;
            for k in 0..3 {
                d[p][k] = c * b[p][k] - s * b[q][k];
                d[q][k] = s * b[p][k] + c * b[q][k];
            }
            a = d;
        }
    }
    [a[0][0], a[1][1], a[2][2]]
}

#[test]
fn matches_dense_cpu_solve_bottom_fixed() {
    compare_with_cpu(
        small_mixed(),
        BoundaryConditions::new(Support::BottomFixed),
        |_, _, z| {
            if z == 0 { 7 } else { 0 }
        },
    );
}

#[test]
fn matches_dense_cpu_solve_roller_quarter_model() {
    let bc = BoundaryConditions::new(Support::BottomRoller).with_symmetry(true, true);
    compare_with_cpu(small_mixed(), bc, |x, y, z| {
        u32::from(x == 0) | u32::from(y == 0) << 1 | u32::from(z == 0) << 2
    });
}

#[test]
fn matches_dense_cpu_solve_with_homogeneous_interior() {
    // 4x4x4: Si below, Cu above, a void corner. Nodes at z = 1 and z = 3 away from the
    // sides see one material in all eight voxels and take the stencil fast path.
    let dims = [4, 4, 4];
    let (si, cu) = (id("si"), id("cu"));
    let ids = fill(dims, |x, y, z| match (x, y, z) {
        (3, 3, 3) => 0,
        (_, _, 0..=1) => si,
        _ => cu,
    });
    compare_with_cpu(
        (dims, ids),
        BoundaryConditions::new(Support::BottomFixed),
        |_, _, z| if z == 0 { 7 } else { 0 },
    );
}

#[test]
fn symmetric_half_model_matches_full_free_strip() {
    // The free bimetal strip of the Timoshenko test (coarse), whole and as the half
    // x ≥ L/2 with symmetry_x: the 3-2-1 pins adapt to the symmetry plane, so the
    // bending profiles must agree up to a rigid translation.
    let (si, fr4) = (id("si"), id("fr4"));
    let layers = |_: u32, _: u32, z: u32| if z < 2 { si } else { fr4 };
    let full_dims = [32, 2, 4];
    let half_dims = [16, 2, 4];
    let full = solve(
        full_dims,
        1.0,
        &fill(full_dims, layers),
        BoundaryConditions::new(Support::Free),
        1e-6,
    );
    let half = solve(
        half_dims,
        1.0,
        &fill(half_dims, layers),
        BoundaryConditions::new(Support::Free).with_symmetry(true, false),
        1e-6,
    );
    let uz_full = |i: u32| f64::from(full.displacement[full.node_index(16 + i, 1, 0)][2]);
    let uz_half = |i: u32| f64::from(half.displacement[half.node_index(i, 1, 0)][2]);
    let (mut err, mut span) = (0f64, 0f64);
    for i in 0..=16 {
        let (a, b) = (uz_full(i) - uz_full(0), uz_half(i) - uz_half(0));
        err = err.max((a - b).abs());
        span = span.max(a.abs());
    }
    eprintln!(
        "half vs full strip: max |Δuz| / max |uz| = {:.2e}",
        err / span
    );
    assert!(
        span > 0.0 && err < 2e-3 * span,
        "profiles differ: {err} of {span}"
    );
    // ux on the symmetry plane is held.
    for z in 0..=4 {
        for y in 0..=2 {
            assert_eq!(half.displacement[half.node_index(0, y, z)][0], 0.0);
        }
    }
}

#[test]
fn rejects_unsupported_setups() {
    let g = gpu();
    let grid = GpuGrid::new(g, &spec(4, 4, 4, 1.0)).unwrap();
    // Solid floating above z = 0: a bottom support holds nothing.
    let cu = id("cu");
    grid.write_materials(g, &fill([4, 4, 4], |_, _, z| if z >= 2 { cu } else { 0 }));
    let mut solver = StressSolver::new(g, &grid, &table()).unwrap();
    let load = ThermalLoad { delta_t: DT };
    let opts = SolveOptions::default();
    let fixed = BoundaryConditions::new(Support::BottomFixed);
    assert!(matches!(
        solver.solve(&load, &fixed, &opts),
        Err(StressError::Unsupported(_))
    ));
    let bad = SolveOptions { tol: 0.0, ..opts };
    let free = BoundaryConditions::new(Support::Free);
    assert!(matches!(
        solver.solve(&load, &free, &bad),
        Err(StressError::BadOptions(_))
    ));
    // A material the stress model cannot use, referenced by the grid.
    let mut t = table();
    let mut m = t.get(cu).clone();
    m.name = "broken".into();
    m.nu = 0.5;
    let broken = t.upsert(m).unwrap();
    grid.write_materials(g, &[broken; 64]);
    let mut solver = StressSolver::new(g, &grid, &t).unwrap();
    assert!(matches!(
        solver.solve(&load, &free, &opts),
        Err(StressError::BadMaterial { .. })
    ));
    // No load: zero displacement without iterating.
    let r = solver.solve(&ThermalLoad { delta_t: 0.0 }, &free, &opts);
    assert!(r.is_err(), "the broken material is still in the grid");
    grid.write_materials(g, &[cu; 64]);
    let r = solver
        .solve(&ThermalLoad { delta_t: 0.0 }, &free, &opts)
        .unwrap();
    assert_eq!(r.iterations, 0);
    assert!(r.displacement.iter().flatten().all(|&v| v == 0.0));
}

/// Timing on a larger layered grid (not run by default):
/// `cargo test --release --test stress -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark, ~1 min on lavapipe"]
fn bench_layered_package() {
    for n in [16u32, 32] {
        let dims = [n, n, n / 2];
        let (si, cu, pi) = (id("si"), id("cu"), id("polyimide"));
        // Si die, polyimide layer, Cu pad in the middle of the top.
        let ids = fill(dims, |x, y, z| {
            let q = n / 4;
            match z {
                z if z < n / 4 => si,
                z if z < n / 2 - 1 => pi,
                _ if (q..3 * q).contains(&x) && (q..3 * q).contains(&y) => cu,
                _ => 0,
            }
        });
        let bc = BoundaryConditions::new(Support::BottomRoller).with_symmetry(false, false);
        let r = solve(dims, 1.0, &ids, bc, 1e-6);
        eprintln!(
            "bench {dims:?}: {:.2} ms/iteration",
            r.solve_ms / f64::from(r.iterations.max(1))
        );
        for s in r.material_stats() {
            eprintln!(
                "  material {}: {} voxels, von Mises max {:.1} MPa, mean {:.1} MPa",
                s.id, s.voxels, s.max_von_mises, s.mean_von_mises
            );
        }
    }
}

#[test]
fn matches_dense_cpu_solve_with_elastomer_contrast() {
    // Si / elastomer / Cu sandwich: E spans 0.1 to 130 GPa (1300x) and ν = 0.45 makes the
    // elastomer nearly incompressible; Jacobi-PCG in f32 must still match f64.
    let dims = [3, 3, 3];
    let (si, el, cu) = (id("si"), id("elastomer"), id("cu"));
    let ids = fill(dims, |x, y, z| match (x, y, z) {
        (_, _, 0) => si,
        (_, _, 1) => el,
        (0, 0, 2) => 0,
        _ => cu,
    });
    compare_with_cpu(
        (dims, ids),
        BoundaryConditions::new(Support::BottomFixed),
        |_, _, z| if z == 0 { 7 } else { 0 },
    );
}

#[test]
fn solves_a_grid_built_by_the_process_engine() {
    use voxfab::process::Processor;
    use voxfab::scene::{DepositMode, Op};
    // Si wafer, then a directional 1-voxel Cu film, on the process engine's own grid.
    let g = gpu();
    let dims = [12, 12, 6];
    let mut p = Processor::new(g, &spec(dims[0], dims[1], dims[2], 1.0)).unwrap();
    let (si, cu) = (id("si"), id("cu"));
    p.run(
        &Op::Substrate {
            material: si,
            z0: 0,
            z1: 5,
            mask: None,
        },
        &[],
    );
    p.run(
        &Op::Deposit {
            material: cu,
            mode: DepositMode::Directional { thickness: 1 },
            mask: None,
        },
        &[],
    );
    assert_eq!(
        p.grid().read_materials(g),
        fill(dims, |_, _, z| if z < 5 { si } else { cu })
    );
    let mut solver = StressSolver::new(g, p.grid(), &table()).unwrap();
    let r = solver
        .solve(
            &ThermalLoad::cooling(217.0, 25.0),
            &BoundaryConditions::new(Support::BottomFixed),
            &SolveOptions::default(),
        )
        .unwrap();
    // Sanity only (no closed form for a 12-voxel-wide plate): cooling puts the Cu film in
    // tension, below the fully clamped biaxial value.
    let sxx = r
        .box_mean(VoxelField::Stress(0), [4.0, 4.0, 5.0], [8.0, 8.0, 6.0])
        .unwrap();
    let (e, nu, af) = props("cu");
    let clamped = -e / (1.0 - nu) * af * DT;
    eprintln!(
        "process-built film: σxx {sxx:.1} MPa (clamped biaxial {clamped:.1}), {} it, residual {:.1e}",
        r.iterations, r.residual
    );
    assert!(r.residual < 1e-5, "residual {}", r.residual);
    assert!(sxx > 0.0 && sxx < clamped, "σxx {sxx}");
    let stats = r.material_stats();
    assert_eq!(stats.iter().map(|s| s.id).collect::<Vec<_>>(), vec![si, cu]);
    assert_eq!(stats[1].voxels, 144);
}

/// Removes every solid voxel not face-connected to the bottom layer (a part joined by an
/// edge or a corner only, or floating, would make the dense reference singular).
fn keep_supported(dims: [u32; 3], ids: &mut [u8]) {
    let [nx, ny, nz] = dims.map(|d| d as usize);
    let mut seen = vec![false; ids.len()];
    let mut stack: Vec<usize> = (0..nx * ny).filter(|&v| ids[v] != 0).collect();
    for &v in &stack {
        seen[v] = true;
    }
    while let Some(v) = stack.pop() {
        let (x, y, z) = (v % nx, (v / nx) % ny, v / (nx * ny));
        let mut push = |w: usize| {
            if ids[w] != 0 && !seen[w] {
                seen[w] = true;
                stack.push(w);
            }
        };
        if x > 0 {
            push(v - 1);
        }
        if x + 1 < nx {
            push(v + 1);
        }
        if y > 0 {
            push(v - nx);
        }
        if y + 1 < ny {
            push(v + nx);
        }
        if z > 0 {
            push(v - nx * ny);
        }
        if z + 1 < nz {
            push(v + nx * ny);
        }
    }
    for (m, keep) in ids.iter_mut().zip(seen) {
        if !keep {
            *m = 0;
        }
    }
}

#[test]
fn random_small_grids_match_dense_solves() {
    // Odd and even boxes (coarse elements half outside), four materials up to 40x
    // contrast in 2x2x2 blocks, 12 % voids (pockets, overhangs, cantilevers), every
    // support the dense
    // reference can take: the whole solver (tagging of uniform blocks, shared and own
    // coarse matrices, stencil and per-element paths, W levels) against f64 Cholesky.
    let names = ["si", "cu", "polyimide", "sac305"];
    let mut rng = Rng(0x5eed_cafe);
    for case in 0..10 {
        let dims = [2 + rng.below(6), 2 + rng.below(6), 2 + rng.below(5)];
        // One material per 2x2x2 block, so that many level-1 elements are uniform
        // blocks, then voids voxel by voxel (none in the bottom layer).
        let blocks: Vec<u8> = (0..64).map(|_| id(names[rng.below(4) as usize])).collect();
        let mut ids = fill(dims, |x, y, z| {
            blocks[(x / 2 + 4 * (y / 2) + 16 * (z / 2)) as usize]
        });
        for (v, m) in ids.iter_mut().enumerate() {
            if v >= (dims[0] * dims[1]) as usize && rng.below(8) == 0 {
                *m = 0;
            }
        }
        keep_supported(dims, &mut ids);
        let solid = ids.iter().filter(|&&m| m != 0).count();
        let last = dims;
        eprintln!("case {case}: {dims:?}, {solid} solid voxels");
        match case % 3 {
            0 => compare_with_cpu(
                (dims, ids),
                BoundaryConditions::new(Support::BottomFixed),
                |_, _, z| if z == 0 { 7 } else { 0 },
            ),
            1 => compare_with_cpu(
                (dims, ids),
                BoundaryConditions::new(Support::BottomRoller).with_symmetry(true, true),
                |x, y, z| u32::from(x == 0) | u32::from(y == 0) << 1 | u32::from(z == 0) << 2,
            ),
            _ => compare_with_cpu(
                (dims, ids),
                BoundaryConditions::new(Support::Clamped),
                move |x, y, z| {
                    let edge =
                        x == 0 || y == 0 || z == 0 || x == last[0] || y == last[1] || z == last[2];
                    if edge { 7 } else { 0 }
                },
            ),
        }
    }
}
