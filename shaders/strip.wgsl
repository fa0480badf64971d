// Complete wet removal: listed material the etchant reaches (scratch_a from flood.wgsl,
// flowing through voids and listed material) is removed; enclosed pockets stay.
@compute @workgroup_size(8, 8, 4)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    let m = grid_ld(i);
    if m != 0u && in_set(m) && scratch_a_ld(i) == 1u {
        grid_st(i, 0u);
    }
}
