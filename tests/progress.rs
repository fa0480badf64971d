//! Sub-step frames of progressive steps: a through drill deepens, a plating fill and a
//! spin-on fill rise from the bottom, each ending on the finished step.

mod common;

use common::gpu;
use voxfab::process::Processor;
use voxfab::scene::Scene;
use voxfab::timeline::Timeline;

const SRC: &str = r#"
[grid]
size = [16.0, 16.0, 16.0]
voxel = 1.0

[masks.hole]
rect = [5.0, 5.0, 11.0, 11.0]

[masks.trench]
rect = [1.0, 1.0, 4.0, 15.0]

[[step]]
op = "substrate"
material = "cu"
thickness = 2.0

[[step]]
op = "substrate"
material = "glass"
z = 2.0
thickness = 10.0

[[step]]
name = "via"
op = "drill"
mask = "hole"
materials = ["glass"]

[[step]]
name = "fill"
op = "plate"
mode = "fill"
material = "cu"
seeds = ["cu"]
mask = "hole"

[[step]]
name = "trench"
op = "drill"
mask = "trench"
materials = ["glass"]
depth = 10.0

[[step]]
name = "coat"
op = "deposit"
mode = "planarize"
material = "polyimide"
thickness = 2.0
"#;

#[test]
fn drill_fill_and_spin_on_advance_in_sub_steps() {
    let gpu = gpu();
    let s = Scene::parse(SRC, "progress.toml", &[]).unwrap();
    let mut p = Processor::new(gpu, &s.grid).unwrap();
    let t = Timeline::build(gpu, &s, |_| {}).unwrap();
    let pos = t.positions(4);
    let id = |n: &str| usize::from(s.materials.id(n).unwrap());
    // (step, material whose count moves, grows?)
    // The spin-on coat fills the trench from its floor up (its level rises with the
    // step), then caps the surface.
    for (step, m, grows) in [
        (3, id("glass"), false),
        (4, id("cu"), true),
        (6, id("polyimide"), true),
    ] {
        let subs: Vec<_> = pos.iter().filter(|q| q.step == step).copied().collect();
        assert_eq!(
            subs.len(),
            5,
            "step {step}: 4 partial frames and the finished one"
        );
        let start = t.counts(step - 1)[m];
        let mut last = start;
        let mut seen = std::collections::BTreeSet::new();
        for at in subs {
            let c = t.show(&mut p, &s, at)[m];
            // Monotone, never jumping back (a through drill's depth scales with the grid's
            // height, so it may finish before the last frame).
            if grows {
                assert!(c >= last, "step {step} grows: {c} after {last} at {at:?}");
            } else {
                assert!(
                    c <= last,
                    "step {step} advances: {c} after {last} at {at:?}"
                );
            }
            seen.insert(c);
            last = c;
        }
        assert!(
            seen.len() >= 3,
            "step {step} shows part-way states: {seen:?} from {start}"
        );
        assert_eq!(
            last,
            t.counts(step)[m],
            "step {step} ends on the finished step"
        );
    }
}

const WET: &str = r#"
[grid]
size = [8.0, 8.0, 16.0]
voxel = 1.0

[[step]]
op = "substrate"
material = "si"
thickness = 2.0

[[step]]
op = "substrate"
material = "sio2"
z = 2.0
thickness = 10.0

[[step]]
name = "boe"
op = "etch"
mode = "isotropic"
rates = { sio2 = 1.0, si = 0.01 }
time = 4.0

[[step]]
name = "release"
op = "etch"
mode = "strip"
materials = ["sio2"]
rate = 0.5
"#;

#[test]
fn wet_etch_fronts_advance_in_time_in_sub_steps() {
    // A rate table scales its time; a timed strip runs to fractions of its release.
    let gpu = gpu();
    let s = Scene::parse(WET, "wet.toml", &[]).unwrap();
    let mut p = Processor::new(gpu, &s.grid).unwrap();
    let t = Timeline::build(gpu, &s, |_| {}).unwrap();
    let ox = usize::from(s.materials.id("sio2").unwrap());
    let pos = t.positions(4);
    for step in [3, 4] {
        let subs: Vec<_> = pos.iter().filter(|q| q.step == step).copied().collect();
        assert_eq!(subs.len(), 5, "step {step}");
        let mut last = t.counts(step - 1)[ox];
        let mut seen = std::collections::BTreeSet::new();
        for at in subs {
            let c = t.show(&mut p, &s, at)[ox];
            assert!(c <= last, "step {step}: {c} after {last} at {at:?}");
            seen.insert(c);
            last = c;
        }
        assert!(seen.len() >= 4, "step {step} part-way states: {seen:?}");
        assert_eq!(last, t.counts(step)[ox], "step {step} ends finished");
    }
    // 4 min at 1 µm/min: 4 of the 10 oxide layers go; the strip takes the rest.
    assert_eq!(t.counts(3)[ox], 8 * 8 * 6);
    assert_eq!(t.counts(4)[ox], 0);
}
