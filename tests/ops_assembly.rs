//! The packaging ops (drill, plate, grind, flip, bond, dispense, dice, balls, wires,
//! grey-tone litho, connectivity) on the GPU against the CPU reference and against
//! hand-computed geometry.

mod common;

use common::cpu_ref::Grid;
use common::{Rng, gpu, spec};
use voxfab::process::Processor;
use voxfab::process::params::MaterialSet;
use voxfab::scene::{
    BondMethod, GrindKeep, Mask, Op, PlanarTop, PlateMode, Ramp, Shape, Side, Tone, Wire, ball_cap,
};

const SI: u8 = 1;
const OX: u8 = 2;
const AL: u8 = 4;
const CU: u8 = 5;
const PR: u8 = 18;
const GLASS: u8 = 14;
const GOLD: u8 = 22;
const SOLDER: u8 = 9;
const ACF: u8 = 19;

fn gpu_run(start: &Grid, op: &Op, masks: &[Mask]) -> (Vec<u8>, u64) {
    let gpu = gpu();
    let s = spec(start.dims[0], start.dims[1], start.dims[2], start.voxel_um);
    let mut p = Processor::new(gpu, &s).unwrap();
    p.grid().write_materials(gpu, &start.m);
    let st = p.run(op, masks);
    (p.grid().read_materials(gpu), st.voxels_changed)
}

fn check(start: &Grid, op: &Op, masks: &[Mask], what: &str) -> Vec<u8> {
    let (got, changed) = gpu_run(start, op, masks);
    let mut want = start.clone();
    want.run(op, masks);
    let bad: Vec<_> = want
        .coords()
        .zip(got.iter().zip(&want.m))
        .filter(|(_, (a, b))| a != b)
        .take(8)
        .collect();
    assert!(bad.is_empty(), "{what}: GPU != CPU at {bad:?}");
    let n = start.m.iter().zip(&want.m).filter(|(a, b)| a != b).count() as u64;
    assert_eq!(changed, n, "{what}: voxels changed");
    assert!(n > 0, "{what}: the op did nothing");
    got
}

/// Silicon base, a glass slab with aluminium pads on top, random copper specks.
fn stack(seed: u64, dims: [u32; 3]) -> Grid {
    let mut g = Grid::new(dims, 1.0);
    let mut r = Rng(seed);
    for (x, y, z) in g.coords() {
        let m = match z {
            0..3 => SI,
            3..9 => GLASS,
            9 if (x / 4 + y / 4) % 2 == 0 => AL,
            _ => 0,
        };
        g.set(x, y, z, m);
    }
    for _ in 0..6 {
        let (x, y, z) = (
            r.below(dims[0]) as i64,
            r.below(dims[1]) as i64,
            10 + r.below(4) as i64,
        );
        g.set(x, y, z, CU);
    }
    g
}

fn holes() -> Vec<Mask> {
    vec![
        Mask {
            name: "holes".into(),
            shapes: vec![
                Shape::Circle {
                    center: [6.3, 6.1],
                    radius: 3.4,
                },
                Shape::Rect {
                    min: [12.0, 3.0],
                    max: [17.0, 15.0],
                },
            ],
            invert: false,
        },
        Mask {
            name: "pads".into(),
            shapes: vec![
                Shape::Circle {
                    center: [6.0, 6.0],
                    radius: 2.5,
                },
                Shape::Circle {
                    center: [15.0, 12.0],
                    radius: 2.5,
                },
            ],
            invert: false,
        },
    ]
}

const DIMS: [u32; 3] = [21, 18, 20];

#[test]
fn drill_from_top_and_bottom_matches_cpu() {
    for seed in 1..3 {
        let g = stack(seed, DIMS);
        for (materials, from, depth) in [
            (vec![GLASS], Side::Top, None),
            (vec![], Side::Top, Some(5)),
            (vec![SI, GLASS], Side::Bottom, None),
            (vec![], Side::Bottom, Some(4)),
        ] {
            let op = Op::Drill {
                materials: materials.clone(),
                mask: 0,
                from,
                depth,
                taper: 0.0,
            };
            check(
                &g,
                &op,
                &holes(),
                &format!("drill {materials:?} {from:?} {depth:?}"),
            );
        }
    }
}

