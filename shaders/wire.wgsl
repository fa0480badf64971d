// Bond wires. `ends` (one invocation per wire end, points in `shapes` as (x, y) µm)
// stores the surface height under each end in scratch_b[end]. `fill` sets empty voxels
// within radius p.dist of any polyline segment (vec4 pairs in `shapes`, voxel units,
// p.shape_count segments, then the segments' bounding box as a lo/hi pair).

@compute @workgroup_size(64, 1, 1)
fn ends(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(64u, 1u, 1u));
    if g.x >= p.shape_count {
        return;
    }
    scratch_b_st(g.x, surface_under(shapes[g.x].xy));
}

@compute @workgroup_size(8, 8, 4)
fn fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    if grid_ld(i) != 0u {
        return;
    }
    let q = vec3<f32>(g) + 0.5;
    // Bounding box of every segment (grown by the radius) follows the segments.
    let lo = shapes[2u * p.shape_count].xyz;
    let hi = shapes[2u * p.shape_count + 1u].xyz;
    if any(q < lo) || any(q > hi) {
        return;
    }
    let r2 = p.dist * p.dist;
    for (var s = 0u; s < p.shape_count; s++) {
        let a = shapes[2u * s].xyz;
        let b = shapes[2u * s + 1u].xyz;
        let ab = b - a;
        let t = clamp(dot(q - a, ab) / max(dot(ab, ab), 1e-12), 0.0, 1.0);
        let d = q - (a + t * ab);
        if dot(d, d) <= r2 {
            grid_st(i, p.material);
            return;
        }
    }
}
