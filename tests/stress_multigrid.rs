//! The multigrid-preconditioned f64 solver on cases that need it: a 32³ heterogeneous
//! grid with voids, thin layers, a cantilever over a gap and 1300x contrast against a
//! sparse f64 CPU solve of the same discretisation; prescribed displacements (patch
//! test); slender and soft-layer cases that stalled the old Jacobi-CG in f32; a floating
//! part; iteration counts that do not grow with the grid; the f32 fallback.

mod common;

use common::{Rng, fill, gpu, spec};
use voxfab::grid::GpuGrid;
use voxfab::materials::MaterialTable;
use voxfab::stress::element::{DOFS, UnitElement, corner, lame};
use voxfab::stress::multigrid::{CycleShape, semidefinite_inverse};
use voxfab::stress::{
    BoundaryConditions, Prescribed, SolveOptions, StressResult, StressSolver, Support, ThermalLoad,
    VoxelField,
};

const DT: f64 = -165.0;

fn id(name: &str) -> u8 {
    MaterialTable::builtin().id(name).unwrap()
}

#[allow(
    clippy::too_many_arguments,
    reason = "test helper: every input of one solve"
)]
fn run(
    dims: [u32; 3],
    h: f64,
    ids: &[u8],
    bc: BoundaryConditions,
    prescribed: &[Prescribed],
    delta_t: f64,
    tol: f64,
    f64: bool,
) -> StressResult {
    let g = gpu();
    let grid = GpuGrid::new(g, &spec(dims[0], dims[1], dims[2], h)).unwrap();
    grid.write_materials(g, ids);
    let mut solver =
        StressSolver::with_precision(g, &grid, &MaterialTable::builtin(), f64).unwrap();
    let r = solver
        .solve_prescribed(
            &ThermalLoad { delta_t },
            &bc,
            prescribed,
            &SolveOptions {
                tol,
                max_iterations: 400,
            },
        )
        .unwrap();
    eprintln!(
        "{dims:?} h {h}: {} iterations, residual {:.2e}, converged {}, stalled {}, {:.0} ms \
         (levels {:?}, set-up {:.0} ms, f64 {})",
        r.iterations,
        r.residual,
        r.converged,
        r.stalled,
        r.solve_ms,
        solver.stats.levels,
        solver.stats.setup_ms,
        solver.stats.f64
    );
    r
}

/// The hex8 system assembled in f64 as CSR, solved by Jacobi-CG in f64 (tests only).
struct Sparse {
    rows: Vec<usize>,
    cols: Vec<usize>,
    vals: Vec<f64>,
    f: Vec<f64>,
    free: Vec<bool>,
}

impl Sparse {
    fn assemble(dims: [u32; 3], h: f64, ids: &[u8], fixed: impl Fn(u32, u32, u32) -> u32) -> Self {
        let t = MaterialTable::builtin();
        let el = UnitElement::new();
        let [nx, ny, nz] = dims.map(|d| d as usize);
        let nn = (nx + 1) * (ny + 1) * (nz + 1);
        let node = |x: usize, y: usize, z: usize| x + (nx + 1) * (y + (ny + 1) * z);
        let mut map: Vec<std::collections::BTreeMap<usize, f64>> = vec![Default::default(); 3 * nn];
        let mut f = vec![0.0; 3 * nn];
        for z in 0..nz {
            for y in 0..ny {
                for x in 0..nx {
                    let m = ids[x + nx * (y + ny * z)];
                    if m == 0 {
                        continue;
                    }
                    let p = t.get(m);
                    let (l, mu) = lame(p.e_gpa, p.nu);
                    let eig = p.cte_ppm * 1e-6 * DT;
                    let g: Vec<usize> = (0..8)
                        .flat_map(|a| {
                            let c = corner(a);
                            let n = node(x + c[0], y + c[1], z + c[2]);
                            (0..3).map(move |d| 3 * n + d)
                        })
                        .collect();
                    for i in 0..DOFS {
                        f[g[i]] += (3.0 * l + 2.0 * mu) * eig * h * h * el.g[i];
                        for j in 0..DOFS {
                            *map[g[i]].entry(g[j]).or_default() +=
                                h * (l * el.k_lambda[i][j] + mu * el.k_mu[i][j]);
                        }
                    }
                }
            }
        }
        let mut free = vec![false; 3 * nn];
        for z in 0..=nz {
            for y in 0..=ny {
                for x in 0..=nx {
                    let bits = fixed(x as u32, y as u32, z as u32);
                    for d in 0..3 {
                        let i = 3 * node(x, y, z) + d;
                        free[i] = bits >> d & 1 == 0 && map[i].get(&i).is_some_and(|&v| v > 0.0);
                    }
                }
            }
        }
        let (mut rows, mut cols, mut vals) = (vec![0], Vec::new(), Vec::new());
        for (i, row) in map.iter().enumerate() {
            for (&j, &v) in row {
                if free[i] && free[j] {
                    cols.push(j);
                    vals.push(v);
                }
            }
            rows.push(cols.len());
        }
        Self {
            rows,
            cols,
            vals,
            f,
            free,
        }
    }

    fn apply(&self, x: &[f64], y: &mut [f64]) {
        for (i, yi) in y.iter_mut().enumerate() {
            *yi = (self.rows[i]..self.rows[i + 1])
                .map(|k| self.vals[k] * x[self.cols[k]])
                .sum();
        }
    }

    /// ‖f − K u‖ over free DOFs / ‖f‖.
    fn residual(&self, u: &[f64]) -> f64 {
        let mut ku = vec![0.0; u.len()];
        let uf: Vec<f64> = u
            .iter()
            .zip(&self.free)
            .map(|(v, &fr)| if fr { *v } else { 0.0 })
            .collect();
        self.apply(&uf, &mut ku);
        let rr: f64 = (0..u.len())
            .filter(|&i| self.free[i])
            .map(|i| (self.f[i] - ku[i]).powi(2))
            .sum();
        (rr / self.f.iter().map(|v| v * v).sum::<f64>()).sqrt()
    }

    fn solve(&self, tol: f64) -> Vec<f64> {
        let n = self.f.len();
        let diag: Vec<f64> = (0..n)
            .map(|i| {
                (self.rows[i]..self.rows[i + 1])
                    .find(|&k| self.cols[k] == i)
                    .map_or(0.0, |k| 1.0 / self.vals[k])
            })
            .collect();
        let b: Vec<f64> = (0..n)
            .map(|i| if self.free[i] { self.f[i] } else { 0.0 })
            .collect();
        let bb: f64 = self.f.iter().map(|v| v * v).sum();
        let mut u = vec![0.0; n];
        let mut r = b.clone();
        let mut z: Vec<f64> = r.iter().zip(&diag).map(|(a, d)| a * d).collect();
        let mut p = z.clone();
        let mut rz: f64 = r.iter().zip(&z).map(|(a, b)| a * b).sum();
        let mut q = vec![0.0; n];
        for _ in 0..200_000 {
            self.apply(&p, &mut q);
            let alpha = rz / p.iter().zip(&q).map(|(a, b)| a * b).sum::<f64>();
            for i in 0..n {
                u[i] += alpha * p[i];
                r[i] -= alpha * q[i];
            }
            if r.iter().map(|v| v * v).sum::<f64>() <= tol * tol * bb {
                break;
            }
            for i in 0..n {
                z[i] = r[i] * diag[i];
            }
            let rz_new: f64 = r.iter().zip(&z).map(|(a, b)| a * b).sum();
            let beta = rz_new / rz;
            rz = rz_new;
            for i in 0..n {
                p[i] = z[i] + beta * p[i];
            }
        }
        u
    }
}

