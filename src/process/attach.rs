//! Parts attached on top of the build: solder balls (shaders/ball.wgsl) and bond
//! wires (shaders/wire.wgsl).

use super::Processor;
use super::mask::encode;
use super::params::StepParams;
use crate::gpu::read_buffer;
use crate::scene::{Mask, Wire};

/// Straight segments per wire loop.
const WIRE_SEGMENTS: usize = 24;

/// Shape records a wire bond of `wires` wires uploads: two per segment, plus the bounds.
pub fn wire_records(wires: usize) -> u64 {
    2 * WIRE_SEGMENTS as u64 * wires as u64 + 2
}

impl Processor {
    /// One spherical cap per circle of `pads`, standing on the surface at its centre.
    pub(super) fn balls(&mut self, material: u8, pads: &Mask, radius: f64, height: f64) {
        self.upload_shapes(&encode(&pads.shapes));
        let n = pads.shapes.len() as u32;
        let p = StepParams {
            material: u32::from(material),
            shape_count: n,
            dist: radius as f32,
            z1: (height as f32).to_bits() as i32,
            ..self.base()
        };
        let mut b = self.batch();
        b.dispatch(&self.pipes.ball_base, p, [n.div_ceil(64), 1, 1]);
        b.dispatch(&self.pipes.ball_fill, p, self.vol_groups());
        b.submit();
    }

    /// Bond wires as tubes of `radius` voxels along loops between the surfaces at
    /// their ends.
    pub(super) fn wires(&mut self, material: u8, wires: &[Wire], radius: f64) {
        // Surface heights under every wire end, found on the GPU.
        let ends: Vec<[f32; 4]> = wires
            .iter()
            .flat_map(|w| [w.from, w.to])
            .map(|e| [e[0] as f32, e[1] as f32, 0.0, 0.0])
            .collect();
        self.upload_shapes(&ends);
        let n = ends.len() as u32;
        let mut b = self.batch();
        let p = StepParams {
            shape_count: n,
            ..self.base()
        };
        b.dispatch(&self.pipes.wire_ends, p, [n.div_ceil(64), 1, 1]);
        b.submit();
        let tops: Vec<u32> = bytemuck::pod_collect_to_vec(&read_buffer(
            &self.gpu,
            &self.grid.scratch_b,
            0,
            u64::from(n) * 4,
        ));
        // The loop: straight in plan, a parabola in height over the chord, rising
        // `loop_height` above the higher end (geometry set-up, not per-voxel work).
        let h = self.grid.spec.voxel_um;
        let mut segs = Vec::new();
        for (w, z) in wires.iter().zip(tops.chunks(2)) {
            let a = [w.from[0] / h, w.from[1] / h, f64::from(z[0]) + radius];
            let c = [w.to[0] / h, w.to[1] / h, f64::from(z[1]) + radius];
            let rise = w.loop_height + (a[2] - c[2]).abs() / 2.0;
            let point = |t: f64| {
                [
                    a[0] + (c[0] - a[0]) * t,
                    a[1] + (c[1] - a[1]) * t,
                    a[2] + (c[2] - a[2]) * t + 4.0 * rise * t * (1.0 - t),
                ]
            };
            for s in 0..WIRE_SEGMENTS {
                let (p0, p1) = (
                    point(s as f64 / WIRE_SEGMENTS as f64),
                    point((s + 1) as f64 / WIRE_SEGMENTS as f64),
                );
                segs.push([p0[0] as f32, p0[1] as f32, p0[2] as f32, 0.0]);
                segs.push([p1[0] as f32, p1[1] as f32, p1[2] as f32, 0.0]);
            }
        }
        let n_segs = (segs.len() / 2) as u32;
        let r = radius as f32 + 1.0;
        let (lo, hi) = segs
            .iter()
            .fold(([f32::MAX; 3], [f32::MIN; 3]), |(lo, hi), v| {
                (
                    [
                        lo[0].min(v[0] - r),
                        lo[1].min(v[1] - r),
                        lo[2].min(v[2] - r),
                    ],
                    [
                        hi[0].max(v[0] + r),
                        hi[1].max(v[1] + r),
                        hi[2].max(v[2] + r),
                    ],
                )
            });
        segs.push([lo[0], lo[1], lo[2], 0.0]);
        segs.push([hi[0], hi[1], hi[2], 0.0]);
        self.upload_shapes(&segs);
        let p = StepParams {
            material: u32::from(material),
            shape_count: n_segs,
            dist: radius as f32,
            ..self.base()
        };
        let mut b = self.batch();
        b.dispatch(&self.pipes.wire_fill, p, self.vol_groups());
        b.submit();
    }
}
