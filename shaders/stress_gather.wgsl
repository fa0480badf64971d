// Matrix-free hex8 stiffness gather at real precision (`real` is f32 or f64, aliased by
// the module's prelude in src/shaders.rs). Used by the f64 outer CG (stress_outer.wgsl)
// and the f32 finest multigrid level (stress_mg0.wgsl). The module defines the tables
// `ke_r` (UnitElement::gpu_blocks at real precision), `mats_r` (lambda, mu, thermal,
// eigen per material) and `fn load_in(n: u32) -> vec3<real>`, the vector multiplied.
// Each node gathers from its <= 8 adjacent solid voxels (no float atomics).

const KE_MU: u32 = 192u;
const KE_G: u32 = 384u;
const KE_ST: u32 = 392u;
const KE_ST_MU: u32 = 473u;

// (K v) at node n (at c), unmasked. The node's own value is subtracted from its
// neighbours' (K_e annihilates translations): less cancellation when the body moves far.
fn k_gather(n: u32, c: vec3<i32>) -> vec3<real> {
    return k_gather_mats(n, c, voxel_mats(c));
}

// The materials of the eight voxels around node c (0: void), in corner order.
fn voxel_mats(c: vec3<i32>) -> array<u32, 8> {
    var ms: array<u32, 8>;
    for (var v = 0u; v < 8u; v++) {
        ms[v] = voxel_material(c - vec3<i32>(1) + corner(v));
    }
    return ms;
}

// k_gather with the voxels' materials looked up by the caller (voxel_mats), who may need
// them too.
fn k_gather_mats(n: u32, c: vec3<i32>, ms: array<u32, 8>) -> vec3<real> {
    let own = load_in(n);
    var acc = vec3<real>(0.0);
    // Interior of a one-material region: the assembled 27-point stencil.
    let m0 = ms[0];
    var same = m0 != 0u;
    for (var v = 1u; v < 8u; v++) {
        same = same && ms[v] == m0;
    }
    if same {
        let lm = mats_r[m0];
        for (var j = 0u; j < 27u; j++) {
            if j == 13u {
                continue;
            }
            let o = vec3<i32>(i32(j % 3u), i32((j / 3u) % 3u), i32(j / 9u)) - vec3<i32>(1);
            let d = load_in(node_index(c + o)) - own;
            let i = 3u * j;
            acc.x += dot(lm.x * ke_r[KE_ST + i].xyz + lm.y * ke_r[KE_ST_MU + i].xyz, d);
            acc.y += dot(lm.x * ke_r[KE_ST + i + 1u].xyz + lm.y * ke_r[KE_ST_MU + i + 1u].xyz, d);
            acc.z += dot(lm.x * ke_r[KE_ST + i + 2u].xyz + lm.y * ke_r[KE_ST_MU + i + 2u].xyz, d);
        }
        return acc * real(prm.h);
    }
    for (var v = 0u; v < 8u; v++) {
        let vox = c - vec3<i32>(1) + corner(v);
        let m = ms[v];
        if m == 0u {
            continue;
        }
        let lm = mats_r[m];
        let row = 3u * (7u - v);
        var e = vec3<real>(0.0);
        for (var b = 0u; b < 8u; b++) {
            let d = load_in(node_index(vox + corner(b))) - own;
            let i = row * 8u + b;
            e.x += dot(lm.x * ke_r[i].xyz + lm.y * ke_r[KE_MU + i].xyz, d);
            e.y += dot(lm.x * ke_r[i + 8u].xyz + lm.y * ke_r[KE_MU + i + 8u].xyz, d);
            e.z += dot(lm.x * ke_r[i + 16u].xyz + lm.y * ke_r[KE_MU + i + 16u].xyz, d);
        }
        acc += e;
    }
    return acc * real(prm.h);
}

// Thermal load at node c (unmasked).
fn load_at(c: vec3<i32>) -> vec3<real> {
    var f = vec3<real>(0.0);
    for (var v = 0u; v < 8u; v++) {
        let m = voxel_material(c - vec3<i32>(1) + corner(v));
        if m != 0u {
            f += mats_r[m].z * ke_r[KE_G + 7u - v].xyz;
        }
    }
    return f * real(prm.h) * real(prm.h);
}

// Whether any voxel around node c is solid (else the node is inactive).
fn node_active(c: vec3<i32>) -> bool {
    for (var v = 0u; v < 8u; v++) {
        if voxel_material(c - vec3<i32>(1) + corner(v)) != 0u {
            return true;
        }
    }
    return false;
}
