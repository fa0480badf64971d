// Galerkin coarse element matrices of level l+1 from the element matrices of level l
// (see stress_galerkin0.wgsl): K_E = sum over the <= 8 child elements of P_c' K_c P_c.
// Preludes: stress_mg_level.wgsl, stress_mg_pweights.wgsl. `lv` is the coarse level; lv.fedims the child level's
// element box.

@group(0) @binding(0) var<uniform> lv: Level;
// The child level's and this level's packed matrix halves, windowed like the node
// vectors (`Windows` in src/shaders.rs).
// window ka_in: array<f32>, binding 1, read
// window kb_in: array<f32>, binding 2, read
// window ka_out: array<f32>, binding 3, read_write
// window kb_out: array<f32>, binding 4, read_write
// The child level's node flags: its constrained DOFs (from its block inverse) and the
// prolongation candidates, which pweights_e fills in (stress_mg_level.wgsl).
// Windowed as in stress_galerkin0.wgsl (the prelude stress_mg_pweights.wgsl reads it).
// window pw: array<u32>, binding 5, read_write, narrow
// Matrix slots of the child level's and of this level's elements (stress_mg_tag.wgsl).
@group(0) @binding(6) var<storage, read> slot_in: array<u32>;
@group(0) @binding(7) var<storage, read> slot_out: array<u32>;

fn child_nodes() -> vec4<u32> {
    let d = lv.fedims.xyz + vec3<u32>(1u);
    return vec4<u32>(d, d.x * d.y * d.z);
}

// A child element takes part where its matrix has a positive trace.
fn cell_active(c: vec3<i32>) -> bool {
    if !inside(c, lv.fedims) {
        return false;
    }
    let e = slot_in[index_of(c, lv.fedims)];
    var tr = 0.0;
    for (var i = 0u; i < 24u; i++) {
        tr += kin(e, i, i);
    }
    return tr > 0.0;
}

// Whether element c couples its corners at nodes f and n: the Frobenius norm of their
// 3x3 block against the geometric mean of their diagonal blocks' (a structural zero
// where two pieces share the element but no fine element joins them).
fn cell_joins(c: vec3<i32>, f: vec3<i32>, n: vec3<i32>) -> bool {
    if !inside(c, lv.fedims) {
        return false;
    }
    let e = slot_in[index_of(c, lv.fedims)];
    let lf = f - c;
    let ln = n - c;
    let a = u32(lf.x) + 2u * u32(lf.y) + 4u * u32(lf.z);
    let b = u32(ln.x) + 2u * u32(ln.y) + 4u * u32(ln.z);
    var off = 0.0;
    var da = 0.0;
    var db = 0.0;
    for (var i = 0u; i < 3u; i++) {
        for (var j = 0u; j < 3u; j++) {
            let k_ab = kin(e, 3u * a + i, 3u * b + j);
            let k_aa = kin(e, 3u * a + i, 3u * a + j);
            let k_bb = kin(e, 3u * b + i, 3u * b + j);
            off += k_ab * k_ab;
            da += k_aa * k_aa;
            db += k_bb * k_bb;
        }
    }
    return off > 1e-6 * sqrt(da * db) && da > 0.0 && db > 0.0;
}

@compute @workgroup_size(MG_WG)
fn pweights_e(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let nd = child_nodes();
    let n = lin(wid, lid, lv.fnode_wx);
    if n < nd.w {
        pw_st(n, with_candidates(pw_ld(n), pmask_of(coords(n, nd))));
    }
}

// Entry (i, j) of the child matrix in slot s.
fn kin(s: u32, i: u32, j: u32) -> f32 {
    let p = packed_index(i, j);
    if p < HALF {
        return ka_in_ld(s * HALF + p);
    }
    return kb_in_ld(s * HALF + p - HALF);
}

// The material slots: the element of edge 2a is twice the element of edge a (a
// stiffness scales with the edge in 3D). One thread per (slot, packed entry).
@compute @workgroup_size(MG_WG)
fn slots_e(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let gid = wid.x * MG_WG + lid;
    if gid >= lv.mat_slots * HALF {
        return;
    }
    ka_out_st(gid, 2.0 * ka_in_ld(gid));
    kb_out_st(gid, 2.0 * kb_in_ld(gid));
}

@compute @workgroup_size(MG_WG)
fn galerkin(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let gid = lin(wid, lid, lv.elem_wx);
    let e = gid / 24u;
    if e >= lv.edims.w {
        return;
    }
    let row_c = gid % 24u;
    let a = corner_of(row_c / 3u);
    let ca = row_c % 3u;
    // Uniform blocks share their material's slot (slots_e).
    let s = slot_out[e];
    if s < lv.mat_slots {
        return;
    }
    let ec = coords(e, lv.edims);
    let cn = child_nodes();
    var acc: array<vec3<f32>, 8>;
    for (var c = 0u; c < 8u; c++) {
        let oc = corner_of(c);
        let fc = 2 * ec + oc;
        if !inside(fc, lv.fedims) {
            continue;
        }
        let fe = slot_in[index_of(fc, lv.fedims)];
        var nodes: array<u32, 8>;
        var t: array<vec3<f32>, 8>;
        for (var i = 0u; i < 8u; i++) {
            nodes[i] = index_of(fc + corner_of(i), cn);
        }
        var touched = false;
        for (var i = 0u; i < 8u; i++) {
            let wa = wt(oc + corner_of(i), a, nodes[i]);
            if wa == 0.0 {
                continue;
            }
            let row = 3u * i + ca;
            for (var j = 0u; j < 8u; j++) {
                let kv = vec3<f32>(kin(fe, row, 3u * j), kin(fe, row, 3u * j + 1u), kin(fe, row, 3u * j + 2u));
                t[j] += wa * kv;
            }
            touched = true;
        }
        if touched {
            spread(&acc, t, oc, nodes);
        }
    }
    write_row(s, row_c, acc);
}
