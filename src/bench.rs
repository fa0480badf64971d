//! `voxfab bench`: voxels per second of each process op on an n³ grid. Printed, never
//! asserted; timings are wall time around submit and completion.

use crate::gpu::GpuContext;
use crate::grid::GridError;
use crate::process::Processor;
use crate::scene::{DepositMode, EtchMode, GridSpec, Mask, Op, PlanarTop, Shape, Tone};

pub struct BenchRow {
    pub op: String,
    pub ms: f64,
    pub mvox_per_s: f64,
    pub iterations: u32,
}

/// Times every op on a `n`³ grid with a layered, patterned structure, reporting each
/// row to `report` as soon as it is measured.
pub fn process_ops(
    gpu: &GpuContext,
    n: u32,
    mut report: impl FnMut(&BenchRow),
) -> Result<Vec<BenchRow>, GridError> {
    let spec = GridSpec {
        dims: [n; 3],
        voxel_um: 1.0,
    };
    let mut p = Processor::new(gpu, &spec)?;
    let s = f64::from(n);
    let masks = vec![Mask {
        name: "holes".into(),
        shapes: (0..4)
            .flat_map(|i| (0..4).map(move |j| (i, j)))
            .map(|(i, j)| Shape::Circle {
                center: [
                    (f64::from(i) + 0.5) * s / 4.0,
                    (f64::from(j) + 0.5) * s / 4.0,
                ],
                radius: s / 12.0,
            })
            .collect(),
        invert: false,
    }];
    let z = |f: f64| (s * f) as u32;
    let t = |f: f64| ((s * f) as u32).max(1);
    let ops = [
        (
            "substrate",
            Op::Substrate {
                material: 1,
                z0: 0,
                z1: z(0.25),
                mask: None,
            },
        ),
        (
            "deposit:directional",
            Op::Deposit {
                material: 2,
                mode: DepositMode::Directional { thickness: t(0.1) },
                mask: None,
            },
        ),
        (
            "deposit:planarize",
            Op::Deposit {
                material: 18,
                mode: DepositMode::Planarize {
                    top: PlanarTop::AboveHighest(t(0.05)),
                },
                mask: None,
            },
        ),
        (
            "pattern",
            Op::Pattern {
                material: 18,
                mask: 0,
                tone: Tone::Positive,
                taper: 0.0,
                ramp: None,
            },
        ),
        (
            "etch:anisotropic",
            Op::Etch {
                materials: vec![2],
                mode: EtchMode::Anisotropic { depth: None },
                mask: None,
            },
        ),
        (
            "etch:isotropic",
            Op::Etch {
                materials: vec![2],
                mode: EtchMode::Isotropic { distance: s * 0.04 },
                mask: None,
            },
        ),
        (
            "deposit:conformal",
            Op::Deposit {
                material: 5,
                mode: DepositMode::Conformal { thickness: t(0.02) },
                mask: None,
            },
        ),
        (
            "etch:strip",
            Op::Etch {
                materials: vec![18],
                mode: EtchMode::Strip,
                mask: None,
            },
        ),
    ];
    let voxels = spec.voxels() as f64;
    let mut rows = Vec::new();
    for (name, op) in ops {
        let st = p.run(&op, &masks);
        let row = BenchRow {
            op: name.to_string(),
            ms: st.ms,
            mvox_per_s: voxels / (st.ms * 1e-3) / 1e6,
            iterations: st.iterations,
        };
        report(&row);
        rows.push(row);
    }
    Ok(rows)
}
