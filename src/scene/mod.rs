//! Scene files: a TOML process flow (grid, materials, masks, ordered steps) turned
//! into validated, voxel-resolved steps. See docs/scene-format.md.

pub mod analysis;
mod board;
mod error;
mod gds;
mod overrides;
mod parse;

pub use board::{BoardSpec, ColumnFit, JointSite};
pub use error::{SceneError, line_col};
pub use parse::ball_cap;

use crate::materials::MaterialTable;
use std::path::Path;

/// Grid geometry: `dims` voxels of edge `voxel_um`, x fastest then y then z (z up).
#[derive(Debug, Clone, PartialEq)]
pub struct GridSpec {
    pub dims: [u32; 3],
    pub voxel_um: f64,
}

impl GridSpec {
    /// Voxel count, saturating: three u32 axes can overflow u64, and a wrapped count
    /// would pass every size check (the parser caps the grid far below this).
    pub fn voxels(&self) -> u64 {
        let n: u128 = self.dims.iter().map(|&d| u128::from(d)).product();
        u64::try_from(n).unwrap_or(u64::MAX)
    }
    pub fn size_um(&self) -> [f64; 3] {
        self.dims.map(|d| f64::from(d) * self.voxel_um)
    }
}

/// One mask primitive in µm (plan view, x/y).
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Rect { min: [f64; 2], max: [f64; 2] },
    Circle { center: [f64; 2], radius: f64 },
    Polygon(Vec<[f64; 2]>),
}

impl Shape {
    pub fn bounds(&self) -> ([f64; 2], [f64; 2]) {
        match self {
            Shape::Rect { min, max } => (*min, *max),
            Shape::Circle { center, radius } => (
                [center[0] - radius, center[1] - radius],
                [center[0] + radius, center[1] + radius],
            ),
            Shape::Polygon(p) => p
                .iter()
                .fold(([f64::MAX; 2], [f64::MIN; 2]), |(lo, hi), v| {
                    (
                        [lo[0].min(v[0]), lo[1].min(v[1])],
                        [hi[0].max(v[0]), hi[1].max(v[1])],
                    )
                }),
        }
    }

    /// 16-byte records the shape takes in the GPU encoding (`process::mask::encode`):
    /// a header, then one per rect/circle or one per two polygon vertices.
    pub fn records(&self) -> u64 {
        match self {
            Shape::Rect { .. } | Shape::Circle { .. } => 2,
            Shape::Polygon(v) => 1 + (v.len() as u64).div_ceil(2),
        }
    }

    /// Point-in-shape test, the CPU mirror of `shaders/mask.wgsl` (used by tests).
    pub fn contains(&self, p: [f64; 2]) -> bool {
        match self {
            Shape::Rect { min, max } => {
                p[0] >= min[0] && p[0] < max[0] && p[1] >= min[1] && p[1] < max[1]
            }
            Shape::Circle { center, radius } => {
                let (dx, dy) = (p[0] - center[0], p[1] - center[1]);
                dx * dx + dy * dy <= radius * radius
            }
            Shape::Polygon(v) => {
                // Even-odd rule.
                let mut inside = false;
                let mut j = v.len() - 1;
                for i in 0..v.len() {
                    let (a, b) = (v[i], v[j]);
                    if (a[1] > p[1]) != (b[1] > p[1])
                        && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]
                    {
                        inside = !inside;
                    }
                    j = i;
                }
                inside
            }
        }
    }
}

/// A named plan-view mask: the union of its shapes, optionally inverted.
#[derive(Debug, Clone, PartialEq)]
pub struct Mask {
    pub name: String,
    pub shapes: Vec<Shape>,
    pub invert: bool,
}

