// Bottom-up fill plating: in each masked column whose first solid from the top is a
// seed conductor (p.materials), the empty voxels above it fill with p.material up to
// height p.z1 (exclusive): plugs grow from the hole floor to the brim.
@compute @workgroup_size(8, 8, 1)
fn fill(@builtin(global_invocation_id) g: vec3<u32>) {
    if g.x >= p.dims.x || g.y >= p.dims.y || !masked(g.x, g.y) {
        return;
    }
    var top = -1;
    for (var z = i32(p.dims.z) - 1; z >= 0; z--) {
        if grid[idx(g.x, g.y, u32(z))] != 0u {
            top = z;
            break;
        }
    }
    if top < 0 || !in_set(grid[idx(g.x, g.y, u32(top))]) {
        return;
    }
    for (var z = top + 1; z < min(p.z1, i32(p.dims.z)); z++) {
        grid[idx(g.x, g.y, u32(z))] = p.material;
    }
}
