// Reachability from the open top through "passable" voxels (material in p.set),
// e.g. where a liquid or an etchant can flow. scratch_a = 1 where reached.
// Sweeps run along whole lines so a straight path is found in one pass; updates are
// monotone (0 -> 1), so reading a neighbour mid-update only delays, never corrupts.

@compute @workgroup_size(8, 8, 4)
fn init(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    let top = g.z == p.dims.z - 1u;
    scratch_a_st(i, select(0u, 1u, top && in_set(grid_ld(i))));
}

fn reached(q: vec3<i32>) -> bool {
    return in_grid(q) && scratch_a_ld(idxv(q)) == 1u;
}

// With FLAG_LIMIT only voxels below p.z1 inside the mask are passable.
const FLAG_LIMIT: u32 = 4u;

fn passable(q: vec3<i32>, i: u32) -> bool {
    if (p.flags & FLAG_LIMIT) != 0u && (q.z >= p.z1 || !masked(u32(q.x), u32(q.y))) {
        return false;
    }
    return in_set(grid_ld(i));
}

fn visit(q: vec3<i32>, carried: bool) -> vec2<u32> {
    // Returns (reached now, newly reached).
    let i = idxv(q);
    if !passable(q, i) {
        return vec2<u32>(0u, 0u);
    }
    if scratch_a_ld(i) == 1u {
        return vec2<u32>(1u, 0u);
    }
    let r = carried || reached(q + vec3<i32>(1, 0, 0)) || reached(q - vec3<i32>(1, 0, 0))
        || reached(q + vec3<i32>(0, 1, 0)) || reached(q - vec3<i32>(0, 1, 0))
        || reached(q + vec3<i32>(0, 0, 1)) || reached(q - vec3<i32>(0, 0, 1));
    if r {
        scratch_a_st(i, 1u);
        return vec2<u32>(1u, 1u);
    }
    return vec2<u32>(0u, 0u);
}

@compute @workgroup_size(8, 8, 1)
fn sweep(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 1u));
    if any(g.xy >= line_count()) {
        return;
    }
    let n = p.dims[p.axis];
    var carried = false;
    var fresh = 0u;
    for (var t = 0u; t < n; t++) {
        let r = visit(line_pos(g.x, g.y, t), carried);
        carried = r.x == 1u;
        fresh += r.y;
    }
    carried = false;
    for (var t = n; t > 0u; t--) {
        let r = visit(line_pos(g.x, g.y, t - 1u), carried);
        carried = r.x == 1u;
        fresh += r.y;
    }
    if fresh > 0u {
        atomicAdd(&counters[C_CHANGED], fresh);
    }
}
