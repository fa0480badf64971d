//! The real window: `voxfab view --frames N --screenshot FILE` under X. Uses DISPLAY
//! when set, else starts its own Xvfb; skips (with a message) when neither exists.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
    // A display number unlikely to clash with other test runs on this machine.
    let n = 90 + std::process::id() % 9;
    let name = format!(":{n}");
    let child = Command::new("Xvfb")
        .args([&name, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let xvfb = Xvfb(child);
    // Wait for the server's socket.
    let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
    let start = Instant::now();
    while !socket.exists() {
        if start.elapsed() > Duration::from_secs(20) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
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
    let shot = std::env::temp_dir().join(format!("voxfab_window_{}.png", std::process::id()));
    let _ = std::fs::remove_file(&shot);
    let xdg = std::env::temp_dir().join(format!("voxfab_xdg_{}", std::process::id()));
    std::fs::create_dir_all(&xdg).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_voxfab"))
        .args(["view"])
        .arg(scene())
        .args([
            "--set",
            "grid.voxel=4.0",
            "--size",
            "1000x600",
            "--frames",
            "3",
        ])
        .arg("--screenshot")
        .arg(&shot)
        .env("DISPLAY", &display)
        .env("XDG_RUNTIME_DIR", &xdg)
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("voxfab runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "voxfab view failed:\n{stderr}");
    let img = image::open(&shot)
        .unwrap_or_else(|e| panic!("screenshot {}: {e}\n{stderr}", shot.display()))
        .to_rgba8();
    assert_eq!(img.dimensions(), (1000, 600));

    // The side panel (300 points wide at scale 1) is egui's flat grey, with text in it.
    let panel = img.get_pixel(150, 590);
    assert!(
        panel[0] == panel[1] && panel[1] == panel[2] && (20..90).contains(&panel[0]),
        "egui panel grey: {panel:?}"
    );
    let bright = (0..300)
        .flat_map(|x| (0..200).map(move |y| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y)[0] > 150)
        .count();
    assert!(bright > 100, "panel text: {bright} bright pixels");

    // The 3D view (left 60% of the central area) shows the bump's solder colour and
    // the silicon's; the far corner is background.
    let mats = voxfab::materials::MaterialTable::builtin();
    let near = |c: [u8; 3]| {
        move |p: &image::Rgba<u8>| {
            // Shaded faces are darker than the palette, with the same hue order.
            let (r, g, b) = (f32::from(p[0]), f32::from(p[1]), f32::from(p[2]));
            let (cr, cg, cb) = (f32::from(c[0]), f32::from(c[1]), f32::from(c[2]));
            let s = (r + g + b) / (cr + cg + cb).max(1.0);
            s > 0.2
                && (r - cr * s).abs() < 30.0
                && (g - cg * s).abs() < 30.0
                && (b - cb * s).abs() < 30.0
        }
    };
    let view = |f: &dyn Fn(&image::Rgba<u8>) -> bool| {
        let mut n = 0;
        for y in 0..600 {
            for x in 300..(300 + 420) {
                if f(img.get_pixel(x, y)) {
                    n += 1;
                }
            }
        }
        n
    };
    let si = view(&near(mats.get(mats.id("si").unwrap()).color));
    let solder = view(&near(mats.get(mats.id("sac305").unwrap()).color));
    assert!(si > 2000, "silicon in the 3D view: {si} px");
    assert!(solder > 300, "solder bump in the 3D view: {solder} px");
    let _ = std::fs::remove_file(&shot);
}
