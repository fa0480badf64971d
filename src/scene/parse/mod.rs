//! TOML → typed scene, at the document level: the grid, materials, masks, view and
//! probes, with the raw serde tables in `raw` and the per-op lowering of steps in
//! `steps`. Spans are kept so every check can point at the offending value.

mod raw;
mod steps;

use raw::*;
pub use steps::ball_cap;
use steps::step;

use super::error::Locator;
use super::overrides;
use super::*;
use crate::materials::{Material, MaterialTable, parse_color};
use crate::scene::analysis::VoxelField;
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
struct Ctx<'a> {
    loc: Locator<'a>,
    applied: Vec<overrides::Applied>,
    /// Every length rounded to whole voxels: the value's span and its voxel count, so
    /// an overridden length can report what the grid realises.
    rounded: std::cell::RefCell<Vec<(Range<usize>, u32)>>,
}

impl Ctx<'_> {
    /// `um` rounded to whole voxels of `h`, remembered against `span`.
    fn round_voxels(&self, span: Range<usize>, um: f64, h: f64) -> u32 {
        let n = (um / h).round().clamp(0.0, f64::from(u32::MAX)) as u32;
        self.rounded.borrow_mut().push((span, n));
        n
    }

    /// Corrects the voxel count remembered against `span` to what the grid realises.
    fn realised(&self, span: Range<usize>, voxels: u32) {
        if let Some(e) = self
            .rounded
            .borrow_mut()
            .iter_mut()
            .rev()
            .find(|(s, _)| *s == span)
        {
            e.1 = voxels;
        }
    }

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
    let cx = Ctx {
        loc,
        applied,
        rounded: Default::default(),
    };

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

    let mut relative_displacements = Vec::new();
    for (name, r) in &raw.relative_displacements {
        let size = grid.size_um();
        let mut at = [[0.0; 3]; 2];
        for (k, p) in [&r.get_ref().from, &r.get_ref().to].into_iter().enumerate() {
            let v = *p.get_ref();
            if (0..3).any(|a| !(0.0..=size[a]).contains(&v[a])) {
                return Err(cx.err(
                    p.span(),
                    format!("relative displacement `{name}`: point {v:?} µm is outside the domain"),
                ));
            }
            at[k] = v;
        }
        relative_displacements.push(RelativeDisplacement {
            name: name.clone(),
            from: at[0],
            to: at[1],
        });
    }

    let board = raw
        .board
        .as_ref()
        .map(|b| board(&cx, b, &grid, &materials))
        .transpose()?;

    let resolved = resolved_overrides(&cx, grid.voxel_um);
    Ok(Scene {
        resolved,
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
        relative_displacements,
        board,
        grid_at: {
            let (line, col) = line_col(src, raw.grid.get_ref().size.span().start);
            [line, col]
        },
    })
}

/// Most voxels of a board study's quarter global model.
const MAX_GLOBAL_VOXELS: u64 = 1 << 28;

