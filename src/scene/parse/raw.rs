//! The scene file as serde reads it: raw tables with spans kept, so every check in
//! the lowering can point at the offending value.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScene {
    pub(super) title: Option<String>,
    pub(super) grid: Spanned<RawGrid>,
    #[serde(default)]
    pub(super) materials: BTreeMap<String, Spanned<RawMaterial>>,
    #[serde(default)]
    pub(super) masks: BTreeMap<String, Spanned<RawMask>>,
    pub(super) view: Option<Spanned<RawView>>,
    #[serde(default)]
    pub(super) probes: BTreeMap<String, Spanned<RawProbe>>,
    #[serde(default)]
    pub(super) stress_probes: BTreeMap<String, Spanned<RawStressProbe>>,
    #[serde(default)]
    pub(super) relative_displacements: BTreeMap<String, Spanned<RawRelative>>,
    pub(super) board: Option<Spanned<RawBoard>>,
}

/// `[board]`: the die, array and board of a pitch cell's board-level study.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBoard {
    pub(super) die: Option<Spanned<[f64; 2]>>,
    pub(super) die_thickness: Option<Spanned<f64>>,
    pub(super) joints: Option<Spanned<[u32; 2]>>,
    pub(super) board_thickness: Option<Spanned<f64>>,
    pub(super) overhang: Option<Spanned<f64>>,
    pub(super) global_voxel: Option<Spanned<f64>>,
    pub(super) column: Option<Spanned<f64>>,
    pub(super) die_material: Option<Spanned<String>>,
    pub(super) board_material: Option<Spanned<String>>,
    pub(super) solder: Option<Spanned<String>>,
    pub(super) layer: Option<Spanned<f64>>,
    pub(super) column_fit: Option<Spanned<String>>,
    pub(super) local: Option<Spanned<Vec<Spanned<String>>>>,
}

