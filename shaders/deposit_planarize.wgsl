// Spin-on planarising deposition: material fills every empty voxel reachable from the
// open top (scratch_a, from flood.wgsl) below height z1.

// Highest solid surface inside the mask (anywhere when p.mode = 1), stored as
// z_top + 1 in counters[C_TOP].
@compute @workgroup_size(8, 8, 1)
fn top(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 1u));
    if g.x >= p.dims.x || g.y >= p.dims.y || (p.mode == 0u && !masked(g.x, g.y)) {
        return;
    }
    let top = column_top(g.x, g.y);
    if top >= 0 {
        atomicMax(&counters[C_TOP], u32(top + 1));
    }
}

@compute @workgroup_size(8, 8, 4)
fn apply(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    if i32(g.z) < p.z1 && scratch_a_ld(i) == 1u && grid_ld(i) == 0u && masked(g.x, g.y) {
        grid_st(i, p.material);
    }
}
