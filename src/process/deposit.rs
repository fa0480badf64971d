//! Deposition: directional (line of sight), conformal (film on every reachable
//! surface) and planarising spin-on fill.

use super::Processor;
use super::params::{C_TOP, FLAG_LIMIT, FLAG_SOURCE, MaterialSet, StepParams};
use crate::scene::{DepositMode, PlanarTop, PlateMode};

impl Processor {
    pub(super) fn deposit(&self, material: u8, mode: &DepositMode) -> u32 {
        let base = StepParams {
            material: u32::from(material),
            ..self.base()
        };
        let void = MaterialSet::of(&[0]);
        match *mode {
            DepositMode::Directional { thickness } => {
                let mut b = self.batch();
                let p = StepParams {
                    k: thickness as i32,
                    ..base
                };
                b.dispatch(&self.pipes.directional, p, self.col_groups());
                b.submit();
                0
            }
            DepositMode::Conformal { thickness } => {
                let p = StepParams {
                    k: thickness as i32,
                    ..base
                };
                let mut b = self.batch();
                for pipe in [&self.pipes.edt_x, &self.pipes.edt_y, &self.pipes.edt_z] {
                    b.dispatch(pipe, p, self.vol_groups());
                }
                b.submit();
                let rounds = self.flood(void);
                let mut b = self.batch();
                b.dispatch(&self.pipes.conformal, p, self.vol_groups());
                b.submit();
                rounds
            }
            DepositMode::Planarize { top } => {
                let z1 = match top {
                    PlanarTop::Height(h) => h,
                    PlanarTop::AboveHighest(t) => {
                        let mut b = self.batch();
                        b.clear_counters();
                        b.dispatch(&self.pipes.planar_top, base, self.col_groups());
                        b.submit();
                        self.counters()[C_TOP] + t
                    }
                };
                let z1 = self.progressed(z1);
                let rounds = self.flood(void);
                let mut b = self.batch();
                let p = StepParams {
                    z1: z1.min(self.grid.spec.dims[2]) as i32,
                    ..base
                };
                b.dispatch(&self.pipes.planar_apply, p, self.vol_groups());
                b.submit();
                rounds
            }
        }
    }
}

impl Processor {
    /// Electroplating from the seed conductors in `seeds`.
    pub(super) fn plate(&self, material: u8, mode: &PlateMode, seeds: MaterialSet) -> u32 {
        let base = StepParams {
            material: u32::from(material),
            set: seeds,
            ..self.base()
        };
        match *mode {
            PlateMode::Fill { top } => {
                let z1 = match top {
                    Some(h) => h,
                    None => {
                        // "Until full": up to the highest surface anywhere.
                        let mut b = self.batch();
                        b.clear_counters();
                        let all = StepParams {
                            mode: 1,
                            ..self.base()
                        };
                        b.dispatch(&self.pipes.planar_top, all, self.col_groups());
                        b.submit();
                        self.counters()[C_TOP]
                    }
                };
                let seed = StepParams {
                    z1: self.progressed(z1) as i32,
                    ..base
                };
                let mut b = self.batch();
                b.dispatch(&self.pipes.plate_seed, seed, self.vol_groups());
                b.submit();
                let hole = StepParams {
                    set: MaterialSet::of(&[0]),
                    flags: FLAG_LIMIT,
                    ..seed
                };
                let rounds = self.spread(hole);
                let mut b = self.batch();
                b.dispatch(&self.pipes.plate_apply, seed, self.vol_groups());
                b.submit();
                rounds
            }
            PlateMode::Conformal { thickness } => {
                let p = StepParams {
                    k: thickness as i32,
                    flags: FLAG_SOURCE,
                    ..base
                };
                let mut b = self.batch();
                for pipe in [&self.pipes.edt_x, &self.pipes.edt_y, &self.pipes.edt_z] {
                    b.dispatch(pipe, p, self.vol_groups());
                }
                b.submit();
                let rounds = self.flood(MaterialSet::of(&[0]));
                let mut b = self.batch();
                b.dispatch(&self.pipes.conformal, p, self.vol_groups());
                b.submit();
                rounds
            }
        }
    }
}
