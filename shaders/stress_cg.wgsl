// Vector updates and scalar steps of Jacobi-preconditioned CG. The scalars (alpha,
// beta) are computed here by single-workgroup kernels, so an iteration never waits on
// the CPU. Preconditioned residual z = w r is formed on the fly, never stored.

// u += alpha s; r -= alpha q. Partial slots: r . z, r . r.
@compute @workgroup_size(WG)
fn update_xr(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let wg = group_index(wid, prm.node_wx);
    let n = wg * WG + lid;
    var acc = vec2<f32>(0.0);
    if n < prm.ndims.w {
        let alpha = scalars[S_ALPHA];
        let s = load_s(n);
        u0[n] += alpha * s.x;
        u1[n] += alpha * s.y;
        u2[n] += alpha * s.z;
        let r = vec3<f32>(r0[n], r1[n], r2[n]) - alpha * vec3<f32>(q0[n], q1[n], q2[n]);
        r0[n] = r.x;
        r1[n] = r.y;
        r2[n] = r.z;
        acc = vec2<f32>(dot(r, load_w(n) * r), dot(r, r));
    }
    write_partials(wg, lid, reduce2(lid, acc));
}

// s = w r + beta s.
@compute @workgroup_size(WG)
fn update_s(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = group_index(wid, prm.node_wx) * WG + lid;
    if n < prm.ndims.w {
        let beta = scalars[S_BETA];
        let s = load_w(n) * vec3<f32>(r0[n], r1[n], r2[n]) + beta * load_s(n);
        s0[n] = s.x;
        s1[n] = s.y;
        s2[n] = s.z;
    }
}

// Sums both partial slots over all node workgroups (one workgroup runs this).
fn sum_partials(lid: u32) -> vec2<f32> {
    var acc = vec2<f32>(0.0);
    for (var i = lid; i < prm.node_groups; i += WG) {
        acc += vec2<f32>(partials[i], partials[prm.node_groups + i]);
    }
    return reduce2(lid, acc);
}

// |f|^2 from `setup`.
@compute @workgroup_size(WG)
fn finish_ff(@builtin(local_invocation_index) lid: u32) {
    let t = sum_partials(lid);
    if lid == 0u {
        scalars[S_FF] = t.x;
    }
}

// alpha = (r . z) / (s . K s); 0 on breakdown (s . K s not positive or not finite),
// which freezes the iteration so the host's stagnation test ends it.
@compute @workgroup_size(WG)
fn finish_alpha(@builtin(local_invocation_index) lid: u32) {
    let t = sum_partials(lid);
    if lid == 0u {
        let rz = scalars[S_RZ];
        scalars[S_PQ] = t.x;
        var alpha = 0.0;
        if t.x > 0.0 && rz > 0.0 {
            alpha = rz / t.x;
        }
        scalars[S_ALPHA] = alpha;
    }
}

// beta = (r . z)_new / (r . z)_old (0 after a restart, when the old value is 0).
@compute @workgroup_size(WG)
fn finish_beta(@builtin(local_invocation_index) lid: u32) {
    let t = sum_partials(lid);
    if lid == 0u {
        let old = scalars[S_RZ];
        var beta = 0.0;
        if old > 0.0 {
            beta = t.x / old;
        }
        scalars[S_BETA] = beta;
        scalars[S_RZ] = t.x;
        scalars[S_RR] = t.y;
    }
}

// |f - K u|^2 from `residual`; also primes a restart (alpha = 0, (r . z)_old = 0).
@compute @workgroup_size(WG)
fn finish_true(@builtin(local_invocation_index) lid: u32) {
    let t = sum_partials(lid);
    if lid == 0u {
        scalars[S_RR_TRUE] = t.x;
        scalars[S_ALPHA] = 0.0;
        scalars[S_RZ] = 0.0;
    }
}

// Primes the first iteration after `setup` (alpha = 0, (r . z)_old = 0).
@compute @workgroup_size(1)
fn reset() {
    scalars[S_ALPHA] = 0.0;
    scalars[S_RZ] = 0.0;
    scalars[S_BETA] = 0.0;
}
