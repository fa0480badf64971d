//! Inputs that once crashed voxfab, and their neighbours: each is refused before any
//! GPU work with a FILE:LINE:COL error, or (the long grid) runs. The resource budget is
//! pure arithmetic, tested without a GPU; the last tests run on the test adapter.

mod common;

use voxfab::budget::{self, Limits};
use voxfab::process::params::counter_words;
use voxfab::scene::{Scene, SceneError};
use voxfab::stress::StressSolver;

fn parse(src: &str) -> Result<Scene, SceneError> {
    Scene::parse(src, "t.toml", &[])
}

/// 1-based (line, col) of the first occurrence of `needle`.
fn pos(src: &str, needle: &str) -> (usize, usize) {
    let at = src
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in source"));
    voxfab::scene::line_col(src, at)
}

/// A scene with one substrate step on `size` µm at 1 µm voxels, plus `extra` TOML.
fn scene_src(size: &str, extra: &str) -> String {
    format!(
        "[grid]\nsize = {size}\nvoxel = 1.0\n{extra}\n[[step]]\nop = \"substrate\"\nmaterial = \"si\"\nthickness = 2.0\n"
    )
}

/// `voxfab check`'s test: parse, then the absolute caps and the default memory budget.
fn check(src: &str) -> Result<Scene, SceneError> {
    let s = parse(src)?;
    let est = budget::estimate(&s, Some([1600, 900]));
    budget::check(
        &s,
        &est,
        &Limits::absolute(budget::DEFAULT_GPU_MEMORY_MIB),
        "any adapter",
    )?;
    Ok(s)
}

#[test]
fn mask_array_count_overflow_is_refused_at_the_count() {
    // 65536 x 65536 wrapped u32 to 0 and slipped past the cap; check then allocated
    // until killed.
    let mask = "[masks.a]\ncircle = [5.0, 5.0, 2.0]\narray = { count = [65536, 65536], pitch = [1.0, 1.0] }\n";
    let src = scene_src("[40.0, 40.0, 20.0]", mask);
    let e = check(&src).unwrap_err();
    assert_eq!((e.line, e.col), pos(&src, "[65536, 65536]"), "{e}");
    assert!(e.message.contains("4294967296"), "names the product: {e}");
    assert!(e.to_string().starts_with(&format!("t.toml:{}:", e.line)));
    // Neighbours: a zero count, one just over the cap, and the largest allowed.
    for (count, ok) in [
        ("[0, 5]", false),
        ("[1000, 1001]", false),
        ("[4294967295, 2]", false),
        ("[1000, 1000]", true),
    ] {
        let src = src
            .replace("[65536, 65536]", count)
            .replace("pitch = [1.0, 1.0]", "pitch = [0.01, 0.01]");
        match check(&src) {
            Ok(s) => {
                assert!(ok, "{count} accepted");
                assert_eq!(s.masks[0].shapes.len(), 1_000_000);
            }
            Err(e) => {
                assert!(!ok, "{count}: {e}");
                assert_eq!((e.line, e.col), pos(&src, count), "{count}: {e}");
            }
        }
    }
}

#[test]
fn masks_are_capped_in_total_not_only_per_array() {
    // Five arrays of 1e6 circles each: every array is within its cap, the mask is not.
    let entry =
        "{ circle = [5.0, 5.0, 2.0], array = { count = [1000, 1000], pitch = [0.01, 0.01] } }";
    let mask = format!("[masks.a]\nshapes = [\n{}\n]\n", [entry; 5].join(",\n"));
    let src = scene_src("[40.0, 40.0, 20.0]", &mask);
    let e = check(&src).unwrap_err();
    // 2 records per circle: the third array passes 4 Mi records.
    let third = src.match_indices("{ circle").nth(2).unwrap().0;
    assert_eq!((e.line, e.col), voxfab::scene::line_col(&src, third), "{e}");
    assert!(e.message.contains("mask too large"), "{e}");
    // Polygons count their vertices: 1e6 copies of a 10-gon are 6 Mi records.
    let gon: Vec<String> = (0..10)
        .map(|i| {
            let a = f64::from(i) * std::f64::consts::TAU / 10.0;
            format!("[{:.3}, {:.3}]", 5.0 + a.cos(), 5.0 + a.sin())
        })
        .collect();
    let mask = format!(
        "[masks.a]\npolygon = [{}]\narray = {{ count = [1000, 1000], pitch = [0.01, 0.01] }}\n",
        gon.join(", ")
    );
    let src = scene_src("[40.0, 40.0, 20.0]", &mask);
    let e = check(&src).unwrap_err();
    assert_eq!(e.line, pos(&src, "polygon =").0, "{e}");
    assert!(e.message.contains("mask too large"), "{e}");
}

