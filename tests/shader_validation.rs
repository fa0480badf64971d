//! Every WGSL source parses and validates with naga; needs no GPU.

#[test]
fn all_shaders_validate() {
    let all = voxfab::shaders::all();
    assert!(all.len() >= 15, "expected every shader, got {}", all.len());
    for name in ["raymarch", "pick", "section", "overlay"] {
        assert!(
            all.iter().any(|(n, _)| *n == name),
            "{name} is not validated"
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
            naga::valid::Capabilities::FLOAT64,
        );
        if let Err(e) = v.validate(&module) {
            failures.push(format!("{name}: {}", e.emit_to_string(&src)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
