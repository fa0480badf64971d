// Bond wires. `ends` (one invocation per wire end, points in `shapes` as (x, y) µm)
// stores the surface height under each end in scratch_b[end]. `fill` sets empty voxels
// within radius p.dist of any polyline segment (vec4 pairs in `shapes`, voxel units,
// p.shape_count segments).

@compute @workgroup_size(64, 1, 1)
fn ends(@builtin(global_invocation_id) g: vec3<u32>) {
    if g.x >= p.shape_count {
        return;
    }
    let v = shapes[g.x].xy / p.voxel_um;
    let x = min(u32(max(v.x, 0.0)), p.dims.x - 1u);
    let y = min(u32(max(v.y, 0.0)), p.dims.y - 1u);
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
    let r2 = p.dist * p.dist;
    for (var s = 0u; s < p.shape_count; s++) {
        let a = shapes[2u * s].xyz;
        let b = shapes[2u * s + 1u].xyz;
        let ab = b - a;
        let t = clamp(dot(q - a, ab) / max(dot(ab, ab), 1e-12), 0.0, 1.0);
        let d = q - (a + t * ab);
        if dot(d, d) <= r2 {
            grid[i] = p.material;
            return;
        }
    }
}
