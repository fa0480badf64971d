//! Every WGSL source, embedded at build time. Process shaders get the shared
//! prelude `process_common.wgsl` prepended; stress shaders get `stress_common.wgsl`
//! (and the CG node bindings where they use them).

pub const PROCESS_COMMON: &str = include_str!("../shaders/process_common.wgsl");

/// Process passes: (name, source without prelude).
pub const PROCESS: &[(&str, &str)] = &[
    ("mask", include_str!("../shaders/mask.wgsl")),
    ("substrate", include_str!("../shaders/substrate.wgsl")),
    (
        "deposit_directional",
        include_str!("../shaders/deposit_directional.wgsl"),
    ),
    (
        "deposit_conformal",
        include_str!("../shaders/deposit_conformal.wgsl"),
    ),
    (
        "deposit_planarize",
        include_str!("../shaders/deposit_planarize.wgsl"),
    ),
    ("flood", include_str!("../shaders/flood.wgsl")),
    ("pattern", include_str!("../shaders/pattern.wgsl")),
    (
        "etch_anisotropic",
        include_str!("../shaders/etch_anisotropic.wgsl"),
    ),
    (
        "etch_isotropic",
        include_str!("../shaders/etch_isotropic.wgsl"),
    ),
    ("strip", include_str!("../shaders/strip.wgsl")),
    ("stats", include_str!("../shaders/stats.wgsl")),
    ("drill", include_str!("../shaders/drill.wgsl")),
    ("plate", include_str!("../shaders/plate.wgsl")),
    ("grind", include_str!("../shaders/grind.wgsl")),
    ("flip", include_str!("../shaders/flip.wgsl")),
    ("bond", include_str!("../shaders/bond.wgsl")),
    ("ball", include_str!("../shaders/ball.wgsl")),
    ("wire", include_str!("../shaders/wire.wgsl")),
    ("connect", include_str!("../shaders/connect.wgsl")),
];

pub const STRESS_COMMON: &str = include_str!("../shaders/stress_common.wgsl");
pub const STRESS_CG_BINDINGS: &str = include_str!("../shaders/stress_cg_bindings.wgsl");

/// Stress passes: (name, uses the CG node bindings, source without preludes).
pub const STRESS: &[(&str, bool, &str)] = &[
    (
        "stress_apply",
        true,
        include_str!("../shaders/stress_apply.wgsl"),
    ),
    ("stress_cg", true, include_str!("../shaders/stress_cg.wgsl")),
    (
        "stress_results",
        false,
        include_str!("../shaders/stress_results.wgsl"),
    ),
];

/// Stand-alone passes (no prelude).
pub const STANDALONE: &[(&str, &str)] = &[("coarsen", include_str!("../shaders/coarsen.wgsl"))];

/// Source of a stand-alone shader.
pub fn standalone(name: &str) -> &'static str {
    STANDALONE
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no stand-alone shader named {name}"))
        .1
}

pub const RENDER_COMMON: &str = include_str!("../shaders/render_common.wgsl");

/// The view uniform and the voxel DDA, shared by the 3D view and picking so a click
/// hits exactly what is drawn.
pub const VOXEL_MARCH: &str = include_str!("../shaders/voxel_march.wgsl");

/// Render passes (without the prelude `render_common.wgsl`): (name, marches voxels, body).
/// Those that march get `voxel_march.wgsl` after the prelude.
pub const RENDER: &[(&str, bool, &str)] = &[
    ("raymarch", true, include_str!("../shaders/raymarch.wgsl")),
    ("pick", true, include_str!("../shaders/pick.wgsl")),
    ("section", false, include_str!("../shaders/section.wgsl")),
    ("overlay", false, include_str!("../shaders/overlay.wgsl")),
];

/// Full source of a process shader (prelude + body).
pub fn process(name: &str) -> String {
    let body = PROCESS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no process shader named {name}"))
        .1;
    format!("{PROCESS_COMMON}\n{body}")
}

/// Full source of a stress shader (preludes + body).
pub fn stress(name: &str) -> String {
    let &(_, cg, body) = STRESS
        .iter()
        .find(|(n, _, _)| *n == name)
        .unwrap_or_else(|| panic!("no stress shader named {name}"));
    let bindings = if cg { STRESS_CG_BINDINGS } else { "" };
    format!("{STRESS_COMMON}\n{bindings}\n{body}")
}

/// Full source of a render shader (prelude, voxel march where used, body).
pub fn render(name: &str) -> String {
    let &(_, marches, body) = RENDER
        .iter()
        .find(|(n, _, _)| *n == name)
        .unwrap_or_else(|| panic!("no render shader named {name}"));
    let march = if marches { VOXEL_MARCH } else { "" };
    format!("{RENDER_COMMON}\n{march}\n{body}")
}

/// Every complete shader source, for validation.
pub fn all() -> Vec<(&'static str, String)> {
    PROCESS
        .iter()
        .map(|(n, _)| (*n, process(n)))
        .chain(STRESS.iter().map(|(n, _, _)| (*n, stress(n))))
        .chain(RENDER.iter().map(|(n, _, _)| (*n, render(n))))
        .chain(STANDALONE.iter().map(|(n, s)| (*n, s.to_string())))
        .collect()
}
