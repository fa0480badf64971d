//! Masks from a GDSII layer (the gds21 crate): boundaries, boxes and paths of one
//! layer of a cell, with struct references flattened by translation.

use super::Shape;
use gds21::{GdsElement, GdsLibrary, GdsPoint};
use std::path::Path;

/// Deepest struct-reference nesting followed.
const MAX_DEPTH: usize = 16;

/// Shapes (µm) of `layer` (and `datatype`, if given) in `cell` (default: the library's
/// first cell that no other cell references).
pub fn shapes(
    path: &Path,
    cell: Option<&str>,
    layer: i16,
    datatype: Option<i16>,
    offset: [f64; 2],
) -> Result<Vec<Shape>, String> {
    let lib = GdsLibrary::load(path)
        .map_err(|e| format!("cannot read GDSII {}: {e:?}", path.display()))?;
    let um = lib.units.db_unit() * 1e6;
    let top = match cell {
        Some(c) => lib.structs.iter().find(|s| s.name == c).ok_or_else(|| {
            let names: Vec<&str> = lib.structs.iter().map(|s| s.name.as_str()).collect();
            format!(
                "no cell `{c}` in {}; cells: {}",
                path.display(),
                names.join(", ")
            )
        })?,
        None => {
            let referenced: Vec<&str> = lib
                .structs
                .iter()
                .flat_map(|s| s.elems.iter())
                .filter_map(|e| match e {
                    GdsElement::GdsStructRef(r) => Some(r.name.as_str()),
                    _ => None,
                })
                .collect();
            lib.structs
                .iter()
                .find(|s| !referenced.contains(&s.name.as_str()))
                .ok_or_else(|| format!("{} has no top cell", path.display()))?
        }
    };
    let mut out = Vec::new();
    collect(
        &lib,
        &top.name,
        [0, 0],
        0,
        layer,
        datatype,
        &mut out,
        um,
        offset,
    )?;
    if out.is_empty() {
        return Err(format!(
            "cell `{}` of {} has no shapes on layer {layer}{}",
            top.name,
            path.display(),
            datatype.map_or(String::new(), |d| format!(", datatype {d}"))
        ));
    }
    Ok(out)
}

#[allow(
    clippy::too_many_arguments,
    reason = "a recursive walk carrying its context"
)]
fn collect(
    lib: &GdsLibrary,
    name: &str,
    shift: [i64; 2],
    depth: usize,
    layer: i16,
    datatype: Option<i16>,
    out: &mut Vec<Shape>,
    um: f64,
    offset: [f64; 2],
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "struct references nest deeper than {MAX_DEPTH} at `{name}`"
        ));
    }
    let s = lib
        .structs
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("reference to missing cell `{name}`"))?;
    let pt = |p: &GdsPoint| {
        [
            (i64::from(p.x) + shift[0]) as f64 * um + offset[0],
            (i64::from(p.y) + shift[1]) as f64 * um + offset[1],
        ]
    };
    for e in &s.elems {
        match e {
            GdsElement::GdsBoundary(b)
                if b.layer == layer && datatype.is_none_or(|d| d == b.datatype) =>
            {
                let mut v: Vec<[f64; 2]> = b.xy.iter().map(pt).collect();
                // GDSII closes polygons by repeating the first point.
                if v.len() > 1 && v.first() == v.last() {
                    v.pop();
                }
                if v.len() >= 3 {
                    out.push(Shape::Polygon(v));
                }
            }
            GdsElement::GdsBox(b)
                if b.layer == layer && datatype.is_none_or(|d| d == b.boxtype) =>
            {
                let v: Vec<[f64; 2]> = b.xy.iter().map(pt).collect();
                let (lo, hi) = v
                    .iter()
                    .fold(([f64::MAX; 2], [f64::MIN; 2]), |(lo, hi), p| {
                        (
                            [lo[0].min(p[0]), lo[1].min(p[1])],
                            [hi[0].max(p[0]), hi[1].max(p[1])],
                        )
                    });
                out.push(Shape::Rect { min: lo, max: hi });
            }
            GdsElement::GdsPath(p)
                if p.layer == layer && datatype.is_none_or(|d| d == p.datatype) =>
            {
                // Each segment becomes a rectangle of the path's width (flush ends).
                let half = f64::from(p.width.unwrap_or(0).abs()) * um / 2.0;
                for w in p.xy.windows(2) {
                    let (a, b) = (pt(&w[0]), pt(&w[1]));
                    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
                    let len = (dx * dx + dy * dy).sqrt();
                    if len == 0.0 || half == 0.0 {
                        continue;
                    }
                    let (nx, ny) = (-dy / len * half, dx / len * half);
                    out.push(Shape::Polygon(vec![
                        [a[0] + nx, a[1] + ny],
                        [b[0] + nx, b[1] + ny],
                        [b[0] - nx, b[1] - ny],
                        [a[0] - nx, a[1] - ny],
                    ]));
                }
            }
            GdsElement::GdsStructRef(r) => {
                if r.strans.is_some() {
                    return Err(format!(
                        "reference to `{}` in `{name}` is rotated, mirrored or scaled: only translated references are supported",
                        r.name
                    ));
                }
                let at = [shift[0] + i64::from(r.xy.x), shift[1] + i64::from(r.xy.y)];
                collect(
                    lib,
                    &r.name,
                    at,
                    depth + 1,
                    layer,
                    datatype,
                    out,
                    um,
                    offset,
                )?;
            }
            GdsElement::GdsArrayRef(r) => {
                return Err(format!(
                    "array reference to `{}` in `{name}` is not supported: flatten it",
                    r.name
                ));
            }
            _ => {}
        }
    }
    Ok(())
}
