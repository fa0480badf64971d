//! Etching: anisotropic (dry, straight down), isotropic (timed wet, undercuts) and
//! strip (complete wet removal wherever the etchant reaches).

use super::Processor;
use super::params::{C_CHANGED, C_TMAX, MaterialSet, StepParams};
use crate::scene::{EtchMode, Side};

/// Relaxation sweeps per submit of the isotropic arrival-time field.
const RELAX_PER_SUBMIT: usize = 4;
/// "Never" in the arrival-time field (shaders/etch_isotropic.wgsl).
const FAR: f32 = 1e30;

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
                let rates: Vec<(u8, f64)> = (1..=255u8)
                    .filter(|&m| set.contains(m))
                    .map(|m| (m, 1.0))
                    .collect();
                self.wet_front(&rates, Some(distance), set)
            }
            EtchMode::Rates { ref rates, time } => {
                let rates: Vec<(u8, f64)> = rates
                    .iter()
                    .map(|r| (r.material, r.voxels_per_min))
                    .collect();
                self.wet_front(&rates, time, set)
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
    /// Wet etch front (shaders/etch_isotropic.wgsl): arrival times from the etchant
    /// through materials etched at `rates` (voxels per minute; others stop the front),
    /// then removal of what the front reached by `time` minutes. Without a time the
    /// front runs to completion and stops at the latest arrival at `listed` material
    /// reached, the release time (kept for [`StepStats`](super::StepStats)), or at
    /// the step's progress times it inside [`Processor::run_at`]. Returns sweeps.
    fn wet_front(&self, rates: &[(u8, f64)], time: Option<f64>, listed: MaterialSet) -> u32 {
        // Slowness in minutes per voxel; enclosed voids fill at the fastest rate.
        let mut slow = [FAR; 256];
        for &(m, r) in rates {
            if m != 0 && r > 0.0 && r.is_finite() {
                slow[usize::from(m)] = (1.0 / r) as f32;
            }
        }
        let fastest = slow[1..].iter().copied().fold(FAR, f32::min);
        if fastest >= FAR {
            if time.is_none() {
                self.release.set(Some(0.0));
            }
            return 0;
        }
        slow[0] = fastest;
        let rounds = self.flood(MaterialSet::of(&[0]));
        // The table rides in the shapes buffer: the mask is rasterised already.
        self.gpu
            .queue
            .write_buffer(&self.shapes, 0, bytemuck::cast_slice(&slow));
        let limit = time.map_or(FAR, |t| t.max(0.0) as f32);
        let p = StepParams {
            dist: limit,
            set: listed,
            ..self.base()
        };
        let mut b = self.batch();
        b.clear_all_counters();
        b.dispatch(&self.pipes.iso_init, p, self.vol_groups());
        b.dispatch(&self.pipes.iso_extent, p, self.vol_groups());
        b.submit();
        // Sweeps visit only the box of etchable voxels, from a brick corner (most of a
        // package's grid is substrate, mask or etchant).
        let c = self.counters();
        let dims = self.grid.spec.dims;
        let brick = [8, 8, 4];
        let lo: [u32; 3] =
            std::array::from_fn(|a| dims[a].saturating_sub(c[a]) / brick[a] * brick[a]);
        let box_groups: [u32; 3] =
            std::array::from_fn(|a| c[3 + a].saturating_sub(lo[a]).div_ceil(brick[a]));
        let sweep = StepParams {
            origin: [lo[0], lo[1]],
            z0: lo[2] as i32,
            ..p
        };
        let [nx, ny, nz] = dims;
        let max_sweeps = if box_groups.contains(&0) {
            0
        } else {
            4 * (nx + ny + nz) as usize + 16
        };
        let mut sweeps = 0;
        while sweeps < max_sweeps {
            let mut b = self.batch();
            b.clear_counters();
            for _ in 0..RELAX_PER_SUBMIT {
                sweeps += 1;
                let k = sweeps as i32;
                b.dispatch(&self.pipes.iso_relax, StepParams { k, ..sweep }, box_groups);
            }
            b.submit();
            if self.counters()[C_CHANGED] == 0 {
                break;
            }
        }
        let cut = match time {
            Some(_) => limit,
            None => {
                let mut b = self.batch();
                b.clear_counters();
                b.dispatch(&self.pipes.iso_release, p, self.vol_groups());
                b.submit();
                let release = f32::from_bits(self.counters()[C_TMAX]);
                self.release.set(Some(f64::from(release)));
                if self.progress < 1.0 {
                    release * self.progress as f32
                } else {
                    release
                }
            }
        };
        let mut b = self.batch();
        b.dispatch(
            &self.pipes.iso_apply,
            StepParams { dist: cut, ..p },
            self.vol_groups(),
        );
        b.submit();
        rounds + sweeps as u32
    }

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
