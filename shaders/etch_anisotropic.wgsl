// Anisotropic (dry) etch: in each masked column, from the top solid surface straight
// down, removes listed materials until an unlisted one (etch stop / mask) or `k` voxels
// of depth (k = 0: no depth limit). Voids on the way count towards the depth.
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 1u));
    if g.x >= p.dims.x || g.y >= p.dims.y || !masked(g.x, g.y) {
        return;
    }
    let top = column_top(g.x, g.y);
    let bottom = select(0, max(top - p.k + 1, 0), p.k > 0);
    for (var z = top; z >= bottom; z--) {
        let i = idx(g.x, g.y, u32(z));
        let m = grid_ld(i);
        if m == 0u {
            continue;
        }
        if !in_set(m) {
            break;
        }
        grid_st(i, 0u);
    }
}