/// `[board]`, checked against the cell it belongs to: the cell is one pitch square,
/// the global voxel a whole multiple of the cell's, and every global length a whole
/// number of global voxels, so the two models' voxel planes line up.
fn board(
    cx: &Ctx,
    b: &Spanned<RawBoard>,
    grid: &GridSpec,
    materials: &MaterialTable,
) -> Result<BoardSpec, SceneError> {
    let whole = b.span();
    let r = b.get_ref();
    let size = grid.size_um();
    let h = grid.voxel_um;
    if (size[0] - size[1]).abs() > 1e-9 * size[0] {
        return Err(cx.err(
            whole,
            format!(
                "[board]: the cell must be one pitch square in x and y, but the grid is {} x {} µm",
                size[0], size[1]
            ),
        ));
    }
    let pitch = size[0];
    let num = |v: &Option<Spanned<f64>>, default: f64, what: &str| -> Result<f64, SceneError> {
        match v {
            None => Ok(default),
            Some(v) if v.get_ref().is_finite() && *v.get_ref() > 0.0 => Ok(*v.get_ref()),
            Some(v) => Err(cx.err(
                v.span(),
                format!(
                    "[board] {what} must be a positive length in µm, got {}",
                    v.get_ref()
                ),
            )),
        }
    };
    let global_voxel = num(&r.global_voxel, 20.0, "global_voxel")?;
    let ratio = global_voxel / h;
    if (ratio - ratio.round()).abs() > 1e-6 || ratio.round() < 1.0 {
        let span = r.global_voxel.as_ref().map_or(whole.clone(), |v| v.span());
        return Err(cx.err(
            span,
            format!(
                "[board] global_voxel {global_voxel} µm must be a whole multiple of the cell's voxel {h} µm"
            ),
        ));
    }
    let multiple = |v: &Option<Spanned<f64>>, x: f64, step: f64, what: &str| {
        let k = x / step;
        if (k - k.round()).abs() > 1e-6 || k.round() < 1.0 {
            let span = v.as_ref().map_or(whole.clone(), |v| v.span());
            return Err(cx.err(
                span,
                format!("[board] {what} = {x} µm must be a whole multiple of {step} µm"),
            ));
        }
        Ok(x)
    };
    if ((pitch / 2.0) / global_voxel - (pitch / 2.0 / global_voxel).round()).abs() > 1e-6 {
        return Err(cx.err(
            r.global_voxel.as_ref().map_or(whole.clone(), |v| v.span()),
            format!(
                "[board] half the pitch ({} µm, the cell's grid size) must be a whole multiple \
                 of global_voxel {global_voxel} µm, so joint centres fall on global voxel planes",
                pitch / 2.0
            ),
        ));
    }
    let die_thickness = multiple(
        &r.die_thickness,
        num(&r.die_thickness, 300.0, "die_thickness")?,
        global_voxel,
        "die_thickness",
    )?;
    let board_thickness = multiple(
        &r.board_thickness,
        num(&r.board_thickness, 800.0, "board_thickness")?,
        global_voxel,
        "board_thickness",
    )?;
    let overhang = multiple(
        &r.overhang,
        num(&r.overhang, 500.0, "overhang")?,
        global_voxel,
        "overhang",
    )?;
    let column = multiple(
        &r.column,
        num(&r.column, 2.0 * global_voxel, "column")?,
        2.0 * global_voxel,
        "column",
    )?;
    if column >= pitch {
        return Err(cx.err(
            r.column.as_ref().map_or(whole.clone(), |v| v.span()),
            format!("[board] column {column} µm must be narrower than the pitch {pitch} µm"),
        ));
    }
    let layer = num(&r.layer, 3.0 * h, "layer")?;
    let die = match &r.die {
        None => [4000.0, 4000.0],
        Some(d) => {
            let v = *d.get_ref();
            if v.iter().any(|x| !(x.is_finite() && *x > 0.0)) {
                return Err(cx.err(
                    d.span(),
                    format!("[board] die must be two positive sizes in µm, got {v:?}"),
                ));
            }
            for x in v {
                let k = x / 2.0 / global_voxel;
                if (k - k.round()).abs() > 1e-6 {
                    return Err(cx.err(
                        d.span(),
                        format!("[board] half the die ({} µm) must be a whole multiple of global_voxel {global_voxel} µm", x / 2.0),
                    ));
                }
            }
            v
        }
    };
    let joints = match &r.joints {
        None => die.map(|d| ((d / pitch) + 1e-9).floor() as u32),
        Some(j) => *j.get_ref(),
    };
    for a in 0..2 {
        if joints[a] == 0 || f64::from(joints[a]) * pitch > die[a] + 1e-9 {
            let span = r.joints.as_ref().map_or(whole.clone(), |v| v.span());
            return Err(cx.err(
                span,
                format!(
                    "[board] {} joints at pitch {pitch} µm do not fit on the {} µm die (axis {})",
                    joints[a],
                    die[a],
                    ["x", "y"][a]
                ),
            ));
        }
    }
    let material = |v: &Option<Spanned<String>>, default: &str, what: &str| {
        let name = v.as_ref().map_or(default, |v| v.get_ref().as_str());
        materials.id(name).filter(|&id| id != 0).ok_or_else(|| {
            let span = v.as_ref().map_or(whole.clone(), |v| v.span());
            cx.err(
                span,
                format!(
                    "[board] {what}: unknown material `{name}`{}",
                    suggest(name, &materials.names())
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default()
                ),
            )
        })
    };
    let column_fit = match r
        .column_fit
        .as_ref()
        .map(|v| (v.get_ref().as_str(), v.span()))
    {
        None | Some(("mean", _)) => ColumnFit::Mean,
        Some(("x", _)) => ColumnFit::X,
        Some(("y", _)) => ColumnFit::Y,
        Some((other, span)) => {
            return Err(cx.err(
                span,
                format!("[board] column_fit must be \"mean\", \"x\" or \"y\", got {other:?}"),
            ));
        }
    };
    let mut edges = [true; 2];
    if let Some(list) = &r.local {
        edges = [false; 2];
        let mut corner = false;
        for name in list.get_ref() {
            match name.get_ref().as_str() {
                "corner" => corner = true,
                "x_edge" => edges[0] = true,
                "y_edge" => edges[1] = true,
                other => {
                    return Err(cx.err(
                        name.span(),
                        format!(
                            "[board] local: unknown joint {other:?}; expected \"corner\", \"x_edge\" or \"y_edge\""
                        ),
                    ));
                }
            }
        }
        if !corner {
            return Err(cx.err(
                list.span(),
                "[board] local must include \"corner\" (the joint the comparison ranks designs by)",
            ));
        }
    }
    let spec = BoardSpec {
        die,
        column_fit,
        edges,
        die_thickness,
        pitch,
        joints,
        board_thickness,
        overhang,
        global_voxel,
        column,
        die_material: material(&r.die_material, "si", "die_material")?,
        board_material: material(&r.board_material, "fr4", "board_material")?,
        solder: material(&r.solder, "sac305", "solder")?,
        layer,
        line: line_col(cx.loc.src, whole.start).0,
    };
    let q = spec.quarter_size();
    let voxels = (q[0] / global_voxel).ceil()
        * (q[1] / global_voxel).ceil()
        * ((die_thickness + board_thickness + size[2]) / global_voxel).ceil();
    if voxels > MAX_GLOBAL_VOXELS as f64 {
        return Err(cx.err(
            r.global_voxel.as_ref().map_or(whole, |v| v.span()),
            format!(
                "[board] the quarter global model needs about {voxels:.0} voxels at \
                 {global_voxel} µm (at most {MAX_GLOBAL_VOXELS}): coarsen global_voxel"
            ),
        ));
    }
    Ok(spec)
}

