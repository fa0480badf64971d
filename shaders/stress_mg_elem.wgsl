// A coarse multigrid level: element matrices (Galerkin, packed, stress_galerkin*.wgsl;
// one slot per element, shared by uniform blocks: stress_mg_tag.wgsl) applied by a
// node-centred gather over the <= 8 adjacent elements, with the Chebyshev steps fused
// into the residual; the smoothing kernels of stress_mg_smooth.wgsl. Preludes:
// stress_mg_level.wgsl, stress_mg_smooth.wgsl.
// Keep the bindings in sync with src/stress/multigrid.rs.

@group(0) @binding(0) var<uniform> lv: Level;
// The packed matrix halves (slot-major), windowed like the node vectors.
// window ka: array<f32>, binding 1, read
// window kb: array<f32>, binding 2, read
// x and d are windowed like level 0's (stress_mg_smooth.wgsl reads them so), though a
// coarse level holds an eighth of the nodes below it.
// window x: array<f32>, binding 3, read_write
@group(0) @binding(4) var<storage, read_write> b: array<f32>;
// The Chebyshev direction, or the residual a residual pass left there.
// window d: array<f32>, binding 5, read_write
// Block-Jacobi inverses, 6 f32 per node (xx, yy, zz, yz, xz, xy), and the node flags
// (stress_mg_level.wgsl) whose constrained DOFs are those the inverses drop.
// window dinv: array<f32>, binding 6, read_write, narrow
// Matrix slot of every element (stress_mg_tag.wgsl): uniform blocks share one.
@group(0) @binding(7) var<storage, read> slot: array<u32>;
// The unit element's blocks (UnitElement::gpu_blocks: K_lambda from 0, K_mu from
// K_MU; entry (row, 3 node + k) at [row * 8 + node][k]) and the materials' (lambda,
// mu): a uniform block's matrix is lv.edge (lambda K_lambda + mu K_mu), formed here
// from values every thread shares instead of gathered from its slot.
@group(0) @binding(8) var<uniform> ke: array<vec4<f32>, 554>;
@group(0) @binding(9) var<storage, read> mats: array<vec4<f32>>;
@group(0) @binding(10) var<storage, read_write> fixed: array<u32>;
@group(0) @binding(11) var<storage, read_write> partials: array<f32>;

fn dinv_mul(n: u32, v: vec3<f32>) -> vec3<f32> {
    let m0 = vec3<f32>(dinv_ld(6u * n), dinv_ld(6u * n + 1u), dinv_ld(6u * n + 2u));
    let m1 = vec3<f32>(dinv_ld(6u * n + 3u), dinv_ld(6u * n + 4u), dinv_ld(6u * n + 5u));
    return block_mul(m0, m1, v);
}

fn get_b(n: u32) -> vec3<f32> {
    return vec3<f32>(b[3u * n], b[3u * n + 1u], b[3u * n + 2u]);
}

fn free_of(n: u32) -> vec3<f32> {
    return mask_of(fixed[n]);
}

const K_MU: u32 = 192u;
// The assembled 27-point stencil of a node inside one material (K_lambda, K_mu parts;
// the offsets of KE_ST, KE_ST_MU in stress_gather.wgsl).
const K_ST: u32 = 392u;
const K_ST_MU: u32 = 473u;

fn x_at(n: u32) -> vec3<f32> {
    return get_x(n);
}

// The slot shared by all eight elements around node c, or lv.mat_slots (none): a
// uniform slot, all elements inside the level.
fn shared_slot(c: vec3<i32>) -> u32 {
    var s0 = lv.mat_slots;
    for (var v = 0u; v < 8u; v++) {
        let ec = c - vec3<i32>(1) + corner_of(v);
        if !inside(ec, lv.edims) {
            return lv.mat_slots;
        }
        let s = slot[index_of(ec, lv.edims)];
        if v == 0u {
            s0 = s;
        }
        if s != s0 {
            return lv.mat_slots;
        }
    }
    return s0;
}

// lv.edge (lambda, mu) of uniform slot s (zero for void and materials without
// stiffness).
fn slot_weights(s: u32) -> vec2<f32> {
    let lm = mats[s];
    return select(vec2<f32>(0.0), lm.xy * lv.edge, s != 0u && lm.y > 0.0);
}

// Entry (i, j) of the matrix in slot s.
fn kel(s: u32, i: u32, j: u32) -> f32 {
    let p = packed_index(i, j);
    if p < HALF {
        return ka_ld(s * HALF + p);
    }
    return kb_ld(s * HALF + p - HALF);
}