impl Mask {
    /// Whether the column centred at `p` (µm) is inside.
    pub fn contains(&self, p: [f64; 2]) -> bool {
        self.shapes.iter().any(|s| s.contains(p)) != self.invert
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Exposed (inside the mask) resist dissolves.
    Positive,
    /// Unexposed (outside the mask) resist dissolves.
    Negative,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DepositMode {
    /// Film of `thickness` voxels on every surface the open top reaches.
    Conformal { thickness: u32 },
    /// Line of sight from above: `thickness` voxels on each column's top surface.
    Directional { thickness: u32 },
    /// Spin-on: fills reachable space up to z = `top` (voxel index, exclusive).
    Planarize { top: PlanarTop },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanarTop {
    /// `n` voxels above the highest solid surface (inside the mask).
    AboveHighest(u32),
    /// An absolute height, in voxels from the grid bottom.
    Height(u32),
}

#[derive(Debug, Clone, PartialEq)]
pub enum EtchMode {
    /// Straight down from each column's surface; `None` = through all listed material.
    Anisotropic { depth: Option<u32> },
    /// Timed wet etch: removes listed material within `distance` voxels of the
    /// etchant, measured through etchable material (undercuts masks).
    Isotropic { distance: f64 },
    /// Complete wet removal wherever the etchant reaches.
    Strip,
    /// Wet etch with a rate per material: the front advances through each material at
    /// its own rate (materials not in the table stop it). With `time` (minutes) it
    /// stops then; without, it runs until the step's listed materials are gone wherever
    /// the etchant reaches them (a strip), and the step reports that release time.
    Rates {
        rates: Vec<EtchRate>,
        time: Option<f64>,
    },
}

/// One material's wet-etch rate.
#[derive(Debug, Clone, PartialEq)]
pub struct EtchRate {
    pub material: u8,
    /// The material's name, for messages.
    pub name: String,
    /// Voxels per minute (µm/min over the voxel edge); 0 stops the front.
    pub voxels_per_min: f64,
}

/// Which face of the part a tool enters from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Top,
    Bottom,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PlateMode {
    /// Bottom-up fill of open holes whose floor is a seed conductor, up to the voxel
    /// height `top` (exclusive), or to the highest solid surface when `None` ("until full").
    Fill { top: Option<u32> },
    /// Film of `thickness` voxels grown on exposed seed-conductor surfaces only.
    Conformal { thickness: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrindKeep {
    /// Keep z < h (backgrinding / CMP from the top).
    Below(u32),
    /// Keep z >= h (grinding from the bottom).
    Above(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BondMethod {
    /// Bumps land on pads and fuse; no film.
    Eutectic,
    /// Anisotropic conductive film fills the gap in the part's footprint.
    Acf,
    /// Thermally cured adhesive of a given thickness fills the gap.
    Adhesive,
}

/// Grey-tone exposure: the resist top is cut to a plane rising linearly from `h0` at
/// `p0` to `h1` at `p1` (µm above `base`, the resist's bottom), inside the mask.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ramp {
    pub p0: [f64; 2],
    pub p1: [f64; 2],
    /// Heights in voxels above the grid floor.
    pub z0: f64,
    pub z1: f64,
}

/// A bond wire: from a die pad to a substrate pad, looping `loop_height` voxels above
/// the higher end. Ends in µm (plan view); heights come from the surfaces there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Wire {
    pub from: [f64; 2],
    pub to: [f64; 2],
    pub loop_height: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Substrate {
        material: u8,
        z0: u32,
        z1: u32,
        mask: Option<usize>,
    },
    Deposit {
        material: u8,
        mode: DepositMode,
        mask: Option<usize>,
    },
    Pattern {
        material: u8,
        mask: usize,
        tone: Tone,
        /// tan of the sidewall angle from vertical: openings narrow with depth.
        taper: f64,
        ramp: Option<Ramp>,
    },
    Etch {
        materials: Vec<u8>,
        mode: EtchMode,
        mask: Option<usize>,
    },
    /// Laser drilling: removes `materials` (all if empty) in the mask's columns from the
    /// entry surface, `depth` voxels or through; the hole narrows by `taper` per voxel.
    Drill {
        materials: Vec<u8>,
        mask: usize,
        from: Side,
        depth: Option<u32>,
        taper: f64,
    },
    Plate {
        material: u8,
        mode: PlateMode,
        /// Conductors that carry the plating current (seeds).
        seeds: Vec<u8>,
        mask: Option<usize>,
    },
    Grind {
        keep: GrindKeep,
    },
    /// Turns the part upside down (rotation by 180° about the x axis).
    Flip,
    /// Underfill or encapsulant: fills the reachable empty space inside the mask up to a top.
    Dispense {
        material: u8,
        mask: usize,
        top: PlanarTop,
    },
    /// Kerfs through `materials` (all if empty) along the scribe-line mask.
    Dice {
        materials: Vec<u8>,
        mask: usize,
        depth: Option<u32>,
    },
    /// Solder balls: spherical caps of sphere radius `radius` and height `height`
    /// (voxels) standing on the surface at each of the mask's circle centres, wetting a
    /// pad of the circle's radius.
    Ball {
        material: u8,
        mask: usize,
        radius: f64,
        height: f64,
    },
    Wirebond {
        material: u8,
        wires: Vec<Wire>,
        /// Wire radius in voxels.
        radius: f64,
    },
}

/// Assembly: drops part `part` (offset by `offset` voxels in x, y) onto the step's part
/// until it rests on it, with a film of `film` material filling the gap for ACF/adhesive.
#[derive(Debug, Clone, PartialEq)]
pub struct BondSpec {
    pub part: usize,
    pub offset: [i32; 2],
    pub method: BondMethod,
    pub film: u8,
    /// Extra gap in voxels (adhesive thickness; ACF particle gap).
    pub gap: u32,
}

impl BondSpec {
    /// `bond:eutectic`, `bond:acf` or `bond:adhesive`.
    pub fn label(&self) -> String {
        format!(
            "bond:{}",
            match self.method {
                BondMethod::Eutectic => "eutectic",
                BondMethod::Acf => "acf",
                BondMethod::Adhesive => "adhesive",
            }
        )
    }
}

/// What a step does, by kind: each kind has its own engine, so none can be handed a
/// step it cannot run.
#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    /// Changes the voxels of the step's part (`process::Processor::run`).
    Process(Op),
    /// Assembly: places another part onto the step's part (`process::Processor::bond`).
    Bond(BondSpec),
    /// Analysis: thermal-mismatch stress of the part as built so far (changes no voxel).
    Stress(StressSpec),
}

impl StepKind {
    /// The op's name as written in scene files (`deposit`, `bond`, `stress`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            StepKind::Process(op) => op.kind(),
            StepKind::Bond(_) => "bond",
            StepKind::Stress(_) => "stress",
        }
    }

    /// The op with its mode, e.g. `etch:isotropic`, `bond:acf`.
    pub fn label(&self) -> String {
        match self {
            StepKind::Process(op) => op.label(),
            StepKind::Bond(b) => b.label(),
            StepKind::Stress(_) => "stress".to_string(),
        }
    }

    /// Whether the step shows part-way states (see [`Op::is_timed`]).
    pub fn is_timed(&self) -> bool {
        matches!(self, StepKind::Process(op) if op.is_timed())
    }

    pub fn process(&self) -> Option<&Op> {
        match self {
            StepKind::Process(op) => Some(op),
            _ => None,
        }
    }

    pub fn stress(&self) -> Option<&StressSpec> {
        match self {
            StepKind::Stress(s) => Some(s),
            _ => None,
        }
    }
}

/// A thermoelastic solve: load, supports, stopping rule and solve resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct StressSpec {
    /// T_final − T_stress_free, K.
    pub delta_t: f64,
    pub bc: analysis::BoundaryConditions,
    pub options: analysis::SolveOptions,
    /// Solve on blocks of `coarsen`³ voxels (majority material) to bound the cost.
    pub coarsen: u32,
    /// Prescribed displacements (`displace = [...]`), applied on top of `bc`.
    pub displace: Vec<Displacement>,
}

/// A grid face: the nodes on x = 0, x = size, ... .
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    XMin,
    XMax,
    YMin,
    YMax,
    ZMin,
    ZMax,
}

