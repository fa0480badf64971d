//! Every WGSL source parses and validates with naga; needs no GPU.

#[test]
fn all_shaders_validate() {
    let all = voxfab::shaders::all();
    // Every file in shaders/ is validated: either a pipeline by its own name, or a
    // prelude that src/shaders.rs prepends to them.
    const PRELUDES: &[&str] = &[
        "process_common",
        "render_common",
        "stress_common",
        "stress_cg_bindings",
        "voxel_march",
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wgsl"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|n| !PRELUDES.contains(&n.as_str()))
        .collect();
    files.sort();
    let mut names: Vec<String> = all.iter().map(|(n, _)| n.to_string()).collect();
    names.sort();
    assert_eq!(names, files, "shaders::all() against shaders/*.wgsl");
    for p in PRELUDES {
        let text = std::fs::read_to_string(dir.join(format!("{p}.wgsl"))).unwrap();
        assert!(
            all.iter().any(|(_, src)| src.contains(text.trim())),
            "prelude {p} is in no validated shader"
        );
    }
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
            naga::valid::Capabilities::default(),
        );
        if let Err(e) = v.validate(&module) {
            failures.push(format!("{name}: {}", e.emit_to_string(&src)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