#[test]
fn grid_voxel_count_overflow_is_refused_at_the_size() {
    // 4194304³ = 2^66 voxels wrapped u64 to 0: check said ok, run panicked in wgpu.
    let src = scene_src("[4194304.0, 4194304.0, 4194304.0]", "");
    let e = check(&src).unwrap_err();
    assert_eq!((e.line, e.col), pos(&src, "[4194304.0"), "{e}");
    assert!(
        e.message.contains("73786976294838206464 voxels"),
        "the true count: {e}"
    );
    // Just over the u32 index limit is refused by the parser; just under it parses but
    // needs 8 GiB per voxel field, past the 4 GiB wgpu gives any buffer.
    let e = check(&scene_src("[2048.0, 1024.0, 1025.0]", "")).unwrap_err();
    assert!(e.message.contains("voxel index limit"), "{e}");
    let src = scene_src("[2048.0, 1024.0, 1024.0]", "");
    let e = check(&src).unwrap_err();
    assert_eq!((e.line, e.col), pos(&src, "[2048.0"), "{e}");
    assert!(
        e.message.contains("GpuGrid::material needs 8192 MiB")
            && e.message.contains("4096 MiB per voxel field"),
        "{e}"
    );
    // One axis past u32 is refused by itself.
    let e = check(&scene_src("[5e9, 1.0, 1.0]", "")).unwrap_err();
    assert!(e.message.contains("voxels on axis 0"), "{e}");
}

#[test]
fn the_long_grid_passes_the_budget() {
    let s = check(&scene_src("[600000.0, 4.0, 4.0]", "")).unwrap();
    assert_eq!(s.grid.voxels(), 9_600_000);
    // lavapipe's limits: 128 MiB bindings, 2 GiB buffers.
    let lavapipe = wgpu::Limits {
        max_storage_buffer_binding_size: 128 << 20,
        max_buffer_size: 2 << 30,
        ..wgpu::Limits::default()
    };
    let est = budget::estimate(&s, None);
    budget::check(&s, &est, &Limits::adapter(&lavapipe, 4096), "lavapipe").unwrap();
}

#[test]
fn the_estimate_sums_every_buffer_of_every_part() {
    // Two parts and a 2x-coarsened stress step on a 40x20x10 grid.
    let src = r#"
[grid]
size = [40.0, 20.0, 10.0]
voxel = 1.0

[[step]]
op = "substrate"
material = "si"
thickness = 2.0

[[step]]
part = "die"
op = "substrate"
material = "si"
thickness = 2.0

[[step]]
name = "cool"
op = "stress"
delta_t = -100.0
coarsen = 2
"#;
    let s = parse(src).unwrap();
    let est = budget::estimate(&s, None);
    let voxels = 40 * 20 * 10;
    let per_part = 4 * voxels * 4 // material, prev, scratch_a, scratch_b
        + 40 * 20 * 4 // mask
        + counter_words([40, 20, 10]) * 4 // counters and the wet etch's brick stamps
        + 256 * 256 // uniform slots
        + 1024 * 16; // shapes
    let coarse_voxels = 20 * 10 * 5;
    let stress = coarse_voxels * 4 + 5 * 4 // the coarsened grid: material ids and stand-ins
        + voxfab::stress::StressSolver::memory_bytes([20, 10, 5], true).total; // the solver's own estimate
    let readback = voxels * 4;
    assert_eq!(est.total(), 2 * per_part + readback + stress);
    // The stress solve is what breaks a budget between the two.
    let without_stress = est.total() - stress;
    let limits = Limits {
        max_buffer: u64::MAX,
        max_binding: u64::MAX,
        memory: without_stress + 1,
        max_windows: 8,
        max_grid_windows: 8,
    };
    let e = budget::check(&s, &est, &limits, "test").unwrap_err();
    assert_eq!(e.line, pos(src, "name = \"cool\"").0 - 1, "{e}");
    assert!(e.message.contains("stress step `cool`"), "{e}");
    let limits = Limits {
        memory: est.total(),
        ..limits
    };
    budget::check(&s, &est, &limits, "test").unwrap();
}

