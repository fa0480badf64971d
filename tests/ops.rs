//! Each process op on the GPU against the CPU reference (tests/common/cpu_ref.rs) on
//! small randomised grids, plus hand-computed geometry.

mod common;

use common::cpu_ref::Grid;
use common::{Rng, gpu, spec};
use voxfab::process::Processor;
use voxfab::scene::{DepositMode, EtchMode, Mask, Op, PlanarTop, Shape, Tone};

const SI: u8 = 1;
const OX: u8 = 2;
const NIT: u8 = 3;
const AL: u8 = 4;
const CU: u8 = 5;

/// A substrate with random boxes of several materials, some floating (overhangs,
/// enclosed pockets), so reachability and shadowing matter.
fn random_grid(seed: u64, dims: [u32; 3]) -> Grid {
    let mut g = Grid::new(dims, 1.0);
    let mut r = Rng(seed);
    let [nx, ny, nz] = dims.map(i64::from);
    for (x, y, z) in g.coords() {
        if z < 3 {
            g.set(x, y, z, SI);
        }
    }
    for _ in 0..10 {
        let (w, d, h) = (
            2 + r.below(8) as i64,
            2 + r.below(8) as i64,
            1 + r.below(4) as i64,
        );
        let (x0, y0) = (r.below(nx as u32) as i64, r.below(ny as u32) as i64);
        let z0 = 3 + r.below((nz - 6) as u32) as i64;
        let m = [OX, NIT, AL, CU][r.below(4) as usize];
        for z in z0..(z0 + h).min(nz) {
            for y in y0..(y0 + d).min(ny) {
                for x in x0..(x0 + w).min(nx) {
                    g.set(x, y, z, m);
                }
            }
        }
    }
    g
}

fn masks() -> Vec<Mask> {
    vec![
        Mask {
            name: "mixed".into(),
            shapes: vec![
                Shape::Rect {
                    min: [2.0, 3.0],
                    max: [9.0, 12.0],
                },
                Shape::Circle {
                    center: [15.3, 8.7],
                    radius: 4.2,
                },
                Shape::Polygon(vec![[3.0, 14.0], [11.0, 15.5], [6.0, 17.5]]),
            ],
            invert: false,
        },
        Mask {
            name: "holes".into(),
            shapes: vec![Shape::Circle {
                center: [10.2, 9.1],
                radius: 5.6,
            }],
            invert: true,
        },
    ]
}

/// Runs `op` on the GPU and on the CPU from the same start; returns both.
fn both(start: &Grid, op: &Op, masks: &[Mask]) -> (Vec<u8>, Grid, u64) {
    let gpu = gpu();
    let s = spec(start.dims[0], start.dims[1], start.dims[2], start.voxel_um);
    let mut p = Processor::new(gpu, &s).unwrap();
    p.grid().write_materials(gpu, &start.m);
    let stats = p.run(op, masks);
    let got = p.grid().read_materials(gpu);
    let mut want = start.clone();
    want.run(op, masks);
    let changed = start.m.iter().zip(&want.m).filter(|(a, b)| a != b).count() as u64;
    assert_eq!(stats.voxels_changed, changed, "voxels_changed");
    for id in [0, SI, OX, NIT, AL, CU] {
        let n = want.m.iter().filter(|&&m| m == id).count() as u64;
        assert_eq!(stats.counts[id as usize], n, "count of material {id}");
    }
    (got, want, changed)
}

fn assert_same(got: &[u8], want: &Grid, what: &str) {
    let diff: Vec<_> = want
        .coords()
        .zip(got.iter().zip(&want.m))
        .filter(|(_, (a, b))| a != b)
        .map(|(c, (a, b))| (c, *a, *b))
        .take(10)
        .collect();
    assert!(
        diff.is_empty(),
        "{what}: GPU != CPU at (x,y,z, gpu, cpu) {diff:?}"
    );
}

const DIMS: [u32; 3] = [21, 19, 15];

