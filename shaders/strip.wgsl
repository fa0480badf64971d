// Complete wet removal: listed material the etchant reaches (scratch_a from flood.wgsl,
// flowing through voids and listed material) is removed; enclosed pockets stay.
@compute @workgroup_size(8, 8, 4)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    let m = grid[i];
    if m != 0u && in_set(m) && scratch_a[i] == 1u {
        grid[i] = 0u;
    }
}