/// A solve of `total` bytes whose largest whole binding is `binding` and largest node
/// vector `vector`.
fn solve(total: u64, binding: u64, vector: u64) -> voxfab::stress::SolveBytes {
    voxfab::stress::SolveBytes {
        total,
        largest_binding: binding,
        largest_vector: vector,
        narrow: 0,
        dims: [0; 3],
        f64: true,
    }
}

#[test]
fn the_solves_4_byte_arrays_and_result_buffers_are_checked_with_the_adapters_limits() {
    // 32x32x16 voxels solved on single voxels: node flags of 74052 B, f64 vectors of
    // 444 KB. The 4-byte arrays are one buffer each: a 64 KiB buffer limit refuses them.
    let stress = "[[step]]\nname = \"cool\"\nop = \"stress\"\ndelta_t = -100.0\n";
    let src = scene_src("[32.0, 32.0, 16.0]", "") + stress;
    let s = parse(&src).unwrap();
    let est = budget::estimate(&s, None);
    let limits = Limits {
        max_buffer: 1 << 30,
        max_binding: 1 << 30,
        memory: est.total(),
        max_windows: 16,
        max_grid_windows: 16,
    };
    budget::check(&s, &est, &limits, "test").unwrap();
    let narrow = Limits {
        max_buffer: 64 << 10,
        ..limits
    };
    let e = budget::check(&s, &est, &narrow, "test").unwrap_err();
    assert!(e.message.contains("largest 4-byte array"), "{e}");
    assert!(e.message.contains("at most 64 KiB per buffer"), "{e}");
    // Past a 127488 B buffer limit the vectors go into pieces of 2 windows, and the
    // third displacement range fits no piece: a buffer of its own, which the memory
    // budget must hold too.
    let dims = [32, 32, 16];
    let own = StressSolver::result_bytes(dims, true, 1 << 30, 127_488);
    assert_eq!(own, 33 * 33 * 17 * 4);
    assert_eq!(StressSolver::result_bytes(dims, true, 1 << 30, 1 << 30), 0);
    let pieces = Limits {
        max_buffer: 127_488,
        ..limits
    };
    let e = budget::check(&s, &est, &pieces, "test").unwrap_err();
    assert!(e.message.contains("over the budget"), "{e}");
    let roomy = Limits {
        memory: est.total() + own,
        ..pieces
    };
    budget::check(&s, &est, &roomy, "test").unwrap();
}