#[test]
fn drill_taper_narrows_the_hole_by_depth_times_tan() {
    let mut g = Grid::new([64, 64, 44], 1.0);
    for (x, y, z) in g.coords() {
        if z < 40 {
            g.set(x, y, z, GLASS);
        }
    }
    let r0 = 14.0;
    let masks = vec![Mask {
        name: "via".into(),
        shapes: vec![Shape::Circle {
            center: [32.0, 32.0],
            radius: r0,
        }],
        invert: false,
    }];
    let tan = 10f64.to_radians().tan();
    let (got, _) = gpu_run(
        &g,
        &Op::Drill {
            materials: vec![],
            mask: 0,
            from: Side::Top,
            depth: None,
            taper: tan,
        },
        &masks,
    );
    let width = |z: usize| {
        (0..64)
            .filter(|&x| got[x + 64 * (32 + 64 * z)] == 0)
            .count() as f64
    };
    let top = width(39) / 2.0;
    let s = 30.0; // 30 voxels below the entry surface (z = 39)
    let lower = width(9) / 2.0;
    assert!((top - r0).abs() <= 1.0, "entry radius {top} vs {r0}");
    assert!(
        (lower - (r0 - s * tan)).abs() <= 1.0,
        "radius 30 voxels down {lower} vs {}",
        r0 - s * tan
    );
    assert!(lower < top - 3.0, "the hole narrows");
}

#[test]
fn plate_fill_and_conformal_match_cpu() {
    // Glass with holes drilled down to copper landing pads: fill grows from the pads.
    let mut g = Grid::new(DIMS, 1.0);
    for (x, y, z) in g.coords() {
        let m = match z {
            0..3 => SI,
            3..5 => CU,
            5..12 => GLASS,
            _ => 0,
        };
        g.set(x, y, z, m);
    }
    let masks = holes();
    let mut drilled = g.clone();
    drilled.run(
        &Op::Drill {
            materials: vec![GLASS],
            mask: 0,
            from: Side::Top,
            depth: None,
            taper: 0.0,
        },
        &masks,
    );
    for top in [None, Some(9)] {
        let op = Op::Plate {
            material: CU,
            mode: PlateMode::Fill { top },
            seeds: vec![CU],
            mask: None,
        };
        let got = check(&drilled, &op, &masks, &format!("fill {top:?}"));
        if top.is_none() {
            // "Until full": the plug reaches the glass surface (z = 12) exactly.
            let at = |x: usize, y: usize, z: usize| got[x + 21 * (y + 18 * z)];
            assert_eq!(at(6, 6, 11), CU);
            assert_eq!(at(6, 6, 12), 0);
        }
    }
    for t in [1, 2] {
        let op = Op::Plate {
            material: AL,
            mode: PlateMode::Conformal { thickness: t },
            seeds: vec![CU],
            mask: None,
        };
        check(&drilled, &op, &masks, &format!("conformal plate {t}"));
    }
}

#[test]
fn grind_flip_dispense_dice_match_cpu() {
    let g = stack(7, DIMS);
    let masks = holes();
    check(
        &g,
        &Op::Grind {
            keep: GrindKeep::Below(8),
        },
        &masks,
        "grind top",
    );
    check(
        &g,
        &Op::Grind {
            keep: GrindKeep::Above(2),
        },
        &masks,
        "grind bottom",
    );
    check(&g, &Op::Flip, &masks, "flip");
    check(
        &g,
        &Op::Dispense {
            material: OX,
            mask: 0,
            top: PlanarTop::Height(14),
        },
        &masks,
        "dispense",
    );
    let lanes = vec![Mask {
        name: "dice".into(),
        shapes: vec![Shape::Rect {
            min: [9.0, -1.0],
            max: [12.0, 19.0],
        }],
        invert: false,
    }];
    check(
        &g,
        &Op::Dice {
            materials: vec![],
            mask: 0,
            depth: None,
        },
        &lanes,
        "dice through",
    );
    check(
        &g,
        &Op::Dice {
            materials: vec![AL, GLASS],
            mask: 0,
            depth: Some(3),
        },
        &lanes,
        "dice partial",
    );
}

