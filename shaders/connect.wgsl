// Connectivity: conductor voxels (material in p.materials) labelled into nets. Each
// starts with its own index; the smallest index spreads along lines of conductor
// (x, y and z sweeps, like flood.wgsl) until stable, so each net ends up labelled by
// its smallest voxel index. scratch_a holds labels (NONE for non-conductors).

const NONE: u32 = 0xffffffffu;

@compute @workgroup_size(8, 8, 4)
fn init(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    scratch_a_st(i, select(NONE, i, in_set(grid_ld(i))));
}

fn label_at(q: vec3<i32>) -> u32 {
    if !in_grid(q) {
        return NONE;
    }
    return scratch_a_ld(idxv(q));
}

fn visit(q: vec3<i32>, carried: u32) -> vec2<u32> {
    // Returns (label now, 1 if lowered).
    let i = idxv(q);
    let here = scratch_a_ld(i);
    if here == NONE {
        return vec2<u32>(NONE, 0u);
    }
    var best = min(here, carried);
    best = min(best, min(label_at(q + vec3<i32>(1, 0, 0)), label_at(q - vec3<i32>(1, 0, 0))));
    best = min(best, min(label_at(q + vec3<i32>(0, 1, 0)), label_at(q - vec3<i32>(0, 1, 0))));
    best = min(best, min(label_at(q + vec3<i32>(0, 0, 1)), label_at(q - vec3<i32>(0, 0, 1))));
    if best < here {
        scratch_a_st(i, best);
        return vec2<u32>(best, 1u);
    }
    return vec2<u32>(here, 0u);
}

@compute @workgroup_size(8, 8, 1)
fn sweep(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 1u));
    if any(g.xy >= line_count()) {
        return;
    }
    let n = p.dims[p.axis];
    var carried = NONE;
    var changed = 0u;
    for (var t = 0u; t < n; t++) {
        let r = visit(line_pos(g.x, g.y, t), carried);
        carried = r.x;
        changed += r.y;
    }
    carried = NONE;
    for (var t = n; t > 0u; t--) {
        let r = visit(line_pos(g.x, g.y, t - 1u), carried);
        carried = r.x;
        changed += r.y;
    }
    if changed > 0u {
        atomicAdd(&counters[C_CHANGED], changed);
    }
}

// Nets = labels that are their own voxel index.
@compute @workgroup_size(8, 8, 4)
fn count(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    if scratch_a_ld(i) == i {
        atomicAdd(&counters[C_TOP], 1u);
    }
}