#[test]
fn the_stress_hook_takes_the_largest_solve() {
    let s = parse(&scene_src("[16.0, 16.0, 8.0]", "")).unwrap();
    let mut est = budget::estimate(&s, None);
    let base = est.total();
    let g = s.grid.clone();
    est.add_stress_solve(0, &g, solve(1000, 100, 200));
    let grid_bytes = 16 * 16 * 8 * 4 + 5 * 4;
    assert_eq!(est.total(), base + grid_bytes + 1000);
    // A smaller solve does not add; a larger one replaces.
    est.add_stress_solve(0, &g, solve(10, 1, 1));
    assert_eq!(est.total(), base + grid_bytes + 1000);
    est.add_stress_solve(0, &g, solve(5000, 100, 200));
    assert_eq!(est.total(), base + grid_bytes + 5000);
    // The largest whole binding is checked against the binding limit ...
    let limits = Limits {
        max_buffer: 1 << 26,
        max_binding: 1 << 20,
        memory: u64::MAX,
        max_windows: 8,
        max_grid_windows: 8,
    };
    est.add_stress_solve(0, &g, solve((1 << 29) + (2 << 20), 1 << 29, 1 << 20));
    let e = budget::check(&s, &est, &limits, "test").unwrap_err();
    assert!(e.message.contains("stress solve: largest binding"), "{e}");
    // ... the node vectors, bound in windows, may exceed it up to eight windows ...
    let mut est = budget::estimate(&s, None);
    est.add_stress_solve(0, &g, solve(1 << 24, 1 << 19, 8 << 20));
    budget::check(&s, &est, &limits, "test").unwrap();
    // ... and past the buffer limit too (in buffers of whole windows) ...
    let small = Limits {
        max_buffer: 4 << 20,
        ..limits
    };
    budget::check(&s, &est, &small, "test").unwrap();
    // ... but not beyond the adapter's window count, whatever the buffer limit.
    let mut est = budget::estimate(&s, None);
    est.add_stress_solve(0, &g, solve((9 << 20) + 8, 1 << 19, (8 << 20) + 8));
    let e = budget::check(&s, &est, &limits, "test").unwrap_err();
    assert!(
        e.message.contains("stress solve: largest node vector"),
        "{e}"
    );
    assert!(e.message.contains("at most 8 MiB per node vector"), "{e}");
    let e = budget::check(&s, &est, &small, "test").unwrap_err();
    assert!(e.message.contains("at most 8 MiB per node vector"), "{e}");
    let few = Limits {
        max_windows: 4,
        ..limits
    };
    let e = budget::check(&s, &est, &few, "test").unwrap_err();
    assert!(e.message.contains("at most 4 windows"), "{e}");
    // The solve's other buffers (many, each smaller than the named ones) count toward
    // the memory budget, not against the limit of one buffer: 62 MiB of them pass a
    // 4 MiB buffer limit, and are refused by a 32 MiB budget.
    let mut est = budget::estimate(&s, None);
    est.add_stress_solve(0, &g, solve(64 << 20, 1 << 19, 1 << 20));
    budget::check(&s, &est, &small, "test").unwrap();
    let tight = Limits {
        memory: 32 << 20,
        ..small
    };
    let e = budget::check(&s, &est, &tight, "test").unwrap_err();
    assert!(e.message.contains("over the budget of 32 MiB"), "{e}");
}

#[test]
fn a_billion_voxel_flow_passes_check_with_its_solve_on_blocks() {
    // The suspended bump at 0.193 µm: 1554 x 829 x 777 voxels (4.0 GB per field, in
    // windows), its stress step on 2x2x2 blocks (125 M nodes, 3.0 GB per f64 vector).
    // Its solve's buffers beside the two largest (~10 GiB) were checked as one buffer
    // and refused; on 70 GB it fits, on the default 4 GiB not.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/suspended_bump.toml");
    let set = [
        "grid.voxel=0.193".to_string(),
        "step.thermal_cycle.coarsen=2".to_string(),
    ];
    let s = Scene::load(&path, &set).unwrap();
    assert_eq!(s.grid.voxels(), 1554 * 829 * 777);
    let est = budget::estimate(&s, Some([800, 450]));
    budget::check(&s, &est, &Limits::absolute(70_000), "any adapter").unwrap();
    let e = budget::check(&s, &est, &Limits::absolute(4096), "any adapter").unwrap_err();
    assert!(e.message.contains("over the budget of 4096 MiB"), "{e}");
}

