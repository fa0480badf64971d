// Chebyshev smoothing (degree 2, on the block-Jacobi scaled operator) and the power
// iteration that bounds its spectrum, shared by the levels' operator shaders
// (stress_mg0.wgsl for the voxels, stress_mg_elem.wgsl for the coarse levels; prepended
// by src/shaders.rs after stress_mg_level.wgsl). The including shader binds `lv`, the
// level's windowed vectors `x`, `d` (x_ld, x_st, d_ld, d_st) and `partials`, and defines `fn get_b(n)` (the level's
// right-hand side), `fn dinv_mul(n, v)` (the node's inverse diagonal block times v),
// `fn free_of(n)` (its free DOFs as 0/1) and `fn resid_to_d(wid, lid, what)` (the
// level's residual, left in d by store_d).

fn get_x(n: u32) -> vec3<f32> {
    return vec3<f32>(x_ld(3u * n), x_ld(3u * n + 1u), x_ld(3u * n + 2u));
}

fn set_x(n: u32, v: vec3<f32>) {
    x_st(3u * n, v.x);
    x_st(3u * n + 1u, v.y);
    x_st(3u * n + 2u, v.z);
}

fn get_d(n: u32) -> vec3<f32> {
    return vec3<f32>(d_ld(3u * n), d_ld(3u * n + 1u), d_ld(3u * n + 2u));
}

fn set_d(n: u32, v: vec3<f32>) {
    d_st(3u * n, v.x);
    d_st(3u * n + 1u, v.y);
    d_st(3u * n + 2u, v.z);
}

// What a residual pass leaves in d, from r = b - A x and dr = D^-1 r: r itself (before
// a restriction, in the power iteration; dr unused), the first Chebyshev step dr / theta,
// or the second c1 d + c2 dr; add_d then does x += d. Fusing the steps into the residual
// pass spares each level a vector of its own for r.
const STORE_R: u32 = 0u;
const STORE_CHEB1: u32 = 1u;
const STORE_CHEB2: u32 = 2u;

fn store_d(n: u32, r: vec3<f32>, dr: vec3<f32>, what: u32) {
    var v = r;
    if what == STORE_CHEB1 {
        v = dr * lv.inv_theta;
    } else if what == STORE_CHEB2 {
        v = lv.c1 * get_d(n) + lv.c2 * dr;
    }
    set_d(n, v);
}

@compute @workgroup_size(MG_WG)
fn resid(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    resid_to_d(wid, lid, STORE_R);
}

@compute @workgroup_size(MG_WG)
fn cheb1(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    resid_to_d(wid, lid, STORE_CHEB1);
}

@compute @workgroup_size(MG_WG)
fn cheb2(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    resid_to_d(wid, lid, STORE_CHEB2);
}

// First Chebyshev step from x = 0: d = D^-1 b / theta, x = d.
@compute @workgroup_size(MG_WG)
fn cheb_zero(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = lin(wid, lid, lv.node_wx);
    if n < lv.ndims.w {
        let dv = dinv_mul(n, get_b(n)) * lv.inv_theta;
        set_d(n, dv);
        set_x(n, dv);
    }
}

// A Chebyshev step after the residual pass that left its direction in d: x += d.
@compute @workgroup_size(MG_WG)
fn add_d(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = lin(wid, lid, lv.node_wx);
    if n < lv.ndims.w {
        set_x(n, get_x(n) + get_d(n));
    }
}

// (stress_common.wgsl's `red` is not in every module that includes this one.)
var<workgroup> red_mg: array<vec2<f32>, MG_WG>;

fn write_part(n: u32, lid: u32, v: vec2<f32>) {
    red_mg[lid] = v;
    workgroupBarrier();
    for (var s = MG_WG / 2u; s > 0u; s = s >> 1u) {
        if lid < s {
            red_mg[lid] = red_mg[lid] + red_mg[lid + s];
        }
        workgroupBarrier();
    }
    let groups = (lv.ndims.w + MG_WG - 1u) / MG_WG;
    let g = n / MG_WG;
    if lid == 0u && g < groups {
        partials[g] = red_mg[0].x;
        partials[groups + g] = red_mg[0].y;
    }
}

fn hash(i: u32) -> f32 {
    var h = i * 747796405u + 2891336453u;
    h = ((h >> ((h >> 28u) + 4u)) ^ h) * 277803737u;
    h = (h >> 22u) ^ h;
    return f32(h) / 4294967295.0 * 2.0 - 1.0;
}

// Power iteration start: x = D^-1 y for a pseudo-random y. Partial slot 1: x . y = x' D x.
@compute @workgroup_size(MG_WG)
fn pow_init(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = lin(wid, lid, lv.node_wx);
    var acc = vec2<f32>(0.0);
    if n < lv.ndims.w {
        let y = vec3<f32>(hash(3u * n), hash(3u * n + 1u), hash(3u * n + 2u));
        let v = dinv_mul(n, y);
        set_x(n, v);
        acc = vec2<f32>(0.0, dot(v, y));
    }
    write_part(n, lid, acc);
}

// After a residual pass left d = 0 - A x: y = A x, v = D^-1 y. Partials: x . y = x' A x,
// v . y = v' D v; x = v.
@compute @workgroup_size(MG_WG)
fn pow_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = lin(wid, lid, lv.node_wx);
    var acc = vec2<f32>(0.0);
    if n < lv.ndims.w {
        let y = -get_d(n);
        let v = dinv_mul(n, y);
        acc = vec2<f32>(dot(get_x(n), y), dot(v, y));
        set_x(n, v);
    }
    write_part(n, lid, acc);
}
