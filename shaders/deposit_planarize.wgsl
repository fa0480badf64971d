// Spin-on planarising deposition: material fills every empty voxel reachable from the
// open top (scratch_a, from flood.wgsl) below height z1.

// Highest solid surface inside the mask (anywhere when p.mode = 1), stored as
// z_top + 1 in counters[C_TOP].
@compute @workgroup_size(8, 8, 1)
fn top(@builtin(global_invocation_id) g: vec3<u32>) {
    if g.x >= p.dims.x || g.y >= p.dims.y || (p.mode == 0u && !masked(g.x, g.y)) {
        return;
    }
    for (var z = i32(p.dims.z) - 1; z >= 0; z--) {
        if grid[idx(g.x, g.y, u32(z))] != 0u {
            atomicMax(&counters[C_TOP], u32(z + 1));
            return;
        }
    }
}

@compute @workgroup_size(8, 8, 4)
fn apply(@builtin(global_invocation_id) g: vec3<u32>) {
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    if i32(g.z) < p.z1 && scratch_a[i] == 1u && grid[i] == 0u && masked(g.x, g.y) {
        grid[i] = p.material;
    }
}
