//! TOML → typed scene. Raw serde structs keep spans so every check can point at
//! the offending value; steps are typed one by one after their `op` is read.

use super::error::Locator;
use super::overrides;
use super::*;
use crate::materials::{Material, MaterialTable, parse_color};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

/// Largest grid index space: shaders index voxels with u32.
const MAX_VOXELS: u64 = 1 << 31;

const OPS: &[&str] = &["substrate", "deposit", "pattern", "etch"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScene {
    title: Option<String>,
    grid: Spanned<RawGrid>,
    #[serde(default)]
    materials: BTreeMap<String, Spanned<RawMaterial>>,
    #[serde(default)]
    masks: BTreeMap<String, Spanned<RawMask>>,
    view: Option<Spanned<RawView>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrid {
    /// Domain extent in µm (x, y, z).
    size: Spanned<[f64; 3]>,
    /// Voxel edge in µm.
    voxel: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMaterial {
    base: Option<Spanned<String>>,
    description: Option<String>,
    #[serde(rename = "E")]
    e: Option<Spanned<f64>>,
    nu: Option<Spanned<f64>>,
    cte: Option<Spanned<f64>>,
    color: Option<Spanned<String>>,
    conductor: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShape {
    rect: Option<[f64; 4]>,
    circle: Option<[f64; 3]>,
    polygon: Option<Vec<[f64; 2]>>,
    array: Option<RawArray>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArray {
    pitch: [f64; 2],
    count: [u32; 2],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMask {
    rect: Option<Spanned<[f64; 4]>>,
    circle: Option<Spanned<[f64; 3]>>,
    polygon: Option<Spanned<Vec<[f64; 2]>>>,
    array: Option<RawArray>,
    #[serde(default)]
    shapes: Vec<Spanned<RawShape>>,
    #[serde(default)]
    invert: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawView {
    azimuth: Option<f32>,
    elevation: Option<f32>,
    section: Option<Spanned<RawSection>>,
    cutaway: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    axis: AxisName,
    at: Spanned<f64>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum AxisName {
    X,
    Y,
    Z,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubstrate {
    material: Spanned<String>,
    thickness: Spanned<f64>,
    /// Bottom of the slab in µm (default 0).
    z: Option<Spanned<f64>>,
    mask: Option<Spanned<String>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum DepositModeName {
    Conformal,
    Directional,
    Planarize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeposit {
    material: Spanned<String>,
    mode: Spanned<DepositModeName>,
    thickness: Option<Spanned<f64>>,
    /// Planarize only: absolute top height in µm.
    height: Option<Spanned<f64>>,
    mask: Option<Spanned<String>>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum ToneName {
    Positive,
    Negative,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPattern {
    material: Spanned<String>,
    mask: Spanned<String>,
    tone: Option<ToneName>,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum EtchModeName {
    Anisotropic,
    Isotropic,
    Strip,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEtch {
    mode: Spanned<EtchModeName>,
    materials: Spanned<Vec<Spanned<String>>>,
    depth: Option<Spanned<f64>>,
    distance: Option<Spanned<f64>>,
    /// µm per minute, with `time` in minutes, instead of `distance`.
    rate: Option<Spanned<f64>>,
    time: Option<Spanned<f64>>,
    mask: Option<Spanned<String>>,
}

struct Ctx<'a> {
    loc: Locator<'a>,
    applied: Vec<overrides::Applied>,
}

impl Ctx<'_> {
    fn err(&self, span: Range<usize>, msg: impl Into<String>) -> SceneError {
        let mut msg = msg.into();
        if let Some(a) = self.applied.iter().find(|a| a.span == span) {
            msg.push_str(&format!(" (value from --set {})", a.key));
        }
        self.loc.at(Some(span), msg)
    }

    fn de_err(&self, e: toml::de::Error) -> SceneError {
        let msg = e.message().trim_end().to_string();
        match e.span() {
            Some(s) => self.err(s, msg),
            None => self.loc.at(None, msg),
        }
    }

    fn typed<T: DeserializeOwned>(&self, v: Spanned<DeValue<'_>>) -> Result<T, SceneError> {
        T::deserialize(ValueDeserializer::from(v)).map_err(|e| self.de_err(e))
    }
}

pub(super) fn parse(src: &str, file: &str, overrides: &[String]) -> Result<Scene, SceneError> {
    let loc = Locator { file, src };
    let mut root = DeTable::parse(src).map_err(|e| {
        let msg = e.message().trim_end().to_string();
        loc.at(e.span(), msg)
    })?;
    let applied = overrides::apply(&mut root, overrides).map_err(|m| loc.at(None, m))?;
    let cx = Ctx { loc, applied };

    // Steps are typed per op below; the rest in one go.
    let root_span = root.span();
    let steps_raw = root.get_mut().remove("step");
    let raw: RawScene = cx.typed(Spanned::new(
        root_span.clone(),
        DeValue::Table(root.into_inner()),
    ))?;

    let grid = grid(&cx, &raw.grid)?;
    let materials = materials(&cx, &raw.materials)?;
    let masks = masks(&cx, &raw.masks, &grid)?;
    let view = view(&cx, raw.view.as_ref(), &grid)?;

    let mut steps = Vec::new();
    match steps_raw {
        None => {
            return Err(cx.err(
                root_span.start..root_span.start,
                "the scene has no [[step]]",
            ));
        }
        Some(v) => {
            let span = v.span();
            let DeValue::Array(items) = v.into_inner() else {
                return Err(cx.err(span, "`step` must be an array of tables: write [[step]]"));
            };
            for (i, item) in items.into_iter().enumerate() {
                let s = step(&cx, i, item, &grid, &materials, &masks)?;
                if let Some(prev) = steps.iter().find(|p: &&Step| p.name == s.name) {
                    return Err(cx.loc.at(
                        Some(line_start(src, s.line)),
                        format!(
                            "step name `{}` is already used on line {}",
                            s.name, prev.line
                        ),
                    ));
                }
                steps.push(s);
            }
        }
    }

    Ok(Scene {
        file: file.to_string(),
        title: raw.title.unwrap_or_else(|| file.to_string()),
        grid,
        materials,
        masks,
        steps,
        view,
    })
}

fn line_start(src: &str, line: usize) -> Range<usize> {
    let off = src
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    off..off
}

fn grid(cx: &Ctx, g: &Spanned<RawGrid>) -> Result<GridSpec, SceneError> {
    let voxel = *g.get_ref().voxel.get_ref();
    if !(voxel > 0.0 && voxel.is_finite()) {
        return Err(cx.err(
            g.get_ref().voxel.span(),
            format!("voxel must be > 0 µm, got {voxel}"),
        ));
    }
    let size = g.get_ref().size.get_ref();
    let mut dims = [0u32; 3];
    for a in 0..3 {
        if !(size[a] > 0.0 && size[a].is_finite()) {
            return Err(cx.err(
                g.get_ref().size.span(),
                format!("grid size must be > 0 µm on every axis, got {size:?}"),
            ));
        }
        let n = (size[a] / voxel).round();
        if n < 1.0 || n > f64::from(u32::MAX) {
            return Err(cx.err(
                g.get_ref().size.span(),
                format!("grid size {size:?} µm gives {n} voxels on axis {a}"),
            ));
        }
        dims[a] = n as u32;
    }
    let spec = GridSpec {
        dims,
        voxel_um: voxel,
    };
    if spec.voxels() > MAX_VOXELS {
        return Err(cx.err(
            g.span(),
            format!(
                "grid of {}x{}x{} = {} voxels exceeds the {} voxel index limit",
                dims[0],
                dims[1],
                dims[2],
                spec.voxels(),
                MAX_VOXELS
            ),
        ));
    }
    Ok(spec)
}

fn materials(
    cx: &Ctx,
    raw: &BTreeMap<String, Spanned<RawMaterial>>,
) -> Result<MaterialTable, SceneError> {
    let mut table = MaterialTable::builtin();
    for (name, m) in raw {
        let span = m.span();
        let m = m.get_ref();
        if name == "void" {
            return Err(cx.err(span, "`void` is reserved for empty space"));
        }
        let base = match (&m.base, table.id(name)) {
            (Some(b), _) => {
                let id = table
                    .id(b.get_ref())
                    .ok_or_else(|| cx.err(b.span(), unknown_material(b.get_ref(), &table)))?;
                Some(table.get(id).clone())
            }
            (None, Some(id)) => Some(table.get(id).clone()),
            (None, None) => None,
        };
        let need = |v: &Option<Spanned<f64>>, what: &str| -> Result<f64, SceneError> {
            match (v, &base) {
                (Some(v), _) => Ok(*v.get_ref()),
                (None, Some(b)) => Ok(match what {
                    "E" => b.e_gpa,
                    "nu" => b.nu,
                    _ => b.cte_ppm,
                }),
                (None, None) => Err(cx.err(
                    span.clone(),
                    format!("new material `{name}` needs `{what}` (or a `base` material)"),
                )),
            }
        };
        let e = need(&m.e, "E")?;
        let nu = need(&m.nu, "nu")?;
        let cte = need(&m.cte, "cte")?;
        if !(e > 0.0 && e.is_finite()) {
            return Err(cx.err(
                m.e.as_ref().map_or(span.clone(), |s| s.span()),
                format!("E must be > 0 GPa, got {e}"),
            ));
        }
        if !(0.0..0.5).contains(&nu) {
            return Err(cx.err(
                m.nu.as_ref().map_or(span.clone(), |s| s.span()),
                format!("nu must be in [0, 0.5), got {nu}"),
            ));
        }
        if !cte.is_finite() {
            return Err(cx.err(span.clone(), "cte must be finite"));
        }
        let color = match &m.color {
            Some(c) => parse_color(c.get_ref()).ok_or_else(|| {
                cx.err(
                    c.span(),
                    format!("color must be \"#rrggbb\", got {:?}", c.get_ref()),
                )
            })?,
            None => base.as_ref().map_or_else(|| auto_color(name), |b| b.color),
        };
        let mat = Material {
            name: name.clone(),
            description: m
                .description
                .clone()
                .or_else(|| base.as_ref().map(|b| b.description.clone()))
                .unwrap_or_default(),
            e_gpa: e,
            nu,
            cte_ppm: cte,
            color,
            conductor: m
                .conductor
                .or(base.as_ref().map(|b| b.conductor))
                .unwrap_or(false),
        };
        table
            .upsert(mat)
            .ok_or_else(|| cx.err(span.clone(), "more than 255 materials"))?;
    }
    Ok(table)
}

/// A stable colour from the name, for materials the scene gives none.
fn auto_color(name: &str) -> [u8; 3] {
    let h = name.bytes().fold(2166136261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16777619)
    });
    [
        64 + (h & 0x7f) as u8,
        64 + ((h >> 8) & 0x7f) as u8,
        64 + ((h >> 16) & 0x7f) as u8,
    ]
}

fn unknown_material(name: &str, table: &MaterialTable) -> String {
    format!(
        "unknown material `{name}`; known: {}",
        table.names().join(", ")
    )
}

fn masks(
    cx: &Ctx,
    raw: &BTreeMap<String, Spanned<RawMask>>,
    grid: &GridSpec,
) -> Result<Vec<Mask>, SceneError> {
    let size = grid.size_um();
    let mut out = Vec::new();
    for (name, m) in raw {
        let span = m.span();
        let m = m.get_ref();
        let mut shapes = Vec::new();
        let top = RawShape {
            rect: m.rect.as_ref().map(|r| *r.get_ref()),
            circle: m.circle.as_ref().map(|c| *c.get_ref()),
            polygon: m.polygon.as_ref().map(|p| p.get_ref().clone()),
            array: None,
        };
        let top_span = [
            m.rect.as_ref().map(|r| r.span()),
            m.circle.as_ref().map(|c| c.span()),
            m.polygon.as_ref().map(|p| p.span()),
        ]
        .into_iter()
        .flatten()
        .next();
        if let Some(top_span) = top_span {
            expand(cx, &top, m.array.as_ref(), top_span, &mut shapes)?;
        } else if m.array.is_some() {
            return Err(cx.err(
                span.clone(),
                format!("mask `{name}`: `array` needs a rect, circle or polygon"),
            ));
        }
        for s in &m.shapes {
            expand(
                cx,
                s.get_ref(),
                s.get_ref().array.as_ref(),
                s.span(),
                &mut shapes,
            )?;
        }
        if shapes.is_empty() {
            return Err(cx.err(
                span.clone(),
                format!("mask `{name}` has no shape (rect, circle, polygon or shapes = [...])"),
            ));
        }
        for (s, sspan) in &shapes {
            let (lo, hi) = s.bounds();
            if hi[0] <= 0.0 || hi[1] <= 0.0 || lo[0] >= size[0] || lo[1] >= size[1] {
                return Err(cx.err(
                    sspan.clone(),
                    format!(
                        "mask `{name}`: shape spanning x {:.1}..{:.1}, y {:.1}..{:.1} µm lies outside the domain 0..{:.1} x 0..{:.1} µm",
                        lo[0], hi[0], lo[1], hi[1], size[0], size[1]
                    ),
                ));
            }
        }
        out.push(Mask {
            name: name.clone(),
            shapes: shapes.into_iter().map(|(s, _)| s).collect(),
            invert: m.invert,
        });
    }
    Ok(out)
}

fn expand(
    cx: &Ctx,
    s: &RawShape,
    array: Option<&RawArray>,
    span: Range<usize>,
    out: &mut Vec<(Shape, Range<usize>)>,
) -> Result<(), SceneError> {
    let given = [s.rect.is_some(), s.circle.is_some(), s.polygon.is_some()];
    if given.iter().filter(|&&g| g).count() != 1 {
        return Err(cx.err(span, "a shape needs exactly one of rect, circle or polygon"));
    }
    let base = if let Some([x0, y0, x1, y1]) = s.rect {
        if !(x1 > x0 && y1 > y0) {
            return Err(cx.err(
                span,
                format!(
                    "rect [x0, y0, x1, y1] needs x1 > x0 and y1 > y0, got {:?}",
                    [x0, y0, x1, y1]
                ),
            ));
        }
        Shape::Rect {
            min: [x0, y0],
            max: [x1, y1],
        }
    } else if let Some([cx_, cy, r]) = s.circle {
        if r.is_nan() || r <= 0.0 {
            return Err(cx.err(span, format!("circle radius must be > 0, got {r}")));
        }
        Shape::Circle {
            center: [cx_, cy],
            radius: r,
        }
    } else {
        let p = s.polygon.clone().unwrap_or_default();
        if p.len() < 3 {
            return Err(cx.err(
                span,
                format!("polygon needs at least 3 vertices, got {}", p.len()),
            ));
        }
        Shape::Polygon(p)
    };
    let (pitch, count) = match array {
        Some(a) => {
            if a.count[0] == 0 || a.count[1] == 0 || a.count[0] * a.count[1] > 1_000_000 {
                return Err(cx.err(
                    span,
                    format!("array count must be 1..1e6 in total, got {:?}", a.count),
                ));
            }
            (a.pitch, a.count)
        }
        None => ([0.0, 0.0], [1, 1]),
    };
    for j in 0..count[1] {
        for i in 0..count[0] {
            let d = [f64::from(i) * pitch[0], f64::from(j) * pitch[1]];
            let shape = match &base {
                Shape::Rect { min, max } => Shape::Rect {
                    min: [min[0] + d[0], min[1] + d[1]],
                    max: [max[0] + d[0], max[1] + d[1]],
                },
                Shape::Circle { center, radius } => Shape::Circle {
                    center: [center[0] + d[0], center[1] + d[1]],
                    radius: *radius,
                },
                Shape::Polygon(p) => {
                    Shape::Polygon(p.iter().map(|v| [v[0] + d[0], v[1] + d[1]]).collect())
                }
            };
            out.push((shape, span.clone()));
        }
    }
    Ok(())
}

fn view(cx: &Ctx, v: Option<&Spanned<RawView>>, grid: &GridSpec) -> Result<ViewSpec, SceneError> {
    let mut spec = ViewSpec {
        azimuth_deg: -35.0,
        elevation_deg: 30.0,
        section_axis: Axis::Y,
        section_index: grid.dims[1] / 2,
        cutaway: false,
    };
    let Some(v) = v else { return Ok(spec) };
    let v = v.get_ref();
    spec.azimuth_deg = v.azimuth.unwrap_or(spec.azimuth_deg);
    spec.elevation_deg = v.elevation.unwrap_or(spec.elevation_deg).clamp(-89.0, 89.0);
    spec.cutaway = v.cutaway.unwrap_or(false);
    if let Some(s) = &v.section {
        let s = s.get_ref();
        spec.section_axis = match s.axis {
            AxisName::X => Axis::X,
            AxisName::Y => Axis::Y,
            AxisName::Z => Axis::Z,
        };
        let a = spec.section_axis.index();
        let at = *s.at.get_ref();
        let size = grid.size_um()[a];
        if !(0.0..size).contains(&at) {
            return Err(cx.err(
                s.at.span(),
                format!("section at {at} µm is outside 0..{size} µm"),
            ));
        }
        spec.section_index = ((at / grid.voxel_um) as u32).min(grid.dims[a] - 1);
    }
    Ok(spec)
}

/// Converts a length in µm to whole voxels, refusing what rounds to nothing.
fn voxels(cx: &Ctx, v: &Spanned<f64>, what: &str, grid: &GridSpec) -> Result<u32, SceneError> {
    let x = *v.get_ref();
    if !(x > 0.0 && x.is_finite()) {
        return Err(cx.err(v.span(), format!("{what} must be > 0 µm, got {x}")));
    }
    let n = (x / grid.voxel_um).round();
    if n < 1.0 {
        return Err(cx.err(
            v.span(),
            format!(
                "{what} {x} µm is under half a voxel ({} µm): refine the grid",
                grid.voxel_um
            ),
        ));
    }
    Ok(n.min(f64::from(u32::MAX)) as u32)
}

fn material(cx: &Ctx, name: &Spanned<String>, table: &MaterialTable) -> Result<u8, SceneError> {
    match table.id(name.get_ref()) {
        Some(0) => Err(cx.err(name.span(), "`void` cannot be a process material")),
        Some(id) => Ok(id),
        None => Err(cx.err(name.span(), unknown_material(name.get_ref(), table))),
    }
}

fn mask_ref(
    cx: &Ctx,
    m: &Option<Spanned<String>>,
    masks: &[Mask],
) -> Result<Option<usize>, SceneError> {
    let Some(m) = m else { return Ok(None) };
    masks
        .iter()
        .position(|k| &k.name == m.get_ref())
        .map(Some)
        .ok_or_else(|| {
            let names: Vec<&str> = masks.iter().map(|k| k.name.as_str()).collect();
            cx.err(
                m.span(),
                format!(
                    "unknown mask `{}`; defined: {}",
                    m.get_ref(),
                    if names.is_empty() {
                        "none".into()
                    } else {
                        names.join(", ")
                    }
                ),
            )
        })
}

fn step(
    cx: &Ctx,
    index: usize,
    item: Spanned<DeValue<'_>>,
    grid: &GridSpec,
    table: &MaterialTable,
    masks: &[Mask],
) -> Result<Step, SceneError> {
    let span = item.span();
    let line = line_col(cx.loc.src, span.start).0;
    let DeValue::Table(mut t) = item.into_inner() else {
        return Err(cx.err(span, "each step must be a table"));
    };
    let take_str =
        |t: &mut DeTable<'_>, key: &str| -> Result<Option<(String, Range<usize>)>, SceneError> {
            let Some(k) = t
                .iter()
                .find(|(k, _)| k.get_ref() == key)
                .map(|(k, _)| k.clone())
            else {
                return Ok(None);
            };
            let v = t.remove(&k).expect("key just found");
            let vs = v.span();
            match v.into_inner() {
                DeValue::String(s) => Ok(Some((s.into_owned(), vs))),
                other => Err(cx.err(
                    vs,
                    format!("`{key}` must be a string, got {}", other.type_str()),
                )),
            }
        };
    let (op, op_span) = take_str(&mut t, "op")?.ok_or_else(|| {
        cx.err(
            span.clone(),
            format!(
                "step {} has no `op`; expected one of {}",
                index + 1,
                OPS.join(", ")
            ),
        )
    })?;
    let name = take_str(&mut t, "name")?.map_or_else(|| format!("{}_{op}", index + 1), |(n, _)| n);
    if name.is_empty() || name.len() > 64 {
        return Err(cx.err(span, "step name must be 1..64 characters"));
    }
    let body = Spanned::new(span.clone(), DeValue::Table(t));
    let op = match op.as_str() {
        "substrate" => {
            let r: RawSubstrate = cx.typed(body)?;
            let thick = voxels(cx, &r.thickness, "thickness", grid)?;
            let z0 = match &r.z {
                Some(z) if *z.get_ref() < 0.0 => return Err(cx.err(z.span(), "z must be >= 0 µm")),
                Some(z) => (z.get_ref() / grid.voxel_um).round() as u32,
                None => 0,
            };
            if z0 >= grid.dims[2] {
                return Err(cx.err(
                    r.z.as_ref().map_or(span.clone(), |z| z.span()),
                    "substrate starts above the domain",
                ));
            }
            Op::Substrate {
                material: material(cx, &r.material, table)?,
                z0,
                z1: (z0 + thick).min(grid.dims[2]),
                mask: mask_ref(cx, &r.mask, masks)?,
            }
        }
        "deposit" => {
            let r: RawDeposit = cx.typed(body)?;
            let mode = match *r.mode.get_ref() {
                DepositModeName::Planarize => match (&r.thickness, &r.height) {
                    (Some(t), None) => DepositMode::Planarize { top: PlanarTop::AboveHighest(voxels(cx, t, "thickness", grid)?) },
                    (None, Some(h)) => DepositMode::Planarize { top: PlanarTop::Height(voxels(cx, h, "height", grid)?) },
                    _ => return Err(cx.err(r.mode.span(), "planarize needs exactly one of `thickness` (above the highest surface) or `height` (absolute)")),
                },
                m => {
                    if let Some(h) = &r.height {
                        return Err(cx.err(h.span(), "`height` is for mode = \"planarize\" only"));
                    }
                    let t = r.thickness.as_ref().ok_or_else(|| cx.err(r.mode.span(), "deposit needs `thickness` (µm)"))?;
                    let thickness = voxels(cx, t, "thickness", grid)?;
                    if m == DepositModeName::Conformal {
                        DepositMode::Conformal { thickness }
                    } else {
                        DepositMode::Directional { thickness }
                    }
                }
            };
            Op::Deposit {
                material: material(cx, &r.material, table)?,
                mode,
                mask: mask_ref(cx, &r.mask, masks)?,
            }
        }
        "pattern" => {
            let r: RawPattern = cx.typed(body)?;
            Op::Pattern {
                material: material(cx, &r.material, table)?,
                mask: mask_ref(cx, &Some(r.mask), masks)?.expect("mask given"),
                tone: match r.tone.unwrap_or(ToneName::Positive) {
                    ToneName::Positive => Tone::Positive,
                    ToneName::Negative => Tone::Negative,
                },
            }
        }
        "etch" => {
            let r: RawEtch = cx.typed(body)?;
            if r.materials.get_ref().is_empty() {
                return Err(cx.err(r.materials.span(), "etch needs at least one material"));
            }
            let materials = r
                .materials
                .get_ref()
                .iter()
                .map(|m| material(cx, m, table))
                .collect::<Result<Vec<_>, _>>()?;
            let mode_span = r.mode.span();
            let only = |ok: bool,
                        v: &Option<Spanned<f64>>,
                        key: &str,
                        mode: &str|
             -> Result<(), SceneError> {
                match v {
                    Some(v) if !ok => Err(cx.err(
                        v.span(),
                        format!("`{key}` does not apply to mode = \"{mode}\""),
                    )),
                    _ => Ok(()),
                }
            };
            let mode = match *r.mode.get_ref() {
                EtchModeName::Anisotropic => {
                    only(false, &r.distance, "distance", "anisotropic")?;
                    only(false, &r.rate, "rate", "anisotropic")?;
                    only(false, &r.time, "time", "anisotropic")?;
                    EtchMode::Anisotropic {
                        depth: r
                            .depth
                            .as_ref()
                            .map(|d| voxels(cx, d, "depth", grid))
                            .transpose()?,
                    }
                }
                EtchModeName::Isotropic => {
                    only(false, &r.depth, "depth", "isotropic")?;
                    let um = match (&r.distance, &r.rate, &r.time) {
                        (Some(d), None, None) => {
                            voxels(cx, d, "distance", grid)?;
                            *d.get_ref()
                        }
                        (None, Some(rate), Some(time)) => {
                            let d = rate.get_ref() * time.get_ref();
                            voxels(cx, &Spanned::new(rate.span(), d), "rate x time", grid)?;
                            d
                        }
                        _ => return Err(cx.err(mode_span, "isotropic etch needs `distance` (µm) or both `rate` (µm/min) and `time` (min)")),
                    };
                    EtchMode::Isotropic {
                        distance: um / grid.voxel_um,
                    }
                }
                EtchModeName::Strip => {
                    only(false, &r.depth, "depth", "strip")?;
                    only(false, &r.distance, "distance", "strip")?;
                    only(false, &r.rate, "rate", "strip")?;
                    only(false, &r.time, "time", "strip")?;
                    if let Some(m) = &r.mask {
                        return Err(cx.err(
                            m.span(),
                            "a strip reaches wherever the etchant flows; it takes no mask",
                        ));
                    }
                    EtchMode::Strip
                }
            };
            Op::Etch {
                materials,
                mode,
                mask: mask_ref(cx, &r.mask, masks)?,
            }
        }
        other => {
            return Err(cx.err(
                op_span,
                format!("unknown op `{other}`; expected one of {}", OPS.join(", ")),
            ));
        }
    };
    Ok(Step { name, op, line })
}
