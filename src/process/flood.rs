//! Reachability from the open top through passable materials (shaders/flood.wgsl):
//! where a spin-on liquid, a deposition flux or an etchant can get to.

use super::Processor;
use super::params::{C_CHANGED, MaterialSet, StepParams};

/// Line-sweep rounds per submit; convergence is checked between submits.
const ROUNDS_PER_SUBMIT: usize = 1;

impl Processor {
    /// Fills scratch_a with 1 where a voxel whose material is in `passable` connects
    /// (6-neighbour) to the top layer through passable voxels. Returns sweep rounds.
    pub fn flood(&self, passable: MaterialSet) -> u32 {
        let p = StepParams {
            set: passable,
            ..self.base()
        };
        let mut b = self.batch();
        b.dispatch(&self.pipes.flood_init, p, self.vol_groups());
        b.submit();
        self.spread(p)
    }

    /// Spreads the reached marks in scratch_a through passable voxels until stable
    /// (`p` selects what is passable). Returns sweep rounds.
    pub(super) fn spread(&self, p: StepParams) -> u32 {
        let [nx, ny, nz] = self.grid.spec.dims;
        // (axis, line grid) for sweeps along x, y and z.
        let lines = [
            (0u32, [ny.div_ceil(8), nz.div_ceil(8), 1]),
            (1, [nx.div_ceil(8), nz.div_ceil(8), 1]),
            (2, [nx.div_ceil(8), ny.div_ceil(8), 1]),
        ];
        let max_rounds = 4 * (nx + ny + nz) as usize + 8;
        let mut rounds = 0;
        while rounds < max_rounds {
            let mut b = self.batch();
            b.clear_counters();
            for _ in 0..ROUNDS_PER_SUBMIT {
                for (axis, groups) in lines {
                    b.dispatch(&self.pipes.flood_sweep, StepParams { axis, ..p }, groups);
                }
            }
            b.submit();
            rounds += ROUNDS_PER_SUBMIT;
            if self.counters()[C_CHANGED] == 0 {
                break;
            }
        }
        rounds as u32
    }

    /// The reachability field of the last flood, for tests.
    pub fn read_reach(&self) -> Vec<u32> {
        self.grid
            .read_u32(&self.gpu, &self.grid.scratch_a, self.grid.spec.voxels())
    }
}