#[test]
fn mask_raster_matches_point_in_shape() {
    let gpu = gpu();
    let s = spec(40, 30, 2, 0.5);
    let mut p = Processor::new(gpu, &s).unwrap();
    let g = Grid::new(s.dims, 0.5);
    for m in masks() {
        for invert in [false, true] {
            p.rasterize(Some(&m), invert);
            let got = p.read_mask();
            let want = g.mask(Some(&m), invert);
            let bad = got
                .iter()
                .zip(&want)
                .filter(|(a, b)| (**a != 0) != **b)
                .count();
            assert_eq!(bad, 0, "mask {} invert {invert}", m.name);
            let inside = want.iter().filter(|&&b| b).count();
            assert!(
                inside > 0 && inside < want.len(),
                "mask {} is trivial",
                m.name
            );
        }
    }
}

#[test]
fn substrate_matches_cpu() {
    let start = Grid::new(DIMS, 1.0);
    for mask in [None, Some(0)] {
        let op = Op::Substrate {
            material: SI,
            z0: 2,
            z1: 7,
            mask,
        };
        let (got, want, changed) = both(&start, &op, &masks());
        assert_same(&got, &want, "substrate");
        assert!(changed > 0);
    }
}

#[test]
fn directional_deposit_matches_cpu() {
    for seed in 1..4 {
        let start = random_grid(seed, DIMS);
        for (mask, t) in [(None, 2), (Some(0), 3), (Some(1), 1)] {
            let op = Op::Deposit {
                material: CU,
                mode: DepositMode::Directional { thickness: t },
                mask,
            };
            let (got, want, changed) = both(&start, &op, &masks());
            assert_same(&got, &want, &format!("directional seed {seed} t {t}"));
            assert!(changed > 0);
        }
    }
}

#[test]
fn conformal_deposit_matches_cpu() {
    for seed in 1..4 {
        let start = random_grid(seed, DIMS);
        for t in [1, 2, 3] {
            let op = Op::Deposit {
                material: CU,
                mode: DepositMode::Conformal { thickness: t },
                mask: None,
            };
            let (got, want, changed) = both(&start, &op, &masks());
            assert_same(&got, &want, &format!("conformal seed {seed} t {t}"));
            assert!(changed > 0);
        }
    }
}

#[test]
fn planarize_matches_cpu() {
    for seed in 1..3 {
        let start = random_grid(seed, DIMS);
        for (top, mask) in [
            (PlanarTop::AboveHighest(1), None),
            (PlanarTop::Height(8), Some(0)),
        ] {
            let op = Op::Deposit {
                material: OX,
                mode: DepositMode::Planarize { top },
                mask,
            };
            let (got, want, changed) = both(&start, &op, &masks());
            assert_same(&got, &want, &format!("planarize seed {seed} {top:?}"));
            assert!(changed > 0);
        }
    }
}

#[test]
fn pattern_matches_cpu() {
    let mut start = Grid::new(DIMS, 1.0);
    for (x, y, z) in start.coords() {
        start.set(
            x,
            y,
            z,
            if z < 4 {
                SI
            } else if z < 7 {
                NIT
            } else {
                0
            },
        );
    }
    for tone in [Tone::Positive, Tone::Negative] {
        for mask in [0, 1] {
            let op = Op::Pattern {
                material: NIT,
                mask,
                tone,
                taper: 0.0,
                ramp: None,
            };
            let (got, want, changed) = both(&start, &op, &masks());
            assert_same(&got, &want, &format!("pattern {tone:?} mask {mask}"));
            assert!(changed > 0);
        }
    }
}

#[test]
fn anisotropic_etch_matches_cpu() {
    for seed in 1..4 {
        let start = random_grid(seed, DIMS);
        for (depth, mask) in [(None, None), (Some(2), Some(0)), (Some(5), Some(1))] {
            let op = Op::Etch {
                materials: vec![OX, AL],
                mode: EtchMode::Anisotropic { depth },
                mask,
            };
            let (got, want, _) = both(&start, &op, &masks());
            assert_same(
                &got,
                &want,
                &format!("anisotropic seed {seed} depth {depth:?}"),
            );
        }
    }
}

