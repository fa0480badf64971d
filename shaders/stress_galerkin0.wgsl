// Galerkin coarse element matrices of multigrid level 1 from the voxels: for coarse
// element E (2x2x2 voxels) K_E = sum over its voxels of P_e' M K_e M P_e, with P the
// connectivity-aware trilinear interpolation and M the constraint mask. Because trilinear interpolation
// inside a coarse element only involves that element's corners, these assemble exactly
// to the Galerkin operator P' M K M P. One thread per (element, row); packed output.
// Preludes: stress_common.wgsl, stress_mg_level.wgsl, stress_mg_pweights.wgsl.

@group(0) @binding(3) var<uniform> ke: array<vec4<f32>, 554>;
@group(0) @binding(4) var<storage, read_write> fixed: array<u32>;
@group(0) @binding(5) var<uniform> lv: Level;
@group(0) @binding(6) var<storage, read_write> ka_out: array<f32>;
@group(0) @binding(7) var<storage, read_write> kb_out: array<f32>;
// Prolongation weights of the voxel level (stress_mg_pweights.wgsl), 8 per node.
@group(0) @binding(8) var<storage, read_write> pw: array<f32>;

fn cell_active(c: vec3<i32>) -> bool {
    return voxel_material(c) != 0u;
}

// A solid voxel joins all its corners.
fn cell_joins(c: vec3<i32>, f: vec3<i32>, n: vec3<i32>) -> bool {
    return cell_active(c);
}

@compute @workgroup_size(WG)
fn pweights0(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = lin(wid, lid, prm.node_wx);
    if n < prm.ndims.w {
        let w = pweights_of(node_coords(n));
        for (var k = 0u; k < 8u; k++) {
            pw[8u * n + k] = w[k];
        }
    }
}

const K_MU: u32 = 192u;

fn mask_of(bits: u32) -> vec3<f32> {
    return select(vec3<f32>(1.0), vec3<f32>(0.0), vec3<bool>((bits & 1u) != 0u, (bits & 2u) != 0u, (bits & 4u) != 0u));
}

@compute @workgroup_size(WG)
fn galerkin0(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
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
        let fv = 2 * ec + oc;
        let m = voxel_material(fv);
        if m == 0u {
            continue;
        }
        let lm = mats[m];
        for (var i = 0u; i < 8u; i++) {
            let pi = oc + corner_of(i);
            if tri_weight(pi, a) == 0.0 {
                continue;
            }
            let ni = node_index(fv + corner_of(i));
            let wa = pw[8u * ni + candidate(pi, a)];
            if wa == 0.0 || (fixed[ni] & (1u << ca)) != 0u {
                continue;
            }
            let row = 3u * i + ca;
            for (var j = 0u; j < 8u; j++) {
                let pj = oc + corner_of(j);
                let nj = node_index(fv + corner_of(j));
                let mj = mask_of(fixed[nj]);
                let blk = row * 8u + j;
                let kv = (lm.x * ke[blk].xyz + lm.y * ke[K_MU + blk].xyz) * (prm.h * wa) * mj;
                spread(&acc, kv, pj, nj);
            }
        }
    }
    write_row(e, row_c, acc);
}