/// The `--set` values the grid rounds to whole voxels, as the grid realises them.
fn resolved_overrides(cx: &Ctx, h: f64) -> Vec<ResolvedOverride> {
    let rounded = cx.rounded.borrow();
    cx.applied
        .iter()
        .filter_map(|a| {
            let (_, n) = rounded.iter().rev().find(|(s, _)| *s == a.span)?;
            Some(ResolvedOverride {
                key: a.key.clone(),
                voxels: *n,
                um: f64::from(*n) * h,
            })
        })
        .collect()
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
    let names = table.names();
    let hint = suggest(name, &names)
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    format!(
        "unknown material `{name}`{hint}; known: {}",
        names.join(", ")
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
    cx.round_voxels(v.span(), x, grid.voxel_um);
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

/// The index of the mask a step names; `!name` is the complement of mask `name` (added
/// to the scene's masks once, as `!name`), so a step can pattern outside a mask's shapes
/// without a copy of them.
fn mask_ref(
    cx: &Ctx,
    m: &Option<Spanned<String>>,
    masks: &mut Vec<Mask>,
) -> Result<Option<usize>, SceneError> {
    let Some(m) = m else { return Ok(None) };
    let want = m.get_ref().trim();
    if let Some(i) = masks.iter().position(|k| k.name == want) {
        return Ok(Some(i));
    }
    if let Some(base) = want.strip_prefix('!').map(str::trim)
        && let Some(b) = masks.iter().position(|k| k.name == base)
    {
        let mut inv = masks[b].clone();
        inv.name = want.to_string();
        inv.invert = !inv.invert;
        masks.push(inv);
        return Ok(Some(masks.len() - 1));
    }
    let names: Vec<&str> = masks
        .iter()
        .map(|k| k.name.as_str())
        .filter(|n| !n.starts_with('!'))
        .collect();
    let base = want.trim_start_matches('!');
    let hint = suggest(base, &names)
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    Err(cx.err(
        m.span(),
        format!(
            "unknown mask `{want}`{hint}; defined: {} (`!name` inverts a mask)",
            if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            }
        ),
    ))
}

/// The candidate closest to `name` by edit distance, if it is close (at most a third of
/// the name's length, at least 1 edit) — for "did you mean" hints.
pub(crate) fn suggest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    // Optimal string alignment distance: edits and adjacent transpositions.
    let lev = |a: &str, b: &str| -> usize {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let w = b.len() + 1;
        let mut d = vec![0usize; (a.len() + 1) * w];
        for i in 0..=a.len() {
            for j in 0..=b.len() {
                d[i * w + j] = if i == 0 || j == 0 {
                    i + j
                } else {
                    let mut v = (d[(i - 1) * w + j - 1] + usize::from(a[i - 1] != b[j - 1]))
                        .min(d[(i - 1) * w + j] + 1)
                        .min(d[i * w + j - 1] + 1);
                    if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                        v = v.min(d[(i - 2) * w + j - 2] + 1);
                    }
                    v
                };
            }
        }
        d[a.len() * w + b.len()]
    };
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (lev(&name.to_lowercase(), &c.to_lowercase()), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}
