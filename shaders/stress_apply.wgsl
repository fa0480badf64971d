// Matrix-free stiffness: each node gathers from its <= 8 adjacent solid voxels (no
// float atomics). Element stiffness h (lambda k_lambda + mu k_mu), thermal load
// (3 lambda + 2 mu) alpha dT h^2 g; see src/stress/element.rs.

// (K s) at node n (at c), unmasked. The node's own value is subtracted from its
// neighbours' (K_e annihilates translations), which keeps f32 cancellation small when
// the body moves far (bending, thermal expansion away from the anchor).
fn k_times_s(n: u32, c: vec3<i32>) -> vec3<f32> {
    let own = load_s(n);
    var acc = vec3<f32>(0.0);
    // Fast path: all eight neighbouring voxels of one material (interior of a region):
    // the assembled 27-point stencil, 26 neighbour loads instead of 64.
    let m0 = voxel_material(c - vec3<i32>(1));
    var same = m0 != 0u;
    for (var v = 1u; v < 8u; v++) {
        same = same && voxel_material(c - vec3<i32>(1) + corner(v)) == m0;
    }
    if same {
        let lm = mats[m0];
        for (var j = 0u; j < 27u; j++) {
            if j == 13u {
                continue; // the node itself: d = 0
            }
            let o = vec3<i32>(i32(j % 3u), i32((j / 3u) % 3u), i32(j / 9u)) - vec3<i32>(1);
            let d = load_s(node_index(c + o)) - own;
            let i = 3u * j;
            acc.x += dot(lm.x * ke[KE_ST + i].xyz + lm.y * ke[KE_ST_MU + i].xyz, d);
            acc.y += dot(lm.x * ke[KE_ST + i + 1u].xyz + lm.y * ke[KE_ST_MU + i + 1u].xyz, d);
            acc.z += dot(lm.x * ke[KE_ST + i + 2u].xyz + lm.y * ke[KE_ST_MU + i + 2u].xyz, d);
        }
        return acc * prm.h;
    }
    for (var v = 0u; v < 8u; v++) {
        // Voxel v of the node's 2x2x2 neighbourhood; the node is its local corner 7 - v.
        let vox = c - vec3<i32>(1) + corner(v);
        let m = voxel_material(vox);
        if m == 0u {
            continue;
        }
        let lm = mats[m];
        let row = 3u * (7u - v);
        var e = vec3<f32>(0.0);
        for (var b = 0u; b < 8u; b++) {
            let d = load_s(node_index(vox + corner(b))) - own;
            let i = row * 8u + b;
            e.x += dot(lm.x * ke[i].xyz + lm.y * ke[KE_MU + i].xyz, d);
            e.y += dot(lm.x * ke[i + 8u].xyz + lm.y * ke[KE_MU + i + 8u].xyz, d);
            e.z += dot(lm.x * ke[i + 16u].xyz + lm.y * ke[KE_MU + i + 16u].xyz, d);
        }
        acc += e;
    }
    return acc * prm.h;
}

// Thermal load at node c (unmasked): sum over solid voxels of (3l + 2m) a dT h^2 g_a.
fn node_load(c: vec3<i32>) -> vec3<f32> {
    var f = vec3<f32>(0.0);
    for (var v = 0u; v < 8u; v++) {
        let vox = c - vec3<i32>(1) + corner(v);
        let m = voxel_material(vox);
        if m == 0u {
            continue;
        }
        f += mats[m].z * ke[KE_G + 7u - v].xyz;
    }
    return f * (prm.h * prm.h);
}

// Diagonal of K at node c.
fn node_diag(c: vec3<i32>) -> vec3<f32> {
    var d = vec3<f32>(0.0);
    for (var v = 0u; v < 8u; v++) {
        let vox = c - vec3<i32>(1) + corner(v);
        let m = voxel_material(vox);
        if m == 0u {
            continue;
        }
        let lm = mats[m];
        let a = 7u - v;
        // Diagonal entry of row 3a + k sits in block (3a + k, a), component k.
        let i = 3u * a * 8u + a;
        d += vec3<f32>(
            lm.x * ke[i].x + lm.y * ke[KE_MU + i].x,
            lm.x * ke[i + 8u].y + lm.y * ke[KE_MU + i + 8u].y,
            lm.x * ke[i + 16u].z + lm.y * ke[KE_MU + i + 16u].z,
        );
    }
    return d * prm.h;
}

// Jacobi weights with the constraint mask folded in; r = masked load; u = s = q = 0.
// Partial slot 0: |f|^2 over all DOFs (the scale of the relative residual).
@compute @workgroup_size(WG)
fn setup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let wg = group_index(wid, prm.node_wx);
    let n = wg * WG + lid;
    var ff = 0.0;
    if n < prm.ndims.w {
        let c = node_coords(n);
        let d = node_diag(c);
        let f = node_load(c);
        let bits = fixed_bits(n, c);
        let free = vec3<bool>((bits & 1u) == 0u, (bits & 2u) == 0u, (bits & 4u) == 0u) & (d > vec3<f32>(0.0));
        let w = select(vec3<f32>(0.0), vec3<f32>(1.0) / max(d, vec3<f32>(1e-30)), free);
        let r = select(vec3<f32>(0.0), f, free);
        w0[n] = w.x;
        w1[n] = w.y;
        w2[n] = w.z;
        r0[n] = r.x;
        r1[n] = r.y;
        r2[n] = r.z;
        u0[n] = 0.0;
        u1[n] = 0.0;
        u2[n] = 0.0;
        s0[n] = 0.0;
        s1[n] = 0.0;
        s2[n] = 0.0;
        q0[n] = 0.0;
        q1[n] = 0.0;
        q2[n] = 0.0;
        ff = dot(f, f);
    }
    write_partials(wg, lid, reduce2(lid, vec2<f32>(ff, 0.0)));
}

// q = K s on free DOFs (0 on constrained ones). Partial slot 0: s . q.
@compute @workgroup_size(WG)
fn apply(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let wg = group_index(wid, prm.node_wx);
    let n = wg * WG + lid;
    var sq = 0.0;
    if n < prm.ndims.w {
        let w = load_w(n);
        var q = vec3<f32>(0.0);
        // Nodes with every DOF constrained or inactive skip the gather.
        if any(w != vec3<f32>(0.0)) {
            q = select(k_times_s(n, node_coords(n)), vec3<f32>(0.0), w == vec3<f32>(0.0));
        }
        q0[n] = q.x;
        q1[n] = q.y;
        q2[n] = q.z;
        sq = dot(load_s(n), q);
    }
    write_partials(wg, lid, reduce2(lid, vec2<f32>(sq, 0.0)));
}

// After `apply` on s = u: r = f - K u on free DOFs, s = q = 0 (a CG restart from the
// true residual). Partial slot 0: |r|^2.
@compute @workgroup_size(WG)
fn residual(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let wg = group_index(wid, prm.node_wx);
    let n = wg * WG + lid;
    var rr = 0.0;
    if n < prm.ndims.w {
        let w = load_w(n);
        let f = node_load(node_coords(n));
        let r = select(f - vec3<f32>(q0[n], q1[n], q2[n]), vec3<f32>(0.0), w == vec3<f32>(0.0));
        r0[n] = r.x;
        r1[n] = r.y;
        r2[n] = r.z;
        s0[n] = 0.0;
        s1[n] = 0.0;
        s2[n] = 0.0;
        q0[n] = 0.0;
        q1[n] = 0.0;
        q2[n] = 0.0;
        rr = dot(r, r);
    }
    write_partials(wg, lid, reduce2(lid, vec2<f32>(rr, 0.0)));
}
