//! Every WGSL source, embedded at build time. Process shaders get the shared
//! prelude `process_common.wgsl` prepended; stress shaders get `stress_common.wgsl`
//! (and the CG node bindings where they use them), and the bindings and accessors of
//! their windowed arrays ([`Windows`]).

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
pub const STRESS_GATHER: &str = include_str!("../shaders/stress_gather.wgsl");
pub const STRESS_MG_LEVEL: &str = include_str!("../shaders/stress_mg_level.wgsl");
pub const STRESS_MG_PWEIGHTS: &str = include_str!("../shaders/stress_mg_pweights.wgsl");
pub const STRESS_MG_SMOOTH: &str = include_str!("../shaders/stress_mg_smooth.wgsl");

/// The result fields' pass (with the common prelude).
pub const STRESS_RESULTS: &str = include_str!("../shaders/stress_results.wgsl");

/// Stress passes with the common prelude (`stress_common.wgsl`).
pub const STRESS: &[(&str, &str)] = &[("stress_results", STRESS_RESULTS)];

/// The outer CG, instantiated at f32 or f64 (`real`).
pub const STRESS_OUTER: &str = include_str!("../shaders/stress_outer.wgsl");

/// Multigrid passes: (name, gets stress_common.wgsl (and for the finest level the f32
/// gather), body). All get stress_mg_level.wgsl.
pub const STRESS_MG: &[(&str, bool, &str)] = &[
    (
        "stress_mg0",
        true,
        include_str!("../shaders/stress_mg0.wgsl"),
    ),
    (
        "stress_galerkin0",
        true,
        include_str!("../shaders/stress_galerkin0.wgsl"),
    ),
    (
        "stress_mg_tag",
        true,
        include_str!("../shaders/stress_mg_tag.wgsl"),
    ),
    (
        "stress_mg_elem",
        false,
        include_str!("../shaders/stress_mg_elem.wgsl"),
    ),
    (
        "stress_galerkin",
        false,
        include_str!("../shaders/stress_galerkin.wgsl"),
    ),
    (
        "stress_transfer",
        false,
        include_str!("../shaders/stress_transfer.wgsl"),
    ),
    (
        "stress_coarsest",
        false,
        include_str!("../shaders/stress_coarsest.wgsl"),
    ),
];

/// Full source of a stress shader (prelude + body), its arrays split as `windows` says.
pub fn stress(name: &str, windows: Windows) -> String {
    let &(_, body) = STRESS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no stress shader named {name}"));
    windows.expand(
        &format!("{STRESS_COMMON}\n{body}"),
        &[("u32", 4), ("f32", 4)],
    )
}

/// How the stress shaders bind node vectors that may outgrow one storage binding
/// (adapters cap a binding at 128 MiB to 4 GiB; an f64 vector takes 24 B per node). A
/// shader declares such a vector with a line
///
/// `// window u: array<real>, binding 6, read_write`
///
/// and reads it with `u_ld(i)` (writes with `u_st(i, v)`); [`Windows::expand`] prepends
/// `count` bindings (`binding + WINDOW_STRIDE * k`), window k holding the elements from
/// `k * bytes`, and those two functions. With one window the functions just index it.
///
/// A declaration ending in `, narrow` (the solver's arrays of at most 4 bytes per fine
/// node or voxel: material ids, node flags, result fields, level 1's block inverses)
/// takes the second split,
/// `narrow_bytes` × `narrow`, so those can be windowed apart from the 24-byte node
/// vectors (and a test can split them on an adapter with few storage buffers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Windows {
    /// Bytes per window (a multiple of 256, so every window's offset is aligned).
    pub bytes: u64,
    /// Windows per vector, 1..=[`MAX_WINDOWS`].
    pub count: u32,
    /// Bytes per window of the `narrow` declarations.
    pub narrow_bytes: u64,
    /// Windows per `narrow` array, 1..=[`MAX_WINDOWS`].
    pub narrow: u32,
}

/// Binding numbers of window k of binding b: b + WINDOW_STRIDE k (every windowed shader
/// has fewer than WINDOW_STRIDE bindings of its own; tests/shader_validation.rs checks).
pub const WINDOW_STRIDE: u32 = 50;

