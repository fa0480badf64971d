// Chebyshev smoothing (degree 2, on the block-Jacobi scaled operator; the residual
// passes compute its directions: stress_mg_smooth.wgsl) and the power iteration that
// bounds its spectrum, on any multigrid level. Preludes: stress_mg_level.wgsl,
// stress_mg_smooth.wgsl. Keep the bindings in sync with src/stress/multigrid.rs.

@group(0) @binding(0) var<uniform> lv: Level;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> b: array<f32>;
// The Chebyshev direction, and the residual where a residual pass left it there.
@group(0) @binding(3) var<storage, read_write> d: array<f32>;
@group(0) @binding(4) var<storage, read_write> dinv: array<f32>;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>;

fn get_b(n: u32) -> vec3<f32> {
    return vec3<f32>(b[3u * n], b[3u * n + 1u], b[3u * n + 2u]);
}

fn set_x(n: u32, v: vec3<f32>) {
    x[3u * n] = v.x;
    x[3u * n + 1u] = v.y;
    x[3u * n + 2u] = v.z;
}

fn get_x(n: u32) -> vec3<f32> {
    return vec3<f32>(x[3u * n], x[3u * n + 1u], x[3u * n + 2u]);
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

// After a residual pass left d = 0 - A x: y = A x, v = D^-1 y. Partials: x . y = x' A x, v . y = v' D v; x = v.
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
