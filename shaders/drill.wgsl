// Drilling (laser, or any straight tool): in each masked column, from the entry
// surface (first solid from the top, or from the bottom when p.mode = 1) removes listed
// materials (p.materials) until an unlisted one, or p.k voxels (0 = through). With a
// taper (p.dist = tan of the angle from vertical) the hole narrows with depth s:
// a column is drilled while its distance inside the mask (scratch_b) >= s * tan.
// Voids on the way count towards the depth.
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 1u));
    if g.x >= p.dims.x || g.y >= p.dims.y || !masked(g.x, g.y) {
        return;
    }
    let nz = i32(p.dims.z);
    let down = p.mode == 0u;
    let step = select(1, -1, down);
    var z = select(0, nz - 1, down);
    // Entry surface.
    loop {
        if z < 0 || z >= nz || grid_ld(idx(g.x, g.y, u32(z))) != 0u {
            break;
        }
        z += step;
    }
    let inside = bitcast<f32>(scratch_b_ld(g.x + p.dims.x * g.y));
    var s = 0;
    loop {
        if z < 0 || z >= nz || (p.k > 0 && s >= p.k) {
            break;
        }
        if p.dist > 0.0 && inside < f32(s) * p.dist {
            break;
        }
        let i = idx(g.x, g.y, u32(z));
        let m = grid_ld(i);
        if m != 0u {
            if !in_set(m) {
                break;
            }
            grid_st(i, 0u);
        }
        z += step;
        s += 1;
    }
}
