// Lithography develop of resist p.material inside the rasterised mask (the CPU folds
// tone into the mask: negative tone = inverted mask).
//   mode 0: whole-column develop; with a sidewall angle (p.dist = tan, > 0) the opening
//           narrows with depth s below the resist top: removed where the column's
//           distance inside the opening (scratch_b, mask.wgsl) >= s * tan.
//   mode 1: grey-tone ramp: resist above the plane through (ramp.xy, z0) and
//           (ramp.zw, z1) is removed (heights in voxels, p.z0/p.z1 as f32 bits).

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 1u));
    if g.x >= p.dims.x || g.y >= p.dims.y || !masked(g.x, g.y) {
        return;
    }
    let col = g.x + p.dims.x * g.y;
    if p.mode == 1u {
        let a = shapes[0];
        let pt = (vec2<f32>(g.xy) + 0.5) * p.voxel_um;
        let d = a.zw - a.xy;
        let t = clamp(dot(pt - a.xy, d) / dot(d, d), 0.0, 1.0);
        let zc = mix(bitcast<f32>(p.z0), bitcast<f32>(p.z1), t);
        for (var z = 0u; z < p.dims.z; z++) {
            let i = idx(g.x, g.y, z);
            if grid_ld(i) == p.material && f32(z) + 0.5 > zc {
                grid_st(i, 0u);
            }
        }
        return;
    }
    let inside = bitcast<f32>(scratch_b_ld(col));
    var top = -1;
    for (var z = i32(p.dims.z) - 1; z >= 0; z--) {
        let i = idx(g.x, g.y, u32(z));
        if grid_ld(i) == p.material {
            if top < 0 {
                top = z;
            }
            if p.dist <= 0.0 || inside >= f32(top - z) * p.dist {
                grid_st(i, 0u);
            }
        }
    }
}
