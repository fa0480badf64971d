//! The real window: `voxfab view --frames N --screenshot FILE` under X. Uses DISPLAY
//! when set, else starts its own Xvfb; skips (with a message) when neither exists.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Kills the Xvfb this test started.
struct Xvfb(Child);

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A display to open windows on: `DISPLAY`, or a private Xvfb. None: skip.
fn display() -> Option<(String, Option<Xvfb>)> {
    if let Ok(d) = std::env::var("DISPLAY")
        && !d.is_empty()
    {
        return Some((d, None));
    }
    // -displayfd: Xvfb picks a free display itself and writes its number once it
    // accepts connections (or exits, closing the pipe, when it cannot start).
    let mut child = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1280x800x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut line = String::new();
    let stdout = child.stdout.take()?;
    let xvfb = Xvfb(child);
    BufReader::new(stdout).read_line(&mut line).ok()?;
    let n: u32 = line.trim().parse().ok()?;
    let name = format!(":{n}");
    Some((name, Some(xvfb)))
}

fn scene() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/suspended_bump.toml")
}

#[test]
fn window_renders_panel_and_scene() {
    let Some((display, _xvfb)) = display() else {
        println!("skipped: no DISPLAY and no Xvfb on PATH");
        return;
    };
    let img = screenshot(&display, &[]);
    let count = |xs, ys, f: &dyn Fn(&image::Rgba<u8>) -> bool| count_in(&img, xs, ys, f);

    // The side panel (300 points wide at scale 1) is mostly egui's flat dark grey,
    // with bright text in it.
    let grey = count(0..290, 0..600, &|p| {
        p[0] == p[1] && p[1] == p[2] && (20..=60).contains(&p[0])
    });
    assert!(grey > 290 * 600 / 2, "egui panel grey: {grey} px");
    let text = count(0..290, 0..600, &|p| p[0] > 150 && p[1] > 150);
    assert!(text > 200, "panel text: {text} bright px");

    // The 3D view (left 60% of the central area) shows the teal protective layer and
    // the lit solder bump, both unlike the blue-grey background (rows clear of the
    // overlay's titles).
    let teal = count(300..720, 60..560, &|p| {
        i32::from(p[1]) > i32::from(p[0]) + 40 && p[1] >= p[2]
    });
    assert!(teal > 500, "BCB in the 3D view: {teal} px");
    let lit_grey = count(300..720, 60..560, &|p| {
        p[0] > 120 && p[0].abs_diff(p[1]) < 12 && p[1].abs_diff(p[2]) < 12
    });
    assert!(lit_grey > 300, "solder bump in the 3D view: {lit_grey} px");

    // The cross-section (upper right) shows flat palette colours.
    let mats = voxfab::materials::MaterialTable::builtin();
    let exact = |name: &str| {
        let c = mats.get(mats.id(name).unwrap()).color;
        count(720..1000, 0..300, &move |p| {
            (0..3).all(|i| p[i].abs_diff(c[i]) <= 2)
        })
    };
    let (si, solder) = (exact("si"), exact("sac305"));
    assert!(si > 1000, "silicon in the section: {si} px");
    assert!(solder > 200, "solder in the section: {solder} px");
    println!(
        "panel grey {grey}, text {text}; 3D teal {teal}, lit grey {lit_grey}; section si {si}, solder {solder}"
    );

    // Hiding the solder (and starting a step earlier, before the release etch) takes
    // the bump out of the 3D view.
    let img = screenshot(&display, &["--hide", "sac305", "--step", "21"]);
    let lit_hidden = count_in(&img, 300..720, 60..560, &|p| {
        p[0] > 120 && p[0].abs_diff(p[1]) < 12 && p[1].abs_diff(p[2]) < 12
    });
    assert!(
        lit_hidden * 2 < lit_grey,
        "hidden solder: {lit_hidden} lit grey px, was {lit_grey}"
    );
}

