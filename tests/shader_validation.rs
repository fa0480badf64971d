//! Every WGSL source parses and validates with naga; needs no GPU.

#[test]
fn all_shaders_validate() {
    let all = voxfab::shaders::all();
    // Every file in shaders/ is validated: its text (a pipeline's body, a prelude or a
    // fragment that src/shaders.rs splices in) is part of at least one source below.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "wgsl") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            all.iter().any(|(_, src)| src.contains(text.trim())),
            "{} is in no validated shader",
            path.display()
        );
        files += 1;
    }
    // Window k of binding b is bound at b + WINDOW_STRIDE k: every shader's own bindings
    // stay below the stride.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let own = text
            .split("@binding(")
            .skip(1)
            .filter_map(|t| t.split(')').next()?.parse::<u32>().ok());
        let windowed = voxfab::shaders::Windows::decls(&text)
            .into_iter()
            .map(|d| d.binding);
        for b in own.chain(windowed) {
            assert!(
                b < voxfab::shaders::WINDOW_STRIDE,
                "{}: binding {b} reaches the window stride",
                path.display()
            );
        }
    }
    // ... and every source is a distinct pipeline.
    let mut names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), all.len(), "duplicate shader names");
    assert!(files > 0, "no shaders found in {}", dir.display());
    let mut failures = Vec::new();
    for (name, src) in all {
        let module = match naga::front::wgsl::parse_str(&src) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{name}: {}", e.emit_to_string(&src)));
                continue;
            }
        };
        let mut v = naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::FLOAT64,
        );
        if let Err(e) = v.validate(&module) {
            failures.push(format!("{name}: {}", e.emit_to_string(&src)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn windowed_sources_validate_up_to_the_u32_index() {
    // With windows so large that eight of them hold more f32 elements than a u32 index
    // reaches, the accessors stop at the last reachable window (their bounds must stay
    // u32 literals) and every windowed source still validates.
    use voxfab::shaders::{Windows, stress_mg, stress_outer};
    let huge = Windows::uniform(3 << 30, 8);
    for (name, src) in [
        ("stress_outer_f32", stress_outer(false, huge)),
        ("stress_outer_f64", stress_outer(true, huge)),
        ("stress_mg0", stress_mg("stress_mg0", true, huge)),
        ("stress_mg_elem", stress_mg("stress_mg_elem", true, huge)),
    ] {
        assert!(
            src.contains("x_w0") || src.contains("u_w0"),
            "{name}: not windowed"
        );
        let module = naga::front::wgsl::parse_str(&src)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(&src)));
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::FLOAT64,
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(&src)));
    }
}