#[test]
fn grey_tone_ramp_matches_cpu_and_slopes() {
    let mut g = Grid::new([32, 12, 24], 1.0);
    for (x, y, z) in g.coords() {
        g.set(
            x,
            y,
            z,
            if z < 4 {
                SI
            } else if z < 20 {
                PR
            } else {
                0
            },
        );
    }
    let masks = vec![Mask {
        name: "block".into(),
        shapes: vec![Shape::Rect {
            min: [4.0, 0.0],
            max: [28.0, 12.0],
        }],
        invert: false,
    }];
    let ramp = Ramp {
        p0: [4.0, 6.0],
        p1: [28.0, 6.0],
        z0: 6.0,
        z1: 18.0,
    };
    let op = Op::Pattern {
        material: PR,
        mask: 0,
        tone: Tone::Positive,
        taper: 0.0,
        ramp: Some(ramp),
    };
    let got = check(&g, &op, &masks, "ramp");
    let top = |x: usize| {
        (0..24)
            .rev()
            .find(|&z| got[x + 32 * (6 + 12 * z)] == PR)
            .unwrap() as f64
            + 1.0
    };
    // Resist top follows the plane: 6 at x = 4 µm, 18 at x = 28 µm.
    for x in [5usize, 10, 16, 22, 27] {
        let want = 6.0 + 12.0 * ((x as f64 + 0.5 - 4.0) / 24.0);
        assert!(
            (top(x) - want).abs() <= 1.0,
            "x {x}: resist top {} vs {want}",
            top(x)
        );
    }
}

#[test]
fn balls_match_cpu_and_hold_their_volume() {
    let mut g = Grid::new([48, 48, 40], 1.0);
    for (x, y, z) in g.coords() {
        if z < 6 {
            g.set(x, y, z, SI);
        } else if z == 6
            && ((x - 14).pow(2) + (y - 14).pow(2) <= 36 || (x - 34).pow(2) + (y - 32).pow(2) <= 36)
        {
            g.set(x, y, z, CU);
        }
    }
    let pads = vec![Mask {
        name: "pads".into(),
        shapes: vec![
            Shape::Circle {
                center: [14.5, 14.5],
                radius: 6.0,
            },
            Shape::Circle {
                center: [34.5, 32.5],
                radius: 6.0,
            },
        ],
        invert: false,
    }];
    let volume = std::f64::consts::PI * 16f64.powi(3) / 6.0; // a 16 µm sphere's worth
    let (radius, height) = ball_cap(volume, 6.0);
    let op = Op::Ball {
        material: SOLDER,
        mask: 0,
        radius,
        height,
    };
    let got = check(&g, &op, &pads, "balls");
    let n = got.iter().filter(|&&m| m == SOLDER).count() as f64;
    assert!(
        (n / 2.0 - volume).abs() / volume < 0.06,
        "ball volume {} vs {volume}",
        n / 2.0
    );
    let top = (0..40)
        .rev()
        .find(|&z| got[14 + 48 * (14 + 48 * z)] == SOLDER)
        .unwrap() as f64
        + 1.0;
    assert!(
        (top - (7.0 + height)).abs() <= 1.0,
        "ball top {top} vs {}",
        7.0 + height
    );
}