impl Face {
    pub const ALL: [(&'static str, Face); 6] = [
        ("x_min", Face::XMin),
        ("x_max", Face::XMax),
        ("y_min", Face::YMin),
        ("y_max", Face::YMax),
        ("z_min", Face::ZMin),
        ("z_max", Face::ZMax),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("?", |(n, _)| n)
    }
}

/// Which nodes a prescribed displacement holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DisplaceRegion {
    Face(Face),
    /// Nodes inside the box (µm, inclusive).
    Box {
        min: [f64; 3],
        max: [f64; 3],
    },
}

/// Prescribed displacement of the solid nodes of a region: the affine field
/// u(X) = u + grad · (X − origin) (µm), on the components in `dofs` (bits x, y, z).
/// A zero field holds the region; a non-zero one imposes stretch, shear or rotation.
#[derive(Debug, Clone, PartialEq)]
pub struct Displacement {
    pub region: DisplaceRegion,
    pub u: [f64; 3],
    /// ∂u_i/∂X_j (dimensionless), row i.
    pub grad: [[f64; 3]; 3],
    pub origin: [f64; 3],
    pub dofs: u32,
}

impl Displacement {
    /// The nodes of a grid of `dims` voxels of `h` µm that the region selects (solid or
    /// not: the solver holds only solid ones), each with its prescribed value.
    pub fn nodes(&self, dims: [u32; 3], h: f64) -> Vec<([u32; 3], [f64; 3])> {
        let Some([rx, ry, rz]) = self.node_ranges(dims, h) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for z in rz.0..=rz.1 {
            for y in ry.0..=ry.1 {
                for x in rx.0..=rx.1 {
                    let p = [x, y, z].map(|i| f64::from(i) * h);
                    let d = [0, 1, 2].map(|k| p[k] - self.origin[k]);
                    let v = [0, 1, 2]
                        .map(|i| self.u[i] + (0..3).map(|j| self.grad[i][j] * d[j]).sum::<f64>());
                    out.push(([x, y, z], v));
                }
            }
        }
        out
    }

