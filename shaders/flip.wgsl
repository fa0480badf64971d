// Turns the part upside down: a rotation by 180 degrees about the x axis
// (y -> ny-1-y, z -> nz-1-z), read from the step's snapshot in `prev`.
@compute @workgroup_size(8, 8, 4)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    grid_st(idx(g.x, g.y, g.z), prev_ld(idx(g.x, p.dims.y - 1u - g.y, p.dims.z - 1u - g.z)));
}
