//! Seeded mutations of scene files: whatever the text, parse + check and a run never
//! panic, and every rejection is a located `FILE:LINE:COL: message`.
//!
//! Part one mutates the bundled scenes (numbers swapped for edge values, lines dropped
//! or doubled, strings swapped, text cut short) through parse and the resource budget,
//! no GPU. Part two mutates a tiny scene with one step of every kind and runs it.

mod common;

use common::Rng;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use voxfab::budget::{self, Limits};
use voxfab::run::{RunError, RunOptions, run_scene};
use voxfab::scene::{Scene, SceneError};

/// Values that broke parsers before: zero, negative, huge, tiny, not finite,
/// past u32 and u64, one over a cap, and a long axis.
const EDGE_NUMBERS: &[&str] = &[
    "0",
    "0.0",
    "-1.0",
    "-0.0",
    "1e-9",
    "1e30",
    "1e308",
    "nan",
    "inf",
    "-inf",
    "65536",
    "4294967296",
    "18446744073709551616",
    "1000001",
    "600000.0",
    "2",
    "0.5",
];

const EDGE_STRINGS: &[&str] = &[
    "\"\"",
    "\"nope\"",
    "\"main\"",
    "\"stress\"",
    "\"bond\"",
    "\"si\"",
    "\"x\"",
    "\"bottom\"",
    "\"isotropic\"",
    "\"adhesive\"",
    "\"ü\"",
];

/// Milder values for runs: most still build something, some break a step at run
/// time (a stack taller than the grid, an empty part).
const RUN_NUMBERS: &[&str] = &[
    "0.5", "1.0", "2.0", "3.0", "7.0", "15.0", "23.0", "40.0", "0", "-1.0", "1e9",
];

/// The seed and case count: CI's fixed ones, or `VOXFAB_FUZZ_SEED` / `VOXFAB_FUZZ_CASES`
/// for a wider run by hand (2026-12-07: seeds 11, 22, 33, 1234567, 987654321, 5555555555
/// and 77777777777 at 8000 cases each of the bundled mutations, and two of them at 300
/// tiny runs, found nothing).
fn knobs(seed: u64, cases: usize) -> (u64, usize) {
    let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
    (
        var("VOXFAB_FUZZ_SEED").unwrap_or(seed),
        var("VOXFAB_FUZZ_CASES").map_or(cases, |c: u64| c as usize),
    )
}

fn pick(rng: &mut Rng, n: usize) -> usize {
    rng.below(n.max(1) as u32) as usize
}

/// `src` with one value (number or string) replaced: the structure stays valid TOML.
fn mutate_value(rng: &mut Rng, src: &str) -> String {
    let (spans, values) = if rng.below(4) == 0 {
        (string_spans(src), EDGE_STRINGS)
    } else {
        (number_spans(src), RUN_NUMBERS)
    };
    if spans.is_empty() {
        return src.to_string();
    }
    let (a, b) = spans[pick(rng, spans.len())];
    let v = values[pick(rng, values.len())];
    format!("{}{v}{}", &src[..a], &src[b..])
}

/// One random edit of `src`.
fn mutate(rng: &mut Rng, src: &str) -> String {
    let lines: Vec<&str> = src.lines().collect();
    // A text cut to nothing has no line to drop or repeat (small seeds get there).
    if lines.is_empty() {
        return src.to_string();
    }
    match rng.below(7) {
        // A number token becomes an edge value.
        0 | 1 => {
            let spans = number_spans(src);
            if spans.is_empty() {
                return src.to_string();
            }
            let (a, b) = spans[pick(rng, spans.len())];
            let v = EDGE_NUMBERS[pick(rng, EDGE_NUMBERS.len())];
            format!("{}{v}{}", &src[..a], &src[b..])
        }
        // A string value becomes another.
        2 => {
            let spans = string_spans(src);
            if spans.is_empty() {
                return src.to_string();
            }
            let (a, b) = spans[pick(rng, spans.len())];
            let v = EDGE_STRINGS[pick(rng, EDGE_STRINGS.len())];
            format!("{}{v}{}", &src[..a], &src[b..])
        }
        // A line disappears.
        3 => {
            let k = pick(rng, lines.len());
            lines
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != k)
                .map(|(_, l)| *l)
                .collect::<Vec<_>>()
                .join("\n")
        }
        // A line appears twice (duplicate keys, tables, steps).
        4 => {
            let k = pick(rng, lines.len());
            let mut out = lines.clone();
            out.insert(k, lines[k]);
            out.join("\n")
        }
        // Two lines trade places (a key moves into another table).
        5 => {
            let (i, j) = (pick(rng, lines.len()), pick(rng, lines.len()));
            let mut out = lines.clone();
            out.swap(i, j);
            out.join("\n")
        }
        // The file ends early, possibly mid-token (on a char boundary).
        _ => {
            let mut cut = pick(rng, src.len());
            while !src.is_char_boundary(cut) {
                cut -= 1;
            }
            src[..cut].to_string()
        }
    }
}