/// Runs a wet etch on the GPU and the CPU reference; they may differ only on voxels
/// whose CPU arrival time lies within `tol` of `cut` (the two visit voxels in different
/// orders, so a voxel on the threshold can fall either way). Returns GPU materials and
/// the voxels the CPU changed.
fn wet_both(start: &Grid, op: &Op, masks: &[Mask], cut: f64, tol: f64) -> (Vec<u8>, usize) {
    let gpu = gpu();
    let s = spec(start.dims[0], start.dims[1], start.dims[2], start.voxel_um);
    let mut p = Processor::new(gpu, &s).unwrap();
    p.grid().write_materials(gpu, &start.m);
    p.run(op, masks);
    let got = p.grid().read_materials(gpu);
    let mut want = start.clone();
    want.run(op, masks);
    let Op::Etch { materials, .. } = op else {
        unreachable!()
    };
    let t = start.wet_times(&|m| materials.contains(&m).then_some(1.0));
    let bad: Vec<_> = (0..got.len())
        .filter(|&i| got[i] != want.m[i] && (t[i] - cut).abs() > tol)
        .map(|i| (i, got[i], want.m[i], t[i]))
        .take(10)
        .collect();
    assert!(
        bad.is_empty(),
        "GPU != CPU off the threshold (i, gpu, cpu, t): {bad:?}"
    );
    let changed = start.m.iter().zip(&want.m).filter(|(a, b)| a != b).count();
    (got, changed)
}

#[test]
fn isotropic_etch_matches_cpu() {
    for seed in 1..4 {
        let start = random_grid(seed, DIMS);
        for distance in [1.3, 2.7, 4.1] {
            let op = Op::Etch {
                materials: vec![OX, NIT, SI],
                mode: EtchMode::Isotropic { distance },
                mask: None,
            };
            let (_, changed) = wet_both(&start, &op, &masks(), distance, 0.05);
            assert!(changed > 0);
        }
    }
}

#[test]
fn strip_matches_cpu_and_spares_enclosed_pockets() {
    for seed in 1..4 {
        let mut start = random_grid(seed, DIMS);
        // A sealed oxide pocket inside nitride: the etchant cannot reach it.
        for (x, y, z) in start.coords() {
            if (2..7).contains(&x) && (2..7).contains(&y) && (4..9).contains(&z) {
                let inner = (3..6).contains(&x) && (3..6).contains(&y) && (5..8).contains(&z);
                start.set(x, y, z, if inner { OX } else { NIT });
            }
        }
        let op = Op::Etch {
            materials: vec![OX],
            mode: EtchMode::Strip,
            mask: None,
        };
        let (got, want, _) = both(&start, &op, &masks());
        assert_same(&got, &want, &format!("strip seed {seed}"));
        let pocket = want.coords().zip(&got).filter(|((x, y, z), m)| {
            (3..6).contains(x) && (3..6).contains(y) && (5..8).contains(z) && **m == OX
        });
        assert_eq!(pocket.count(), 27, "the sealed pocket keeps its oxide");
    }
}

/// Thickness of `material` along a line of voxels from `start` in direction `dir`.
fn run_length(g: &[u8], dims: [u32; 3], start: [i64; 3], dir: [i64; 3], material: u8) -> i64 {
    let [nx, ny, nz] = dims.map(i64::from);
    let mut n = 0;
    let mut q = start;
    while q.iter().zip([nx, ny, nz]).all(|(&c, d)| c >= 0 && c < d) {
        if g[(q[0] + nx * (q[1] + ny * q[2])) as usize] != material {
            break;
        }
        n += 1;
        for a in 0..3 {
            q[a] += dir[a];
        }
    }
    n
}

#[test]
fn conformal_film_is_as_thick_on_sidewalls_as_on_top() {
    // A 10x10x8 nitride block on silicon; 4-voxel conformal copper film.
    let dims = [40, 40, 30];
    let mut g = Grid::new(dims, 1.0);
    for (x, y, z) in g.coords() {
        if z < 4 {
            g.set(x, y, z, SI);
        } else if (15..25).contains(&x) && (15..25).contains(&y) && z < 12 {
            g.set(x, y, z, NIT);
        }
    }
    let op = Op::Deposit {
        material: CU,
        mode: DepositMode::Conformal { thickness: 4 },
        mask: None,
    };
    let (got, want, _) = both(&g, &op, &[]);
    assert_same(&got, &want, "conformal block");
    let top = run_length(&got, dims, [20, 20, 12], [0, 0, 1], CU);
    let side = run_length(&got, dims, [25, 20, 8], [1, 0, 0], CU);
    let field = run_length(&got, dims, [5, 5, 4], [0, 0, 1], CU);
    assert_eq!(top, 4, "film on top");
    assert!((side - 4).abs() <= 1, "film on sidewall {side}");
    assert_eq!(field, 4, "film on the field");
}

