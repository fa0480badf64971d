// Grid transfers between multigrid level l (fine, `lv`) and l+1 (coarse): trilinear
// prolongation P and its transpose as restriction, matching the Galerkin products of
// stress_galerkin*.wgsl. Prelude: stress_mg_level.wgsl.

@group(0) @binding(0) var<uniform> lv: Level;
// The fine level's d (the residual) and x, windowed like its operator's
// (stress_mg_smooth.wgsl).
// window t_f: array<f32>, binding 1, read_write
// window x_f: array<f32>, binding 2, read_write
@group(0) @binding(3) var<storage, read_write> b_c: array<f32>;
@group(0) @binding(4) var<storage, read_write> x_c: array<f32>;
// The fine level's node flags (stress_mg_level.wgsl): its constrained DOFs and the
// prolongation candidates each node keeps.
// (level 0's are the solver's, windowed with its other 4-byte arrays).
// window pw: array<u32>, binding 5, read_write, narrow

// b_c = P' t_f (one thread per coarse node).
@compute @workgroup_size(MG_WG)
fn restrict_residual(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = lin(wid, lid, lv.cnode_wx);
    if n >= lv.cdims.w {
        return;
    }
    let c = coords(n, lv.cdims);
    var acc = vec3<f32>(0.0);
    for (var k = 0u; k < 27u; k++) {
        let o = vec3<i32>(i32(k % 3u), i32((k / 3u) % 3u), i32(k / 9u)) - vec3<i32>(1);
        let f = 2 * c + o;
        if !inside(f, lv.ndims) {
            continue;
        }
        // The coarse node is the fine node's `hi` candidate along axes where o = -1.
        let s = select(vec3<u32>(0u), vec3<u32>(1u), o == vec3<i32>(-1));
        let i = index_of(f, lv.ndims);
        let w = mask_weight(pw_ld(i), s.x + 2u * s.y + 4u * s.z);
        acc += w * vec3<f32>(t_f_ld(3u * i), t_f_ld(3u * i + 1u), t_f_ld(3u * i + 2u));
    }
    b_c[3u * n] = acc.x;
    b_c[3u * n + 1u] = acc.y;
    b_c[3u * n + 2u] = acc.z;
}

// x_f += M P x_c (one thread per fine node; M: the fine level's free DOFs).
@compute @workgroup_size(MG_WG)
fn prolong(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = lin(wid, lid, lv.node_wx);
    if n >= lv.ndims.w {
        return;
    }
    let f = coords(n, lv.ndims);
    let lo = f / 2;
    let hi = (f + 1) / 2;
    var acc = vec3<f32>(0.0);
    for (var k = 0u; k < 8u; k++) {
        let s = corner_of(k);
        let w = mask_weight(pw_ld(n), k);
        if w == 0.0 {
            continue;
        }
        let c = select(lo, hi, s == vec3<i32>(1));
        let i = index_of(c, lv.cdims);
        acc += w * vec3<f32>(x_c[3u * i], x_c[3u * i + 1u], x_c[3u * i + 2u]);
    }
    let m = mask_of(pw_ld(n));
    x_f_st(3u * n, x_f_ld(3u * n) + acc.x * m.x);
    x_f_st(3u * n + 1u, x_f_ld(3u * n + 1u) + acc.y * m.y);
    x_f_st(3u * n + 2u, x_f_ld(3u * n + 2u) + acc.z * m.z);
}