#[test]
fn heterogeneous_32_cube_matches_a_sparse_f64_solve() {
    let dims = [32, 32, 32];
    let (si, cu, pi, el, sac) = (
        id("si"),
        id("cu"),
        id("polyimide"),
        id("elastomer"),
        id("sac305"),
    );
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let noise: Vec<u32> = (0..32 * 32 * 32).map(|_| rng.below(100)).collect();
    let ids = fill(dims, |x, y, z| {
        let i = (x + 32 * (y + 32 * z)) as usize;
        match z {
            0..=9 => si,
            10 => cu,                                        // a one-voxel layer
            11..=13 if x >= 12 && (4..28).contains(&y) => 0, // the gap under the cantilever
            11..=13 => pi,
            14..=15 => pi, // cantilever, anchored at x < 12
            16..=23 if (8..20).contains(&x) && (10..22).contains(&y) => sac, // a bump on it
            16..=23 if x > 24 && y > 24 => 0, // a void pocket
            16..=23 => match noise[i] {
                0..=54 => el, // elastomer with random inclusions: 1300x contrast
                55..=79 => cu,
                _ => si,
            },
            _ if (x + y) % 9 == 0 => 0, // trenches in the cap
            _ => cu,
        }
    });
    let h = 1.0;
    let bc = BoundaryConditions::new(Support::BottomFixed);
    let r = run(dims, h, &ids, bc, &[], DT, 1e-10, true);
    assert!(r.converged, "residual {}", r.residual);
    let t = std::time::Instant::now();
    let cpu = Sparse::assemble(dims, h, &ids, |_, _, z| if z == 0 { 7 } else { 0 });
    let u = cpu.solve(1e-12);
    eprintln!(
        "CPU sparse f64 Jacobi-CG: {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let umax = u.iter().fold(0f64, |m, v| m.max(v.abs()));
    let err = r
        .displacement_f64
        .iter()
        .flatten()
        .zip(&u)
        .fold(0f64, |m, (a, b)| m.max((a - b).abs()));
    let gpu_u: Vec<f64> = r.displacement_f64.iter().flatten().copied().collect();
    let res = cpu.residual(&gpu_u);
    eprintln!(
        "max |Δu| / max |u| = {:.2e}; CPU residual of the GPU u {res:.2e}",
        err / umax
    );
    assert!(err < 1e-6 * umax, "u error {err} of {umax}");
    assert!(
        res < 3.0 * r.residual + 1e-12,
        "reported {} vs actual {res}",
        r.residual
    );
    assert!(r.iterations <= 80, "{} iterations", r.iterations);
}

#[test]
fn prescribed_affine_field_is_reproduced_exactly() {
    // Patch test: ΔT = 0, u = A X + c on every outer face; the interior must follow.
    let dims = [6, 5, 4];
    let h = 2.0;
    let ids = vec![id("cu"); 120];
    let a = [
        [1e-3, 2e-4, -3e-4],
        [5e-4, -8e-4, 1e-4],
        [-2e-4, 3e-4, 6e-4],
    ];
    let c = [0.01, -0.02, 0.005];
    let field = |x: u32, y: u32, z: u32| -> [f64; 3] {
        let p = [f64::from(x) * h, f64::from(y) * h, f64::from(z) * h];
        std::array::from_fn(|i| c[i] + (0..3).map(|j| a[i][j] * p[j]).sum::<f64>())
    };
    let mut pres = Vec::new();
    for z in 0..=4 {
        for y in 0..=5 {
            for x in 0..=6 {
                if x == 0 || y == 0 || z == 0 || x == 6 || y == 5 || z == 4 {
                    pres.push(Prescribed::all([x, y, z], field(x, y, z)));
                }
            }
        }
    }
    let bc = BoundaryConditions::new(Support::Free);
    let r = run(dims, h, &ids, bc, &pres, 0.0, 1e-12, true);
    assert!(r.converged);
    let mut worst = 0f64;
    for z in 0..=4 {
        for y in 0..=5 {
            for x in 0..=6 {
                let got = r.displacement_f64[r.node_index(x, y, z)];
                let want = field(x, y, z);
                for k in 0..3 {
                    worst = worst.max((got[k] - want[k]).abs());
                }
            }
        }
    }
    assert!(worst < 1e-12, "affine field off by {worst} µm");
    // Uniform strain: every voxel carries the same stress, σxx = λ tr ε + 2 μ εxx.
    let p = MaterialTable::builtin().get(id("cu")).clone();
    let (l, mu) = lame(p.e_gpa, p.nu);
    let tr = a[0][0] + a[1][1] + a[2][2];
    let sxx = (l * tr + 2.0 * mu * a[0][0]) * 1e3;
    for v in 0..r.stress.len() {
        assert!((r.value(VoxelField::Stress(0), v) - sxx).abs() < 1e-4 * sxx.abs());
    }
}

#[test]
fn slender_bimetal_and_soft_layer_stack_converge_in_f64() {
    // A 64x4x8 Si/FR-4 strip on three free pins (stalled at ~9e-6 in f32 before).
    let dims = [64, 4, 8];
    let (si, fr4) = (id("si"), id("fr4"));
    let strip = fill(dims, |_, _, z| if z < 4 { si } else { fr4 });
    let r = run(
        dims,
        0.5,
        &strip,
        BoundaryConditions::new(Support::Free),
        &[],
        DT,
        1e-9,
        true,
    );
    assert!(
        r.converged && r.residual <= 1e-9,
        "strip residual {}",
        r.residual
    );
    assert!(r.iterations <= 40, "strip: {} iterations", r.iterations);
    // Si / 1-voxel elastomer / Cu, free: the soft layer decouples the two stiff ones.
    let dims = [32, 32, 9];
    let (el, cu) = (id("elastomer"), id("cu"));
    let stack = fill(dims, |_, _, z| match z {
        0..=3 => si,
        4 => el,
        _ => cu,
    });
    let r = run(
        dims,
        1.0,
        &stack,
        BoundaryConditions::new(Support::Free),
        &[],
        DT,
        1e-9,
        true,
    );
    assert!(
        r.converged && r.residual <= 1e-9,
        "stack residual {}",
        r.residual
    );
    assert!(r.iterations <= 80, "stack: {} iterations", r.iterations);
}

#[test]
fn floating_part_is_stress_free_and_the_rest_converges() {
    // A Cu block above a bottom-fixed Si slab, separated by air: a singular system
    // (the block's rigid modes) whose thermal load is self-equilibrated.
    let dims = [12, 12, 10];
    let (si, cu) = (id("si"), id("cu"));
    let ids = fill(dims, |x, y, z| match z {
        0..=3 => si,
        6..=8 if (3..9).contains(&x) && (3..9).contains(&y) => cu,
        _ => 0,
    });
    let r = run(
        dims,
        1.0,
        &ids,
        BoundaryConditions::new(Support::BottomFixed),
        &[],
        DT,
        1e-9,
        true,
    );
    assert!(r.converged, "residual {}", r.residual);
    let cu_vm = r
        .box_mean(VoxelField::VonMises, [3.0, 3.0, 6.0], [9.0, 9.0, 9.0])
        .unwrap();
    assert!(cu_vm < 1e-3, "floating Cu carries {cu_vm} MPa");
    let si_vm = r
        .box_mean(VoxelField::VonMises, [0.0, 0.0, 0.0], [12.0, 12.0, 4.0])
        .unwrap();
    assert!(si_vm > 1.0, "the clamped Si is stressed: {si_vm} MPa");
}

/// CG iterations of a thermal solve to 1e-8 of `ids` on a roller bottom, in f64 (asserts
/// that it converged): the grid-doubling tests compare them.
fn roller_iterations(dims: [u32; 3], h: f64, ids: &[u8]) -> u32 {
    let r = run(
        dims,
        h,
        ids,
        BoundaryConditions::new(Support::BottomRoller),
        &[],
        DT,
        1e-8,
        true,
    );
    assert!(r.converged, "residual {}", r.residual);
    r.iterations
}

#[test]
fn iterations_stay_flat_when_the_voxel_halves() {
    // The same layered package (Si, polyimide, Cu pads) at two resolutions.
    let (si, pi, cu) = (id("si"), id("polyimide"), id("cu"));
    let mut counts = Vec::new();
    for n in [16u32, 32] {
        let dims = [n, n, n / 2];
        let ids = fill(dims, |x, y, z| {
            let zf = f64::from(z) / f64::from(n / 2);
            let (xf, yf) = (f64::from(x) / f64::from(n), f64::from(y) / f64::from(n));
            if zf < 0.5 {
                si
            } else if zf < 0.75 {
                pi
            } else if (0.25..0.75).contains(&xf) && (0.25..0.75).contains(&yf) {
                cu
            } else {
                0
            }
        });
        let h = 16.0 / f64::from(n);
        counts.push(roller_iterations(dims, h, &ids));
    }
    assert!(
        counts[1] <= counts[0] + counts[0] / 2 + 4,
        "iterations grew with the grid: {counts:?}"
    );
}

/// Every field a solve reports, one f32 per voxel or node each: the six stress
/// components, von Mises, the largest principal stress, the three displacements.
fn result_fields(r: &StressResult) -> Vec<Vec<f32>> {
    let mut f: Vec<Vec<f32>> = (0..6)
        .map(|k| r.stress.iter().map(|s| s[k]).collect())
        .collect();
    f.push(r.von_mises.clone());
    f.push(r.max_principal.clone());
    (0..3).for_each(|a| f.push(r.displacement.iter().map(|u| u[a]).collect()));
    f
}

#[test]
fn f32_fallback_reaches_its_floor_and_says_so() {
    let dims = [16, 16, 8];
    let (si, cu) = (id("si"), id("cu"));
    let ids = fill(dims, |_, _, z| if z < 6 { si } else { cu });
    let bc = BoundaryConditions::new(Support::BottomRoller).with_symmetry(true, true);
    let exact = run(dims, 1.0, &ids, bc, &[], DT, 1e-10, true);
    let lo = run(dims, 1.0, &ids, bc, &[], DT, 1e-5, false);
    assert!(lo.converged && lo.residual <= 1e-5, "f32: {}", lo.residual);
    let umax = exact
        .displacement_f64
        .iter()
        .flatten()
        .fold(0f64, |m, v| m.max(v.abs()));
    let err = exact
        .displacement_f64
        .iter()
        .flatten()
        .zip(lo.displacement_f64.iter().flatten())
        .fold(0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(err < 1e-4 * umax, "f32 solution off by {err} of {umax}");
    // At f32 the result fields sit in other idle buffers than at f64 (r holds three of
    // them, level 0's b and x the rest): every field must still be the solve's own.
    for (k, (a, b)) in result_fields(&exact)
        .iter()
        .zip(result_fields(&lo))
        .enumerate()
    {
        let top = a.iter().fold(0f32, |m, v| m.max(v.abs()));
        let off = a
            .iter()
            .zip(&b)
            .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(
            top > 0.0 && off <= 1e-3 * top,
            "field {k}: f32 off by {off} of {top}"
        );
    }
    // Asked for more than f32 can give, it stops and reports it did not converge.
    let floor = run(dims, 1.0, &ids, bc, &[], DT, 1e-13, false);
    assert!(!floor.converged && floor.residual > 1e-13);
}

#[test]
fn semidefinite_inverse_drops_rigid_modes_only() {
    // A free 1D bar of three springs (4 nodes): K is singular (translation).
    let mut k = vec![0.0; 16];
    for e in 0..3 {
        for (i, j, v) in [
            (e, e, 1.0),
            (e + 1, e + 1, 1.0),
            (e, e + 1, -1.0),
            (e + 1, e, -1.0),
        ] {
            k[i * 4 + j] += v;
        }
    }
    let orig = k.clone();
    let inv = semidefinite_inverse(&mut k, 4);
    // K A+ K = K (a generalised inverse), A+ symmetric.
    let mul = |a: &[f64], b: &[f64]| -> Vec<f64> {
        (0..16)
            .map(|ij| {
                (0..4)
                    .map(|t| a[(ij / 4) * 4 + t] * b[t * 4 + ij % 4])
                    .sum()
            })
            .collect()
    };
    let kak = mul(&mul(&orig, &inv), &orig);
    for (a, b) in kak.iter().zip(&orig) {
        assert!((a - b).abs() < 1e-12, "{kak:?}");
    }
    for i in 0..4 {
        for j in 0..4 {
            assert!((inv[i * 4 + j] - inv[j * 4 + i]).abs() < 1e-14);
        }
    }
    assert_eq!(inv[15], 0.0, "the dependent last DOF is dropped");
}

#[test]
fn semidefinite_inverse_is_a_symmetric_generalised_inverse_of_a_singular_matrix() {
    // K = B'B with B random 111 x 120 (nullity 9: more than a body's 6 rigid modes),
    // one column a combination of two earlier ones, then 3 DOFs with no stiffness at all
    // (an inactive node) inserted at 60..62.
    let (n, m) = (123usize, 111usize);
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut rand = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let dof = |c: usize| if c < 60 { c } else { c + 3 };
    let mut b: Vec<f64> = (0..m * 120).map(|_| rand()).collect();
    // Column 20 = column 5 + column 7: a dependent DOF mid-matrix, coupled to the kept
    // DOFs after it (the elimination must drop it without disturbing them).
    for r in 0..m {
        b[r * 120 + 20] = b[r * 120 + 5] + b[r * 120 + 7];
    }
    let mut k = vec![0.0; n * n];
    for r in 0..m {
        for i in 0..120 {
            for j in 0..120 {
                k[dof(i) * n + dof(j)] += b[r * 120 + i] * b[r * 120 + j];
            }
        }
    }
    let orig = k.clone();
    let inv = semidefinite_inverse(&mut k, n);
    let mul = |a: &[f64], b: &[f64]| -> Vec<f64> {
        let mut c = vec![0.0; n * n];
        for i in 0..n {
            for t in 0..n {
                let x = a[i * n + t];
                for j in 0..n {
                    c[i * n + j] += x * b[t * n + j];
                }
            }
        }
        c
    };
    let scale = orig.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let kak = mul(&mul(&orig, &inv), &orig);
    let worst = kak
        .iter()
        .zip(&orig)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(worst < 1e-8 * scale, "K A+ K - K: {worst:e} of {scale:e}");
    let iscale = inv.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let aka = mul(&mul(&inv, &orig), &inv);
    let worst = aka
        .iter()
        .zip(&inv)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        worst < 1e-8 * iscale,
        "A+ K A+ - A+: {worst:e} of {iscale:e}"
    );
    for i in 0..n {
        for j in 0..n {
            assert_eq!(inv[i * n + j], inv[j * n + i], "exactly symmetric");
        }
        // Positive semi-definite: no negative diagonal.
        assert!(inv[i * n + i] >= 0.0);
    }
    for i in 60..63 {
        assert!(
            (0..n).all(|j| inv[i * n + j] == 0.0),
            "DOF {i} has no stiffness"
        );
    }
    // Only the dependent DOFs are dropped: rank m, DOF 20 among them.
    let kept = (0..n).filter(|&i| inv[i * n + i] > 0.0).count();
    assert_eq!(kept, m);
    assert_eq!(
        inv[20 * n + 20],
        0.0,
        "the dependent mid-matrix DOF is dropped"
    );
}

/// Weight of coarse corner `a` at fine position `p` (0..2 per axis) of a coarse element,
/// as stress_mg_pweights.wgsl stores it for fine node `n`.
fn weight(pw: &[f32], n: usize, p: [usize; 3], a: [usize; 3]) -> f64 {
    if (0..3).any(|k| p[k] != 1 && p[k] != 2 * a[k]) {
        return 0.0;
    }
    let cand: usize = (0..3).map(|k| if p[k] == 1 { a[k] << k } else { 0 }).sum();
    f64::from(pw[8 * n + cand])
}

/// Galerkin element matrices of the next coarser level on the CPU: for each coarse
/// element the sum over its children of P_c' K_c P_c, with P from the read-back weights.
fn cpu_galerkin(
    child_dims: [u32; 3],
    child: &dyn Fn(usize) -> Option<[[f64; DOFS]; DOFS]>,
    pw: &[f32],
    coarse_dims: [u32; 3],
) -> Vec<[[f64; DOFS]; DOFS]> {
    let [fx, fy, fz] = child_dims.map(|d| d as usize);
    let [cx, cy, cz] = coarse_dims.map(|d| d as usize);
    let fnode = |x: usize, y: usize, z: usize| x + (fx + 1) * (y + (fy + 1) * z);
    let mut out = vec![[[0.0; DOFS]; DOFS]; cx * cy * cz];
    for ez in 0..cz {
        for ey in 0..cy {
            for ex in 0..cx {
                let ke = &mut out[ex + cx * (ey + cy * ez)];
                for c in 0..8 {
                    let oc = corner(c);
                    let f = [2 * ex + oc[0], 2 * ey + oc[1], 2 * ez + oc[2]];
                    if f[0] >= fx || f[1] >= fy || f[2] >= fz {
                        continue;
                    }
                    let Some(kc) = child(f[0] + fx * (f[1] + fy * f[2])) else {
                        continue;
                    };
                    let w = |i: usize, a: usize| {
                        let ci = corner(i);
                        let p = [oc[0] + ci[0], oc[1] + ci[1], oc[2] + ci[2]];
                        let n = fnode(f[0] + ci[0], f[1] + ci[1], f[2] + ci[2]);
                        weight(pw, n, p, corner(a))
                    };
                    for i in 0..8 {
                        for j in 0..8 {
                            for a in 0..8 {
                                let wia = w(i, a);
                                if wia == 0.0 {
                                    continue;
                                }
                                for b in 0..8 {
                                    let s = wia * w(j, b);
                                    for ca in 0..3 {
                                        for cb in 0..3 {
                                            ke[3 * a + ca][3 * b + cb] +=
                                                s * kc[3 * i + ca][3 * j + cb];
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

fn unpack(k: &[f32], e: usize) -> [[f64; DOFS]; DOFS] {
    let mut m = [[0.0; DOFS]; DOFS];
    for (i, row) in m.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            let (lo, hi) = (i.min(j), i.max(j));
            *v = f64::from(k[e * 300 + hi * (hi + 1) / 2 + lo]);
        }
    }
    m
}

#[test]
fn galerkin_levels_match_a_cpu_product() {
    // An odd box (coarse elements half outside), Si with a void pocket, a Cu layer ending
    // at a gap, a polyimide cantilever over the gap with a slot, SAC305, a roller bottom
    // and a symmetry plane: level 1 (from the voxels, with its fast path for uniform
    // blocks) and level 2 (from level 1 as read back) against the same products on the
    // CPU, from the read-back prolongation weights.
    let dims = [17u32, 13, 10];
    let h = 1.5;
    let (si, cu, pi, sac) = (id("si"), id("cu"), id("polyimide"), id("sac305"));
    let ids = fill(dims, |x, y, z| match z {
        0..6 if (10..14).contains(&x) && (4..8).contains(&y) && z >= 3 => 0,
        0..6 => si,
        6..8 if x < 10 => cu,
        6..8 => 0,
        _ if y == 9 => 0,
        _ if x < 3 => sac,
        _ => pi,
    });
    let g = gpu();
    let grid = GpuGrid::new(g, &spec(dims[0], dims[1], dims[2], h)).unwrap();
    grid.write_materials(g, &ids);
    let table = MaterialTable::builtin();
    let mut solver = StressSolver::new(g, &grid, &table).unwrap();
    let mut bc = BoundaryConditions::new(Support::BottomRoller);
    bc.symmetry_x = true;
    let r = solver
        .solve(&ThermalLoad { delta_t: DT }, &bc, &SolveOptions::default())
        .unwrap();
    assert!(r.converged, "residual {}", r.residual);
    let (levels, fixed) = solver.read_multigrid();
    assert!(levels.len() >= 3, "levels {:?}", solver.stats.levels);
    let el = UnitElement::new();
    let [nx, ny, _] = dims.map(|d| d as usize);
    let node = |x: usize, y: usize, z: usize| x + (nx + 1) * (y + (ny + 1) * z);
    let voxel = |v: usize| -> Option<[[f64; DOFS]; DOFS]> {
        let m = ids[v];
        if m == 0 {
            return None;
        }
        let p = table.get(m);
        let (l, mu) = lame(p.e_gpa, p.nu);
        let (x, y, z) = (v % nx, (v / nx) % ny, v / (nx * ny));
        let free = |i: usize| {
            let c = corner(i / 3);
            fixed[node(x + c[0], y + c[1], z + c[2])] >> (i % 3) & 1 == 0
        };
        let mut k = [[0.0; DOFS]; DOFS];
        for (i, row) in k.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                if free(i) && free(j) {
                    *v = h * (l * el.k_lambda[i][j] + mu * el.k_mu[i][j]);
                }
            }
        }
        Some(k)
    };
    let mut uniform = 0;
    for l in 1..3 {
        let cpu = if l == 1 {
            cpu_galerkin(dims, &voxel, &levels[0].pw, levels[1].elems)
        } else {
            let below = &levels[l - 1];
            let child = |e: usize| Some(unpack(&below.k, e));
            cpu_galerkin(below.elems, &child, &below.pw, levels[l].elems)
        };
        for (e, want) in cpu.iter().enumerate() {
            let got = unpack(&levels[l].k, e);
            let scale = want.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
            let err = want
                .iter()
                .flatten()
                .zip(got.iter().flatten())
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            assert!(
                err <= 2e-6 * scale.max(1e-30),
                "level {l} element {e}: max error {err:.3e} of {scale:.3e}"
            );
            // Uniform free blocks (the shader's fast path) are the element of edge 2h.
            if l != 1 {
                continue;
            }
            let c = levels[1].elems;
            let (cx, cy) = (c[0] as usize, c[1] as usize);
            let (ex, ey, ez) = (e % cx, (e / cx) % cy, e / (cx * cy));
            let all_si = (0..8).all(|c| {
                let o = corner(c);
                let (x, y, z) = (2 * ex + o[0], 2 * ey + o[1], 2 * ez + o[2]);
                x < nx && y < ny && ids[x + nx * (y + ny * z)] == si
            });
            let all_free = || {
                (0..27)
                    .all(|k| fixed[node(2 * ex + k % 3, 2 * ey + (k / 3) % 3, 2 * ez + k / 9)] == 0)
            };
            if all_si && all_free() {
                let p = table.get(si);
                let (lam, mu) = lame(p.e_gpa, p.nu);
                for (i, row) in got.iter().enumerate() {
                    for (j, v) in row.iter().enumerate() {
                        let k2 = 2.0 * h * (lam * el.k_lambda[i][j] + mu * el.k_mu[i][j]);
                        assert!((v - k2).abs() <= 2e-6 * scale, "uniform block {e}");
                    }
                }
                uniform += 1;
            }
        }
    }
    assert!(uniform > 0, "no uniform free block was checked");
    // Only the elements that are not uniform blocks got storage of their own.
    assert_eq!(
        solver.stats.mixed,
        cpu_mixed(dims, &ids, &fixed, solver.stats.levels.len())
    );
}

/// A solver on `ids` after a converged solve of the thermal load on rollers (its
/// multigrid set up for the tests to read back).
fn solved_on_rollers(dims: [u32; 3], h: f64, ids: &[u8]) -> (StressSolver<'static>, StressResult) {
    let g = gpu();
    let grid = GpuGrid::new(g, &spec(dims[0], dims[1], dims[2], h)).unwrap();
    grid.write_materials(g, ids);
    let mut solver = StressSolver::new(g, &grid, &MaterialTable::builtin()).unwrap();
    let r = solver
        .solve(
            &ThermalLoad { delta_t: DT },
            &BoundaryConditions::new(Support::BottomRoller),
            &SolveOptions::default(),
        )
        .unwrap();
    assert!(r.converged, "residual {}", r.residual);
    (solver, r)
}

/// Coarse elements per level (level 1 first) that need a matrix of their own: not eight
/// children of one material slot (at level 1: voxels of one material with no
/// constrained node among their 27) and not all void (children outside the grid count
/// as void, and make a block non-uniform).
fn cpu_mixed(dims: [u32; 3], ids: &[u8], fixed: &[u32], levels: usize) -> Vec<u64> {
    const OWN: i32 = -1;
    let [nx, ny, nz] = dims.map(|d| d as usize);
    let node = |x: usize, y: usize, z: usize| x + (nx + 1) * (y + (ny + 1) * z);
    let mut below: Vec<i32> = Vec::new();
    let mut bd = [nx, ny, nz];
    let mut out = Vec::new();
    for l in 1..levels {
        let cd = bd.map(|d| d.div_ceil(2));
        let mut tags = vec![0i32; cd[0] * cd[1] * cd[2]];
        for (e, tag) in tags.iter_mut().enumerate() {
            let (ex, ey, ez) = (e % cd[0], (e / cd[0]) % cd[1], e / (cd[0] * cd[1]));
            let child = |c: usize| {
                let o = corner(c);
                let (x, y, z) = (2 * ex + o[0], 2 * ey + o[1], 2 * ez + o[2]);
                (x < bd[0] && y < bd[1] && z < bd[2]).then(|| x + bd[0] * (y + bd[1] * z))
            };
            *tag = if l == 1 {
                let m: Vec<i32> = (0..8)
                    .map(|c| child(c).map_or(0, |v| i32::from(ids[v])))
                    .collect();
                // Only asked of blocks of one solid material, whose nodes are all inside.
                let free = || {
                    (0..27).all(|k| {
                        fixed[node(2 * ex + k % 3, 2 * ey + (k / 3) % 3, 2 * ez + k / 9)] == 0
                    })
                };
                if m.iter().all(|&v| v == m[0]) && (m[0] == 0 || free()) {
                    m[0]
                } else {
                    OWN
                }
            } else {
                let s: Vec<Option<i32>> = (0..8).map(|c| child(c).map(|v| below[v])).collect();
                if s.iter().all(|t| t.is_none_or(|t| t == 0)) {
                    0
                } else if s.iter().all(|&t| t == s[0] && t.is_some_and(|t| t >= 0)) {
                    s[0].unwrap_or(OWN)
                } else {
                    OWN
                }
            };
        }
        out.push(tags.iter().filter(|&&t| t == OWN).count() as u64);
        below = tags;
        bd = cd;
    }
    out
}

#[test]
fn uniform_blocks_share_their_material_matrix() {
    // A homogeneous block on rollers: the constrained bottom layer of every coarse level
    // holds the only elements with matrices of their own, so the set-up stores 8x8 + 4x4
    // element matrices (and one per material and level) instead of 8x8x4 + 4x4x2, and
    // the solve needs no more iterations than with all of them
    // (the figures of `voxfab bench stress`, homogeneous, before the change: 8).
    let dims = [16u32, 16, 8];
    let ids = vec![id("si"); 16 * 16 * 8];
    let (solver, r) = solved_on_rollers(dims, 2.0, &ids);
    assert!(r.iterations <= 10, "{} iterations", r.iterations);
    assert_eq!(solver.stats.levels.len(), 3, "{:?}", solver.stats.levels);
    assert_eq!(solver.stats.mixed, vec![64, 16]);
    let (levels, fixed) = solver.read_multigrid();
    assert_eq!(solver.stats.mixed, cpu_mixed(dims, &ids, &fixed, 3));
    // Level 2's shared slot (twice level 1's: its upper layer) and its own matrices
    // (the bottom layer) are the Galerkin products of their children.
    let child = |e: usize| Some(unpack(&levels[1].k, e));
    let cpu = cpu_galerkin(levels[1].elems, &child, &levels[1].pw, levels[2].elems);
    for (e, want) in cpu.iter().enumerate() {
        let got = unpack(&levels[2].k, e);
        let scale = want.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
        for (a, b) in want.iter().flatten().zip(got.iter().flatten()) {
            assert!(
                (a - b).abs() <= 2e-6 * scale,
                "level 2 element {e}: {a} against {b}"
            );
        }
    }
    // Storage: the solver's buffers plus (materials + own) slots of 1200 bytes per level.
    let bound = voxfab::stress::multigrid::matrix_bytes_bound(dims);
    let upfront = StressSolver::memory_bytes(dims, true).total;
    assert!(solver.stats.bytes < upfront + bound);
    let slots = MaterialTable::builtin().len() as u64;
    let stored: u64 = (64 + 16 + 2 * slots) * 1200;
    let held = upfront - 2 * voxfab::stress::multigrid::MAT_SLOTS * 1200 + stored;
    assert_eq!(solver.stats.bytes, held);
}

#[test]
fn preconditioner_is_symmetric_and_positive_with_and_without_w_cycles() {
    // A cantilever over a gap with a slot, four levels: the cycle (with
    // two coarse cycles on levels 1 and 2, or a plain V-cycle; a degree-2 or a degree-1
    // smoother on the voxels) must stay a fixed symmetric positive operator for CG:
    // x'My = y'Mx and x'Mx > 0.
    let dims = [49u32, 33, 20];
    let (si, cu, pi) = (id("si"), id("cu"), id("polyimide"));
    let ids = fill(dims, |x, y, z| match z {
        0..10 => si,
        10..13 if x < 20 => cu,
        10..13 => 0,
        _ if y == 22 => 0,
        _ => pi,
    });
    let g = gpu();
    let grid = GpuGrid::new(g, &spec(dims[0], dims[1], dims[2], 1.0)).unwrap();
    grid.write_materials(g, &ids);
    let mut solver = StressSolver::new(g, &grid, &MaterialTable::builtin()).unwrap();
    let mut bc = BoundaryConditions::new(Support::BottomRoller);
    bc.symmetry_y = true;
    let mut rng = Rng(7);
    let n = 3 * (dims[0] + 1) as usize * (dims[1] + 1) as usize * (dims[2] + 1) as usize;
    let mut random = || -> Vec<f32> {
        (0..n)
            .map(|_| rng.below(2001) as f32 / 1000.0 - 1.0)
            .collect()
    };
    let (x, y) = (random(), random());
    let dot = |a: &[f32], b: &[f32]| -> f64 {
        a.iter()
            .zip(b)
            .map(|(&p, &q)| f64::from(p) * f64::from(q))
            .sum()
    };
    let (mut iterations, mut applied) = (Vec::new(), Vec::new());
    // W levels 1-2, plain V, and W with a degree-1 smoother on the voxels.
    for (w, fine_degree) in [(2, 2), (0, 2), (2, 1)] {
        solver.set_cycle(CycleShape {
            w_levels: w,
            fine_degree,
        });
        let r = solver
            .solve(&ThermalLoad { delta_t: DT }, &bc, &SolveOptions::default())
            .unwrap();
        assert!(
            r.converged,
            "w {w} degree {fine_degree}: residual {}",
            r.residual
        );
        assert!(solver.stats.levels.len() >= 4, "{:?}", solver.stats.levels);
        let (mx, my) = (
            solver.apply_preconditioner(&x),
            solver.apply_preconditioner(&y),
        );
        let (xmy, ymx) = (dot(&x, &my), dot(&y, &mx));
        let scale = dot(&x, &mx).sqrt() * dot(&y, &my).sqrt();
        assert!(
            (xmy - ymx).abs() <= 1e-5 * scale,
            "w {w} degree {fine_degree}: x'My {xmy:.6e} vs y'Mx {ymx:.6e} (scale {scale:.3e})"
        );
        assert!(
            dot(&x, &mx) > 0.0 && dot(&y, &my) > 0.0,
            "w {w} degree {fine_degree}: not positive"
        );
        eprintln!(
            "w {w} degree {fine_degree}: {} iterations, asymmetry {:.2e}",
            r.iterations,
            (xmy - ymx).abs() / scale
        );
        iterations.push(r.iterations);
        applied.push(mx);
    }
    assert_ne!(
        applied[0], applied[2],
        "the degree-1 smoother is another operator"
    );
    // The second coarse cycles are what resolves the cantilever (22 against 36 here).
    assert!(
        f64::from(iterations[0]) <= 0.85 * f64::from(iterations[1]),
        "W levels {} iterations, V-cycle {}",
        iterations[0],
        iterations[1]
    );
}

#[test]
fn slender_cantilever_over_a_gap_converges_without_growth_as_the_voxel_halves() {
    // The suspended bump's hard part, more slender than the bundled scene: a 2 µm
    // polyimide cantilever with a 1 µm copper line over a 2 µm air gap, 28 µm free,
    // anchored at one end, carrying a SAC305 bump at the other, on silicon on rollers;
    // the same geometry at two voxel sizes. Measured: 42 / 36 iterations at 1 / 0.5 µm
    // since a coarse node in the gap no longer ties the cantilever to the substrate
    // (86 / 74 before, plain V-cycles 90 / 92); the count must stay within the 50 the
    // issue asks and not grow as the voxel halves.
    let (si, cu, pi, sac) = (id("si"), id("cu"), id("polyimide"), id("sac305"));
    let mut counts = Vec::new();
    for n in [1u32, 2] {
        let dims = [40 * n, 16 * n, 16 * n];
        let h = 1.0 / f64::from(n);
        let ids = fill(dims, |x, y, z| {
            let (x, y, z) = (
                (f64::from(x) + 0.5) * h,
                (f64::from(y) + 0.5) * h,
                (f64::from(z) + 0.5) * h,
            );
            let on_cantilever = (2.0..14.0).contains(&y) && x < 36.0;
            if z < 5.0 {
                si
            } else if z < 7.0 {
                // The gap under the cantilever; the anchor at x < 8.
                if x < 8.0 && on_cantilever { pi } else { 0 }
            } else if z < 8.0 && on_cantilever && (6.0..10.0).contains(&y) {
                cu
            } else if z < 9.0 && on_cantilever {
                pi
            } else if z < 15.0 && (26.0..34.0).contains(&x) && (4.0..12.0).contains(&y) {
                sac
            } else {
                0
            }
        });
        counts.push(roller_iterations(dims, h, &ids));
    }
    assert!(
        counts.iter().all(|&c| c <= 50) && counts[1] <= counts[0] + counts[0] / 4 + 2,
        "iterations at 1 and 0.5 µm: {counts:?}"
    );
}

/// A_l v from read-back element matrices on the CPU, and sum |A_l| |v| per DOF (the
/// rounding scale of an f32 product).
fn cpu_level_product(elems: [u32; 3], k: &[f32], v: &[f32]) -> (Vec<f64>, Vec<f64>) {
    let [ex, ey, ez] = elems.map(|d| d as usize);
    let node = |x: usize, y: usize, z: usize| x + (ex + 1) * (y + (ey + 1) * z);
    let mut y = vec![0.0; v.len()];
    let mut s = vec![0.0; v.len()];
    for z in 0..ez {
        for yy in 0..ey {
            for x in 0..ex {
                let e = x + ex * (yy + ey * z);
                let m = unpack(k, e);
                let dof = |i: usize| {
                    let c = corner(i / 3);
                    3 * node(x + c[0], yy + c[1], z + c[2]) + i % 3
                };
                for i in 0..DOFS {
                    for j in 0..DOFS {
                        y[dof(i)] += m[i][j] * f64::from(v[dof(j)]);
                        s[dof(i)] += (m[i][j] * f64::from(v[dof(j)])).abs();
                    }
                }
            }
        }
    }
    (y, s)
}

#[test]
fn coarse_levels_apply_the_matrices_they_store() {
    // The cycle applies uniform blocks from the unit element and each material's
    // (lambda, mu) instead of reading their shared slot, and nodes inside one uniform
    // material by the assembled 27-point stencil: every coarse level's residual kernel
    // must give what its read-back matrices give, on a homogeneous block (mostly
    // stencil) and on the layered odd box of the Galerkin test (mostly mixed).
    let (si, cu, pi) = (id("si"), id("cu"), id("polyimide"));
    let odd = [17u32, 13, 10];
    let cases = [
        ([16u32, 16, 8], vec![si; 16 * 16 * 8]),
        (
            odd,
            fill(odd, |x, _, z| match z {
                0..6 => si,
                6..8 if x < 10 => cu,
                6..8 => 0,
                _ => pi,
            }),
        ),
    ];
    let mut rng = Rng(7);
    for (dims, ids) in cases {
        let (solver, _) = solved_on_rollers(dims, 1.5, &ids);
        let (levels, _) = solver.read_multigrid();
        for (l, lv) in levels.iter().enumerate().skip(1) {
            let nodes: usize = lv.elems.iter().map(|&d| d as usize + 1).product();
            let v: Vec<f32> = (0..3 * nodes)
                .map(|_| rng.below(2001) as f32 / 1000.0 - 1.0)
                .collect();
            let got = solver.apply_level(l, &v);
            let (want, scale) = cpu_level_product(lv.elems, &lv.k, &v);
            let mut masked = 0;
            for i in 0..v.len() {
                // DOFs without stiffness on the level (void) come back 0.
                if got[i] == 0.0 {
                    masked += 1;
                    continue;
                }
                let err = (f64::from(got[i]) - want[i]).abs();
                assert!(
                    err <= 1e-5 * scale[i],
                    "{dims:?} level {l} DOF {i}: {} against {}",
                    got[i],
                    want[i]
                );
            }
            // Geometric coarse nodes keep stiffness where fine ones are held (a bottom
            // coarse node also moves the free fine nodes above it): the homogeneous
            // block masks nothing, the odd box only DOFs over the void beside the Cu.
            if dims == [16, 16, 8] {
                assert_eq!(masked, 0, "level {l}");
            }
            assert!(
                10 * masked < v.len(),
                "{dims:?} level {l}: {masked} masked DOFs"
            );
        }
    }
}

#[test]
fn coarse_matrices_over_the_binding_limit_are_refused_with_their_size() {
    // A voxel checkerboard of Si and Cu: no level-1 element is a uniform block, so the
    // 64³ of them need 600 B each per matrix half, over 150 MiB: more than lavapipe's 128 MiB
    // binding. The set-up counts them and refuses before allocating or computing them.
    let dims = [128u32, 128, 128];
    let (si, cu) = (id("si"), id("cu"));
    let g = gpu();
    let mats = MaterialTable::builtin().len() as u64;
    let need = (mats + 64 * 64 * 64) * 600;
    if need <= g.max_binding_bytes() {
        eprintln!("{} binds {need} bytes: nothing to refuse", g.info.name);
        return;
    }
    let ids = fill(dims, |x, y, z| if (x + y + z) % 2 == 0 { si } else { cu });
    let grid = GpuGrid::new(g, &spec(dims[0], dims[1], dims[2], 1.0)).unwrap();
    grid.write_materials(g, &ids);
    let mut solver = StressSolver::new(g, &grid, &MaterialTable::builtin()).unwrap();
    let Err(e) = solver.solve(
        &ThermalLoad { delta_t: DT },
        &BoundaryConditions::new(Support::BottomRoller),
        &SolveOptions::default(),
    ) else {
        panic!("a level-1 operator over the binding limit must be refused");
    };
    let msg = e.to_string();
    assert!(
        msg.starts_with(
            "the multigrid's level-1 operator needs 151 MiB for 262144 coarse elements"
        ),
        "{msg}"
    );
    let limit = format!("binds at most {} MiB", g.max_binding_bytes() >> 20);
    assert!(msg.contains(&limit), "{msg}");
}

#[test]
fn result_fields_in_idle_solver_buffers_are_rewritten_by_every_solve() {
    // The displacement and the voxel fields live in ranges of buffers the solve no
    // longer needs; a second solve on the same solver must rewrite them all: under twice
    // the temperature change every field doubles (linear elasticity), also where a stale
    // value would survive.
    let dims = [9, 7, 6];
    let (si, cu, pi) = (id("si"), id("cu"), id("polyimide"));
    let ids = fill(dims, |x, _, z| match z {
        0..=2 => si,
        3 if x % 3 == 0 => 0,
        3 | 4 => pi,
        _ if x > 2 => cu,
        _ => 0,
    });
    let g = gpu();
    let grid = GpuGrid::new(g, &spec(dims[0], dims[1], dims[2], 1.5)).unwrap();
    grid.write_materials(g, &ids);
    let mut solver = StressSolver::new(g, &grid, &MaterialTable::builtin()).unwrap();
    let bc = BoundaryConditions::new(Support::BottomFixed);
    let opts = SolveOptions {
        tol: 1e-10,
        max_iterations: 400,
    };
    let one = solver
        .solve(&ThermalLoad { delta_t: DT }, &bc, &opts)
        .unwrap();
    let two = solver
        .solve(&ThermalLoad { delta_t: 2.0 * DT }, &bc, &opts)
        .unwrap();
    assert!(one.converged && two.converged);
    for (k, (a, b)) in result_fields(&one)
        .iter()
        .zip(&result_fields(&two))
        .enumerate()
    {
        let top = b.iter().fold(0f32, |m, v| m.max(v.abs()));
        let off = a
            .iter()
            .zip(b)
            .fold(0f32, |m, (x, y)| m.max((2.0 * x - y).abs()));
        assert!(
            top > 0.0 && off <= 1e-5 * top,
            "field {k}: off by {off} of {top}"
        );
    }
    // Void voxels carry no stress in either solve.
    for (i, &m) in ids.iter().enumerate() {
        if m == 0 {
            assert_eq!(two.von_mises[i], 0.0, "void voxel {i}");
        }
    }
}

#[test]
fn reported_bytes_are_the_buffers_allocated() {
    // SolveStats::bytes (the bench's B/node, and what the memory budget counts) must be
    // what the solver really holds: a per-node buffer left out of the accounting, or one
    // counted that is not made, shows as bytes per node here.
    let dims = [48, 40, 24];
    let (si, cu, pi) = (id("si"), id("cu"), id("polyimide"));
    let ids = fill(dims, |x, y, z| match z {
        0..=7 => si,
        8..=11 if (x / 4 + y / 4) % 3 == 0 => 0,
        8..=15 => pi,
        _ if (x % 12 < 7) && (y % 12 < 7) => cu,
        _ => 0,
    });
    let bc = BoundaryConditions::new(Support::BottomRoller).with_symmetry(true, true);
    let nodes: u64 = dims.iter().map(|&d| u64::from(d) + 1).product();
    let g = gpu();
    for f64 in [true, false] {
        let grid = GpuGrid::new(g, &spec(dims[0], dims[1], dims[2], 1.0)).unwrap();
        grid.write_materials(g, &ids);
        let mut solver =
            StressSolver::with_precision(g, &grid, &MaterialTable::builtin(), f64).unwrap();
        let r = solver
            .solve(
                &ThermalLoad { delta_t: DT },
                &bc,
                &SolveOptions {
                    tol: 1e-6,
                    max_iterations: 400,
                },
            )
            .unwrap();
        // (The solve sizes the coarse matrices; f32 need not reach the tolerance.)
        assert!(r.residual.is_finite() && r.iterations > 0);
        let (reported, held) = (solver.stats.bytes, solver.allocated_bytes());
        eprintln!(
            "f64 {f64}: reported {reported} B, allocated {held} B ({:.1} / {:.1} B per node)",
            reported as f64 / nodes as f64,
            held as f64 / nodes as f64
        );
        // The report leaves out only the reduction partials (1/16 B per node at f64)
        // and the fixed tables (material tables, a few KiB).
        assert!(reported <= held, "counted {reported} B, allocated {held} B");
        assert!(
            held - reported <= nodes / 8 + 16 * 1024,
            "allocated {held} B, counted only {reported} B"
        );
    }
}

/// Prescribed values on every `step`-th node of the grid's top y = 0 edge that sits on
/// solid (the split-storage tests below).
fn top_edge_prescribed(dims: [u32; 3], ids: &[u8], step: usize) -> Vec<Prescribed> {
    let top = dims[2];
    let prescribed: Vec<Prescribed> = (0..=dims[0])
        .step_by(step)
        .map(|x| Prescribed::all([x, 0, top], [0.01, -0.005, 0.02]))
        .filter(|p| ids[(p.node[0].min(dims[0] - 1) + dims[0] * dims[1] * (top - 1)) as usize] != 0)
        .collect();
    assert!(!prescribed.is_empty());
    prescribed
}

/// The same solve bit for bit: iterations, residual, f64 displacement, reactions and
/// every result field.
fn assert_same_solve(one: &StressResult, split: &StressResult) {
    assert!(one.iterations > 5, "{} iterations", one.iterations);
    assert_eq!(one.iterations, split.iterations);
    assert_eq!(one.residual.to_bits(), split.residual.to_bits());
    assert_eq!(one.displacement_f64, split.displacement_f64);
    assert_eq!(one.reactions, split.reactions);
    for (k, (a, b)) in result_fields(one)
        .iter()
        .zip(&result_fields(split))
        .enumerate()
    {
        assert!(a == b, "field {k} differs");
    }
}

#[test]
fn node_vectors_split_over_windows_solve_exactly_as_in_one_binding() {
    // Grids whose node vectors outgrow one storage binding bind them in windows
    // (src/shaders.rs `Windows`). Forced 48 KiB windows here split the f64 outer vectors
    // into 3 windows, level 0's (and the f32 fallback's) into 2 and level 1's matrix
    // halves into 4: the solve must be the one-binding solve bit for bit (the same
    // arithmetic in the same order), Galerkin products, prescribed values, reactions and
    // result fields included. Then the 4-byte arrays (material ids, node flags, the f32
    // displacement and the result fields) alone, in two 12 KiB windows. An element
    // read from or written to the wrong window, or a window bound at the wrong offset,
    // changes the iterates.
    use std::sync::Arc;
    use voxfab::shaders::Windows;
    use voxfab::stress::StressKernels;
    let dims = [20, 16, 12];
    let (si, cu, pi) = (id("si"), id("cu"), id("polyimide"));
    let ids = fill(dims, |x, y, z| match z {
        0..=3 => si,
        4 if (x + y) % 5 == 0 => 0,
        4..=6 => pi,
        _ if x % 7 < 4 && y % 6 < 4 => cu,
        _ => 0,
    });
    let prescribed = top_edge_prescribed(dims, &ids, 4);
    let g = gpu();
    let vectors = Windows {
        narrow_bytes: 1 << 31,
        narrow: 1,
        ..Windows::uniform(48 << 10, 4)
    };
    let narrow = Windows {
        narrow_bytes: 12 << 10,
        narrow: 2,
        ..Windows::ONE
    };
    assert!(StressKernels::most_windows(&g.limits) >= vectors.count);
    let nodes: u64 = dims.iter().map(|&d| u64::from(d) + 1).product();
    assert!(nodes * 4 <= 2 * narrow.narrow_bytes);
    assert!(
        dims.iter().map(|&d| u64::from(d)).product::<u64>() * 4 > narrow.narrow_bytes,
        "the voxel fields span both windows"
    );
    // So do level 1's block inverses (6 f32 per level-1 node), in the same split.
    let level1: u64 = dims.iter().map(|&d| u64::from(d / 2) + 1).product();
    assert!(level1 * 24 > narrow.narrow_bytes && level1 * 24 <= 2 * narrow.narrow_bytes);
    let bc = BoundaryConditions::new(Support::BottomRoller).with_symmetry(true, false);
    let opts = SolveOptions {
        tol: 1e-9,
        max_iterations: 400,
    };
    for (f64, windows) in [(true, vectors), (false, vectors), (true, narrow)] {
        let bytes = StressSolver::memory_bytes(dims, f64);
        assert!(
            windows.count == 1 || bytes.largest_vector > windows.bytes,
            "{} B: too small to split",
            bytes.largest_vector
        );
        let solve = |split: bool| {
            let grid = GpuGrid::new(g, &spec(dims[0], dims[1], dims[2], 2.0)).unwrap();
            grid.write_materials(g, &ids);
            let kernels = if split {
                Arc::new(StressKernels::windowed(g, f64, windows).unwrap())
            } else {
                StressKernels::shared(g, f64).unwrap()
            };
            let mats = MaterialTable::builtin();
            let mut solver = StressSolver::with_kernels(g, kernels, &grid, &mats).unwrap();
            let r = solver
                .solve_prescribed(&ThermalLoad { delta_t: DT }, &bc, &prescribed, &opts)
                .unwrap();
            // Level 1's matrix half: its material slots and the mixed elements' own.
            let half = (mats.len() as u64 + solver.stats.mixed[0]) * 150 * 4;
            let k: Vec<Vec<f32>> = solver.read_multigrid().0.into_iter().map(|l| l.k).collect();
            (r, k, half)
        };
        let ((one, k_one, half), (split, k_split, _)) = (solve(false), solve(true));
        // The coarse matrices are windowed too: level 1's halves span several windows,
        // and every level's Galerkin products come out the same.
        assert!(
            windows.count == 1 || half > 2 * windows.bytes,
            "level-1 half of {half} B"
        );
        assert!(k_one.iter().zip(&k_split).all(|(a, b)| a == b));
        assert_eq!(g.take_error(), None);
        eprintln!(
            "f64 {f64}: {} / {} iterations, residual {:.3e} / {:.3e}",
            one.iterations, split.iterations, one.residual, split.residual
        );
        assert_same_solve(&one, &split);
        assert_eq!(one.displacement, split.displacement);
    }
}

#[test]
fn vectors_past_the_buffer_limit_go_into_pieces_and_solve_exactly_as_in_one_buffer() {
    // wgpu caps every buffer at 4 GiB, so a vector of more windows than one buffer holds
    // comes in pieces, one buffer per window or group of windows (gpu_util::Vector),
    // and result ranges that no piece holds get buffers of their own. A device whose
    // buffers stop at 200 KiB (the coarsest inverse, 198 KiB, still fits) with 128 KiB
    // windows stands for that here: u, r and p (444 KB at f64) go into 4 pieces, level
    // 0's x and d (223 KB) into 2, and the displacement's ranges into pieces of d and
    // x (at f32, one into a buffer of its own). Any buffer over the limit is a
    // validation error; a window bound to the wrong piece or offset changes the iterates
    // against the same solve on the unlimited device.
    use std::sync::Arc;
    use voxfab::gpu::GpuContext;
    use voxfab::shaders::Windows;
    use voxfab::stress::StressKernels;
    let dims = [32, 32, 16];
    let (si, cu, pi) = (id("si"), id("cu"), id("polyimide"));
    // Layers on even voxels and pillars on 4-voxel blocks, so that level 1's mixed
    // elements (mostly the voids) fill between one and four windows of matrix halves.
    let ids = fill(dims, |x, y, z| match z {
        0..=3 => si,
        4 if (x + y) % 5 == 0 => 0,
        4..=7 => pi,
        _ if x % 8 < 4 && y % 8 < 4 => cu,
        _ => 0,
    });
    let prescribed = top_edge_prescribed(dims, &ids, 7);
    let window = 128u64 << 10;
    let max_buffer = 200u64 << 10;
    let windows = Windows {
        narrow_bytes: 1 << 31,
        narrow: 1,
        ..Windows::uniform(window, 4)
    };
    let limited = GpuContext::with_lower_limits(|l| wgpu::Limits {
        max_buffer_size: max_buffer,
        ..l
    })
    .unwrap();
    assert_eq!(limited.limits.max_buffer_size, max_buffer);
    let nodes: u64 = dims.iter().map(|&d| u64::from(d) + 1).product();
    assert!(nodes * 24 > 3 * window && nodes * 12 > window && 2 * nodes * 4 > window);
    let bc = BoundaryConditions::new(Support::BottomRoller).with_symmetry(true, false);
    for f64 in [true, false] {
        // (f32 stalls near 1e-6: asked for less, it stops sooner.)
        let opts = SolveOptions {
            tol: if f64 { 1e-9 } else { 1e-5 },
            max_iterations: 400,
        };
        let solve = |g: &GpuContext| {
            let grid = GpuGrid::new(g, &spec(dims[0], dims[1], dims[2], 2.0)).unwrap();
            grid.write_materials(g, &ids);
            let kernels = Arc::new(StressKernels::windowed(g, f64, windows).unwrap());
            let mats = MaterialTable::builtin();
            let mut solver = StressSolver::with_kernels(g, kernels, &grid, &mats).unwrap();
            let r = solver
                .solve_prescribed(&ThermalLoad { delta_t: DT }, &bc, &prescribed, &opts)
                .unwrap();
            assert_eq!(g.take_error(), None);
            // The accounting the memory budget relies on holds with the pieces and the
            // ranges' own buffers (as in the test above: all but the partials and the
            // fixed tables).
            let (reported, held) = (solver.stats.bytes, solver.allocated_bytes());
            assert!(reported <= held && held - reported <= nodes / 8 + 16 * 1024);
            let half = (mats.len() as u64 + solver.stats.mixed[0]) * 150 * 4;
            let k: Vec<Vec<f32>> = solver.read_multigrid().0.into_iter().map(|l| l.k).collect();
            (r, k, half, solver.allocated_bytes())
        };
        let (one, k_one, half, bytes_one) = solve(gpu());
        let (split, k_split, _, bytes_split) = solve(&limited);
        assert!(half > window, "level-1 half of {half} B");
        eprintln!(
            "f64 {f64}: {} / {} iterations, residual {:.3e} / {:.3e}, {bytes_one} / \
             {bytes_split} B",
            one.iterations, split.iterations, one.residual, split.residual
        );
        // Pieces are whole windows (no padding). At f64 r and p hold the fields, so the
        // displacement's third range goes to level 0's x; at f32 x holds fields too, and
        // that range, which no piece of d holds, gets a buffer of its own.
        let own = if f64 { 0 } else { nodes * 4 };
        assert_eq!(bytes_split, bytes_one + own);
        assert!(k_one.iter().zip(&k_split).all(|(a, b)| a == b));
        assert_same_solve(&one, &split);
    }
}

/// The f64 solve of `ids` with the shared kernels, then with fresh kernels split as
/// `windows` says (which the solver replaces where they do not cover the grid).
fn shared_and_windowed(
    dims: [u32; 3],
    ids: &[u8],
    bc: &BoundaryConditions,
    opts: &SolveOptions,
    windows: voxfab::shaders::Windows,
) -> (StressResult, StressResult) {
    use std::sync::Arc;
    use voxfab::stress::StressKernels;
    let g = gpu();
    let solve = |small: bool| {
        let grid = GpuGrid::new(g, &spec(dims[0], dims[1], dims[2], 2.0)).unwrap();
        grid.write_materials(g, ids);
        let kernels = if small {
            Arc::new(StressKernels::windowed(g, true, windows).unwrap())
        } else {
            StressKernels::shared(g, true).unwrap()
        };
        let mats = MaterialTable::builtin();
        let mut solver = StressSolver::with_kernels(g, kernels, &grid, &mats).unwrap();
        solver
            .solve(&ThermalLoad { delta_t: DT }, bc, opts)
            .unwrap()
    };
    let results = (solve(false), solve(true));
    assert_eq!(g.take_error(), None);
    results
}

#[test]
fn kernels_with_windows_too_small_for_a_grid_are_replaced() {
    // Kernels made with small windows (as the test above uses) hold 4 x 48 KiB per
    // vector; on a grid whose vectors are larger the solver must take kernels that
    // cover them (here: one binding each) instead of reading past the last window.
    use voxfab::shaders::Windows;
    let dims = [32, 24, 16];
    let windows = Windows {
        narrow_bytes: 1 << 31,
        narrow: 1,
        ..Windows::uniform(48 << 10, 4)
    };
    assert!(StressSolver::memory_bytes(dims, true).largest_vector > 4 * windows.bytes);
    let (si, pi) = (id("si"), id("polyimide"));
    let ids = fill(dims, |_, _, z| if z < 6 { si } else { pi });
    let bc = BoundaryConditions::new(Support::BottomRoller);
    let opts = SolveOptions {
        tol: 1e-9,
        max_iterations: 200,
    };
    let (one, small) = shared_and_windowed(dims, &ids, &bc, &opts, windows);
    assert!(one.converged, "{} iterations", one.iterations);
    assert_eq!(one.iterations, small.iterations);
    assert_eq!(one.displacement_f64, small.displacement_f64);
}

#[test]
fn narrow_windows_cover_level_one_inverses_of_a_thin_grid() {
    // On a grid one voxel thin the thin axis does not coarsen, so level 1's block
    // inverses (24 B per level-1 node) outgrow the 4 B per fine node of the other
    // narrow arrays. Kernels whose narrow windows hold the latter but not the former
    // must be replaced by covering ones, not bound short (the inverses past the last
    // window would be lost).
    use voxfab::shaders::Windows;
    let dims = [48, 40, 1];
    let nodes: u64 = dims.iter().map(|&d| u64::from(d) + 1).product();
    let narrow = Windows {
        narrow_bytes: 12 << 10,
        narrow: 2,
        ..Windows::ONE
    };
    assert!(nodes * 4 <= 2 * narrow.narrow_bytes);
    assert!(StressSolver::narrow_bytes(dims) > 2 * narrow.narrow_bytes);
    let (si, cu) = (id("si"), id("cu"));
    let ids = fill(
        dims,
        |x, y, _| if (x / 6 + y / 5) % 2 == 0 { si } else { cu },
    );
    let bc = BoundaryConditions::new(Support::BottomFixed);
    let opts = SolveOptions {
        tol: 1e-9,
        max_iterations: 300,
    };
    let (one, small) = shared_and_windowed(dims, &ids, &bc, &opts, narrow);
    assert!(one.converged, "{} iterations", one.iterations);
    assert_eq!(one.iterations, small.iterations);
    assert_eq!(one.displacement_f64, small.displacement_f64);
}
