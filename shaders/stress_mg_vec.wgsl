// Chebyshev smoothing (degree 2, on the block-Jacobi scaled operator) and the power
// iteration that bounds its spectrum, on any multigrid level. Prelude:
// stress_mg_level.wgsl. Keep the bindings in sync with src/stress/multigrid.rs.

@group(0) @binding(0) var<uniform> lv: Level;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> t: array<f32>;
@group(0) @binding(4) var<storage, read_write> d: array<f32>;
@group(0) @binding(5) var<storage, read_write> dinv: array<f32>;
@group(0) @binding(6) var<storage, read_write> partials: array<f32>;

fn vec_at(a: u32, n: u32) -> vec3<f32> {
    // a: 0 = b, 1 = t
    if a == 0u {
        return vec3<f32>(b[3u * n], b[3u * n + 1u], b[3u * n + 2u]);
    }
    return vec3<f32>(t[3u * n], t[3u * n + 1u], t[3u * n + 2u]);
}

fn dinv_mul(n: u32, v: vec3<f32>) -> vec3<f32> {
    let m0 = vec3<f32>(dinv[6u * n], dinv[6u * n + 1u], dinv[6u * n + 2u]);
    let m1 = vec3<f32>(dinv[6u * n + 3u], dinv[6u * n + 4u], dinv[6u * n + 5u]);
    return block_mul(m0, m1, v);
}

fn set_x(n: u32, v: vec3<f32>) {
    x[3u * n] = v.x;
    x[3u * n + 1u] = v.y;
    x[3u * n + 2u] = v.z;
}

fn set_d(n: u32, v: vec3<f32>) {
    d[3u * n] = v.x;
    d[3u * n + 1u] = v.y;
    d[3u * n + 2u] = v.z;
}

fn get_x(n: u32) -> vec3<f32> {
    return vec3<f32>(x[3u * n], x[3u * n + 1u], x[3u * n + 2u]);
}

fn get_d(n: u32) -> vec3<f32> {
    return vec3<f32>(d[3u * n], d[3u * n + 1u], d[3u * n + 2u]);
}

// First Chebyshev step from x = 0: d = D^-1 b / theta, x = d.
@compute @workgroup_size(MG_WG)
fn cheb_zero(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = lin(wid, lid, lv.node_wx);
    if n < lv.ndims.w {
        let dv = dinv_mul(n, vec_at(0u, n)) * lv.inv_theta;
        set_d(n, dv);
        set_x(n, dv);
    }
}

// First Chebyshev step from the current x (t = b - A x): d = D^-1 t / theta, x += d.
@compute @workgroup_size(MG_WG)
fn cheb1(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = lin(wid, lid, lv.node_wx);
    if n < lv.ndims.w {
        let dv = dinv_mul(n, vec_at(1u, n)) * lv.inv_theta;
        set_d(n, dv);
        set_x(n, get_x(n) + dv);
    }
}

// Second Chebyshev step: d = c1 d + c2 D^-1 t, x += d.
@compute @workgroup_size(MG_WG)
fn cheb2(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = lin(wid, lid, lv.node_wx);
    if n < lv.ndims.w {
        let dv = lv.c1 * get_d(n) + lv.c2 * dinv_mul(n, vec_at(1u, n));
        set_d(n, dv);
        set_x(n, get_x(n) + dv);
    }
}

var<workgroup> red: array<vec2<f32>, MG_WG>;

fn write_part(n: u32, lid: u32, v: vec2<f32>) {
    red[lid] = v;
    workgroupBarrier();
    for (var s = MG_WG / 2u; s > 0u; s = s >> 1u) {
        if lid < s {
            red[lid] = red[lid] + red[lid + s];
        }
        workgroupBarrier();
    }
    let groups = (lv.ndims.w + MG_WG - 1u) / MG_WG;
    let g = n / MG_WG;
    if lid == 0u && g < groups {
        partials[g] = red[0].x;
        partials[groups + g] = red[0].y;
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

// After t = 0 - A x: y = A x, v = D^-1 y. Partials: x . y = x' A x, v . y = v' D v; x = v.
@compute @workgroup_size(MG_WG)
fn pow_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = lin(wid, lid, lv.node_wx);
    var acc = vec2<f32>(0.0);
    if n < lv.ndims.w {
        let y = -vec_at(1u, n);
        let v = dinv_mul(n, y);
        acc = vec2<f32>(dot(get_x(n), y), dot(v, y));
        set_x(n, v);
    }
    write_part(n, lid, acc);
}
