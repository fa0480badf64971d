// Isotropic (timed wet) etch. The etchant fills the empty space reachable from the top
// (scratch_a, from flood.wgsl). scratch_b holds, as f32 bits, the distance in voxels
// from the etchant to each voxel centre, measured through etchable material and voids
// with a 26-neighbour chamfer (weights 1, sqrt 2, sqrt 3): exact along axes, so the
// undercut below a mask edge equals the etch distance. Listed material with
// distance <= p.dist is removed.

const FAR: f32 = 1e30;

@compute @workgroup_size(8, 8, 4)
fn init(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    // Etchant voxel centres sit half a voxel behind the surface they wet.
    let seed = grid[i] == 0u && scratch_a[i] == 1u;
    scratch_b[i] = bitcast<u32>(select(FAR, -0.5, seed));
}

@compute @workgroup_size(8, 8, 4)
fn relax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    let m = grid[i];
    if m != 0u && !in_set(m) {
        return;
    }
    let here = bitcast<f32>(scratch_b[i]);
    if here < 0.0 {
        return;
    }
    let q = vec3<i32>(g);
    var best = here;
    for (var dz = -1; dz <= 1; dz++) {
        for (var dy = -1; dy <= 1; dy++) {
            for (var dx = -1; dx <= 1; dx++) {
                let o = vec3<i32>(dx, dy, dz);
                let n = q + o;
                if in_grid(n) {
                    let dn = bitcast<f32>(scratch_b[idxv(n)]);
                    best = min(best, dn + sqrt(f32(dot(o, o))));
                }
            }
        }
    }
    // Values beyond the etch distance can never lead to removal: do not spread them.
    if best < here && best <= p.dist {
        scratch_b[i] = bitcast<u32>(best);
        atomicAdd(&counters[C_CHANGED], 1u);
    }
}

@compute @workgroup_size(8, 8, 4)
fn apply(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    let m = grid[i];
    if m != 0u && in_set(m) && masked(g.x, g.y) && bitcast<f32>(scratch_b[i]) <= p.dist {
        grid[i] = 0u;
    }
}