    /// The inclusive node index range per axis that the region selects on a grid of
    /// `dims` voxels of `h` µm, or None when it selects no node.
    pub fn node_ranges(&self, dims: [u32; 3], h: f64) -> Option<[(u32, u32); 3]> {
        let range = |axis: usize| -> Option<(u32, u32)> {
            match self.region {
                DisplaceRegion::Face(f) => {
                    let (a, hi) = match f {
                        Face::XMin => (0, false),
                        Face::XMax => (0, true),
                        Face::YMin => (1, false),
                        Face::YMax => (1, true),
                        Face::ZMin => (2, false),
                        Face::ZMax => (2, true),
                    };
                    Some(if axis != a {
                        (0, dims[axis])
                    } else if hi {
                        (dims[axis], dims[axis])
                    } else {
                        (0, 0)
                    })
                }
                DisplaceRegion::Box { min, max } => {
                    // A box drawn on node planes keeps them despite rounding.
                    let eps = 1e-9 * h.max(1.0);
                    let lo = ((min[axis] - eps) / h).ceil().max(0.0);
                    let hi = ((max[axis] + eps) / h).floor().min(f64::from(dims[axis]));
                    (lo <= hi).then_some((lo as u32, hi as u32))
                }
            }
        };
        Some([range(0)?, range(1)?, range(2)?])
    }

    /// How many nodes [`Displacement::nodes`] returns.
    pub fn node_count(&self, dims: [u32; 3], h: f64) -> u64 {
        self.node_ranges(dims, h).map_or(0, |r| {
            r.iter().map(|&(a, b)| u64::from(b - a) + 1).product()
        })
    }
}

/// Two named points (µm) whose displacement difference `to − from` each stress step
/// reports (e.g. a via top against the glass beside it: copper pumping).
#[derive(Debug, Clone, PartialEq)]
pub struct RelativeDisplacement {
    pub name: String,
    pub from: [f64; 3],
    pub to: [f64; 3],
}

/// A named box (µm) whose mean stress field value goes to metrics.json.
#[derive(Debug, Clone, PartialEq)]
pub struct StressProbe {
    pub name: String,
    pub min: [f64; 3],
    pub max: [f64; 3],
    pub field: analysis::VoxelField,
}