#[test]
fn isotropic_undercut_equals_etch_distance() {
    // Oxide 12 voxels thick under a nitride hard mask with a 6-voxel slot opening.
    let dims = [48, 8, 24];
    let mut g = Grid::new(dims, 1.0);
    for (x, _y, z) in g.coords() {
        let m = match z {
            0..4 => SI,
            4..16 => OX,
            16..18 if !(21..27).contains(&x) => NIT,
            _ => 0,
        };
        if m != 0 {
            g.set(x, _y, z, m);
        }
    }
    let d = 7.2;
    let op = Op::Etch {
        materials: vec![OX],
        mode: EtchMode::Isotropic { distance: d },
        mask: None,
    };
    let (got, _) = wet_both(&g, &op, &[], d, 0.05);
    // Just under the mask (z = 15), count removed oxide beyond the opening edge x = 21.
    let removed_left = (0..21)
        .rev()
        .take_while(|&x| got[(x + 48 * (4 + 8 * 15)) as usize] == 0)
        .count();
    let depth = (4..16)
        .rev()
        .take_while(|&z| got[(24 + 48 * (4 + 8 * z)) as usize] == 0)
        .count();
    assert!(
        (removed_left as f64 - d).abs() <= 1.0,
        "undercut {removed_left} vs {d}"
    );
    assert!(
        (depth as f64 - d).abs() <= 1.0,
        "vertical etch {depth} vs {d}"
    );
}

#[test]
fn the_long_grid_runs_with_folded_dispatches() {
    // 600000 voxels along x: 75000 workgroups of 8, more than one dispatch dimension
    // holds; run used to panic in wgpu validation. Volume and column passes both run.
    let gpu = gpu();
    let s = spec(600_000, 4, 4, 1.0);
    let mut p = Processor::new(gpu, &s).unwrap();
    p.run(
        &Op::Substrate {
            material: 1,
            z0: 0,
            z1: 2,
            mask: None,
        },
        &[],
    );
    let st = p.run(
        &Op::Deposit {
            material: 2,
            mode: DepositMode::Directional { thickness: 1 },
            mask: None,
        },
        &[],
    );
    assert_eq!(st.counts[1], 600_000 * 4 * 2);
    assert_eq!(st.counts[2], 600_000 * 4);
    assert_eq!(st.voxels_changed, 600_000 * 4);
    let m = p.grid().read_materials(gpu);
    // The far end too: the last voxel of the film layer.
    let at = |x: usize, y: usize, z: usize| m[x + 600_000 * (y + 4 * z)];
    assert_eq!(
        (at(599_999, 3, 1), at(599_999, 3, 2), at(599_999, 3, 3)),
        (1, 2, 0)
    );
}

#[test]
fn kernels_are_built_once_per_device_and_shared_by_clones() {
    struct Probe(u32);
    let gpu = gpu();
    let builds = std::cell::Cell::new(0);
    let build = |_: &voxfab::gpu::GpuContext| {
        builds.set(builds.get() + 1);
        Probe(7)
    };
    let a = gpu.kernels(build);
    let clone = gpu.clone();
    let b = clone.kernels(|_| Probe(8));
    assert!(
        std::sync::Arc::ptr_eq(&a, &b),
        "a clone shares the device's kernels"
    );
    assert_eq!((builds.get(), b.0), (1, 7));
    // Processors reuse the process kernels: the second costs only its buffers.
    let t = std::time::Instant::now();
    let _p1 = Processor::new(gpu, &spec(8, 8, 8, 1.0)).unwrap();
    let first = t.elapsed();
    let t = std::time::Instant::now();
    let _p2 = Processor::new(&clone, &spec(8, 8, 8, 1.0)).unwrap();
    eprintln!("Processor::new: first {first:?}, second {:?}", t.elapsed());
}
