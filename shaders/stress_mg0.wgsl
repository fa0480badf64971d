// The finest multigrid level (the voxels), matrix-free in f32: the residual (with the
// Chebyshev steps fused in) and the smoothing kernels of stress_mg_smooth.wgsl. Nothing
// per node is stored that can be had otherwise: the node's block-Jacobi inverse is
// formed where it is used, from the eight voxels around the node (stored, 24 B per
// fine node), and the right-hand side is the outer CG's residual read in place (an f32
// copy, 12 B). Preludes: `alias real = f32;`, `alias outer = f64;` (or f32: the outer
// CG's precision), stress_common.wgsl, stress_mg_level.wgsl, stress_mg_smooth.wgsl,
// stress_gather.wgsl. Keep the bindings in sync with
// `Multigrid` in src/stress/multigrid.rs.

// Uniform: every lane reads the same entry, so the loads stay scalar.
@group(0) @binding(3) var<uniform> ke_r: array<vec4<f32>, 554>;
@group(0) @binding(4) var<storage, read> mats_r: array<vec4<f32>>;
// The solver's node flags: constrained DOFs in bits 0-2 (7: inactive; stress_mg_level.wgsl).
// window fixed: array<u32>, binding 5, read_write, narrow
@group(0) @binding(6) var<uniform> lv: Level;
// The node vectors are split into windows where they outgrow one binding (`Windows`
// in src/shaders.rs).
// window x: array<f32>, binding 7, read_write
// The outer CG's residual and scalars (stress_outer.wgsl): level 0's b is r / scale.
// window r_outer: array<outer>, binding 8, read
// The Chebyshev direction, or the residual a residual pass left there.
// window d: array<f32>, binding 9, read_write
@group(0) @binding(10) var<storage, read_write> partials: array<f32>;
@group(0) @binding(11) var<storage, read> scalars: array<outer>;
// Each material's block-Jacobi inverse at an unconstrained node inside it (eight voxels
// of the material), 8 f32 per material (6 used): filled by `mat_inverses` at set-up, so
// that most nodes skip the eight-voxel sum.
@group(0) @binding(12) var<storage, read_write> inv_mat: array<f32>;

// Slot of the residual norm in `scalars`. Keep in sync with stress_outer.wgsl.
const O_SCALE: u32 = 6u;

fn get_b(n: u32) -> vec3<f32> {
    let s = scalars[O_SCALE];
    // 0 before any residual was formed (the power iteration zeroes r).
    let inv = select(outer(0.0), outer(1.0) / s, s > outer(0.0));
    return vec3<f32>(vec3<outer>(r_outer_ld(3u * n), r_outer_ld(3u * n + 1u), r_outer_ld(3u * n + 2u)) * inv);
}

fn load_in(n: u32) -> vec3<f32> {
    return get_x(n);
}

fn free_of(n: u32) -> vec3<f32> {
    return mask_of(fixed_ld(n));
}

// The inverse of node n's 3x3 diagonal block of K, its constrained DOFs removed, times v.
fn dinv_mul(n: u32, v: vec3<f32>) -> vec3<f32> {
    return dinv_mul_mats(n, voxel_mats(node_coords(n)), v);
}

// dinv_mul from the materials of the eight voxels around the node (voxel_mats).
fn dinv_mul_mats(n: u32, ms: array<u32, 8>, v: vec3<f32>) -> vec3<f32> {
    var same = ms[0] != 0u;
    for (var k = 1u; k < 8u; k++) {
        same = same && ms[k] == ms[0];
    }
    if same && (fixed_ld(n) & 7u) == 0u {
        let i = 8u * ms[0];
        let m0 = vec3<f32>(inv_mat[i], inv_mat[i + 1u], inv_mat[i + 2u]);
        let m1 = vec3<f32>(inv_mat[i + 3u], inv_mat[i + 4u], inv_mat[i + 5u]);
        return block_mul(m0, m1, v);
    }
    let inv = block_inverse_of(ms, fixed_ld(n));
    return block_mul(inv[0], inv[1], v);
}

// The inverse of the diagonal block of a node with voxel materials `ms` and constrained
// DOFs `bits`: the sum of the eight voxels' own-corner blocks, inverted.
fn block_inverse_of(ms: array<u32, 8>, bits: u32) -> array<vec3<f32>, 2> {
    var a = vec3<f32>(0.0);
    var o = vec3<f32>(0.0);
    for (var k = 0u; k < 8u; k++) {
        let m = ms[k];
        if m == 0u {
            continue;
        }
        let lm = mats_r[m];
        let l = 7u - k;
        // Block (row 3l + i, node l): k_lambda at (3l + i) * 8 + l.
        let rx = (3u * l) * 8u + l;
        let ry = rx + 8u;
        let rz = rx + 16u;
        let kx = lm.x * ke_r[rx].xyz + lm.y * ke_r[KE_MU + rx].xyz;
        let ky = lm.x * ke_r[ry].xyz + lm.y * ke_r[KE_MU + ry].xyz;
        let kz = lm.x * ke_r[rz].xyz + lm.y * ke_r[KE_MU + rz].xyz;
        a += vec3<f32>(kx.x, ky.y, kz.z);
        o += vec3<f32>(ky.z, kx.z, kx.y);
    }
    return block_inverse(a * prm.h, o * prm.h, bits);
}

// r = b - K x on free DOFs (0 elsewhere), left in d as `what` says (stress_mg_smooth).
fn resid_to_d(wid: vec3<u32>, lid: u32, what: u32) {
    let n = lin(wid, lid, lv.node_wx);
    if n < lv.ndims.w {
        var r = vec3<f32>(0.0);
        var dr = vec3<f32>(0.0);
        let m = free_of(n);
        if any(m != vec3<f32>(0.0)) {
            let c = node_coords(n);
            let ms = voxel_mats(c);
            r = (get_b(n) - k_gather_mats(n, c, ms)) * m;
            if what != STORE_R {
                dr = dinv_mul_mats(n, ms, r);
            }
        }
        store_d(n, r, dr, what);
    }
}

// One thread per material: the inverse of the diagonal block of an unconstrained node
// whose eight voxels are all of it, by the same sum as any other node's (so the table
// changes no value the smoother uses).
@compute @workgroup_size(WG)
fn mat_inverses(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let m = wid.x * WG + lid;
    if m >= arrayLength(&mats_r) || 8u * m + 8u > arrayLength(&inv_mat) {
        return;
    }
    var ms: array<u32, 8>;
    for (var k = 0u; k < 8u; k++) {
        ms[k] = m;
    }
    let inv = block_inverse_of(ms, 0u);
    for (var k = 0u; k < 3u; k++) {
        inv_mat[8u * m + k] = inv[0][k];
        inv_mat[8u * m + 3u + k] = inv[1][k];
    }
}