#[test]
fn a_stress_grid_too_long_for_the_coarsen_pass_is_refused_at_its_step() {
    let stress = "[[step]]\nname = \"cool\"\nop = \"stress\"\ndelta_t = -100.0\n";
    let src = scene_src("[600000.0, 4.0, 4.0]", "") + stress;
    let e = check(&src).unwrap_err();
    assert_eq!(e.line, pos(&src, "name = \"cool\"").0 - 1, "{e}");
    assert!(e.message.contains("raise the step's `coarsen`"), "{e}");
    // Coarsened 3x the grid fits a dispatch.
    check(&(src + "coarsen = 3\n")).unwrap();
}

#[test]
fn run_refuses_a_scene_over_the_memory_budget_before_any_gpu_work() {
    let gpu = common::gpu();
    let s = parse(&scene_src("[256.0, 256.0, 64.0]", "")).unwrap();
    let out = std::env::temp_dir().join(format!("voxfab_budget_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let opts = voxfab::run::RunOptions {
        gpu_memory_mib: 16,
        ..voxfab::run::RunOptions::new(&out)
    };
    let Err(voxfab::run::RunError::Budget(e)) = voxfab::run::run_scene(gpu, &s, &opts) else {
        panic!("a 16 MiB budget cannot hold 64 MiB of grid");
    };
    assert!(e.message.contains("over the budget of 16 MiB"), "{e}");
    assert!(!out.exists(), "nothing written");
}

#[test]
fn uncaptured_gpu_errors_are_recorded_for_the_step_not_panics() {
    // Its own context: the error must not leak into other tests' device.
    let gpu = voxfab::gpu::GpuContext::new().expect("an adapter (lavapipe on CI)");
    // MAP_READ with MAP_WRITE is invalid: wgpu's default handler would panic here.
    let _bad = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("test::invalid"),
        size: 16,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::MAP_WRITE,
        mapped_at_creation: false,
    });
    let e = gpu.take_error().expect("the validation error is kept");
    assert!(e.contains("test::invalid"), "{e}");
    assert_eq!(gpu.take_error(), None, "taken once");
    // A run turns it into an error naming the step.
    let s = parse(&scene_src("[8.0, 8.0, 8.0]", "")).unwrap();
    let _bad = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("test::invalid_again"),
        size: 16,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::MAP_WRITE,
        mapped_at_creation: false,
    });
    let e = voxfab::run::gpu_error(&gpu, &s, &s.steps[0]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("t.toml:5: step `1_substrate`: GPU error:"),
        "{e}"
    );
}

