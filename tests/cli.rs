//! The `voxfab` binary: exit codes, error format, nothing written on bad input.

use std::process::Command;

fn voxfab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_voxfab"))
}

#[test]
fn check_reports_ok_and_scene_errors_with_positions() {
    let scene = concat!(env!("CARGO_MANIFEST_DIR"), "/scenes/glass_flipchip.toml");
    let out = voxfab().args(["check", scene]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok: 14 steps"));

    let out = voxfab()
        .args(["check", scene, "--set", "step.cu1.material=unobtainium"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!("{scene}:")) && err.contains("unknown material `unobtainium`"),
        "{err}"
    );
    let line_col: Vec<&str> = err.splitn(4, ':').collect();
    assert!(
        line_col[1].parse::<usize>().unwrap() > 1 && line_col[2].parse::<usize>().unwrap() >= 1,
        "{err}"
    );
}

#[test]
fn a_bad_scene_writes_nothing() {
    let dir = std::env::temp_dir().join(format!("voxfab-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let bad = dir.with_extension("toml");
    std::fs::write(&bad, "[grid]\nsize = [10.0, 10.0, 10.0]\nvoxel = 1.0\n\n[[step]]\nop = \"etch\"\nmode = \"strip\"\nmaterials = []\n").unwrap();
    let out = voxfab()
        .args(["run"])
        .arg(&bad)
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(":8:") && err.contains("at least one material"),
        "{err}"
    );
    assert!(!dir.exists(), "no output directory for a refused scene");
    let _ = std::fs::remove_file(&bad);
}

#[test]
fn info_names_the_adapter_and_its_limits() {
    let out = voxfab().arg("info").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("adapter:")
            && text.contains("max storage binding:")
            && text.contains("largest grid:"),
        "{text}"
    );
    // The stress solver's reach: node vectors in windows of one binding, at least one.
    let line = text
        .lines()
        .find(|l| l.starts_with("stress node vectors: up to "))
        .unwrap_or_else(|| panic!("{text}"));
    let windows: u32 = line["stress node vectors: up to ".len()..]
        .split(' ')
        .next()
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!((1..=8).contains(&windows), "{line}");
}

#[test]
fn resource_budget_errors_are_scene_errors_in_check_and_run() {
    let dir = std::env::temp_dir().join(format!("voxfab-cli-budget-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let scene = dir.with_extension("toml");
    // 4 fields of 64 MiB each: within any adapter's limits, over a 100 MiB budget.
    std::fs::write(&scene, "[grid]\nsize = [256.0, 256.0, 256.0]\nvoxel = 1.0\n\n[[step]]\nop = \"substrate\"\nmaterial = \"si\"\nthickness = 2.0\n").unwrap();
    let out = voxfab().arg("check").arg(&scene).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut check = voxfab();
    check.arg("check").arg(&scene).args(["--gpu-memory", "100"]);
    let mut run = voxfab();
    run.arg("run")
        .arg(&scene)
        .args(["--gpu-memory", "100", "--no-frames", "--out"])
        .arg(&dir);
    for (name, mut cmd) in [("check", check), ("run", run)] {
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        let at = format!("{}:2:8: the run needs", scene.display());
        assert!(
            err.contains(&at) && err.contains("over the budget of 100 MiB"),
            "{name}: {err}"
        );
    }
    assert!(!dir.exists(), "nothing written");
    let _ = std::fs::remove_file(&scene);
}

#[test]
fn bench_stress_takes_scene_overrides_and_skips_the_synthetic_grids() {
    // The conventional bump at 4 µm voxels solved on 3x3x3 blocks: 25x14x13 elements.
    let scene = concat!(env!("CARGO_MANIFEST_DIR"), "/scenes/conventional_bump.toml");
    let bench = |extra: &[&str]| -> String {
        let out = voxfab()
            .args(["bench", "stress", "--stress-scene", scene])
            .args(["--set", "grid.voxel=4.0"])
            .args(["--set", "step.thermal_cycle.coarsen=3"])
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let text = bench(&[]);
    let row = text
        .lines()
        .find(|l| l.contains("conventional_bump.toml (coarsen 3)"))
        .unwrap_or_else(|| panic!("no scene row: {text}"));
    assert!(row.contains("25x14x13"), "{row}");
    assert!(!row.contains("stopped before tol"), "{row}");
    assert!(!text.contains("homogeneous"), "no synthetic grids: {text}");
    // Where the cycle's time goes: three levels, the W shape's dispatch counts (level 1
    // visited twice, from zero and then from its first result, so 4 + 5 residual passes;
    // the dense product once per visit).
    let check_counts = |text: &str, expect: [(u32, &str, &str); 3]| {
        for (l, resid, other) in expect {
            let line = text
                .lines()
                .find(|line| line.trim_start().starts_with(&format!("level {l} (")))
                .unwrap_or_else(|| panic!("no level {l} line: {text}"));
            // "level L (N nodes): R residual passes X ms + O other Y ms = ..."
            let words: Vec<&str> = line.split_whitespace().collect();
            assert_eq!((words[4], words[10]), (resid, other), "level {l}: {text}");
        }
    };
    check_counts(&text, [(0, "4", "6"), (1, "9", "12"), (2, "0", "2")]);
    assert!(text.contains("level 0 (5460 nodes)"), "{text}");
    assert!(text.contains("level 1 (896 nodes)"), "{text}");
    assert!(!text.contains("level 3 ("), "{text}");
    // A degree-1 smoother on the voxels: two residual passes there, the rest alike.
    let deg1 = bench(&["--fine-degree", "1"]);
    assert!(deg1.contains("Chebyshev degree 1 on the voxels"), "{deg1}");
    check_counts(&deg1, [(0, "2", "4"), (1, "9", "12"), (2, "0", "2")]);
    // A bad override is the scene's located error.
    let out = voxfab()
        .args(["bench", "stress", "--stress-scene", scene])
        .args(["--set", "step.thermal_cycle.coarsen=0"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{scene}:")), "{err}");
}