/// Most windows per array (bindings stay below wgpu's 1000 per group): 16 of lavapipe's
/// 128 MiB bindings cover its 2 GiB buffers; on a GPU, 16 of its 2 GiB bindings reach
/// the u32 index of an f64 node vector (1.43 G nodes), the vectors in buffers of whole
/// windows past wgpu 30's 4 GiB buffer cap (`stress::gpu_util::Vector`).
pub const MAX_WINDOWS: u32 = 16;

/// Window sizes (so their offsets) are multiples of this: WebGPU's largest
/// `min_storage_buffer_offset_alignment`, so every adapter takes them.
pub const WINDOW_ALIGN: u64 = 256;

/// One windowed declaration of a shader.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowDecl {
    pub name: String,
    pub ty: String,
    pub binding: u32,
    pub read_write: bool,
    /// Takes the `narrow` split.
    pub narrow: bool,
}

impl Windows {
    /// One window per vector: every binding as it is declared.
    pub const ONE: Windows = Windows {
        bytes: 1 << 31,
        count: 1,
        narrow_bytes: 1 << 31,
        narrow: 1,
    };

    /// `count` windows of `bytes` for every windowed array (narrow ones too).
    pub const fn uniform(bytes: u64, count: u32) -> Windows {
        Windows {
            bytes,
            count,
            narrow_bytes: bytes,
            narrow: count,
        }
    }

    /// The split of the declaration `d`: (bytes, count).
    pub fn of(self, d: &WindowDecl) -> (u64, u32) {
        if d.narrow {
            (self.narrow_bytes, self.narrow)
        } else {
            (self.bytes, self.count)
        }
    }

    /// Whether any array is split.
    pub fn is_split(self) -> bool {
        self.count > 1 || self.narrow > 1
    }

    /// The largest window an adapter binding at most `max_binding` bytes takes.
    pub fn bytes_for(max_binding: u64) -> u64 {
        max_binding / WINDOW_ALIGN * WINDOW_ALIGN
    }

    /// The split of arrays of up to `need` bytes on an adapter binding at most
    /// `max_binding`: one window while they fit, else windows of that limit (the count
    /// may exceed what a shader can bind: callers check it against their own limit).
    pub fn covering(need: u64, max_binding: u64) -> Windows {
        let bytes = Self::bytes_for(max_binding).max(WINDOW_ALIGN);
        match need.div_ceil(bytes) {
            0 | 1 => Self::ONE,
            n => Self::uniform(bytes, n.min(u64::from(u32::MAX)) as u32),
        }
    }

    /// Whether an adapter binding at most `max_binding` bytes can bind arrays of up to
    /// `need` bytes in the plain split (`count` windows of `bytes`; the narrow split
    /// is checked as `Windows::uniform(narrow_bytes, narrow)`) when a shader takes at
    /// most `most` windows: one window must hold them, several must be aligned, within
    /// the limit, at most `most`, and together hold them.
    pub fn fits(self, need: u64, most: u32, max_binding: u64) -> bool {
        match self.count {
            0 => false,
            1 => need <= max_binding,
            n => {
                n <= most
                    && self.bytes > 0
                    && self.bytes.is_multiple_of(WINDOW_ALIGN)
                    && self.bytes <= max_binding
                    && u64::from(n) * self.bytes >= need
            }
        }
    }

    /// Most windows per array a shader with `own` storage bindings, `windowed` of them
    /// split, can take in a stage of `max_storage` storage buffers (at most
    /// [`MAX_WINDOWS`]).
    pub fn most(max_storage: u32, own: u32, windowed: u32) -> u32 {
        (1 + max_storage.saturating_sub(own) / windowed.max(1)).min(MAX_WINDOWS)
    }

    /// Bytes `count` such windows hold, within the buffer limit `max_buffer`.
    pub fn reach(max_binding: u64, count: u32, max_buffer: u64) -> u64 {
        (u64::from(count) * Self::bytes_for(max_binding)).min(max_buffer)
    }

