//! TOML → typed scene. Raw serde structs keep spans so every check can point at
//! the offending value; steps are typed one by one after their `op` is read.

use super::error::Locator;
use super::overrides;
use super::*;
use crate::materials::{Material, MaterialTable, parse_color};
use crate::stress::VoxelField;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

/// Largest grid index space: shaders index voxels with u32.
const MAX_VOXELS: u64 = 1 << 31;
/// Most copies one `array` makes.
const MAX_ARRAY_COPIES: u64 = 1_000_000;
/// Most GPU shape records (16 bytes each) of one mask: 64 MiB, half the smallest
/// storage binding voxfab supports, so the shapes buffer always binds.
pub const MAX_MASK_RECORDS: u64 = 1 << 22;

const OPS: &[&str] = &[
    "substrate",
    "deposit",
    "pattern",
    "etch",
    "drill",
    "plate",
    "grind",
    "flip",
    "bond",
    "dispense",
    "dice",
    "ball",
    "wirebond",
    "stress",
];

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
    #[serde(default)]
    probes: BTreeMap<String, Spanned<RawProbe>>,
    #[serde(default)]
    stress_probes: BTreeMap<String, Spanned<RawStressProbe>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStressProbe {
    /// x0, y0, z0, x1, y1, z1 in µm.
    #[serde(rename = "box")]
    bounds: Spanned<[f64; 6]>,
    field: Option<Spanned<String>>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum SupportName {
    Free,
    BottomFixed,
    BottomRoller,
    Clamped,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStress {
    /// Stress-free temperature, °C (e.g. solder solidification).
    stress_free: Option<Spanned<f64>>,
    /// Final temperature, °C.
    #[serde(rename = "final")]
    final_c: Option<Spanned<f64>>,
    /// Or the temperature change directly, K.
    delta_t: Option<Spanned<f64>>,
    support: Option<SupportName>,
    #[serde(default)]
    symmetry: Vec<Spanned<AxisName>>,
    tol: Option<Spanned<f64>>,
    max_iterations: Option<Spanned<u32>>,
    coarsen: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProbe {
    at: Spanned<[f64; 3]>,
    net: Option<String>,
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
    count: Spanned<[u32; 2]>,
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
    gds: Option<Spanned<RawGds>>,
    #[serde(default)]
    invert: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGds {
    /// GDSII file, relative to the scene file.
    file: String,
    layer: i16,
    datatype: Option<i16>,
    cell: Option<String>,
    /// Added to every point, µm.
    offset: Option<[f64; 2]>,
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
    tone: Option<Spanned<ToneName>>,
    /// Sidewall angle from vertical, degrees.
    angle: Option<Spanned<f64>>,
    ramp: Option<Spanned<RawRamp>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRamp {
    from: [f64; 2],
    to: [f64; 2],
    /// Resist top height (µm) at `from` and at `to`.
    z_from: f64,
    z_to: f64,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum SideName {
    Top,
    Bottom,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDrill {
    mask: Spanned<String>,
    materials: Option<Spanned<Vec<Spanned<String>>>>,
    from: Option<SideName>,
    depth: Option<Spanned<f64>>,
    /// Taper angle from vertical, degrees.
    taper: Option<Spanned<f64>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum PlateModeName {
    Fill,
    Conformal,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlate {
    material: Spanned<String>,
    mode: Spanned<PlateModeName>,
    seeds: Option<Spanned<Vec<Spanned<String>>>>,
    height: Option<Spanned<f64>>,
    thickness: Option<Spanned<f64>>,
    mask: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrind {
    /// Height in µm of the new surface.
    height: Spanned<f64>,
    /// Which side is ground away (default top).
    from: Option<SideName>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlip {}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum BondMethodName {
    Eutectic,
    Acf,
    Adhesive,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBond {
    /// The part placed onto this step's part.
    place: Spanned<String>,
    method: Spanned<BondMethodName>,
    offset: Option<[f64; 2]>,
    /// Film material (default `acf` / `adhesive`).
    material: Option<Spanned<String>>,
    /// Adhesive thickness, or the ACF particle gap, in µm.
    thickness: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDispense {
    material: Spanned<String>,
    mask: Spanned<String>,
    height: Option<Spanned<f64>>,
    thickness: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDice {
    /// x positions (µm) of scribe lines running along y.
    #[serde(default)]
    lines_x: Vec<f64>,
    /// y positions (µm) of scribe lines running along x.
    #[serde(default)]
    lines_y: Vec<f64>,
    width: Spanned<f64>,
    materials: Option<Spanned<Vec<Spanned<String>>>>,
    depth: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBall {
    material: Option<Spanned<String>>,
    /// Pads: a mask of circles (centre, pad radius).
    mask: Spanned<String>,
    /// Solder volume per ball, µm³ ...
    volume: Option<Spanned<f64>>,
    /// ... or the diameter of the free sphere of that volume, µm.
    diameter: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWire {
    from: [f64; 2],
    to: [f64; 2],
    /// Loop height above the higher end, µm.
    #[serde(rename = "loop")]
    loop_height: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWirebond {
    material: Option<Spanned<String>>,
    diameter: Spanned<f64>,
    wires: Spanned<Vec<RawWire>>,
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

    let mut masks = masks;
    let mut parts = vec!["main".to_string()];
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
                let s = step(&cx, i, item, &grid, &materials, &mut masks, &mut parts)?;
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

    let mut probes = Vec::new();
    for (name, p) in &raw.probes {
        let at = *p.get_ref().at.get_ref();
        let size = grid.size_um();
        if (0..3).any(|a| !(0.0..size[a]).contains(&at[a])) {
            return Err(cx.err(
                p.get_ref().at.span(),
                format!("probe `{name}` at {at:?} µm is outside the domain"),
            ));
        }
        probes.push(Probe {
            name: name.clone(),
            at,
            net: p.get_ref().net.clone(),
        });
    }

    let mut stress_probes = Vec::new();
    for (name, p) in &raw.stress_probes {
        let b = *p.get_ref().bounds.get_ref();
        if (0..3).any(|a| b[a].is_nan() || b[a] >= b[a + 3]) {
            return Err(cx.err(
                p.get_ref().bounds.span(),
                format!("stress probe `{name}`: box needs x0 < x1, y0 < y1, z0 < z1"),
            ));
        }
        let field = match &p.get_ref().field {
            None => VoxelField::VonMises,
            Some(f) => match f.get_ref().as_str() {
                "von_mises" => VoxelField::VonMises,
                "max_principal" => VoxelField::MaxPrincipal,
                "xx" => VoxelField::Stress(0),
                "yy" => VoxelField::Stress(1),
                "zz" => VoxelField::Stress(2),
                "yz" => VoxelField::Stress(3),
                "xz" => VoxelField::Stress(4),
                "xy" => VoxelField::Stress(5),
                other => {
                    return Err(cx.err(f.span(), format!("unknown stress field `{other}`; expected von_mises, max_principal, xx, yy, zz, yz, xz or xy")));
                }
            },
        };
        stress_probes.push(StressProbe {
            name: name.clone(),
            min: [b[0], b[1], b[2]],
            max: [b[3], b[4], b[5]],
            field,
        });
    }

    Ok(Scene {
        file: file.to_string(),
        title: raw.title.unwrap_or_else(|| file.to_string()),
        grid,
        materials,
        masks,
        steps,
        view,
        parts,
        probes,
        stress_probes,
        grid_at: {
            let (line, col) = line_col(src, raw.grid.get_ref().size.span().start);
            [line, col]
        },
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
    // u128: three u32 axes overflow u64 (4194304³ = 2^66 wrapped to 0).
    let voxels: u128 = dims.iter().map(|&d| u128::from(d)).product();
    if voxels > u128::from(MAX_VOXELS) {
        return Err(cx.err(
            g.get_ref().size.span(),
            format!(
                "grid of {}x{}x{} = {voxels} voxels exceeds the {MAX_VOXELS} voxel index limit: \
                 coarsen the voxel or shrink the domain",
                dims[0], dims[1], dims[2],
            ),
        ));
    }
    Ok(GridSpec {
        dims,
        voxel_um: voxel,
    })
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
        let mut records = 0u64;
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
            expand(
                cx,
                &top,
                m.array.as_ref(),
                top_span,
                &mut shapes,
                &mut records,
            )?;
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
                &mut records,
            )?;
        }
        if let Some(g) = &m.gds {
            let r = g.get_ref();
            let dir = std::path::Path::new(cx.loc.file)
                .parent()
                .unwrap_or(std::path::Path::new("."));
            let found = super::gds::shapes(
                &dir.join(&r.file),
                r.cell.as_deref(),
                r.layer,
                r.datatype,
                r.offset.unwrap_or([0.0, 0.0]),
            )
            .map_err(|e| cx.err(g.span(), format!("mask `{name}`: {e}")))?;
            records += found.iter().map(Shape::records).sum::<u64>();
            if records > MAX_MASK_RECORDS {
                return Err(cx.err(
                    g.span(),
                    format!(
                        "mask `{name}` too large: its shapes need {records} records, at most {MAX_MASK_RECORDS}"
                    ),
                ));
            }
            shapes.extend(found.into_iter().map(|s| (s, g.span())));
        }
        if shapes.is_empty() {
            return Err(cx.err(
                span.clone(),
                format!("mask `{name}` has no shape (rect, circle, polygon, shapes = [...] or gds = {{...}})"),
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

/// Adds `s` (repeated over `array`) to `out`; `records` counts the mask's GPU shape
/// records so far (see [`Shape::records`]) and is checked against the cap first.
fn expand(
    cx: &Ctx,
    s: &RawShape,
    array: Option<&RawArray>,
    span: Range<usize>,
    out: &mut Vec<(Shape, Range<usize>)>,
    records: &mut u64,
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
            let count = *a.count.get_ref();
            // u64: the product of two u32 counts overflows u32 (65536 x 65536 wrapped to 0).
            let copies = u64::from(count[0]) * u64::from(count[1]);
            if copies == 0 || copies > MAX_ARRAY_COPIES {
                return Err(cx.err(
                    a.count.span(),
                    format!(
                        "array count must give 1..{MAX_ARRAY_COPIES} copies in total, got {count:?} = {copies}"
                    ),
                ));
            }
            if !(a.pitch[0].is_finite() && a.pitch[1].is_finite()) {
                return Err(cx.err(
                    span,
                    format!("array pitch must be finite, got {:?}", a.pitch),
                ));
            }
            (a.pitch, count)
        }
        None => ([0.0, 0.0], [1, 1]),
    };
    // Checked before anything is pushed, so no input allocates past the cap.
    let copies = u64::from(count[0]) * u64::from(count[1]);
    let total = *records + copies * base.records();
    if total > MAX_MASK_RECORDS {
        return Err(cx.err(
            span,
            format!(
                "mask too large: its shapes need {total} GPU records of 16 bytes, at most \
                 {MAX_MASK_RECORDS}: use fewer or simpler shapes"
            ),
        ));
    }
    *records = total;
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
    masks: &mut Vec<Mask>,
    parts: &mut Vec<String>,
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
    let part = match take_str(&mut t, "part")? {
        Some((p, _)) => part_index(parts, &p),
        None => 0,
    };
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
            let tone = match r.tone.as_ref().map_or(ToneName::Positive, |t| *t.get_ref()) {
                ToneName::Positive => Tone::Positive,
                ToneName::Negative => Tone::Negative,
            };
            let ramp = match &r.ramp {
                Some(rp) => {
                    if tone == Tone::Negative {
                        return Err(cx.err(rp.span(), "a grey-tone `ramp` exposes a positive resist: drop tone = \"negative\""));
                    }
                    let q = rp.get_ref();
                    if q.from == q.to {
                        return Err(cx.err(rp.span(), "ramp `from` and `to` must differ"));
                    }
                    Some(Ramp {
                        p0: q.from,
                        p1: q.to,
                        z0: q.z_from / grid.voxel_um,
                        z1: q.z_to / grid.voxel_um,
                    })
                }
                None => None,
            };
            Op::Pattern {
                material: material(cx, &r.material, table)?,
                mask: mask_ref(cx, &Some(r.mask), masks)?.expect("mask given"),
                tone,
                taper: angle_tan(cx, r.angle.as_ref(), "angle")?,
                ramp,
            }
        }
        "drill" => {
            let r: RawDrill = cx.typed(body)?;
            Op::Drill {
                materials: materials_list(cx, r.materials.as_ref(), table)?,
                mask: mask_ref(cx, &Some(r.mask), masks)?.expect("mask given"),
                from: match r.from.unwrap_or(SideName::Top) {
                    SideName::Top => Side::Top,
                    SideName::Bottom => Side::Bottom,
                },
                depth: r
                    .depth
                    .as_ref()
                    .map(|d| voxels(cx, d, "depth", grid))
                    .transpose()?,
                taper: angle_tan(cx, r.taper.as_ref(), "taper")?,
            }
        }
        "plate" => {
            let r: RawPlate = cx.typed(body)?;
            let mode = match *r.mode.get_ref() {
                PlateModeName::Fill => {
                    if let Some(t) = &r.thickness {
                        return Err(cx.err(t.span(), "`thickness` is for mode = \"conformal\"; a fill takes `height` or fills until full"));
                    }
                    PlateMode::Fill {
                        top: r
                            .height
                            .as_ref()
                            .map(|h| voxels(cx, h, "height", grid))
                            .transpose()?,
                    }
                }
                PlateModeName::Conformal => {
                    if let Some(h) = &r.height {
                        return Err(cx.err(h.span(), "`height` is for mode = \"fill\""));
                    }
                    let t = r.thickness.as_ref().ok_or_else(|| {
                        cx.err(r.mode.span(), "conformal plating needs `thickness` (µm)")
                    })?;
                    PlateMode::Conformal {
                        thickness: voxels(cx, t, "thickness", grid)?,
                    }
                }
            };
            let mut seeds = materials_list(cx, r.seeds.as_ref(), table)?;
            if seeds.is_empty() {
                seeds = table
                    .iter()
                    .filter(|(id, m)| *id != 0 && m.conductor)
                    .map(|(id, _)| id)
                    .collect();
            }
            Op::Plate {
                material: material(cx, &r.material, table)?,
                mode,
                seeds,
                mask: mask_ref(cx, &r.mask, masks)?,
            }
        }
        "grind" => {
            let r: RawGrind = cx.typed(body)?;
            let h = *r.height.get_ref();
            let size = grid.size_um()[2];
            if !(h > 0.0 && h < size) {
                return Err(cx.err(
                    r.height.span(),
                    format!("grind height must be inside 0..{size} µm, got {h}"),
                ));
            }
            let z = (h / grid.voxel_um).round() as u32;
            Op::Grind {
                keep: match r.from.unwrap_or(SideName::Top) {
                    SideName::Top => GrindKeep::Below(z),
                    SideName::Bottom => GrindKeep::Above(z),
                },
            }
        }
        "flip" => {
            let _: RawFlip = cx.typed(body)?;
            Op::Flip
        }
        "bond" => {
            let r: RawBond = cx.typed(body)?;
            let placed = part_index(parts, r.place.get_ref());
            if placed == part {
                return Err(cx.err(r.place.span(), "a part cannot be bonded onto itself"));
            }
            let method = match *r.method.get_ref() {
                BondMethodName::Eutectic => BondMethod::Eutectic,
                BondMethodName::Acf => BondMethod::Acf,
                BondMethodName::Adhesive => BondMethod::Adhesive,
            };
            let film = match (&r.material, method) {
                (Some(m), BondMethod::Eutectic) => {
                    return Err(cx.err(m.span(), "a eutectic bond has no film material"));
                }
                (Some(m), _) => material(cx, m, table)?,
                (None, BondMethod::Acf) => table.id("acf").expect("built-in"),
                (None, _) => table.id("adhesive").expect("built-in"),
            };
            let gap = match (&r.thickness, method) {
                (Some(t), BondMethod::Eutectic) => {
                    return Err(cx.err(t.span(), "a eutectic bond takes no thickness"));
                }
                (Some(t), _) => voxels(cx, t, "thickness", grid)?,
                (None, BondMethod::Adhesive) => {
                    return Err(cx.err(r.method.span(), "an adhesive bond needs `thickness` (µm)"));
                }
                (None, _) => 0,
            };
            let off = r.offset.unwrap_or([0.0, 0.0]);
            let kind = StepKind::Bond(BondSpec {
                part: placed,
                offset: [
                    (off[0] / grid.voxel_um).round() as i32,
                    (off[1] / grid.voxel_um).round() as i32,
                ],
                method,
                film,
                gap,
            });
            return Ok(Step {
                name,
                kind,
                part,
                line,
            });
        }
        "dispense" => {
            let r: RawDispense = cx.typed(body)?;
            let top = match (&r.thickness, &r.height) {
                (Some(t), None) => PlanarTop::AboveHighest(voxels(cx, t, "thickness", grid)?),
                (None, Some(h)) => PlanarTop::Height(voxels(cx, h, "height", grid)?),
                _ => return Err(cx.err(span.clone(), "dispense needs exactly one of `height` (absolute, µm) or `thickness` (above the highest surface)")),
            };
            Op::Dispense {
                material: material(cx, &r.material, table)?,
                mask: mask_ref(cx, &Some(r.mask), masks)?.expect("mask given"),
                top,
            }
        }
        "dice" => {
            let r: RawDice = cx.typed(body)?;
            let w = *r.width.get_ref();
            voxels(cx, &r.width, "width", grid)?;
            if r.lines_x.is_empty() && r.lines_y.is_empty() {
                return Err(cx.err(
                    span.clone(),
                    "dice needs scribe lines: `lines_x` and/or `lines_y` (µm)",
                ));
            }
            let size = grid.size_um();
            let mut shapes = Vec::new();
            for &x in &r.lines_x {
                shapes.push(Shape::Rect {
                    min: [x - w / 2.0, -1.0],
                    max: [x + w / 2.0, size[1] + 1.0],
                });
            }
            for &y in &r.lines_y {
                shapes.push(Shape::Rect {
                    min: [-1.0, y - w / 2.0],
                    max: [size[0] + 1.0, y + w / 2.0],
                });
            }
            masks.push(Mask {
                name: format!("dice:{name}"),
                shapes,
                invert: false,
            });
            Op::Dice {
                materials: materials_list(cx, r.materials.as_ref(), table)?,
                mask: masks.len() - 1,
                depth: r
                    .depth
                    .as_ref()
                    .map(|d| voxels(cx, d, "depth", grid))
                    .transpose()?,
            }
        }
        "ball" => {
            let r: RawBall = cx.typed(body)?;
            let mask = mask_ref(cx, &Some(r.mask.clone()), masks)?.expect("mask given");
            let pad = match masks[mask].shapes.first() {
                Some(Shape::Circle { radius, .. })
                    if !masks[mask].invert
                        && masks[mask].shapes.iter().all(
                            |s| matches!(s, Shape::Circle { radius: q, .. } if q == radius),
                        ) =>
                {
                    *radius
                }
                _ => {
                    return Err(cx.err(
                        r.mask.span(),
                        "ball pads must be a mask of equal circles (centre, pad radius)",
                    ));
                }
            };
            let volume = match (&r.volume, &r.diameter) {
                (Some(v), None) => *v.get_ref(),
                (None, Some(d)) => std::f64::consts::PI * d.get_ref().powi(3) / 6.0,
                _ => return Err(cx.err(span.clone(), "ball needs exactly one of `volume` (µm³) or `diameter` (µm, of the free sphere)")),
            };
            if !(volume > 0.0 && volume.is_finite()) {
                return Err(cx.err(span.clone(), "ball volume must be > 0"));
            }
            let (radius, height) = ball_cap(volume, pad);
            voxels(
                cx,
                &Spanned::new(r.mask.span(), height),
                "ball height",
                grid,
            )?;
            Op::Ball {
                material: match &r.material {
                    Some(m) => material(cx, m, table)?,
                    None => table.id("sac305").expect("built-in"),
                },
                mask,
                radius: radius / grid.voxel_um,
                height: height / grid.voxel_um,
            }
        }
        "wirebond" => {
            let r: RawWirebond = cx.typed(body)?;
            let d = voxels(cx, &r.diameter, "diameter", grid)?;
            let _ = d;
            if r.wires.get_ref().is_empty() {
                return Err(cx.err(r.wires.span(), "wirebond needs at least one wire"));
            }
            let size = grid.size_um();
            let mut wires = Vec::new();
            for w in r.wires.get_ref() {
                for p in [w.from, w.to] {
                    if !(0.0..size[0]).contains(&p[0]) || !(0.0..size[1]).contains(&p[1]) {
                        return Err(cx.err(
                            r.wires.span(),
                            format!("wire end {p:?} µm is outside the domain"),
                        ));
                    }
                }
                if w.loop_height < 0.0 {
                    return Err(cx.err(r.wires.span(), "wire `loop` must be >= 0 µm"));
                }
                wires.push(Wire {
                    from: w.from,
                    to: w.to,
                    loop_height: w.loop_height / grid.voxel_um,
                });
            }
            Op::Wirebond {
                material: match &r.material {
                    Some(m) => material(cx, m, table)?,
                    None => table.id("gold").expect("built-in"),
                },
                wires,
                radius: r.diameter.get_ref() / grid.voxel_um / 2.0,
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
        "stress" => {
            let r: RawStress = cx.typed(body)?;
            let delta_t = match (&r.stress_free, &r.final_c, &r.delta_t) {
                (Some(a), Some(b), None) => b.get_ref() - a.get_ref(),
                (None, None, Some(d)) => *d.get_ref(),
                _ => {
                    return Err(cx.err(
                        span.clone(),
                        "stress needs `stress_free` and `final` (°C), or `delta_t` (K)",
                    ));
                }
            };
            if !delta_t.is_finite() {
                return Err(cx.err(span.clone(), "the temperature change must be finite"));
            }
            let support = match r.support.unwrap_or(SupportName::BottomRoller) {
                SupportName::Free => crate::stress::Support::Free,
                SupportName::BottomFixed => crate::stress::Support::BottomFixed,
                SupportName::BottomRoller => crate::stress::Support::BottomRoller,
                SupportName::Clamped => crate::stress::Support::Clamped,
            };
            let mut bc = crate::stress::BoundaryConditions::new(support);
            for a in &r.symmetry {
                match a.get_ref() {
                    AxisName::X => bc.symmetry_x = true,
                    AxisName::Y => bc.symmetry_y = true,
                    AxisName::Z => {
                        return Err(cx.err(a.span(), "symmetry planes are x = 0 and y = 0 only"));
                    }
                }
            }
            let mut options = crate::stress::SolveOptions::default();
            if let Some(t) = &r.tol {
                let t_val = *t.get_ref();
                if t_val.is_nan() || t_val <= 0.0 || t_val >= 1.0 {
                    return Err(cx.err(t.span(), "tol must be in (0, 1)"));
                }
                options.tol = t_val;
            }
            if let Some(m) = &r.max_iterations {
                if *m.get_ref() == 0 {
                    return Err(cx.err(m.span(), "max_iterations must be > 0"));
                }
                options.max_iterations = *m.get_ref();
            }
            let coarsen = match &r.coarsen {
                Some(c) if !(1..=8).contains(c.get_ref()) => {
                    return Err(cx.err(c.span(), "coarsen must be 1..8"));
                }
                Some(c) => *c.get_ref(),
                None => 1,
            };
            let kind = StepKind::Stress(StressSpec {
                delta_t,
                bc,
                options,
                coarsen,
            });
            return Ok(Step {
                name,
                kind,
                part,
                line,
            });
        }
        other => {
            return Err(cx.err(
                op_span,
                format!("unknown op `{other}`; expected one of {}", OPS.join(", ")),
            ));
        }
    };
    Ok(Step {
        name,
        kind: StepKind::Process(op),
        part,
        line,
    })
}

fn part_index(parts: &mut Vec<String>, name: &str) -> usize {
    parts.iter().position(|p| p == name).unwrap_or_else(|| {
        parts.push(name.to_string());
        parts.len() - 1
    })
}

/// tan of an angle in degrees from vertical, refusing what cannot be a sidewall.
fn angle_tan(cx: &Ctx, a: Option<&Spanned<f64>>, what: &str) -> Result<f64, SceneError> {
    let Some(a) = a else { return Ok(0.0) };
    let deg = *a.get_ref();
    if !(0.0..=75.0).contains(&deg) {
        return Err(cx.err(
            a.span(),
            format!("{what} must be 0..75 degrees from vertical, got {deg}"),
        ));
    }
    Ok(deg.to_radians().tan())
}

fn materials_list(
    cx: &Ctx,
    list: Option<&Spanned<Vec<Spanned<String>>>>,
    table: &MaterialTable,
) -> Result<Vec<u8>, SceneError> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    if list.get_ref().is_empty() {
        return Err(cx.err(
            list.span(),
            "the list is empty: leave the key out to mean every material",
        ));
    }
    list.get_ref()
        .iter()
        .map(|m| material(cx, m, table))
        .collect()
}

/// A reflowed ball wets its pad and is otherwise spherical: the solder above the pad
/// plane is a spherical cap of base radius `pad`. Returns (sphere radius, cap height).
pub fn ball_cap(volume: f64, pad: f64) -> (f64, f64) {
    // Cap volume pi h (3 a^2 + h^2) / 6 grows monotonically with h.
    let vol = |h: f64| std::f64::consts::PI * h * (3.0 * pad * pad + h * h) / 6.0;
    let (mut lo, mut hi) = (0.0, pad.max(1e-9));
    while vol(hi) < volume {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if vol(mid) < volume {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let h = 0.5 * (lo + hi);
    ((pad * pad + h * h) / (2.0 * h), h)
}
