// Grinding / CMP: removes everything at or above height p.z0 (mode 0), or below it
// (mode 1, grinding from the bottom).
@compute @workgroup_size(8, 8, 4)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    let above = i32(g.z) >= p.z0;
    if above == (p.mode == 0u) {
        grid_st(idx(g.x, g.y, g.z), 0u);
    }
}