impl Op {
    /// The op's name as written in scene files (`deposit`, `etch`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Substrate { .. } => "substrate",
            Op::Deposit { .. } => "deposit",
            Op::Pattern { .. } => "pattern",
            Op::Etch { .. } => "etch",
            Op::Drill { .. } => "drill",
            Op::Plate { .. } => "plate",
            Op::Grind { .. } => "grind",
            Op::Flip => "flip",
            Op::Dispense { .. } => "dispense",
            Op::Dice { .. } => "dice",
            Op::Ball { .. } => "ball",
            Op::Wirebond { .. } => "wirebond",
        }
    }

    /// Whether the op has an extent that grows with process time (a deposited or plated
    /// thickness, a timed etch distance, an etch, drill or dicing depth, a fill level),
    /// so that sub-step frames can show it part-way ([`Op::scaled`], or
    /// `Processor::run_at` for [progressive](Op::is_progressive) ops).
    pub fn is_timed(&self) -> bool {
        matches!(
            self,
            Op::Deposit {
                mode: DepositMode::Conformal { .. } | DepositMode::Directional { .. },
                ..
            } | Op::Etch {
                mode: EtchMode::Isotropic { .. }
                    | EtchMode::Anisotropic { depth: Some(_) }
                    | EtchMode::Rates { time: Some(_), .. },
                ..
            } | Op::Plate {
                mode: PlateMode::Conformal { .. },
                ..
            } | Op::Drill { .. }
                | Op::Dice { depth: Some(_), .. }
        ) || self.is_progressive()
    }

    /// Whether the op's extent is only known on the grid (a fill rising to its top, a
    /// through drill), so that sub-step frames need `Processor::run_at` rather than
    /// [`Op::scaled`].
    pub fn is_progressive(&self) -> bool {
        matches!(
            self,
            Op::Deposit {
                mode: DepositMode::Planarize { .. },
                ..
            } | Op::Dispense { .. }
                | Op::Plate {
                    mode: PlateMode::Fill { .. },
                    ..
                }
                | Op::Drill { depth: None, .. }
                | Op::Etch {
                    mode: EtchMode::Rates { time: None, .. },
                    ..
                }
        )
    }

    /// The op stopped at fraction `f` of its time: thickness, etch distance or depth
    /// times `f` (clamped to [0, 1]). Ops that are not [timed](Op::is_timed) are returned
    /// unchanged. Viewers re-run a step from its start snapshot with this to show the
    /// front advancing.
    pub fn scaled(&self, f: f64) -> Op {
        let f = if f.is_finite() {
            f.clamp(0.0, 1.0)
        } else {
            1.0
        };
        let voxels = |n: u32| (f64::from(n) * f).round() as u32;
        let mut op = self.clone();
        match &mut op {
            Op::Deposit {
                mode: DepositMode::Conformal { thickness } | DepositMode::Directional { thickness },
                ..
            }
            | Op::Plate {
                mode: PlateMode::Conformal { thickness },
                ..
            } => *thickness = voxels(*thickness),
            Op::Etch {
                mode: EtchMode::Isotropic { distance },
                ..
            } => *distance *= f,
            Op::Etch {
                mode: EtchMode::Rates { time: Some(t), .. },
                ..
            } => *t *= f,
            Op::Etch {
                mode: EtchMode::Anisotropic { depth: Some(d) },
                ..
            }
            | Op::Drill { depth: Some(d), .. }
            | Op::Dice { depth: Some(d), .. } => *d = voxels(*d),
            _ => {}
        }
        op
    }

    /// The op's sizes as the grid resolves them (whole voxels of `h` µm), e.g.
    /// "thickness 2 voxels = 5.0 µm": what rounding made of the scene's numbers.
    pub fn geometry(&self, h: f64) -> String {
        let v = |what: &str, n: u32| format!("{what} {n} voxels = {:.2} µm", f64::from(n) * h);
        let through = |d: &Option<u32>, what: &str| match d {
            Some(n) => v(what, *n),
            None => format!("{what} through"),
        };
        match self {
            Op::Substrate { z0, z1, .. } => format!(
                "z {z0}..{z1} voxels = {:.2}..{:.2} µm ({})",
                f64::from(*z0) * h,
                f64::from(*z1) * h,
                v("thickness", z1 - z0)
            ),
            Op::Deposit { mode, .. } => match mode {
                DepositMode::Conformal { thickness } | DepositMode::Directional { thickness } => {
                    v("thickness", *thickness)
                }
                DepositMode::Planarize {
                    top: PlanarTop::AboveHighest(n),
                } => v("fills to the highest surface +", *n),
                DepositMode::Planarize {
                    top: PlanarTop::Height(n),
                } => v("fills up to z", *n),
            },
            Op::Pattern { taper, .. } => format!("sidewall taper {taper:.2} voxels per voxel"),
            Op::Etch { mode, .. } => match mode {
                EtchMode::Anisotropic { depth } => through(depth, "depth"),
                EtchMode::Isotropic { distance } => {
                    format!("distance {distance:.2} voxels = {:.2} µm", distance * h)
                }
                EtchMode::Strip => "wherever the etchant reaches".into(),
                EtchMode::Rates { rates, time } => {
                    let list = rates
                        .iter()
                        .map(|r| {
                            let um = r.voxels_per_min * h;
                            match time {
                                Some(t) => format!(
                                    "{} {um:.4} µm/min = {:.3} voxels/min, {:.2} µm",
                                    r.name,
                                    r.voxels_per_min,
                                    um * t
                                ),
                                None => format!(
                                    "{} {um:.4} µm/min = {:.3} voxels/min",
                                    r.name, r.voxels_per_min
                                ),
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(", ");
                    match time {
                        Some(t) => format!("{t:.2} min at {list}"),
                        None => format!("until released, at {list}"),
                    }
                }
            },
            Op::Drill { depth, .. } => through(depth, "depth"),
            Op::Plate { mode, .. } => match mode {
                PlateMode::Fill { top: Some(n) } => v("fills up to z", *n),
                PlateMode::Fill { top: None } => "fills until full".into(),
                PlateMode::Conformal { thickness } => v("thickness", *thickness),
            },
            Op::Grind { keep, .. } => match keep {
                GrindKeep::Below(n) => v("keeps z below", *n),
                GrindKeep::Above(n) => v("keeps z from", *n),
            },
            Op::Dice { depth, .. } => through(depth, "depth"),
            Op::Dispense {
                top: PlanarTop::AboveHighest(n),
                ..
            } => v("fills to the highest surface +", *n),
            Op::Dispense {
                top: PlanarTop::Height(n),
                ..
            } => v("fills up to z", *n),
            Op::Ball { radius, height, .. } => format!(
                "sphere radius {radius:.2} voxels = {:.2} µm, cap height {height:.2} voxels = {:.2} µm",
                radius * h,
                height * h
            ),
            Op::Wirebond { radius, wires, .. } => format!(
                "{} wires of radius {radius:.2} voxels = {:.2} µm",
                wires.len(),
                radius * h
            ),
            _ => String::new(),
        }
    }

    /// The op with its mode, e.g. `etch:isotropic`.
    pub fn label(&self) -> String {
        match self {
            Op::Deposit { mode, .. } => format!(
                "deposit:{}",
                match mode {
                    DepositMode::Conformal { .. } => "conformal",
                    DepositMode::Directional { .. } => "directional",
                    DepositMode::Planarize { .. } => "planarize",
                }
            ),
            Op::Etch { mode, .. } => format!(
                "etch:{}",
                match mode {
                    EtchMode::Anisotropic { .. } => "anisotropic",
                    EtchMode::Isotropic { .. } => "isotropic",
                    EtchMode::Strip | EtchMode::Rates { time: None, .. } => "strip",
                    EtchMode::Rates { time: Some(_), .. } => "isotropic",
                }
            ),
            Op::Plate { mode, .. } => format!(
                "plate:{}",
                match mode {
                    PlateMode::Fill { .. } => "fill",
                    PlateMode::Conformal { .. } => "conformal",
                }
            ),
            other => other.kind().to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub name: String,
    pub kind: StepKind,
    /// Index into `Scene::parts` of the part this step builds.
    pub part: usize,
    /// 1-based line of the step in its file.
    pub line: usize,
}

/// Axis of a cross-section plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    X,
    Y,
    Z,
}

impl Axis {
    pub fn index(self) -> usize {
        match self {
            Axis::X => 0,
            Axis::Y => 1,
            Axis::Z => 2,
        }
    }
    pub fn name(self) -> &'static str {
        ["x", "y", "z"][self.index()]
    }
}

/// How frames look: camera angles and the cross-section.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewSpec {
    pub azimuth_deg: f32,
    pub elevation_deg: f32,
    pub section_axis: Axis,
    /// Voxel index of the section plane along its axis.
    pub section_index: u32,
    /// Cut the 3D view open at the section plane.
    pub cutaway: bool,
}

/// A validated scene, ready to run.
#[derive(Debug, Clone)]
pub struct Scene {
    pub file: String,
    pub title: String,
    pub grid: GridSpec,
    pub materials: MaterialTable,
    pub masks: Vec<Mask>,
    pub steps: Vec<Step>,
    pub view: ViewSpec,
    /// Parts built separately (each on its own grid); `parts[0]` is "main", the
    /// assembly the results describe.
    pub parts: Vec<String>,
    pub probes: Vec<Probe>,
    pub stress_probes: Vec<StressProbe>,
    /// Point pairs whose relative displacement each stress step reports.
    pub relative_displacements: Vec<RelativeDisplacement>,
    /// The board-level study of this pitch cell (`voxfab compare`), if any.
    pub board: Option<BoardSpec>,
    /// 1-based line and column of `grid.size`, where resource-budget errors point.
    pub grid_at: [usize; 2],
    /// The `--set` lengths the grid rounds to whole voxels, as it realises them.
    pub resolved: Vec<ResolvedOverride>,
}

/// An overridden length as the grid realises it: a 7 µm gap on 2 µm voxels is 4
/// voxels = 8 µm.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedOverride {
    /// The `--set` key.
    pub key: String,
    pub voxels: u32,
    pub um: f64,
}

