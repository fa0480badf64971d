// Line-of-sight deposition from above: each masked column gets `k` voxels of material
// on its top surface (on the grid floor if the column is empty). Overhangs shadow.
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 1u));
    if g.x >= p.dims.x || g.y >= p.dims.y || !masked(g.x, g.y) {
        return;
    }
    let nz = i32(p.dims.z);
    let top = column_top(g.x, g.y);
    for (var z = top + 1; z <= top + p.k && z < nz; z++) {
        grid_st(idx(g.x, g.y, u32(z)), p.material);
    }
}
