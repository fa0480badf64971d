//! Lithographic develop (shaders/pattern.wgsl) and the in-plane mask distance that
//! sidewall angles and drill tapers read (shaders/mask.wgsl, `distance`).

use super::Processor;
use super::params::StepParams;
use crate::scene::Ramp;

/// Widest lateral taper the mask distance resolves, in voxels.
pub const MAX_TAPER_VOXELS: i32 = 32;

impl Processor {
    /// Distance inside the rasterised mask, for a taper of `tan` over the grid height.
    pub(super) fn mask_distance(&self, tan: f64) {
        let reach = (tan * f64::from(self.grid.spec.dims[2])).ceil() as i32 + 1;
        let mut b = self.batch();
        let p = StepParams {
            k: reach.min(MAX_TAPER_VOXELS),
            ..self.base()
        };
        b.dispatch(&self.pipes.mask_distance, p, self.col_groups());
        b.submit();
    }

    /// Develops resist `material` in the rasterised mask (tone already folded in).
    pub(super) fn pattern(&mut self, material: u8, taper: f64, ramp: Option<&Ramp>) {
        let mut p = StepParams {
            material: u32::from(material),
            dist: taper as f32,
            ..self.base()
        };
        if let Some(r) = ramp {
            // The ramp's end points travel in the shapes buffer, heights as f32 bits.
            let pts = [[
                r.p0[0] as f32,
                r.p0[1] as f32,
                r.p1[0] as f32,
                r.p1[1] as f32,
            ]];
            self.upload_shapes(&pts);
            p.mode = 1;
            p.z0 = (r.z0 as f32).to_bits() as i32;
            p.z1 = (r.z1 as f32).to_bits() as i32;
        } else if taper > 0.0 {
            self.mask_distance(taper);
        }
        let mut b = self.batch();
        b.dispatch(&self.pipes.pattern, p, self.col_groups());
        b.submit();
    }
}
