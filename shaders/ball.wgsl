// Solder balls. `base` (one invocation per ball) finds the surface under each pad
// centre (circle records in `shapes`, µm) and stores its height in scratch_b[ball];
// `fill` sets empty voxels inside each spherical cap: sphere radius p.dist, cap height
// bitcast(p.z1), standing on that surface (voxel units).

fn ball_centre(b: u32) -> vec3<f32> {
    return shapes[2u * b + 1u].xyz / p.voxel_um;
}

@compute @workgroup_size(64, 1, 1)
fn base(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(64u, 1u, 1u));
    if g.x >= p.shape_count {
        return;
    }
    scratch_b_st(g.x, surface_under(shapes[2u * g.x + 1u].xy));
}

@compute @workgroup_size(8, 8, 4)
fn fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    if grid_ld(i) != 0u {
        return;
    }
    let q = vec3<f32>(g) + 0.5;
    let r = p.dist;
    let h = bitcast<f32>(p.z1);
    for (var b = 0u; b < p.shape_count; b++) {
        let c = ball_centre(b);
        let floor_z = f32(scratch_b_ld(b));
        let centre = vec3<f32>(c.xy, floor_z + h - r);
        let d = q - centre;
        if q.z >= floor_z && q.z <= floor_z + h && dot(d, d) <= r * r {
            grid_st(i, p.material);
            return;
        }
    }
}