#[test]
fn bond_matches_cpu_for_each_method() {
    // Base: substrate with pads; part: a die with bumps hanging below it.
    let dims = [24, 20, 30];
    let mut base = Grid::new(dims, 1.0);
    let mut die = Grid::new(dims, 1.0);
    for (x, y, z) in base.coords() {
        if z < 4 {
            base.set(x, y, z, GLASS);
        } else if z == 4 && (5..9).contains(&x) && (5..9).contains(&y) {
            base.set(x, y, z, CU);
        }
        if (20..26).contains(&z) && (3..17).contains(&x) && (2..16).contains(&y) {
            die.set(x, y, z, SI);
        } else if (17..20).contains(&z) && (4..8).contains(&x) && (4..8).contains(&y) {
            die.set(x, y, z, SOLDER);
        }
    }
    for (method, film, gap) in [
        (BondMethod::Eutectic, 0, 0),
        (BondMethod::Acf, ACF, 0),
        (BondMethod::Adhesive, ACF, 2),
    ] {
        let gpu = gpu();
        let s = spec(dims[0], dims[1], dims[2], 1.0);
        let mut a = Processor::new(gpu, &s).unwrap();
        let b = Processor::new(gpu, &s).unwrap();
        a.grid().write_materials(gpu, &base.m);
        b.grid().write_materials(gpu, &die.m);
        let st = a.bond(&b, [1, 1], method, film, gap).unwrap();
        let got = a.grid().read_materials(gpu);
        let mut want = base.clone();
        want.bond(&die, [1, 1], method, film, i64::from(gap));
        let bad = got.iter().zip(&want.m).filter(|(x, y)| x != y).count();
        assert_eq!(bad, 0, "{method:?}");
        assert_eq!(
            st.voxels_changed as usize,
            base.m.iter().zip(&want.m).filter(|(x, y)| x != y).count()
        );
        assert!(
            b.grid().read_materials(gpu).iter().all(|&m| m == 0),
            "the placed part is consumed"
        );
        // The bump (moved by (1, 1)) rests on the pad (top z = 4) for eutectic and ACF.
        let at = |x: usize, y: usize, z: usize| got[x + 24 * (y + 20 * z)];
        if gap == 0 {
            assert_eq!((at(6, 6, 4), at(6, 6, 5)), (CU, SOLDER), "{method:?}");
        } else {
            assert_eq!((at(6, 6, 5), at(6, 6, 6), at(6, 6, 7)), (ACF, ACF, SOLDER));
        }
    }
}

#[test]
fn bond_refuses_an_empty_part_and_a_stack_too_tall() {
    let gpu = gpu();
    let s = spec(8, 8, 10, 1.0);
    let mut a = Processor::new(gpu, &s).unwrap();
    let b = Processor::new(gpu, &s).unwrap();
    assert_eq!(
        a.bond(&b, [0, 0], BondMethod::Eutectic, 0, 0).unwrap_err(),
        voxfab::process::BondError::EmptyPart
    );
    let mut full = Grid::new([8, 8, 10], 1.0);
    for (x, y, z) in full.coords() {
        if z < 7 {
            full.set(x, y, z, SI);
        }
    }
    a.grid().write_materials(gpu, &full.m);
    b.grid().write_materials(gpu, &full.m);
    let e = a.bond(&b, [0, 0], BondMethod::Eutectic, 0, 0).unwrap_err();
    assert!(
        matches!(e, voxfab::process::BondError::TooTall { .. }),
        "{e}"
    );
}

