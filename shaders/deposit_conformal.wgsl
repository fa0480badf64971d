// Conformal deposition: empty voxels reachable from the open top (scratch_a, from
// flood.wgsl) whose centre lies within k voxels of the solid become material: the film
// is the solid's offset surface at k, voxelised at centres. The distance is to the solid
// voxels' cubes, not their centres (a centre-to-centre distance thins the film at convex
// edges and corners by up to 0.87 voxel); per axis it adds (|d| - 1/2)^2, so the exact
// transform stays separable. Values are 4x squared distances, (2|d| - 1)^2 per axis, in
// integers. Distance: exact EDT truncated at k, one separable pass per axis
// (x: grid -> scratch_b, y: scratch_b -> scratch_a, z: scratch_a -> scratch_b); the flood
// then fills scratch_a and `apply` reads both.
// The grid floor (z = -1) counts as solid. With FLAG_SOURCE the film grows only from
// materials in p.materials and the floor does not count (conformal plating on seeds).

const FLAG_SOURCE: u32 = 2u;

// 4x the squared distance along one axis from a voxel centre to a cube d voxels away.
fn cube_term(d: i32) -> u32 {
    let a = max(2 * abs(d) - 1, 0);
    return u32(a * a);
}

fn is_source(m: u32) -> bool {
    if (p.flags & FLAG_SOURCE) != 0u {
        return m != 0u && in_set(m);
    }
    return m != 0u;
}

@compute @workgroup_size(8, 8, 4)
fn edt_x(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    var d = D2_INF;
    for (var dx = -p.k; dx <= p.k; dx++) {
        let x = i32(g.x) + dx;
        if x >= 0 && x < i32(p.dims.x) && is_source(grid_ld(idx(u32(x), g.y, g.z))) {
            d = min(d, cube_term(dx));
        }
    }
    scratch_b_st(idx(g.x, g.y, g.z), d);
}

@compute @workgroup_size(8, 8, 4)
fn edt_y(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    var d = D2_INF;
    for (var dy = -p.k; dy <= p.k; dy++) {
        let y = i32(g.y) + dy;
        if y >= 0 && y < i32(p.dims.y) {
            let v = scratch_b_ld(idx(g.x, u32(y), g.z));
            if v != D2_INF {
                d = min(d, v + cube_term(dy));
            }
        }
    }
    scratch_a_st(idx(g.x, g.y, g.z), d);
}

@compute @workgroup_size(8, 8, 4)
fn edt_z(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    // The floor plane below z = 0 is solid everywhere.
    let zf = i32(g.z) + 1;
    var d = select(D2_INF, cube_term(zf), zf <= p.k && (p.flags & FLAG_SOURCE) == 0u);
    for (var dz = -p.k; dz <= p.k; dz++) {
        let z = i32(g.z) + dz;
        if z >= 0 && z < i32(p.dims.z) {
            let v = scratch_a_ld(idx(g.x, g.y, u32(z)));
            if v != D2_INF {
                d = min(d, v + cube_term(dz));
            }
        }
    }
    scratch_b_st(idx(g.x, g.y, g.z), d);
}

@compute @workgroup_size(8, 8, 4)
fn apply(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    if scratch_a_ld(i) == 1u && grid_ld(i) == 0u && masked(g.x, g.y) && scratch_b_ld(i) <= u32(4 * p.k * p.k) {
        grid_st(i, p.material);
    }
}
