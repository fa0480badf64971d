//! Bonding one part onto another (shaders/bond.wgsl): the placed part drops until it
//! rests on this one; ACF or adhesive fills the gap in its footprint.

use super::params::{C_TOP, StepParams};
use super::{Processor, StepStats};
use crate::scene::BondMethod;
use std::time::Instant;

/// Bias of the signed drop distance in its u32 counter (keep in sync with bond.wgsl).
const BIAS: i64 = 1 << 20;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BondError {
    #[error("the placed part is empty: build it before bonding")]
    EmptyPart,
    #[error(
        "the bonded stack reaches z = {top_um} µm but the grid is {grid_um} µm tall: enlarge grid.size's z"
    )]
    TooTall { top_um: f64, grid_um: f64 },
}

impl Processor {
    /// Places `part` (same grid shape) on this part, offset by `offset` voxels in
    /// x and y, with a gap of `gap` voxels. The placed part is emptied.
    pub fn bond(
        &mut self,
        part: &Processor,
        offset: [i32; 2],
        method: BondMethod,
        film: u8,
        gap: u32,
    ) -> Result<StepStats, BondError> {
        assert_eq!(part.grid.spec, self.grid.spec, "parts share the scene grid");
        let start = Instant::now();
        self.snapshot();
        let bytes = self.grid.spec.voxels() * 4;
        let p = StepParams {
            z0: offset[0],
            z1: offset[1],
            k: gap as i32,
            material: if method == BondMethod::Eutectic {
                0
            } else {
                u32::from(film)
            },
            ..self.base()
        };
        let mut b = self.batch();
        b.encoder()
            .copy_buffer_to_buffer(&part.grid.material, 0, &self.grid.scratch_b, 0, bytes);
        b.clear_counters();
        b.dispatch(&self.pipes.bond_drop, p, self.col_groups());
        b.submit();
        let c = self.counters();
        if c[C_TOP + 1] == 0 {
            return Err(BondError::EmptyPart);
        }
        let shift = i64::from(c[C_TOP]) - BIAS;
        let top = i64::from(c[C_TOP + 1]) + shift;
        let nz = i64::from(self.grid.spec.dims[2]);
        if top > nz {
            let h = self.grid.spec.voxel_um;
            return Err(BondError::TooTall {
                top_um: top as f64 * h,
                grid_um: nz as f64 * h,
            });
        }
        let mut b = self.batch();
        b.dispatch(&self.pipes.bond_place, p, self.vol_groups());
        b.encoder().clear_buffer(&part.grid.material, 0, None);
        b.submit();
        Ok(self.finish(start, 0))
    }
}
