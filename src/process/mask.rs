//! Plan-view masks rasterised at column centres (shaders/mask.wgsl).

use super::Processor;
use super::params::{FLAG_INVERT, StepParams};
use crate::scene::{Mask, Shape};

/// Packs shapes as the shader reads them: a header (kind, count) then data vec4s
/// ([`Shape::records`] of them per shape; the parser caps their sum per mask and the
/// resource budget counts them).
pub fn encode(shapes: &[Shape]) -> Vec<[f32; 4]> {
    let mut out = Vec::new();
    for s in shapes {
        match s {
            Shape::Rect { min, max } => {
                out.push([0.0, 0.0, 0.0, 0.0]);
                out.push([min[0] as f32, min[1] as f32, max[0] as f32, max[1] as f32]);
            }
            Shape::Circle { center, radius } => {
                out.push([1.0, 0.0, 0.0, 0.0]);
                out.push([center[0] as f32, center[1] as f32, *radius as f32, 0.0]);
            }
            Shape::Polygon(v) => {
                out.push([2.0, v.len() as f32, 0.0, 0.0]);
                for pair in v.chunks(2) {
                    let b = pair.get(1).unwrap_or(&pair[0]);
                    out.push([
                        pair[0][0] as f32,
                        pair[0][1] as f32,
                        b[0] as f32,
                        b[1] as f32,
                    ]);
                }
            }
        }
    }
    out
}

impl Processor {
    /// Fills the grid's mask plane: inside `mask` (everywhere if `None`), inverted if
    /// `invert` (negative-tone lithography flips the mask once more).
    pub fn rasterize(&mut self, mask: Option<&Mask>, invert: bool) {
        let (shapes, mask_invert) = match mask {
            Some(m) => (encode(&m.shapes), m.invert),
            // No shapes, inverted: every column is inside.
            None => (Vec::new(), true),
        };
        self.upload_shapes(&shapes);
        let count = mask.map_or(0, |m| m.shapes.len() as u32);
        let mut b = self.batch();
        let p = StepParams {
            shape_count: count,
            flags: if mask_invert != invert {
                FLAG_INVERT
            } else {
                0
            },
            ..self.base()
        };
        b.dispatch(&self.pipes.mask, p, self.col_groups());
        b.submit();
    }

    /// Writes shape records (or any vec4 list a pass reads from `shapes`), growing
    /// the buffer when needed.
    pub(crate) fn upload_shapes(&mut self, data: &[[f32; 4]]) {
        if data.len() as u64 * 16 > self.shapes.size() {
            self.shapes = Self::shapes_buffer(&self.gpu, (data.len() as u64).next_power_of_two());
            self.bind = Self::bind_group(
                &self.gpu,
                &self.pipes,
                &self.grid,
                &self.params,
                &self.shapes,
                &self.spare,
            );
        }
        if !data.is_empty() {
            self.gpu
                .queue
                .write_buffer(&self.shapes, 0, bytemuck::cast_slice(data));
        }
    }

    /// The rasterised mask plane (one u32 per column), for tests.
    pub fn read_mask(&self) -> Vec<u32> {
        let [nx, ny, _] = self.grid.spec.dims;
        self.grid
            .read_u32(&self.gpu, &self.grid.mask, u64::from(nx) * u64::from(ny))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_count_the_encoding() {
        let shapes = [
            Shape::Rect {
                min: [0.0, 0.0],
                max: [1.0, 1.0],
            },
            Shape::Circle {
                center: [1.0, 1.0],
                radius: 0.5,
            },
            Shape::Polygon(vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]),
            Shape::Polygon(vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]),
        ];
        for s in &shapes {
            assert_eq!(encode(std::slice::from_ref(s)).len() as u64, s.records());
        }
        assert_eq!(encode(&shapes).len(), 2 + 2 + 3 + 3);
    }
}