/// Byte spans of numeric literals outside comments and strings.
fn number_spans(src: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let bytes = src.as_bytes();
    let mut i = 0;
    let (mut in_str, mut in_comment) = (false, false);
    while i < bytes.len() {
        let c = bytes[i];
        if in_comment {
            in_comment = c != b'\n';
        } else if in_str {
            in_str = c != b'"';
        } else if c == b'#' {
            in_comment = true;
        } else if c == b'"' {
            in_str = true;
        } else if c.is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            let start = if i > 0 && bytes[i - 1] == b'-' {
                i - 1
            } else {
                i
            };
            let mut end = i;
            while end < bytes.len()
                && (bytes[end].is_ascii_digit() || matches!(bytes[end], b'.' | b'e' | b'E'))
            {
                end += 1;
            }
            out.push((start, end));
            i = end;
            continue;
        }
        i += 1;
    }
    out
}

/// Byte spans of `"..."` string literals outside comments.
fn string_spans(src: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    let mut in_comment = false;
    for (i, c) in src.char_indices() {
        match (c, start, in_comment) {
            ('\n', _, true) => in_comment = false,
            (_, _, true) => {}
            ('#', None, false) => in_comment = true,
            ('"', None, false) => start = Some(i),
            ('"', Some(s), false) => {
                out.push((s, i + 1));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// A rejection must name the file and a position in it, and print as FILE:LINE:COL.
fn assert_located(e: &SceneError, file: &str, src: &str, case: &str) {
    assert_eq!(e.file, file, "{case}: {e}");
    let lines = src.lines().count().max(1);
    assert!(
        e.line >= 1 && e.line <= lines + 1 && e.col >= 1,
        "{case}: unlocated error: {e}\n--- scene ---\n{src}"
    );
    assert!(
        e.to_string()
            .starts_with(&format!("{file}:{}:{}: ", e.line, e.col)),
        "{case}: {e}"
    );
    assert!(!e.message.is_empty(), "{case}");
}

/// Parse, then `voxfab check`'s budget (absolute caps, default memory budget).
fn parse_and_check(src: &str, file: &str) -> Result<Scene, SceneError> {
    let s = Scene::parse(src, file, &[])?;
    let est = budget::estimate(&s, Some([1600, 900]));
    budget::check(
        &s,
        &est,
        &Limits::absolute(budget::DEFAULT_GPU_MEMORY_MIB),
        "any adapter",
    )?;
    Ok(s)
}

fn bundled() -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes");
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            let src = std::fs::read_to_string(&p).unwrap();
            (p, src)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn mutated_bundled_scenes_never_panic_and_every_rejection_is_located() {
    let scenes = bundled();
    assert!(scenes.len() >= 12);
    let (seed, cases) = knobs(0x5eed_0010, 1200);
    let mut rng = Rng(seed);
    let (mut rejected, mut accepted) = (0, 0);
    for case in 0..cases {
        let (path, original) = &scenes[case % scenes.len()];
        let mut src = original.clone();
        for _ in 0..=rng.below(3) {
            src = mutate(&mut rng, &src);
        }
        // The real path, so gds masks resolve beside the scene.
        let file = path.display().to_string();
        let label = format!("case {case} ({})", path.display());
        let result = catch_unwind(AssertUnwindSafe(|| parse_and_check(&src, &file)))
            .unwrap_or_else(|_| panic!("{label}: panicked on\n{src}"));
        match result {
            Ok(_) => accepted += 1,
            Err(e) => {
                assert_located(&e, &file, &src, &label);
                rejected += 1;
            }
        }
    }
    eprintln!("bundled mutations: {accepted} accepted, {rejected} rejected");
    // The mutations reach both sides of the checks.
    assert!(
        rejected >= 300 && accepted >= 100,
        "rejected {rejected}, accepted {accepted}"
    );
}

/// One step of every kind on a 16x12x24 grid of 1 µm voxels, two parts.
const TINY: &str = r#"
title = "tiny"
[grid]
size = [16.0, 12.0, 24.0]
voxel = 1.0

[masks.pad]
rect = [4.0, 3.0, 12.0, 9.0]

[masks.dots]
shapes = [{ circle = [5.0, 6.0, 2.0] }, { circle = [11.0, 6.0, 2.0] }]

[masks.cut]
rect = [7.0, 0.0, 9.0, 12.0]

[[step]]
op = "substrate"
material = "si"
thickness = 4.0

[[step]]
op = "deposit"
mode = "conformal"
material = "sio2"
thickness = 1.0

[[step]]
op = "deposit"
mode = "planarize"
material = "pr_pos"
thickness = 2.0

[[step]]
op = "pattern"
material = "pr_pos"
mask = "pad"
angle = 10.0

[[step]]
op = "etch"
mode = "isotropic"
materials = ["sio2"]
distance = 1.0

[[step]]
op = "etch"
mode = "strip"
materials = ["pr_pos"]

[[step]]
op = "drill"
mask = "dots"
materials = ["si"]
depth = 2.0

[[step]]
op = "plate"
mode = "conformal"
material = "cu"
thickness = 1.0

[[step]]
op = "dispense"
material = "underfill"
mask = "pad"
thickness = 1.0

[[step]]
op = "ball"
mask = "dots"
diameter = 3.0

[[step]]
op = "wirebond"
diameter = 1.0
wires = [{ from = [5.0, 6.0], to = [11.0, 6.0], loop = 2.0 }]

[[step]]
op = "dice"
lines_x = [8.0]
width = 2.0
depth = 1.0

[[step]]
part = "lid"
op = "substrate"
material = "si"
thickness = 3.0

[[step]]
part = "lid"
op = "flip"

[[step]]
op = "bond"
place = "lid"
method = "adhesive"
thickness = 1.0

[[step]]
op = "grind"
height = 20.0

[[step]]
op = "stress"
delta_t = -100.0
coarsen = 2
max_iterations = 40
tol = 1e-3
"#;

#[test]
fn mutated_tiny_scenes_run_without_panics_and_fail_located() {
    let gpu = common::gpu();
    let file = "tiny.toml";
    // The unmutated scene runs: every step kind on the GPU.
    let out = std::env::temp_dir().join(format!("voxfab_mut_{}", std::process::id()));
    let run = |src: &str| {
        let s = parse_and_check(src, file)?;
        let opts = RunOptions {
            frames: false,
            ..RunOptions::new(&out)
        };
        run_scene(gpu, &s, &opts).map(|_| ()).map_err(|e| match e {
            RunError::Budget(se) => se,
            // Runtime errors carry FILE:LINE of their step; turn them into a located
            // SceneError so one check covers both.
            other => located_run_error(file, &other),
        })
    };
    run(TINY).unwrap_or_else(|e| panic!("the tiny scene itself fails: {e}"));
    let (seed, cases) = knobs(0x0010_71e5, 100);
    let mut rng = Rng(seed);
    let (mut ran, mut rejected) = (0, 0);
    let start = std::time::Instant::now();
    for case in 0..cases {
        // One value edit, so most cases get past the parser and run on the GPU; every
        // fourth case takes a second, structural edit.
        let mut src = mutate_value(&mut rng, TINY);
        if case % 4 == 3 {
            src = mutate(&mut rng, &src);
        }
        let label = format!("tiny case {case}");
        let result = catch_unwind(AssertUnwindSafe(|| run(&src)))
            .unwrap_or_else(|_| panic!("{label}: panicked on\n{src}"));
        match result {
            Ok(()) => ran += 1,
            Err(e) => {
                assert_located(&e, file, &src, &label);
                rejected += 1;
            }
        }
    }
    let _ = std::fs::remove_dir_all(&out);
    eprintln!(
        "tiny mutations: {ran} ran, {rejected} rejected in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    assert!(
        ran >= 30 && rejected >= 10,
        "ran {ran}, rejected {rejected}"
    );
    assert!(gpu.take_error().is_none());
}

/// `FILE:LINE: step ...: message` (a run error) as a SceneError, or an unlocated one.
fn located_run_error(file: &str, e: &RunError) -> SceneError {
    let text = e.to_string();
    let line = text
        .strip_prefix(&format!("{file}:"))
        .and_then(|rest| rest.split(':').next())
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    SceneError {
        file: file.to_string(),
        line,
        col: 1,
        message: text,
    }
}
