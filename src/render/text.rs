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

/// `s` in lines of at most `width` characters, broken after the separator `sep` (kept at
/// the line's end, trimmed) where it fits: a narrow frame shows a whole figure on the next
/// line rather than a cut one ("residual 6.8e" for 6.8e-9). A piece longer than a line
/// is broken at its last space within the width, or at the width where it has none.
pub fn wrap(s: &str, sep: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for piece in s.split_inclusive(sep) {
        let fits = line.chars().count() + piece.trim_end().chars().count() <= width;
        if !line.is_empty() && !fits {
            lines.push(line.trim_end().to_string());
            line.clear();
        }
        line.push_str(if line.is_empty() {
            piece.trim_start()
        } else {
            piece
        });
        while line.trim_end().chars().count() > width {
            let chars: Vec<char> = line.chars().collect();
            let cut = (1..=width)
                .rev()
                .find(|&i| chars[i] == ' ')
                .unwrap_or(width);
            let (head, rest): (String, String) =
                (chars[..cut].iter().collect(), chars[cut..].iter().collect());
            lines.push(head.trim_end().to_string());
            line = rest.trim_start().to_string();
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_after_separators_and_keeps_figures_whole() {
        let s = "stress  |  dT -165 K  |  38 CG iterations, residual 6.8e-9  |  3.0 µm elements";
        assert_eq!(wrap(s, "|", 200), vec![s.to_string()]);
        let lines = wrap(s, "|", 50);
        assert_eq!(
            lines,
            vec![
                "stress  |  dT -165 K  |",
                "38 CG iterations, residual 6.8e-9  |",
                "3.0 µm elements",
            ]
        );
        assert!(lines.iter().all(|l| l.chars().count() <= 50));
        // Nothing is lost but the spaces at the breaks.
        let joined: String = lines.concat().split_whitespace().collect();
        assert_eq!(joined, s.split_whitespace().collect::<String>());
        // A piece longer than a line is broken at its last space, or at the width.
        assert_eq!(wrap("abcdefghij", "|", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(
            wrap("section y: layer 13 = 78.0-84.0 µm", "|", 20),
            vec!["section y: layer 13", "= 78.0-84.0 µm"]
        );
        assert!(wrap("", "|", 10).is_empty());
    }

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
