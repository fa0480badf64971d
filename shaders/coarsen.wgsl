// Builds the stress grid of blocks of f^3 voxels: each block takes the material that
// fills most of it (ties go to the first found, void only when it is the majority).
// Keep Coarsen in sync with src/stress/coarsen.rs.

struct Coarsen {
    src: vec4<u32>,   // fine nx, ny, nz, factor
    dst: vec4<u32>,   // coarse nx, ny, nz, 0
}

@group(0) @binding(0) var<uniform> c: Coarsen;
// Both grids' material ids, split into windows where they outgrow one binding
// (`Windows` in src/shaders.rs).
// window fine: array<u32>, binding 1, read
// window coarse: array<u32>, binding 2, read_write

fn fine_at(x: u32, y: u32, z: u32) -> u32 {
    if x >= c.src.x || y >= c.src.y || z >= c.src.z {
        return 0u;
    }
    return fine_ld(x + c.src.x * (y + c.src.y * z));
}

@compute @workgroup_size(4, 4, 4)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
    if any(g >= c.dst.xyz) {
        return;
    }
    let f = c.src.w;
    let o = g * f;
    var best = 0u;
    var best_n = 0u;
    // O(f^6) vote: fine for the small factors allowed (<= 8).
    for (var i = 0u; i < f * f * f; i++) {
        let m = fine_at(o.x + i % f, o.y + (i / f) % f, o.z + i / (f * f));
        if m == best {
            continue;
        }
        var n = 0u;
        for (var j = 0u; j < f * f * f; j++) {
            n += select(0u, 1u, fine_at(o.x + j % f, o.y + (j / f) % f, o.z + j / (f * f)) == m);
        }
        if n > best_n {
            best = m;
            best_n = n;
        }
    }
    coarse_st(g.x + c.dst.x * (g.y + c.dst.y * g.z), best);
}