/// Two points (µm) whose displacement difference goes to metrics.json.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRelative {
    pub(super) from: Spanned<[f64; 3]>,
    pub(super) to: Spanned<[f64; 3]>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStressProbe {
    /// x0, y0, z0, x1, y1, z1 in µm.
    #[serde(rename = "box")]
    pub(super) bounds: Spanned<[f64; 6]>,
    pub(super) field: Option<Spanned<String>>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub(super) enum SupportName {
    Free,
    BottomFixed,
    BottomRoller,
    Clamped,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStress {
    /// Stress-free temperature, °C (e.g. solder solidification).
    pub(super) stress_free: Option<Spanned<f64>>,
    /// Final temperature, °C.
    #[serde(rename = "final")]
    pub(super) final_c: Option<Spanned<f64>>,
    /// Or the temperature change directly, K.
    pub(super) delta_t: Option<Spanned<f64>>,
    pub(super) support: Option<SupportName>,
    #[serde(default)]
    pub(super) symmetry: Vec<Spanned<AxisName>>,
    pub(super) tol: Option<Spanned<f64>>,
    pub(super) max_iterations: Option<Spanned<u32>>,
    pub(super) coarsen: Option<Spanned<u32>>,
    #[serde(default)]
    pub(super) displace: Vec<Spanned<RawDisplace>>,
}

/// One prescribed displacement of a stress step.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDisplace {
    pub(super) face: Option<Spanned<String>>,
    /// x0, y0, z0, x1, y1, z1 in µm.
    #[serde(rename = "box")]
    pub(super) bounds: Option<Spanned<[f64; 6]>>,
    /// Displacement at `origin`, µm.
    pub(super) u: Spanned<[f64; 3]>,
    /// ∂u_i/∂X_j, row i (dimensionless).
    pub(super) grad: Option<Spanned<[[f64; 3]; 3]>>,
    pub(super) origin: Option<Spanned<[f64; 3]>>,
    pub(super) dofs: Option<Spanned<Vec<Spanned<AxisName>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProbe {
    pub(super) at: Spanned<[f64; 3]>,
    pub(super) net: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGrid {
    /// Domain extent in µm (x, y, z).
    pub(super) size: Spanned<[f64; 3]>,
    /// Voxel edge in µm.
    pub(super) voxel: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMaterial {
    pub(super) base: Option<Spanned<String>>,
    pub(super) description: Option<String>,
    #[serde(rename = "E")]
    pub(super) e: Option<Spanned<f64>>,
    pub(super) nu: Option<Spanned<f64>>,
    pub(super) cte: Option<Spanned<f64>>,
    pub(super) color: Option<Spanned<String>>,
    pub(super) conductor: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawShape {
    pub(super) rect: Option<[f64; 4]>,
    pub(super) circle: Option<[f64; 3]>,
    pub(super) polygon: Option<Vec<[f64; 2]>>,
    pub(super) array: Option<RawArray>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawArray {
    pub(super) pitch: [f64; 2],
    pub(super) count: Spanned<[u32; 2]>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMask {
    pub(super) rect: Option<Spanned<[f64; 4]>>,
    pub(super) circle: Option<Spanned<[f64; 3]>>,
    pub(super) polygon: Option<Spanned<Vec<[f64; 2]>>>,
    pub(super) array: Option<RawArray>,
    #[serde(default)]
    pub(super) shapes: Vec<Spanned<RawShape>>,
    pub(super) gds: Option<Spanned<RawGds>>,
    #[serde(default)]
    pub(super) invert: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGds {
    /// GDSII file, relative to the scene file.
    pub(super) file: String,
    pub(super) layer: i16,
    pub(super) datatype: Option<i16>,
    pub(super) cell: Option<String>,
    /// Added to every point, µm.
    pub(super) offset: Option<[f64; 2]>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawView {
    pub(super) azimuth: Option<f32>,
    pub(super) elevation: Option<f32>,
    pub(super) section: Option<Spanned<RawSection>>,
    pub(super) cutaway: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSection {
    pub(super) axis: AxisName,
    pub(super) at: Spanned<f64>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub(super) enum AxisName {
    X,
    Y,
    Z,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSubstrate {
    pub(super) material: Spanned<String>,
    pub(super) thickness: Spanned<f64>,
    /// Bottom of the slab in µm (default 0).
    pub(super) z: Option<Spanned<f64>>,
    pub(super) mask: Option<Spanned<String>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub(super) enum DepositModeName {
    Conformal,
    Directional,
    Planarize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDeposit {
    pub(super) material: Spanned<String>,
    pub(super) mode: Spanned<DepositModeName>,
    pub(super) thickness: Option<Spanned<f64>>,
    /// Planarize only: absolute top height in µm.
    pub(super) height: Option<Spanned<f64>>,
    pub(super) mask: Option<Spanned<String>>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub(super) enum ToneName {
    Positive,
    Negative,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPattern {
    pub(super) material: Spanned<String>,
    pub(super) mask: Spanned<String>,
    pub(super) tone: Option<Spanned<ToneName>>,
    /// Sidewall angle from vertical, degrees.
    pub(super) angle: Option<Spanned<f64>>,
    pub(super) ramp: Option<Spanned<RawRamp>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRamp {
    pub(super) from: [f64; 2],
    pub(super) to: [f64; 2],
    /// Resist top height (µm) at `from` and at `to`.
    pub(super) z_from: f64,
    pub(super) z_to: f64,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub(super) enum SideName {
    Top,
    Bottom,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDrill {
    pub(super) mask: Spanned<String>,
    pub(super) materials: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) from: Option<SideName>,
    pub(super) depth: Option<Spanned<f64>>,
    /// Taper angle from vertical, degrees.
    pub(super) taper: Option<Spanned<f64>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub(super) enum PlateModeName {
    Fill,
    Conformal,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPlate {
    pub(super) material: Spanned<String>,
    pub(super) mode: Spanned<PlateModeName>,
    pub(super) seeds: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) height: Option<Spanned<f64>>,
    pub(super) thickness: Option<Spanned<f64>>,
    pub(super) mask: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGrind {
    /// Height in µm of the new surface.
    pub(super) height: Spanned<f64>,
    /// Which side is ground away (default top).
    pub(super) from: Option<SideName>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFlip {}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub(super) enum BondMethodName {
    Eutectic,
    Acf,
    Adhesive,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBond {
    /// The part placed onto this step's part.
    pub(super) place: Spanned<String>,
    pub(super) method: Spanned<BondMethodName>,
    pub(super) offset: Option<[f64; 2]>,
    /// Film material (default `acf` / `adhesive`).
    pub(super) material: Option<Spanned<String>>,
    /// Adhesive thickness, or the ACF particle gap, in µm.
    pub(super) thickness: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDispense {
    pub(super) material: Spanned<String>,
    pub(super) mask: Spanned<String>,
    pub(super) height: Option<Spanned<f64>>,
    pub(super) thickness: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDice {
    /// x positions (µm) of scribe lines running along y.
    #[serde(default)]
    pub(super) lines_x: Vec<f64>,
    /// y positions (µm) of scribe lines running along x.
    #[serde(default)]
    pub(super) lines_y: Vec<f64>,
    pub(super) width: Spanned<f64>,
    pub(super) materials: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) depth: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBall {
    pub(super) material: Option<Spanned<String>>,
    /// Pads: a mask of circles (centre, pad radius).
    pub(super) mask: Spanned<String>,
    /// Solder volume per ball, µm³ ...
    pub(super) volume: Option<Spanned<f64>>,
    /// ... or the diameter of the free sphere of that volume, µm.
    pub(super) diameter: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWire {
    pub(super) from: [f64; 2],
    pub(super) to: [f64; 2],
    /// Loop height above the higher end, µm.
    #[serde(rename = "loop")]
    pub(super) loop_height: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWirebond {
    pub(super) material: Option<Spanned<String>>,
    pub(super) diameter: Spanned<f64>,
    pub(super) wires: Spanned<Vec<RawWire>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub(super) enum EtchModeName {
    Anisotropic,
    Isotropic,
    Strip,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEtch {
    pub(super) mode: Spanned<EtchModeName>,
    /// Absent only with a `rates` table on an isotropic etch.
    pub(super) materials: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) depth: Option<Spanned<f64>>,
    pub(super) distance: Option<Spanned<f64>>,
    /// µm per minute, with `time` in minutes, instead of `distance`.
    pub(super) rate: Option<Spanned<f64>>,
    pub(super) time: Option<Spanned<f64>>,
    /// Wet-etch rate per material name, µm per minute.
    pub(super) rates: Option<Spanned<BTreeMap<String, Spanned<f64>>>>,
    pub(super) mask: Option<Spanned<String>>,
}
