// Solder balls. `base` (one invocation per ball) finds the surface under each pad
// centre (circle records in `shapes`, µm) and stores its height in scratch_b[ball];
// `fill` sets empty voxels inside each spherical cap: sphere radius p.dist, cap height
// bitcast(p.z1), standing on that surface (voxel units).

fn ball_centre(b: u32) -> vec3<f32> {
    return shapes[2u * b + 1u].xyz / p.voxel_um;
}

@compute @workgroup_size(64, 1, 1)
fn base(@builtin(global_invocation_id) g: vec3<u32>) {
    if g.x >= p.shape_count {
        return;
    }
    let c = ball_centre(g.x);
    let x = min(u32(max(c.x, 0.0)), p.dims.x - 1u);
    let y = min(u32(max(c.y, 0.0)), p.dims.y - 1u);
    var top = 0u;
    for (var z = i32(p.dims.z) - 1; z >= 0; z--) {
        if grid[idx(x, y, u32(z))] != 0u {
            top = u32(z + 1);
            break;
        }
    }
    scratch_b[g.x] = top;
}

@compute @workgroup_size(8, 8, 4)
fn fill(@builtin(global_invocation_id) g: vec3<u32>) {
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    if grid[i] != 0u {
        return;
    }
    let q = vec3<f32>(g) + 0.5;
    let r = p.dist;
    let h = bitcast<f32>(p.z1);
    for (var b = 0u; b < p.shape_count; b++) {
        let c = ball_centre(b);
        let floor_z = f32(scratch_b[b]);
        let centre = vec3<f32>(c.xy, floor_z + h - r);
        let d = q - centre;
        if q.z >= floor_z && q.z <= floor_z + h && dot(d, d) <= r * r {
            grid[i] = p.material;
            return;
        }
    }
}