/// A tiny film-on-substrate scene whose stress solves in about a second on lavapipe.
const FILM: &str = r#"
title = "film"
[grid]
size = [24.0, 20.0, 12.0]
voxel = 2.0
[[step]]
name = "base"
op = "substrate"
material = "si"
thickness = 6.0
[[step]]
name = "film"
op = "deposit"
mode = "directional"
material = "cu"
thickness = 4.0
"#;

#[test]
fn window_solves_stress_and_colours_by_von_mises() {
    let Some((display, _xvfb)) = display() else {
        println!("skipped: no DISPLAY and no Xvfb on PATH");
        return;
    };
    let scene = std::env::temp_dir().join(format!("voxfab_film_{}.toml", std::process::id()));
    std::fs::write(&scene, FILM).unwrap();
    // The colour bar's top (turbo's dark red) shows in the legend under the section,
    // and only once the stress is solved.
    let dark_red = |img: &image::RgbaImage| {
        count_in(img, 720..1000, 0..600, &|p| {
            p[0] > 100 && p[1] < 40 && p[2] < 40
        })
    };
    let (img, stderr) = run_window(&display, &scene, &["--stress", "--frames", "4"]);
    let solved = dark_red(&img);
    // The solve runs on a worker thread: the window drew frames meanwhile.
    let frames = stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("stress solve: ")?
                .split(' ')
                .next()?
                .parse::<u32>()
                .ok()
        })
        .unwrap_or_else(|| panic!("no solve report in:\n{stderr}"));
    println!(
        "{}",
        stderr
            .lines()
            .filter(|l| l.starts_with("stress"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(frames > 1, "{frames} frames drawn while solving:\n{stderr}");
    let plain = dark_red(&screenshot_of(&display, &scene, &["--frames", "2"]));
    let _ = std::fs::remove_file(&scene);
    assert!(
        solved > 30 && plain < 5,
        "von Mises colour bar: {solved} dark-red px (material colours: {plain})"
    );
}

/// Pixels of `img` in the rectangle `xs` x `ys` for which `f` holds.
fn count_in(
    img: &image::RgbaImage,
    xs: std::ops::Range<u32>,
    ys: std::ops::Range<u32>,
    f: &dyn Fn(&image::Rgba<u8>) -> bool,
) -> u32 {
    let mut n = 0;
    for y in ys {
        for x in xs.clone() {
            n += u32::from(f(img.get_pixel(x, y)));
        }
    }
    n
}

/// Runs the window on the suspended-bump scene (4 µm voxels, 1000x600) for 3 frames
/// with `extra` arguments and returns its screenshot.
fn screenshot(display: &str, extra: &[&str]) -> image::RgbaImage {
    let mut args = vec!["--set", "grid.voxel=4.0", "--frames", "3"];
    args.extend_from_slice(extra);
    screenshot_of(display, &scene(), &args)
}

/// Runs `voxfab view SCENE --size 1000x600 ARGS --screenshot ...` and returns the image.
fn screenshot_of(display: &str, scene: &Path, extra: &[&str]) -> image::RgbaImage {
    run_window(display, scene, extra).0
}

/// [`screenshot_of`], with the window's stderr.
fn run_window(display: &str, scene: &Path, extra: &[&str]) -> (image::RgbaImage, String) {
    let id = format!(
        "{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    let shot = std::env::temp_dir().join(format!("voxfab_window_{id}.png"));
    let _ = std::fs::remove_file(&shot);
    let xdg = std::env::temp_dir().join(format!("voxfab_xdg_{}", std::process::id()));
    std::fs::create_dir_all(&xdg).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_voxfab"))
        .arg("view")
        .arg(scene)
        .args(["--size", "1000x600"])
        .args(extra)
        .arg("--screenshot")
        .arg(&shot)
        .env("DISPLAY", display)
        .env("XDG_RUNTIME_DIR", &xdg)
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("voxfab runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "voxfab view failed:\n{stderr}");
    let img = image::open(&shot)
        .unwrap_or_else(|e| panic!("screenshot {}: {e}\n{stderr}", shot.display()))
        .to_rgba8();
    let _ = std::fs::remove_file(&shot);
    assert_eq!(img.dimensions(), (1000, 600), "window size");
    (img, stderr.into_owned())
}
