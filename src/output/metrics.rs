//! metrics.json: the grid, each step's op, time and voxel changes, material volumes.

use crate::materials::MaterialTable;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    pub scene: String,
    pub title: String,
    pub adapter: Adapter,
    pub grid: Grid,
    /// Material id (as stored in result.vti) → name and properties.
    pub material_ids: Vec<MaterialInfo>,
    pub steps: Vec<StepMetrics>,
    /// Material volumes after the last step.
    pub materials: BTreeMap<String, MaterialAmount>,
    /// Present when the scene names probes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connectivity: Option<Connectivity>,
    /// One entry per stress step.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stress: Vec<StressMetrics>,
    /// Steps that did nothing, stress solves that did not converge: each names the step
    /// and its line.
    pub warnings: Vec<String>,
    pub total_ms: f64,
}

/// One stress step's figures. Names are the scene's own (`bottom_roller`,
/// `von_mises`); every quantity carries its unit in its key. Peaks (`peak_*`) are the
/// largest element values: at re-entrant corners and bimaterial edges they grow as the
/// element shrinks, so compare means, 99th percentiles and probe means instead.
#[derive(Debug, Clone, Serialize)]
pub struct StressMetrics {
    pub step: String,
    pub part: String,
    /// T_final − T_stress_free.
    pub delta_t_k: f64,
    pub support: String,
    pub symmetry_x: bool,
    pub symmetry_y: bool,
    /// Process voxels per stress element edge.
    pub coarsen: u32,
    /// Edge of the stress elements.
    pub element_um: f64,
    /// The solve grid, in elements.
    pub grid_elements: [u32; 3],
    /// Solid (non-void) elements solved.
    pub solid_elements: u64,
    pub solver: String,
    pub iterations: u32,
    /// Relative residual ‖f − K u‖ / ‖f‖ reached.
    pub residual: f64,
    pub tol: f64,
    pub converged: bool,
    /// The iteration stopped improving above `tol`.
    pub stalled: bool,
    pub ms: f64,
    pub materials: BTreeMap<String, MaterialStress>,
    pub probes: BTreeMap<String, StressProbeValue>,
    /// Out-of-plane displacement of the top and bottom surfaces about their best-fit
    /// planes.
    pub warpage: BTreeMap<String, WarpageValue>,
    pub relative_displacements: BTreeMap<String, RelativeDisplacementValue>,
    /// The step's prescribed displacements, in scene order.
    pub displace: Vec<DisplaceValue>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DisplaceValue {
    /// `x_min` ... `z_max`, or `box`.
    pub region: String,
    /// Components held: `x`, `y`, `z`.
    pub dofs: String,
    /// Solid nodes held on the solve grid.
    pub nodes: u64,
    /// The force the prescription applies to the body over the entry's nodes (sum of
    /// K u − f), x, y, z, mN; a node in two entries counts in both.
    pub force_mn: [f64; 3],
}

#[derive(Debug, Clone, Serialize)]
pub struct MaterialStress {
    /// Stress elements of this material (coarse blocks when coarsen > 1).
    pub elements: u64,
    /// Process voxels of this material in the part when it was solved.
    pub process_voxels: u64,
    pub mean_von_mises_mpa: f64,
    pub p99_von_mises_mpa: f64,
    pub mean_max_principal_mpa: f64,
    pub p99_max_principal_mpa: f64,
    /// Mesh-dependent peak (see [`StressMetrics`]).
    pub peak_von_mises_mpa: f64,
    pub peak_von_mises_at_um: [f64; 3],
    pub peak_max_principal_mpa: f64,
    pub peak_max_principal_at_um: [f64; 3],
}

#[derive(Debug, Clone, Serialize)]
pub struct StressProbeValue {
    pub field: String,
    /// Mean over the solid elements whose centres lie in the box; null when none.
    pub mean_mpa: Option<f64>,
    /// The largest element value in the box (a mesh-dependent peak) and its centre.
    pub max_mpa: Option<f64>,
    pub max_at_um: Option<[f64; 3]>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WarpageValue {
    /// Surface nodes (one per node column holding solid).
    pub nodes: u64,
    /// Peak-to-valley of uz about the best-fit plane.
    pub warpage_um: f64,
    /// Centre minus corners of uz about the plane: positive = convex up.
    pub bow_um: f64,
    /// Tilt of the best-fit plane, duz/dx and duz/dy (µm per µm).
    pub tilt: [f64; 2],
}

#[derive(Debug, Clone, Serialize)]
pub struct RelativeDisplacementValue {
    /// The solid nodes nearest to the scene's points.
    pub from_um: [f64; 3],
    pub to_um: [f64; 3],
    /// u(to) − u(from), x, y, z.
    pub delta_um: [f64; 3],
}

/// Nets of conductor voxels in the final assembly, seen from the scene's probes.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Connectivity {
    /// Connected components of conductor voxels (6-neighbour).
    pub nets: u32,
    pub probes: Vec<ProbeNet>,
    /// Pairs of probes on the same net.
    pub joined: Vec<[String; 2]>,
    /// Pairs of probes declared on different nets that are connected.
    pub shorts: Vec<[String; 2]>,
    /// Pairs of probes declared on the same net that are not connected.
    pub opens: Vec<[String; 2]>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProbeNet {
    pub name: String,
    pub at_um: [f64; 3],
    /// Net label (smallest voxel index of the net); null when not in a conductor.
    pub net: Option<u32>,
    /// The net's name: the `net` label the scene's probes on it declare (joined with
    /// `+` when they disagree: a short), else `net<label>`; null when not in a conductor.
    pub net_name: Option<String>,
    pub expected: Option<String>,
}

impl Connectivity {
    pub fn from_probes(probes: &[crate::scene::Probe], nets: &crate::process::Nets) -> Self {
        let list: Vec<ProbeNet> = probes
            .iter()
            .zip(&nets.probe_nets)
            .map(|(p, n)| ProbeNet {
                name: p.name.clone(),
                at_um: p.at,
                net: *n,
                net_name: None,
                expected: p.net.clone(),
            })
            .collect();
        let mut list = list;
        let names: Vec<Option<String>> = list
            .iter()
            .map(|p| {
                let label = p.net?;
                let mut declared: Vec<&str> = list
                    .iter()
                    .filter(|q| q.net == Some(label))
                    .filter_map(|q| q.expected.as_deref())
                    .collect();
                declared.sort_unstable();
                declared.dedup();
                Some(if declared.is_empty() {
                    format!("net{label}")
                } else {
                    declared.join("+")
                })
            })
            .collect();
        for (p, n) in list.iter_mut().zip(names) {
            p.net_name = n;
        }
        let (mut joined, mut shorts, mut opens) = (Vec::new(), Vec::new(), Vec::new());
        for (i, a) in list.iter().enumerate() {
            for b in &list[i + 1..] {
                let same = a.net.is_some() && a.net == b.net;
                let pair = [a.name.clone(), b.name.clone()];
                if same {
                    joined.push(pair.clone());
                }
                match (&a.expected, &b.expected) {
                    (Some(x), Some(y)) if x != y && same => shorts.push(pair),
                    (Some(x), Some(y)) if x == y && !same => opens.push(pair),
                    _ => {}
                }
            }
        }
        Self {
            nets: nets.count,
            probes: list,
            joined,
            shorts,
            opens,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Adapter {
    pub name: String,
    pub backend: String,
    pub device_type: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Grid {
    pub dims: [u32; 3],
    pub voxel_um: f64,
    pub size_um: [f64; 3],
    pub voxels: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MaterialInfo {
    pub id: u8,
    pub name: String,
    #[serde(rename = "E_GPa")]
    pub e_gpa: f64,
    pub nu: f64,
    pub cte_ppm_per_k: f64,
}

/// The scene's material table as listed in metrics.json.
pub fn material_ids(materials: &MaterialTable) -> Vec<MaterialInfo> {
    materials
        .iter()
        .map(|(id, m)| MaterialInfo {
            id,
            name: m.name.clone(),
            e_gpa: m.e_gpa,
            nu: m.nu,
            cte_ppm_per_k: m.cte_ppm,
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct StepMetrics {
    pub index: usize,
    pub name: String,
    pub op: String,
    /// Line of the step in the scene file.
    pub line: usize,
    pub ms: f64,
    pub voxels_changed: u64,
    pub iterations: u32,
    /// A timed strip's release time: minutes until its listed material was gone
    /// wherever the etchant reaches it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_min: Option<f64>,
    pub materials: BTreeMap<String, MaterialAmount>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MaterialAmount {
    pub voxels: u64,
    pub volume_um3: f64,
}

/// Named per-material amounts for the materials present (void included).
pub fn amounts(
    counts: &[u64],
    materials: &MaterialTable,
    voxel_um: f64,
) -> BTreeMap<String, MaterialAmount> {
    let v = voxel_um.powi(3);
    materials
        .iter()
        .filter(|(id, _)| counts.get(*id as usize).copied().unwrap_or(0) > 0)
        .map(|(id, m)| {
            let n = counts[id as usize];
            (
                m.name.clone(),
                MaterialAmount {
                    voxels: n,
                    volume_um3: n as f64 * v,
                },
            )
        })
        .collect()
}
