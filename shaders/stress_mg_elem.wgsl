// A coarse multigrid level: element matrices (Galerkin, packed, stress_galerkin*.wgsl;
// one slot per element, shared by uniform blocks: stress_mg_tag.wgsl) applied by a
// node-centred gather over the <= 8 adjacent elements. Prelude: stress_mg_level.wgsl.
// Keep the bindings in sync with src/stress/multigrid.rs.

@group(0) @binding(0) var<uniform> lv: Level;
@group(0) @binding(1) var<storage, read> ka: array<f32>;
@group(0) @binding(2) var<storage, read> kb: array<f32>;
@group(0) @binding(3) var<storage, read_write> x: array<f32>;
@group(0) @binding(4) var<storage, read_write> b: array<f32>;
@group(0) @binding(5) var<storage, read_write> t: array<f32>;
@group(0) @binding(6) var<storage, read_write> dinv: array<f32>;
// Matrix slot of every element (stress_mg_tag.wgsl): uniform blocks share one.
@group(0) @binding(7) var<storage, read> slot: array<u32>;

// Entry (i, j) of the matrix in slot s.
fn kel(s: u32, i: u32, j: u32) -> f32 {
    let p = packed_index(i, j);
    if p < HALF {
        return ka[s * HALF + p];
    }
    return kb[s * HALF + p - HALF];
}

fn free_of(n: u32) -> vec3<f32> {
    return select(vec3<f32>(0.0), vec3<f32>(1.0), vec3<f32>(dinv[6u * n], dinv[6u * n + 1u], dinv[6u * n + 2u]) != vec3<f32>(0.0));
}

// t = b - A x on free DOFs.
@compute @workgroup_size(MG_WG)
fn resid_e(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = lin(wid, lid, lv.node_wx);
    if n >= lv.ndims.w {
        return;
    }
    let m = free_of(n);
    var acc = vec3<f32>(0.0);
    if any(m != vec3<f32>(0.0)) {
        let c = coords(n, lv.ndims);
        for (var v = 0u; v < 8u; v++) {
            let ec = c - vec3<i32>(1) + corner_of(v);
            if !inside(ec, lv.edims) {
                continue;
            }
            let e = slot[index_of(ec, lv.edims)];
            let a = 7u - v;
            for (var bn = 0u; bn < 8u; bn++) {
                let nb = index_of(ec + corner_of(bn), lv.ndims);
                let xv = vec3<f32>(x[3u * nb], x[3u * nb + 1u], x[3u * nb + 2u]);
                for (var ci = 0u; ci < 3u; ci++) {
                    let row = 3u * a + ci;
                    acc[ci] += kel(e, row, 3u * bn) * xv.x + kel(e, row, 3u * bn + 1u) * xv.y + kel(e, row, 3u * bn + 2u) * xv.z;
                }
            }
        }
    }
    let bv = vec3<f32>(b[3u * n], b[3u * n + 1u], b[3u * n + 2u]);
    let tv = (bv - acc) * m;
    t[3u * n] = tv.x;
    t[3u * n + 1u] = tv.y;
    t[3u * n + 2u] = tv.z;
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
        dinv[6u * n + k] = inv[0][k];
        dinv[6u * n + 3u + k] = inv[1][k];
    }
}