    /// The windowed declarations of `src` (`// window` lines, in order). The sources
    /// are built in, so a malformed line is a bug (every source is validated by a test).
    pub fn decls(src: &str) -> Vec<WindowDecl> {
        fn bad(d: &str) -> ! {
            panic!("malformed window declaration `{d}`")
        }
        src.lines()
            .filter_map(|l| l.trim_start().strip_prefix("// window "))
            .map(|d| {
                let (name, rest) = d.split_once(':').unwrap_or_else(|| bad(d));
                let mut parts = rest.split(',').map(str::trim);
                let ty = parts
                    .next()
                    .and_then(|t| t.strip_prefix("array<")?.strip_suffix('>'))
                    .unwrap_or_else(|| bad(d));
                let binding = parts
                    .next()
                    .and_then(|b| b.strip_prefix("binding ")?.parse().ok())
                    .unwrap_or_else(|| bad(d));
                let read_write = match parts.next() {
                    Some("read_write") => true,
                    Some("read") => false,
                    _ => bad(d),
                };
                let narrow = match parts.next() {
                    None => false,
                    Some("narrow") => true,
                    Some(_) => bad(d),
                };
                WindowDecl {
                    name: name.trim().into(),
                    ty: ty.into(),
                    binding,
                    read_write,
                    narrow,
                }
            })
            .collect()
    }

    /// `src` with its windowed vectors' bindings and accessors prepended (WGSL's
    /// module-scope declarations may come in any order). `sizes` gives the bytes of each
    /// element type the shader windows (its `real` and `outer` aliases among them).
    pub fn expand(self, src: &str, sizes: &[(&str, u64)]) -> String {
        let mut out = String::new();
        for d in Self::decls(src) {
            let size = sizes
                .iter()
                .find(|(t, _)| *t == d.ty)
                .map(|(_, s)| *s)
                .unwrap_or_else(|| panic!("no element size for window type {}", d.ty));
            let (bytes, windows) = self.of(&d);
            let per = bytes / size;
            let access = if d.read_write { "read_write" } else { "read" };
            let (name, ty) = (&d.name, &d.ty);
            for k in 0..windows {
                let b = d.binding + WINDOW_STRIDE * k;
                out += &format!(
                    "@group(0) @binding({b}) var<storage, {access}> {name}_w{k}: array<{ty}>;\n"
                );
            }
            // Windows past what a u32 index reaches are never used (and their bounds would
            // not fit a u32 literal).
            let count = (0..windows)
                .find(|&k| u64::from(k + 1) * per > u64::from(u32::MAX))
                .map_or(windows, |k| k + 1);
            let pick = |body: &dyn Fn(u32, String) -> String| {
                let mut f = String::new();
                for k in 0..count {
                    let j = if k == 0 {
                        "i".to_string()
                    } else {
                        format!("i - {}u", u64::from(k) * per)
                    };
                    if k + 1 < count {
                        f += &format!(
                            "    if i < {}u {{ {} }}\n",
                            u64::from(k + 1) * per,
                            body(k, j)
                        );
                    } else {
                        f += &format!("    {}\n", body(k, j));
                    }
                }
                f
            };
            out += &format!("fn {name}_ld(i: u32) -> {ty} {{\n");
            out += &pick(&|k, j| format!("return {name}_w{k}[{j}];"));
            out += "}\n";
            if d.read_write {
                out += &format!("fn {name}_st(i: u32, v: {ty}) {{\n");
                out += &pick(&|k, j| format!("{name}_w{k}[{j}] = v; return;"));
                out += "}\n";
            }
        }
        format!("{out}{src}")
    }
}

/// Bytes of the `real` / `outer` alias at f64 or f32.
fn real_size(f64: bool) -> u64 {
    if f64 { 8 } else { 4 }
}

/// Full source of the outer CG at f64 (`f64 = true`) or f32, its vectors split as
/// `windows` says.
pub fn stress_outer(f64: bool, windows: Windows) -> String {
    let real = if f64 { "f64" } else { "f32" };
    let src = format!("alias real = {real};\n{STRESS_COMMON}\n{STRESS_GATHER}\n{STRESS_OUTER}");
    windows.expand(&src, &[("real", real_size(f64)), ("f32", 4), ("u32", 4)])
}

/// Full source of a multigrid shader (preludes + body) for an outer CG at f64
/// (`f64 = true`) or f32 (level 0 reads its residual, `outer`), its node vectors
/// split as `windows` says.
pub fn stress_mg(name: &str, f64: bool, windows: Windows) -> String {
    let src = stress_mg_source(name, f64);
    windows.expand(&src, &[("outer", real_size(f64)), ("f32", 4), ("u32", 4)])
}