#[test]
fn wire_bond_joins_die_pad_to_substrate_pad() {
    let mut g = Grid::new([60, 20, 40], 1.0);
    for (x, y, z) in g.coords() {
        // The substrate, and the die standing on it.
        let die = (28..56).contains(&x) && (2..18).contains(&y) && z < 14;
        let m = if z < 4 || die {
            SI
        } else if z == 14 && (30..34).contains(&x) && (8..12).contains(&y) {
            AL // die pad
        } else if z == 4 && (4..10).contains(&x) && (8..12).contains(&y) {
            CU // substrate pad
        } else {
            0
        };
        if m != 0 {
            g.set(x, y, z, m);
        }
    }
    let gpu = gpu();
    let s = spec(60, 20, 40, 1.0);
    let mut p = Processor::new(gpu, &s).unwrap();
    p.grid().write_materials(gpu, &g.m);
    let wires = vec![Wire {
        from: [32.0, 10.0],
        to: [7.0, 10.0],
        loop_height: 8.0,
    }];
    p.run(
        &Op::Wirebond {
            material: GOLD,
            wires,
            radius: 1.2,
        },
        &[],
    );
    let got = p.grid().read_materials(gpu);
    let idx = |x: usize, y: usize, z: usize| x + 60 * (y + 20 * z);
    // Gold touches both pads and is one connected piece between them.
    let mut seen = vec![false; got.len()];
    let mut stack = vec![idx(32, 10, 14)];
    seen[stack[0]] = true;
    let mut reached = false;
    while let Some(i) = stack.pop() {
        reached |= got[i] == CU;
        let (x, y, z) = (i % 60, (i / 60) % 20, i / 1200);
        for (dx, dy, dz) in [
            (1i64, 0i64, 0i64),
            (-1, 0, 0),
            (0, 1, 0),
            (0, -1, 0),
            (0, 0, 1),
            (0, 0, -1),
        ] {
            let (a, b, c) = (x as i64 + dx, y as i64 + dy, z as i64 + dz);
            if a < 0 || b < 0 || c < 0 || a >= 60 || b >= 20 || c >= 40 {
                continue;
            }
            let j = idx(a as usize, b as usize, c as usize);
            if !seen[j] && matches!(got[j], GOLD | CU | AL) {
                seen[j] = true;
                stack.push(j);
            }
        }
    }
    assert!(reached, "the wire joins the die pad to the substrate pad");
    let apex = (0..40)
        .rev()
        .find(|&z| (0..60).any(|x| got[idx(x, 10, z)] == GOLD))
        .unwrap();
    assert!(
        (15 + 8..=15 + 8 + 12).contains(&apex),
        "loop apex at z {apex}"
    );
}

#[test]
fn nets_count_components_and_probes_see_them() {
    let gpu = gpu();
    let s = spec(20, 10, 8, 1.0);
    let mut g = Grid::new([20, 10, 8], 1.0);
    for (x, y, z) in g.coords() {
        // Two copper bars, one joined to an aluminium pad; an isolated speck.
        if z == 2 && y == 5 && ((1..8).contains(&x) || (10..18).contains(&x)) {
            g.set(x, y, z, CU);
        }
        if (8..10).contains(&x) && y == 5 && z == 3 {
            g.set(x, y, z, AL);
        }
    }
    g.set(15, 1, 6, CU);
    let p = Processor::new(gpu, &s).unwrap();
    p.grid().write_materials(gpu, &g.m);
    let nets = p.nets(
        MaterialSet::of(&[CU, AL]),
        &[[1, 5, 2], [17, 5, 2], [15, 1, 6], [0, 0, 0]],
    );
    // Bar 1 touches the Al pad only diagonally (x = 7, z = 2 vs x = 8, z = 3): separate.
    assert_eq!(nets.count, 4);
    assert_ne!(nets.probe_nets[0], nets.probe_nets[1]);
    assert_eq!(nets.probe_nets[3], None);
    // Join bar 2 to the pad face-on and the two bars through it.
    g.set(7, 5, 3, CU);
    g.set(10, 5, 3, CU);
    p.grid().write_materials(gpu, &g.m);
    let nets = p.nets(
        MaterialSet::of(&[CU, AL]),
        &[[1, 5, 2], [17, 5, 2], [15, 1, 6]],
    );
    assert_eq!(nets.count, 2);
    assert_eq!(nets.probe_nets[0], nets.probe_nets[1]);
    assert_ne!(nets.probe_nets[0], nets.probe_nets[2]);
}
