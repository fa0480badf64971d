// Shared by the multigrid kernels that bind a level's Chebyshev direction `d` and block
// inverse `dinv` (stress_mg0, stress_mg_elem, stress_mg_vec; prepended by src/shaders.rs
// after stress_mg_level.wgsl).

fn dinv_mul(n: u32, v: vec3<f32>) -> vec3<f32> {
    let m0 = vec3<f32>(dinv[6u * n], dinv[6u * n + 1u], dinv[6u * n + 2u]);
    let m1 = vec3<f32>(dinv[6u * n + 3u], dinv[6u * n + 4u], dinv[6u * n + 5u]);
    return block_mul(m0, m1, v);
}

// Free DOFs of node n: exactly where the inverse diagonal is non-zero.
fn free_of(n: u32) -> vec3<f32> {
    return select(vec3<f32>(0.0), vec3<f32>(1.0), vec3<f32>(dinv[6u * n], dinv[6u * n + 1u], dinv[6u * n + 2u]) != vec3<f32>(0.0));
}

fn get_d(n: u32) -> vec3<f32> {
    return vec3<f32>(d[3u * n], d[3u * n + 1u], d[3u * n + 2u]);
}

fn set_d(n: u32, v: vec3<f32>) {
    d[3u * n] = v.x;
    d[3u * n + 1u] = v.y;
    d[3u * n + 2u] = v.z;
}

// What a residual pass leaves in d, from r = b - A x: r itself (before a restriction,
// in the power iteration), the first Chebyshev step D^-1 r / theta, or the second
// c1 d + c2 D^-1 r; stress_mg_vec's add_d then does x += d. Fusing the steps into the
// residual pass spares each level a vector of its own for r.
const STORE_R: u32 = 0u;
const STORE_CHEB1: u32 = 1u;
const STORE_CHEB2: u32 = 2u;

fn store_d(n: u32, r: vec3<f32>, what: u32) {
    var v = r;
    if what == STORE_CHEB1 {
        v = dinv_mul(n, r) * lv.inv_theta;
    } else if what == STORE_CHEB2 {
        v = lv.c1 * get_d(n) + lv.c2 * dinv_mul(n, r);
    }
    set_d(n, v);
}