fn stress_mg_source(name: &str, f64: bool) -> String {
    let &(_, common, body) = STRESS_MG
        .iter()
        .find(|(n, _, _)| *n == name)
        .unwrap_or_else(|| panic!("no multigrid shader named {name}"));
    let pweights = if name.starts_with("stress_galerkin") {
        STRESS_MG_PWEIGHTS
    } else {
        ""
    };
    // The levels' operators, which also smooth.
    let smooth = if matches!(name, "stress_mg0" | "stress_mg_elem") {
        STRESS_MG_SMOOTH
    } else {
        ""
    };
    if !common {
        return format!("{STRESS_MG_LEVEL}\n{pweights}\n{smooth}\n{body}");
    }
    // The finest level's gather runs at f32; the Galerkin pass only needs the prelude.
    let gather = if name == "stress_mg0" {
        STRESS_GATHER
    } else {
        ""
    };
    let outer = if f64 { "f64" } else { "f32" };
    format!(
        "alias real = f32;\nalias outer = {outer};\n{STRESS_COMMON}\n{STRESS_MG_LEVEL}\n{pweights}\n{smooth}\n{gather}\n{body}"
    )
}

/// Stand-alone passes (no prelude).
pub const STANDALONE: &[(&str, &str)] = &[("coarsen", include_str!("../shaders/coarsen.wgsl"))];

/// The coarsen pass's source (stand-alone), its grids split as `windows` says.
pub fn coarsen(windows: Windows) -> String {
    windows.expand(standalone("coarsen"), &[("u32", 4)])
}

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

/// Full source of a process shader (prelude + body), its voxel fields split as
/// `windows` says.
pub fn process(name: &str, windows: Windows) -> String {
    let body = PROCESS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no process shader named {name}"))
        .1;
    windows.expand(&format!("{PROCESS_COMMON}\n{body}"), &[("u32", 4)])
}

/// Full source of a render shader (prelude, voxel march where used, body), its voxel
/// and node fields split as `windows` says.
pub fn render(name: &str, windows: Windows) -> String {
    let &(_, marches, body) = RENDER
        .iter()
        .find(|(n, _, _)| *n == name)
        .unwrap_or_else(|| panic!("no render shader named {name}"));
    let march = if marches { VOXEL_MARCH } else { "" };
    windows.expand(
        &format!("{RENDER_COMMON}\n{march}\n{body}"),
        &[("u32", 4), ("f32", 4)],
    )
}

const THREE: Windows = Windows::uniform(1 << 20, 3);

/// Every complete shader source, for validation.
pub fn all() -> Vec<(String, String)> {
    let process_windowed = PROCESS
        .iter()
        .map(|(n, _)| (format!("{n}_windowed"), process(n, THREE)));
    let render_windowed = RENDER
        .iter()
        .map(|(n, _, _)| (format!("{n}_windowed"), render(n, THREE)));
    PROCESS
        .iter()
        .map(|(n, _)| (*n, process(n, Windows::ONE)))
        .chain(STRESS.iter().map(|(n, _)| (*n, stress(n, Windows::ONE))))
        .chain(
            STRESS_MG
                .iter()
                .map(|(n, _, _)| (*n, stress_mg(n, true, Windows::ONE))),
        )
        .chain([
            (
                "stress_mg0_f32",
                stress_mg("stress_mg0", false, Windows::ONE),
            ),
            ("stress_outer_f32", stress_outer(false, Windows::ONE)),
            ("stress_outer_f64", stress_outer(true, Windows::ONE)),
        ])
        // Node vectors and coarse matrices split over three windows (grids beyond one
        // binding).
        .chain([
            ("stress_outer_f64_windowed", stress_outer(true, THREE)),
            ("stress_mg0_windowed", stress_mg("stress_mg0", true, THREE)),
            (
                "stress_mg_elem_windowed",
                stress_mg("stress_mg_elem", true, THREE),
            ),
            (
                "stress_transfer_windowed",
                stress_mg("stress_transfer", true, THREE),
            ),
            (
                "stress_galerkin0_windowed",
                stress_mg("stress_galerkin0", true, THREE),
            ),
            (
                "stress_galerkin_windowed",
                stress_mg("stress_galerkin", true, THREE),
            ),
        ])
        .chain(RENDER.iter().map(|(n, _, _)| (*n, render(n, Windows::ONE))))
        .chain([("coarsen", coarsen(Windows::ONE))])
        .map(|(n, s)| (n.to_string(), s))
        .chain(process_windowed)
        .chain(render_windowed)
        .chain([
            ("coarsen_windowed".to_string(), coarsen(THREE)),
            (
                "stress_results_windowed".to_string(),
                stress("stress_results", THREE),
            ),
        ])
        .collect()
}
