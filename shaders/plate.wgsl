// Bottom-up fill plating. The electrolyte-filled hole is the empty space below height
// p.z1 inside the mask; every connected part of it that touches the top of a seed
// conductor (p.materials) fills with p.material, so a plug grows from the hole's floor
// to the brim, tapered walls included. `seed` marks the empty voxels resting on a seed;
// flood.wgsl (FLAG_LIMIT) spreads them through the hole; `apply` fills what was reached.

@compute @workgroup_size(8, 8, 4)
fn seed(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    let open = grid_ld(i) == 0u && i32(g.z) < p.z1 && masked(g.x, g.y);
    let on_seed = g.z > 0u && in_set(grid_ld(idx(g.x, g.y, g.z - 1u))) && grid_ld(idx(g.x, g.y, g.z - 1u)) != 0u;
    scratch_a_st(i, select(0u, 1u, open && on_seed));
}

@compute @workgroup_size(8, 8, 4)
fn apply(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    if scratch_a_ld(i) == 1u && grid_ld(i) == 0u {
        grid_st(i, p.material);
    }
}
