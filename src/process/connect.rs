//! Connectivity: conductor voxels labelled into nets on the GPU (shaders/connect.wgsl).

use super::Processor;
use super::params::{C_CHANGED, C_TOP, MaterialSet, StepParams};
use crate::gpu::read_buffer;

/// Nets of a grid and the net under each probe voxel.
#[derive(Debug, Clone, PartialEq)]
pub struct Nets {
    /// Connected components of conductor voxels (6-neighbour).
    pub count: u32,
    /// Net label (the net's smallest voxel index) under each probe; `None` where the
    /// probe is not in a conductor.
    pub probe_nets: Vec<Option<u32>>,
    pub sweeps: u32,
}

impl Processor {
    /// Labels the conductors in `conductors` and reads the labels at `probes` (voxels).
    pub fn nets(&self, conductors: MaterialSet, probes: &[[u32; 3]]) -> Nets {
        let p = StepParams {
            set: conductors,
            ..self.base()
        };
        let mut b = self.batch();
        b.dispatch(&self.pipes.connect_init, p, self.vol_groups());
        b.submit();
        let [nx, ny, nz] = self.grid.spec.dims;
        let lines = [
            (0u32, [ny.div_ceil(8), nz.div_ceil(8), 1]),
            (1, [nx.div_ceil(8), nz.div_ceil(8), 1]),
            (2, [nx.div_ceil(8), ny.div_ceil(8), 1]),
        ];
        let mut sweeps = 0;
        let max_rounds = 4 * (nx + ny + nz) + 8;
        for _ in 0..max_rounds {
            let mut b = self.batch();
            b.clear_counters();
            for (axis, groups) in lines {
                b.dispatch(&self.pipes.connect_sweep, StepParams { axis, ..p }, groups);
            }
            b.submit();
            sweeps += 1;
            if self.counters()[C_CHANGED] == 0 {
                break;
            }
        }
        let mut b = self.batch();
        b.clear_counters();
        b.dispatch(&self.pipes.connect_count, p, self.vol_groups());
        b.submit();
        let count = self.counters()[C_TOP];
        let probe_nets = probes
            .iter()
            .map(|v| {
                let i = u64::from(v[0])
                    + u64::from(nx) * (u64::from(v[1]) + u64::from(ny) * u64::from(v[2]));
                let raw = read_buffer(&self.gpu, &self.grid.scratch_a, i * 4, 4);
                let label = u32::from_le_bytes(raw[..4].try_into().expect("4 bytes"));
                (label != u32::MAX).then_some(label)
            })
            .collect();
        Nets {
            count,
            probe_nets,
            sweeps,
        }
    }
}
