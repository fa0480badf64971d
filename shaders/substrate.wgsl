// Fills the slab z0 <= z < z1 inside the mask with one material.
@compute @workgroup_size(8, 8, 4)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    let z = i32(g.z);
    if z >= p.z0 && z < p.z1 && masked(g.x, g.y) {
        grid_st(idx(g.x, g.y, g.z), p.material);
    }
}
