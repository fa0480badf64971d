// Galerkin coarse element matrices of level l+1 from the element matrices of level l
// (see stress_galerkin0.wgsl): K_E = sum over the <= 8 child elements of P_c' K_c P_c.
// Prelude: stress_mg_level.wgsl. `lv` is the coarse level; lv.fedims the child level's
// element box.

@group(0) @binding(0) var<uniform> lv: Level;
@group(0) @binding(1) var<storage, read> ka_in: array<f32>;
@group(0) @binding(2) var<storage, read> kb_in: array<f32>;
@group(0) @binding(3) var<storage, read_write> ka_out: array<f32>;
@group(0) @binding(4) var<storage, read_write> kb_out: array<f32>;

fn kin(e: u32, i: u32, j: u32) -> f32 {
    let p = packed_index(i, j);
    if p < HALF {
        return ka_in[e * HALF + p];
    }
    return kb_in[e * HALF + p - HALF];
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
    let ec = coords(e, lv.edims);
    var acc: array<f32, 24>;
    for (var c = 0u; c < 8u; c++) {
        let oc = corner_of(c);
        let fc = 2 * ec + oc;
        if !inside(fc, lv.fedims) {
            continue;
        }
        let fe = index_of(fc, lv.fedims);
        for (var i = 0u; i < 8u; i++) {
            let wa = tri_weight(oc + corner_of(i), a);
            if wa == 0.0 {
                continue;
            }
            let row = 3u * i + ca;
            for (var j = 0u; j < 8u; j++) {
                let pj = oc + corner_of(j);
                let kv = vec3<f32>(kin(fe, row, 3u * j), kin(fe, row, 3u * j + 1u), kin(fe, row, 3u * j + 2u)) * wa;
                if all(kv == vec3<f32>(0.0)) {
                    continue;
                }
                for (var bn = 0u; bn < 8u; bn++) {
                    let wb = tri_weight(pj, corner_of(bn));
                    if wb != 0.0 {
                        acc[3u * bn] += wb * kv.x;
                        acc[3u * bn + 1u] += wb * kv.y;
                        acc[3u * bn + 2u] += wb * kv.z;
                    }
                }
            }
        }
    }
    for (var col = row_c; col < 24u; col++) {
        let p = packed_index(row_c, col);
        if p < HALF {
            ka_out[e * HALF + p] = acc[col];
        } else {
            kb_out[e * HALF + p - HALF] = acc[col];
        }
    }
}
