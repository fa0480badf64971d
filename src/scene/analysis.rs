//! The options of an analysis (stress) step as plain data: supports, symmetry, the CG
//! stopping rule and the result fields probes name. The solver (`crate::stress`)
//! re-exports them; defining them here keeps the scene model free of GPU modules.

/// How the bottom (z = 0) or the outside of the grid is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Support {
    /// Nothing held; rigid-body motion is removed by a statically determinate 3-2-1
    /// constraint on nodes of the solid, which adds no stress under a self-equilibrated
    /// (thermal) load.
    #[default]
    Free,
    /// Every node at z = 0 fixed in x, y and z.
    BottomFixed,
    /// uz = 0 at z = 0, plus the fewest in-plane point constraints that remove in-plane
    /// rigid motion (none where both symmetry planes already do).
    BottomRoller,
    /// Every node on the grid's six outer faces fixed (a fully clamped block).
    Clamped,
}

impl Support {
    /// The name scene files use.
    pub fn name(self) -> &'static str {
        match self {
            Support::Free => "free",
            Support::BottomFixed => "bottom_fixed",
            Support::BottomRoller => "bottom_roller",
            Support::Clamped => "clamped",
        }
    }
}

/// Support plus symmetry planes (combinable: a quarter model uses both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BoundaryConditions {
    pub support: Support,
    /// ux = 0 on the x = 0 plane.
    pub symmetry_x: bool,
    /// uy = 0 on the y = 0 plane.
    pub symmetry_y: bool,
}

impl BoundaryConditions {
    pub fn new(support: Support) -> Self {
        Self {
            support,
            ..Self::default()
        }
    }

    pub fn with_symmetry(mut self, x: bool, y: bool) -> Self {
        self.symmetry_x = x;
        self.symmetry_y = y;
        self
    }
}

/// Stopping rule of the CG iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolveOptions {
    /// Target relative residual ‖f − K u‖ / ‖f‖ (f: the thermal load over all DOFs,
    /// constrained ones included, so a load that the supports take entirely still
    /// sets the scale).
    pub tol: f64,
    pub max_iterations: u32,
}

impl Default for SolveOptions {
    fn default() -> Self {
        Self {
            tol: 1e-8,
            max_iterations: 1000,
        }
    }
}

/// A per-voxel scalar of a stress result (`crate::stress::StressResult`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoxelField {
    /// Stress component 0..6 (xx, yy, zz, yz, xz, xy).
    Stress(usize),
    VonMises,
    MaxPrincipal,
}

impl VoxelField {
    /// The name scene files use (`von_mises`, `max_principal`, `xx` ... `xy`).
    pub fn name(self) -> String {
        match self {
            VoxelField::VonMises => "von_mises".into(),
            VoxelField::MaxPrincipal => "max_principal".into(),
            VoxelField::Stress(k) => ["xx", "yy", "zz", "yz", "xz", "xy"][k.min(5)].into(),
        }
    }
}