/// A named point for connectivity checks (a ball, a pad), optionally with the net it
/// should belong to.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub name: String,
    /// Position in µm.
    pub at: [f64; 3],
    pub net: Option<String>,
}

impl Probe {
    pub fn voxel(&self, grid: &GridSpec) -> [u32; 3] {
        std::array::from_fn(|a| {
            ((self.at[a] / grid.voxel_um).floor().max(0.0) as u32).min(grid.dims[a] - 1)
        })
    }
}

impl Scene {
    /// Reads and validates a scene file; `overrides` are `key.path=value` pairs (`--set`).
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self, SceneError> {
        let file = path.display().to_string();
        let src = std::fs::read_to_string(path).map_err(|e| SceneError {
            file: file.clone(),
            line: 0,
            col: 0,
            message: format!("cannot read scene: {e}"),
        })?;
        Self::parse(&src, &file, overrides)
    }

    /// Parses scene text; `file` names it in error messages.
    pub fn parse(src: &str, file: &str, overrides: &[String]) -> Result<Self, SceneError> {
        parse::parse(src, file, overrides)
    }

    pub fn mask(&self, id: usize) -> &Mask {
        &self.masks[id]
    }

    /// Centre of column (i, j) in µm.
    pub fn column_center(&self, i: u32, j: u32) -> [f64; 2] {
        let h = self.grid.voxel_um;
        [(f64::from(i) + 0.5) * h, (f64::from(j) + 0.5) * h]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_scales_timed_extents_and_keeps_the_rest() {
        let iso = Op::Etch {
            materials: vec![3],
            mode: EtchMode::Isotropic { distance: 10.0 },
            mask: None,
        };
        assert!(iso.is_timed());
        assert_eq!(
            iso.scaled(0.25),
            Op::Etch {
                materials: vec![3],
                mode: EtchMode::Isotropic { distance: 2.5 },
                mask: None,
            }
        );
        let dep = Op::Deposit {
            material: 2,
            mode: DepositMode::Conformal { thickness: 6 },
            mask: Some(0),
        };
        assert_eq!(
            dep.scaled(0.5),
            Op::Deposit {
                material: 2,
                mode: DepositMode::Conformal { thickness: 3 },
                mask: Some(0),
            }
        );
        // Out-of-range fractions clamp; NaN means "all of it".
        assert_eq!(dep.scaled(7.0), dep);
        assert_eq!(dep.scaled(f64::NAN), dep);
        let strip = Op::Etch {
            materials: vec![3],
            mode: EtchMode::Strip,
            mask: None,
        };
        assert!(!strip.is_timed());
        assert_eq!(strip.scaled(0.1), strip);
        let sub = Op::Substrate {
            material: 1,
            z0: 0,
            z1: 4,
            mask: None,
        };
        assert!(!sub.is_timed());
        assert_eq!(sub.scaled(0.5), sub);
        let dice = Op::Dice {
            materials: vec![],
            mask: 0,
            depth: Some(10),
        };
        assert!(dice.is_timed());
        assert_eq!(
            dice.scaled(0.3),
            Op::Dice {
                materials: vec![],
                mask: 0,
                depth: Some(3),
            }
        );
        assert!(!Op::Flip.is_timed());
    }
}
