//! `voxfab record` and the timeline behind it: frame counts, sub-step frames that show
//! an etch front advancing, the GIF, and determinism.

mod common;

use common::gpu;
use voxfab::process::Processor;
use voxfab::record::{RecordOptions, record};
use voxfab::render::Layout;
use voxfab::scene::Scene;
use voxfab::timeline::Timeline;

/// Silicon, an oxide film grown in a timed deposition, then a timed isotropic etch of it.
const SCENE: &str = r#"
title = "etch front"
[grid]
size = [40.0, 30.0, 20.0]
voxel = 1.0
[view]
section = { axis = "y", at = 15.0 }
[[step]]
name = "base"
op = "substrate"
material = "si"
thickness = 6.0
[[step]]
name = "oxide"
op = "deposit"
mode = "directional"
material = "sio2"
thickness = 8.0
[[step]]
name = "thin"
op = "etch"
mode = "isotropic"
materials = ["sio2"]
distance = 6.0
"#;

fn scene() -> Scene {
    Scene::parse(SCENE, "etch_front.toml", &[]).expect("test scene parses")
}

fn out_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("voxfab_test_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn timeline_partial_states_advance_monotonically() {
    let gpu = gpu();
    let s = scene();
    let sio2 = usize::from(s.materials.id("sio2").unwrap());
    let mut p = Processor::new(gpu, &s.grid).unwrap();
    let t = Timeline::build(gpu, &s, |_| {}).unwrap();
    assert_eq!(t.steps(), 3);
    // Substrate is not timed; deposit and etch get 3 partial frames each.
    let pos = t.positions(3);
    assert_eq!(pos.len(), 3 + 2 * 3);
    let etch: Vec<_> = pos.iter().filter(|p| p.step == 3).copied().collect();
    assert_eq!(etch.len(), 4);
    let mut last = t.counts(2)[sio2];
    for at in etch {
        let c = t.show(&mut p, &s, at)[sio2];
        assert!(
            c < last,
            "oxide shrinks as the etch advances: {c} after {last} at {at:?}"
        );
        last = c;
    }
    assert_eq!(
        last,
        t.counts(3)[sio2],
        "the last frame is the finished step"
    );
    // Scrubbing back restores the snapshot exactly.
    t.show(&mut p, &s, pos[0]);
    assert_eq!(p.grid().read_materials(gpu), t.snapshot(1));
}

#[test]
fn record_writes_step_and_substep_frames_and_a_gif() {
    let gpu = gpu();
    let s = scene();
    let out = out_dir("record");
    let opts = RecordOptions {
        size: [320, 180],
        substeps: 3,
        orbit_deg: 30.0,
        gif: true,
        // Narrower than the frames: the GIF frames are downscaled.
        gif_width: 200,
        ..RecordOptions::new(&out)
    };
    let r = record(gpu, &s, &opts, |_, _| {}).unwrap();
    assert_eq!(r.frames.len(), 9);
    for f in &r.frames {
        assert!(f.exists(), "{} written", f.display());
    }
    // Oxide pixels in the section panel fall monotonically over the etch's frames.
    let sio2 = s.materials.get(s.materials.id("sio2").unwrap()).color;
    let layout = Layout::new(opts.size, &s.grid, s.view.section_axis);
    let [sx, sy, sw, sh] = layout.section;
    let oxide_px = |path: &std::path::Path| {
        let img = image::open(path).unwrap().to_rgba8();
        assert_eq!(img.dimensions(), (320, 180));
        let mut n = 0;
        for y in sy as u32..(sy + sh) as u32 {
            for x in sx as u32..(sx + sw) as u32 {
                let p = img.get_pixel(x, y);
                if (0..3).all(|i| p[i].abs_diff(sio2[i]) <= 2) {
                    n += 1;
                }
            }
        }
        n
    };
    let etch_frames: Vec<usize> = (0..r.frames.len())
        .filter(|&i| r.positions[i].step == 3)
        .collect();
    let mut last = oxide_px(&r.frames[etch_frames[0] - 1]);
    assert!(
        last > 100,
        "the grown oxide shows in the section: {last} px"
    );
    for &i in &etch_frames {
        let n = oxide_px(&r.frames[i]);
        assert!(n < last, "frame {i}: {n} oxide px, not fewer than {last}");
        last = n;
    }
    // The GIF holds every frame, scaled to the cap with the aspect kept (180 * 200 / 320).
    let frames = gif_frames(&r.gif.expect("gif requested"));
    assert_eq!(frames.len(), 9);
    for f in &frames {
        assert_eq!(f.buffer().dimensions(), (200, 112));
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn recordings_are_deterministic() {
    let gpu = gpu();
    let s = scene();
    let frames = |name: &str| {
        let out = out_dir(name);
        let opts = RecordOptions {
            size: [160, 90],
            substeps: 1,
            gif: true,
            ..RecordOptions::new(&out)
        };
        let r = record(gpu, &s, &opts, |_, _| {}).unwrap();
        // Frames narrower than the GIF cap go in at their own size.
        let gif = gif_frames(r.gif.as_ref().expect("gif requested"));
        assert_eq!(gif.len(), r.frames.len());
        assert!(gif.iter().all(|f| f.buffer().dimensions() == (160, 90)));
        let bytes: Vec<Vec<u8>> = r.frames.iter().map(|f| std::fs::read(f).unwrap()).collect();
        let _ = std::fs::remove_dir_all(&out);
        bytes
    };
    assert_eq!(frames("det_a"), frames("det_b"));
}

fn gif_frames(path: &std::path::Path) -> Vec<image::Frame> {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let dec = image::codecs::gif::GifDecoder::new(file).unwrap();
    image::AnimationDecoder::into_frames(dec)
        .collect_frames()
        .unwrap()
}
