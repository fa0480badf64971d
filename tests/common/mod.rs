//! Shared test helpers: one GPU context per test binary, small grids, a tiny PRNG.
#![allow(dead_code, reason = "each test binary uses a different subset")]

pub mod cpu_ref;

use std::sync::OnceLock;
use voxfab::gpu::GpuContext;
use voxfab::scene::GridSpec;

/// The test adapter: a real GPU if present, else lavapipe. Fails loudly when none.
pub fn gpu() -> &'static GpuContext {
    static GPU: OnceLock<GpuContext> = OnceLock::new();
    GPU.get_or_init(|| {
        let g = GpuContext::new().unwrap_or_else(|e| panic!("tests need a GPU adapter: {e}"));
        eprintln!("test adapter: {g}");
        g
    })
}

pub fn spec(nx: u32, ny: u32, nz: u32, voxel_um: f64) -> GridSpec {
    GridSpec {
        dims: [nx, ny, nz],
        voxel_um,
    }
}

/// xorshift64*: deterministic structure for randomized comparisons.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n)) as u32
    }
}

/// On cooling, the FR-4 board (16 ppm/K) held by one bump contracts over its length far
/// more than the silicon (2.6 ppm/K): compare the change of ux across each, in µm.
pub fn assert_board_outshrinks_silicon(st: &voxfab::stress::StressResult) {
    let span = |z0: f64, z1: f64| {
        let l = st
            .displacement_box_mean([0.0, 0.0, z0], [12.0, 200.0, z1])
            .expect("left end")[0];
        let r = st
            .displacement_box_mean([288.0, 0.0, z0], [300.0, 200.0, z1])
            .expect("right end")[0];
        r - l
    };
    let board = span(120.0, 150.0);
    let si = span(0.0, 40.0);
    // Free contraction over ~290 µm at -165 K: FR-4 -0.77 µm, Si -0.12 µm.
    assert!(
        board < 0.0 && si < 0.0,
        "both contract: board {board}, si {si}"
    );
    assert!(board < 3.0 * si, "board {board} µm vs silicon {si} µm");
}

/// A processor whose grid holds horizontal slabs `(material, z0, z1)` (voxels), built
/// with the substrate op; returns it with the per-material counts.
pub fn slabs(
    gpu: &GpuContext,
    spec: &GridSpec,
    slabs: &[(u8, u32, u32)],
) -> (voxfab::process::Processor, Vec<u64>) {
    let mut p = voxfab::process::Processor::new(gpu, spec).unwrap();
    for &(material, z0, z1) in slabs {
        let op = voxfab::scene::Op::Substrate {
            material,
            z0,
            z1,
            mask: None,
        };
        p.run(&op, &[]);
    }
    let (_, counts) = p.stats();
    (p, counts)
}

/// Material ids of a `dims` voxel box from `f(x, y, z)`, x fastest, then y, then z.
pub fn fill(dims: [u32; 3], f: impl Fn(u32, u32, u32) -> u8) -> Vec<u8> {
    let mut out = Vec::with_capacity((dims[0] * dims[1] * dims[2]) as usize);
    for z in 0..dims[2] {
        for y in 0..dims[1] {
            for x in 0..dims[0] {
                out.push(f(x, y, z));
            }
        }
    }
    out
}
