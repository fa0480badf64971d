// Bonding: the placed part's materials sit in scratch_b (same grid shape), offset by
// (p.z0, p.z1) voxels in x, y. `drop` finds how far the part must move in z to rest
// on this part with a gap of p.k voxels; `place` copies it there and fills the gap
// in the part's footprint with the film material p.material (0 = no film).

const BIAS: i32 = 1 << 20;
const NONE: u32 = 0xffffu;

fn part_at(x: i32, y: i32, z: i32) -> u32 {
    if x < 0 || y < 0 || z < 0 || x >= i32(p.dims.x) || y >= i32(p.dims.y) || z >= i32(p.dims.z) {
        return 0u;
    }
    return scratch_b_ld(idx(u32(x), u32(y), u32(z)));
}

@compute @workgroup_size(8, 8, 1)
fn drop(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 1u));
    if g.x >= p.dims.x || g.y >= p.dims.y {
        return;
    }
    let bx = i32(g.x) - p.z0;
    let by = i32(g.y) - p.z1;
    let nz = i32(p.dims.z);
    let za = column_top(g.x, g.y);
    var zb = -1;
    var zb_top = -1;
    for (var z = 0; z < nz; z++) {
        if part_at(bx, by, z) != 0u {
            if zb < 0 {
                zb = z;
            }
            zb_top = z;
        }
    }
    // Packed per column: (top of this part + 1) | (bottom of the placed part << 16).
    mask[g.x + p.dims.x * g.y] = u32(za + 1) | (select(NONE, u32(zb), zb >= 0) << 16u);
    if zb >= 0 {
        atomicMax(&counters[C_TOP], u32(za + 1 + p.k - zb + BIAS));
        atomicMax(&counters[C_TOP + 1u], u32(zb_top + 1));
    }
}

@compute @workgroup_size(8, 8, 4)
fn place(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    let shift = i32(atomicLoad(&counters[C_TOP])) - BIAS;
    let i = idx(g.x, g.y, g.z);
    if grid_ld(i) != 0u {
        return;
    }
    let m = part_at(i32(g.x) - p.z0, i32(g.y) - p.z1, i32(g.z) - shift);
    if m != 0u {
        grid_st(i, m);
        return;
    }
    let packed = mask[g.x + p.dims.x * g.y];
    let za1 = i32(packed & NONE);
    let zb = packed >> 16u;
    if p.material != 0u && zb != NONE && i32(g.z) >= za1 && i32(g.z) < i32(zb) + shift {
        grid_st(i, p.material);
    }
}