#[test]
fn the_long_grid_runs_end_to_end_with_frames() {
    // The scene that panicked: 600000 x 4 x 4 voxels, through run_scene with frames.
    let gpu = common::gpu();
    let step = "[[step]]\nname = \"film\"\nop = \"deposit\"\nmode = \"directional\"\nmaterial = \"cu\"\nthickness = 1.0\n";
    let s = parse(&(scene_src("[600000.0, 4.0, 4.0]", "") + step)).unwrap();
    let out = std::env::temp_dir().join(format!("voxfab_long_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let opts = voxfab::run::RunOptions {
        frame_size: [320, 180],
        ..voxfab::run::RunOptions::new(&out)
    };
    let r = voxfab::run::run_scene(gpu, &s, &opts).unwrap();
    assert_eq!(r.frames.len(), 2);
    assert_eq!(r.metrics.steps[0].voxels_changed, 600_000 * 4 * 2);
    assert_eq!(r.metrics.steps[1].voxels_changed, 600_000 * 4);
    let cu = s.materials.id("cu").unwrap();
    assert_eq!(
        r.materials.iter().filter(|&&m| m == cu).count(),
        600_000 * 4
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn coarse_matrices_over_what_the_budget_left_are_refused_at_set_up() {
    // The up-front check counts the solver's vectors; the coarse matrices of elements
    // that are not uniform blocks are counted on the GPU at set-up and must fit what
    // the budget left. A 5 µm substrate under a 3 µm film on 1 µm voxels puts every
    // level-1 element of the bottom layer (rollers) and of the interface in that class:
    // over 2000 elements, more than 1 MiB beyond the estimate. Its own context: the
    // headroom is per device.
    let gpu = voxfab::gpu::GpuContext::new().expect("an adapter (lavapipe on CI)");
    let src = "[grid]\nsize = [64.0, 64.0, 16.0]\nvoxel = 1.0\n\n\
        [[step]]\nop = \"substrate\"\nmaterial = \"si\"\nthickness = 5.0\n\n\
        [[step]]\nop = \"deposit\"\nmode = \"directional\"\nmaterial = \"cu\"\nthickness = 3.0\n\n\
        [[step]]\nname = \"cool\"\nop = \"stress\"\nstress_free = 125.0\nfinal = -40.0\n\
        support = \"bottom_roller\"\n";
    let s = parse(src).unwrap();
    let run = |mib: u64, tag: &str| {
        let out =
            std::env::temp_dir().join(format!("voxfab_headroom_{tag}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let opts = voxfab::run::RunOptions {
            gpu_memory_mib: mib,
            frames: false,
            ..voxfab::run::RunOptions::new(&out)
        };
        (voxfab::run::run_scene(&gpu, &s, &opts), out)
    };
    // The least budget the up-front check passes leaves under 1 MiB.
    let total = budget::estimate(&s, None).total();
    let (r, out) = run(total.div_ceil(1 << 20), "tight");
    let Err(e) = r else {
        panic!("the coarse matrices cannot fit under 1 MiB of headroom");
    };
    let msg = e.to_string();
    assert!(msg.starts_with("t.toml:16: step `cool`"), "{msg}");
    assert!(
        msg.contains("coarse elements that are not uniform blocks"),
        "{msg}"
    );
    assert!(msg.contains("MiB left: raise --gpu-memory"), "{msg}");
    assert!(
        !out.join("metrics.json").exists(),
        "no metrics of a failed run"
    );
    // 4 MiB more is enough.
    let (r, out) = run(total.div_ceil(1 << 20) + 4, "roomy");
    let r = r.unwrap_or_else(|e| panic!("{e}"));
    assert!(r.metrics.stress[0].converged);
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn voxel_fields_past_one_binding_pass_in_windows_stress_steps_included() {
    // 256x128x32 voxels: 4 MiB per field, past a 2 MiB binding (the solver's fixed
    // tables take 2 MiB bindings).
    let src = scene_src("[256.0, 128.0, 32.0]", "");
    let s = parse(&src).unwrap();
    let est = budget::estimate(&s, Some([320, 180]));
    let limits = Limits {
        max_buffer: 1 << 30,
        max_binding: 2 << 20,
        memory: 1 << 32,
        max_windows: 8,
        max_grid_windows: 4,
    };
    budget::check(&s, &est, &limits, "test").unwrap();
    // ... not past the windows the process kernels and the renderer can bind ...
    let one = Limits {
        max_grid_windows: 1,
        ..limits
    };
    let e = budget::check(&s, &est, &one, "test").unwrap_err();
    assert!(e.message.contains("GpuGrid::material needs 4 MiB"), "{e}");
    assert!(e.message.contains("at most 1 windows"), "{e}");
    // ... and a stress step takes the material field in windows too: at coarsen 4 its
    // solve fits, at coarsen 1 its level-1 vectors (3.4 MB) pass the binding.
    for (coarsen, fits) in [(4, true), (1, false)] {
        let src = format!(
            "{src}[[step]]\nname = \"cool\"\nop = \"stress\"\ndelta_t = -100.0\ncoarsen = {coarsen}\n"
        );
        let s = parse(&src).unwrap();
        let est = budget::estimate(&s, None);
        let r = budget::check(&s, &est, &limits, "test");
        if fits {
            r.unwrap();
        } else {
            let e = r.unwrap_err();
            assert_eq!(e.line, pos(&src, "name = \"cool\"").0 - 1, "{e}");
            assert!(e.message.contains("stress solve: largest"), "{e}");
        }
    }
}
