//! Etching: anisotropic (dry, straight down), isotropic (timed wet, undercuts) and
//! strip (complete wet removal wherever the etchant reaches).

use super::Processor;
use super::params::{C_CHANGED, MaterialSet, StepParams};
use crate::scene::{EtchMode, Side};

/// Relaxation sweeps per submit of the isotropic distance field.
const RELAX_PER_SUBMIT: usize = 4;

impl Processor {
    pub(super) fn etch(&self, set: MaterialSet, mode: &EtchMode) -> u32 {
        let base = StepParams { set, ..self.base() };
        match *mode {
            EtchMode::Anisotropic { depth } => {
                let mut b = self.batch();
                let p = StepParams {
                    k: depth.map_or(0, |d| d as i32),
                    ..base
                };
                b.dispatch(&self.pipes.anisotropic, p, self.col_groups());
                b.submit();
                0
            }
            EtchMode::Isotropic { distance } => {
                let rounds = self.flood(MaterialSet::of(&[0]));
                let p = StepParams {
                    dist: distance as f32,
                    ..base
                };
                let mut b = self.batch();
                b.dispatch(&self.pipes.iso_init, p, self.vol_groups());
                b.submit();
                let [nx, ny, nz] = self.grid.spec.dims;
                let max_sweeps = 4 * (nx + ny + nz) as usize + 16;
                let mut sweeps = 0;
                while sweeps < max_sweeps {
                    let mut b = self.batch();
                    b.clear_counters();
                    for _ in 0..RELAX_PER_SUBMIT {
                        b.dispatch(&self.pipes.iso_relax, p, self.vol_groups());
                    }
                    b.submit();
                    sweeps += RELAX_PER_SUBMIT;
                    if self.counters()[C_CHANGED] == 0 {
                        break;
                    }
                }
                let mut b = self.batch();
                b.dispatch(&self.pipes.iso_apply, p, self.vol_groups());
                b.submit();
                rounds + sweeps as u32
            }
            EtchMode::Strip => {
                let mut passable = set;
                passable.insert(0);
                let rounds = self.flood(passable);
                let mut b = self.batch();
                b.dispatch(&self.pipes.strip, base, self.vol_groups());
                b.submit();
                rounds
            }
        }
    }
}

impl Processor {
    /// Drills the rasterised mask's columns (see shaders/drill.wgsl).
    pub(super) fn drill(&self, materials: &[u8], from: Side, depth: Option<u32>, taper: f64) {
        if taper > 0.0 {
            self.mask_distance(taper);
        }
        let p = StepParams {
            set: if materials.is_empty() {
                MaterialSet::all()
            } else {
                MaterialSet::of(materials)
            },
            mode: u32::from(from == Side::Bottom),
            k: depth.map_or(0, |d| d as i32),
            dist: taper as f32,
            ..self.base()
        };
        let mut b = self.batch();
        b.dispatch(&self.pipes.drill, p, self.col_groups());
        b.submit();
    }
}
