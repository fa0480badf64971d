//! Thermoelastic stress of the voxel grid: linear, isotropic, small strain.
//!
//! Every solid voxel (material ≠ 0) is one trilinear 8-node hexahedron; displacements
//! live at voxel corners. A uniform temperature change ΔT = T_final − T_stress_free
//! loads each material with the eigenstrain α·ΔT. The solver ([`StressSolver`]) is
//! matrix-free multigrid-preconditioned CG on the GPU (f64 outer iteration where the
//! adapter has it); [`StressResult`] holds the per-voxel
//! stress in MPa and the nodal displacement in µm. See docs/STRESS.md.
//!
//! ```no_run
//! use voxfab::{gpu::GpuContext, grid::GpuGrid, materials::MaterialTable, scene::GridSpec};
//! use voxfab::stress::{BoundaryConditions, SolveOptions, StressSolver, Support, ThermalLoad};
//!
//! let gpu = GpuContext::new()?;
//! let grid = GpuGrid::new(&gpu, &GridSpec { dims: [64, 64, 32], voxel_um: 1.0 })?;
//! // ... run the process steps, or grid.write_materials(&gpu, &ids) ...
//! let table = MaterialTable::builtin();
//! let mut solver = StressSolver::new(&gpu, &grid, &table)?;
//! let bc = BoundaryConditions::new(Support::BottomRoller).with_symmetry(true, true);
//! let r = solver.solve(&ThermalLoad::cooling(217.0, 25.0), &bc, &SolveOptions::default())?;
//! println!("{} iterations, residual {:.1e}", r.iterations, r.residual);
//! for m in r.material_stats() {
//!     println!("{}: max von Mises {:.1} MPa", table.get(m.id).name, m.max_von_mises);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Units: lengths in µm, E in GPa, CTE in ppm/K, temperatures in °C (or K; only the
//! difference matters). With µm and GPa the stiffness comes out in GPa·µm, forces in
//! GPa·µm² (= mN) and stress in GPa, which the results kernel scales by 1e3 to MPa.

pub mod coarsen;
pub mod element;
mod gpu_util;
mod kernels;
pub mod multigrid;
pub mod params;
mod results;
mod solver;
mod summary;

pub use kernels::StressKernels;
pub use results::{MaterialStats, StressResult};
// The analysis options are scene data (the scene module stays GPU-free); the solver
// takes them as they are.
pub use crate::scene::analysis::{BoundaryConditions, SolveOptions, Support, VoxelField};
pub use solver::{SolveBytes, SolveStats, StressSolver};
pub use summary::{MaterialSummary, Warpage};

/// A prescribed displacement on some DOFs of one node (a cut face of a submodel, a
/// patch test's boundary): `dofs` bits 0, 1, 2 = x, y, z; `value` in µm (unset
/// components are ignored). Node (i, j, k) is the voxel corner at (i, j, k)·h.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prescribed {
    pub node: [u32; 3],
    pub dofs: u32,
    pub value: [f64; 3],
}

impl Prescribed {
    /// All three components of node `node` set to `value`.
    pub fn all(node: [u32; 3], value: [f64; 3]) -> Self {
        Self {
            node,
            dofs: 7,
            value,
        }
    }
}

/// A uniform temperature change from the stress-free state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThermalLoad {
    /// T_final − T_stress_free in K (e.g. −192 for cooling from SAC305 solidification
    /// at 217 °C to 25 °C).
    pub delta_t: f64,
}

impl ThermalLoad {
    /// From the stress-free and final temperatures in °C.
    pub fn cooling(stress_free_c: f64, final_c: f64) -> Self {
        Self {
            delta_t: final_c - stress_free_c,
        }
    }
}

/// Why a stress solve could not run.
#[derive(Debug, thiserror::Error)]
pub enum StressError {
    #[error(
        "stress of grid {nx}x{ny}x{nz} needs {need} MiB in one {what}, but {adapter} allows at \
         most {limit} MiB there: coarsen the voxel or shrink the domain"
    )]
    TooLarge {
        nx: u32,
        ny: u32,
        nz: u32,
        /// "storage binding", "buffer" or "node vector" (split over at most
        /// `MAX_WINDOWS` bindings).
        what: &'static str,
        need: u64,
        limit: u64,
        adapter: String,
    },
    #[error(
        "stress of grid {nx}x{ny}x{nz} has {nodes} nodes, more than the {most} the solver \
         indexes (3 values per node in 32 bits): coarsen the voxel or shrink the domain"
    )]
    TooManyNodes {
        nx: u32,
        ny: u32,
        nz: u32,
        nodes: u64,
        most: u64,
    },
    #[error(
        "the multigrid's level-{level} operator needs {need} MiB for {mixed} coarse elements that \
         are not uniform blocks, but {adapter} binds at most {limit} MiB per matrix half (one \
         storage binding, or the windows a grid beyond one binding uses): coarsen the voxel or \
         shrink the domain"
    )]
    CoarseTooLarge {
        level: usize,
        mixed: u64,
        need: u64,
        limit: u64,
        adapter: String,
    },
    #[error(
        "the multigrid's coarse matrices need {need} MiB more than the up-front estimate for \
         {mixed} coarse elements that are not uniform blocks, but the GPU memory budget has \
         {left} MiB left: raise --gpu-memory, coarsen the voxel or shrink the domain"
    )]
    OverBudget { need: u64, mixed: u64, left: u64 },
    #[error(
        "the stress result fields need {need} MiB of buffers of their own (the solver's \
         vectors, in pieces past one buffer, do not hold them), but the GPU memory budget has \
         {left} MiB left: raise --gpu-memory, coarsen the voxel or shrink the domain"
    )]
    ResultsOverBudget { need: u64, left: u64 },
    #[error(
        "the stress solver binds {need} storage buffers per shader stage but {adapter} allows {limit}"
    )]
    TooManyBindings {
        need: u32,
        limit: u32,
        adapter: String,
    },
    #[error("material {name:?} (id {id}) cannot be used for stress: {why}")]
    BadMaterial { id: u8, name: String, why: String },
    #[error("the stress solver's node buffers ({need} MiB) do not fit the device: {reason}")]
    OutOfMemory { need: u64, reason: String },
    #[error("the grid {0:?} has no voxels")]
    EmptyGrid([u32; 3]),
    #[error("voxel material id {0} is not in the material table")]
    UnknownMaterial(u32),
    #[error("invalid solve options: {0}")]
    BadOptions(String),
    #[error("boundary conditions hold nothing: {0}")]
    Unsupported(String),
    #[error("the stress solve was cancelled after {iterations} iterations")]
    Cancelled { iterations: u32 },
    #[error(transparent)]
    Grid(#[from] crate::grid::GridError),
}
