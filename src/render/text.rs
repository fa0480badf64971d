//! Overlay text and swatches as quads, drawn with the public-domain 8x8 font.

use super::gpu_data::{GLYPH_COLORMAP, GLYPH_SOLID, Quad};
use font8x8::legacy::{BASIC_LEGACY, LATIN_LEGACY};

/// Glyph cell edge in font pixels.
pub const CELL: u32 = 8;

/// 256 glyphs side by side (ASCII and Latin-1, so "µm" and "°C" work), one byte per pixel.
pub fn atlas() -> (u32, u32, Vec<u8>) {
    let w = 256 * CELL;
    let mut px = vec![0u8; (w * CELL) as usize];
    for code in 0..256usize {
        let rows = match code {
            0..128 => BASIC_LEGACY[code],
            0xa0..=0xff => LATIN_LEGACY[code - 0xa0],
            _ => [0; 8],
        };
        for (y, row) in rows.iter().enumerate() {
            for x in 0..8 {
                if row >> x & 1 == 1 {
                    px[y * w as usize + code * 8 + x] = 255;
                }
            }
        }
    }
    (w, CELL, px)
}

/// Builds overlay quads.
#[derive(Default)]
pub struct Overlay {
    pub quads: Vec<Quad>,
}

impl Overlay {
    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, colour: [f32; 4]) {
        self.quads.push(Quad {
            rect: [x, y, w, h],
            colour,
            glyph: GLYPH_SOLID,
            _pad: [0; 3],
        });
    }

    pub fn colormap(&mut self, x: f32, y: f32, w: f32, h: f32) {
        self.quads.push(Quad {
            rect: [x, y, w, h],
            colour: [1.0; 4],
            glyph: GLYPH_COLORMAP,
            _pad: [0; 3],
        });
    }

    /// Text at (x, y) top-left with glyphs `scale` × 8 pixels; returns the width drawn.
    pub fn text(&mut self, x: f32, y: f32, scale: f32, colour: [f32; 4], s: &str) -> f32 {
        let step = CELL as f32 * scale;
        let mut cx = x;
        for ch in s.chars() {
            let code = u32::from(ch);
            let glyph = if code < 128 || (0xa0..=0xff).contains(&code) {
                code
            } else {
                u32::from(b'?')
            };
            if ch != ' ' {
                self.quads.push(Quad {
                    rect: [cx, y, step, step],
                    colour,
                    glyph,
                    _pad: [0; 3],
                });
            }
            cx += step;
        }
        cx - x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atlas_has_glyph_pixels_for_letters_and_micro() {
        let (w, _, px) = atlas();
        let ink = |code: usize| {
            (0..8)
                .flat_map(|y| (0..8).map(move |x| (x, y)))
                .filter(|&(x, y)| px[y * w as usize + code * 8 + x] > 0)
                .count()
        };
        assert!(ink(b'A' as usize) > 10);
        assert!(ink(0xb5) > 5, "µ");
        assert_eq!(ink(b' ' as usize), 0);
    }
}