// r = b - A x on free DOFs, left in d as `what` says (stress_mg_smooth).
fn resid_to_d(wid: vec3<u32>, lid: u32, what: u32) {
    let n = lin(wid, lid, lv.node_wx);
    if n >= lv.ndims.w {
        return;
    }
    let m = free_of(n);
    var acc = vec3<f32>(0.0);
    let c = coords(n, lv.ndims);
    let s0 = shared_slot(c);
    if any(m != vec3<f32>(0.0)) && s0 < lv.mat_slots {
        // Inside one uniform material: the assembled stencil, on differences from the
        // node's own value (K annihilates translations: less cancellation).
        let w = slot_weights(s0);
        let own = x_at(n);
        for (var j = 0u; j < 27u; j++) {
            if j == 13u {
                continue;
            }
            let o = vec3<i32>(i32(j % 3u), i32((j / 3u) % 3u), i32(j / 9u)) - vec3<i32>(1);
            let dx = x_at(index_of(c + o, lv.ndims)) - own;
            let i = 3u * j;
            acc.x += dot(w.x * ke[K_ST + i].xyz + w.y * ke[K_ST_MU + i].xyz, dx);
            acc.y += dot(w.x * ke[K_ST + i + 1u].xyz + w.y * ke[K_ST_MU + i + 1u].xyz, dx);
            acc.z += dot(w.x * ke[K_ST + i + 2u].xyz + w.y * ke[K_ST_MU + i + 2u].xyz, dx);
        }
    } else if any(m != vec3<f32>(0.0)) {
        for (var v = 0u; v < 8u; v++) {
            let ec = c - vec3<i32>(1) + corner_of(v);
            if !inside(ec, lv.edims) {
                continue;
            }
            let e = slot[index_of(ec, lv.edims)];
            let a = 7u - v;
            if e < lv.mat_slots {
                // A uniform block (slot 0 and materials without stiffness: zero).
                let w = slot_weights(e);
                for (var bn = 0u; bn < 8u; bn++) {
                    let nb = index_of(ec + corner_of(bn), lv.ndims);
                    let xv = get_x(nb);
                    for (var ci = 0u; ci < 3u; ci++) {
                        let blk = (3u * a + ci) * 8u + bn;
                        acc[ci] += dot(w.x * ke[blk].xyz + w.y * ke[K_MU + blk].xyz, xv);
                    }
                }
                continue;
            }
            for (var bn = 0u; bn < 8u; bn++) {
                let nb = index_of(ec + corner_of(bn), lv.ndims);
                let xv = get_x(nb);
                for (var ci = 0u; ci < 3u; ci++) {
                    let row = 3u * a + ci;
                    acc[ci] += kel(e, row, 3u * bn) * xv.x + kel(e, row, 3u * bn + 1u) * xv.y + kel(e, row, 3u * bn + 2u) * xv.z;
                }
            }
        }
    }
    let r = (get_b(n) - acc) * m;
    var dr = vec3<f32>(0.0);
    if what != STORE_R {
        dr = dinv_mul(n, r);
    }
    store_d(n, r, dr, what);
}

// Inverse of the node's 3x3 diagonal block; DOFs without stiffness are dropped.
@compute @workgroup_size(MG_WG)
fn diag_e(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = lin(wid, lid, lv.node_wx);
    if n >= lv.ndims.w {
        return;
    }
    let c = coords(n, lv.ndims);
    var a = vec3<f32>(0.0);
    var o = vec3<f32>(0.0);
    var scale = 0.0;
    for (var v = 0u; v < 8u; v++) {
        let ec = c - vec3<i32>(1) + corner_of(v);
        if !inside(ec, lv.edims) {
            continue;
        }
        let e = slot[index_of(ec, lv.edims)];
        let r = 3u * (7u - v);
        a += vec3<f32>(kel(e, r, r), kel(e, r + 1u, r + 1u), kel(e, r + 2u, r + 2u));
        o += vec3<f32>(kel(e, r + 1u, r + 2u), kel(e, r, r + 2u), kel(e, r, r + 1u));
    }
    // Diagonals lost to round-off (a DOF that only touches constrained fine DOFs) count
    // as absent.
    scale = max(a.x, max(a.y, a.z));
    let tiny = vec3<f32>(scale * 1e-6);
    var bits = 0u;
    if a.x <= tiny.x { bits |= 1u; }
    if a.y <= tiny.y { bits |= 2u; }
    if a.z <= tiny.z { bits |= 4u; }
    let inv = block_inverse(a, o, bits);
    for (var k = 0u; k < 3u; k++) {
        dinv_st(6u * n + k, inv[0][k]);
        dinv_st(6u * n + 3u + k, inv[1][k]);
    }
    // Every DOF the inverse dropped (also on a singular block) is constrained here.
    let dropped = inv[0] == vec3<f32>(0.0);
    let drop_bits = select(0u, 1u, dropped.x) | select(0u, 2u, dropped.y) | select(0u, 4u, dropped.z);
    fixed[n] = (fixed[n] & ~7u) | drop_bits;
}
