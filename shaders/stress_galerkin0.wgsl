// Galerkin coarse element matrices of multigrid level 1 from the voxels: for coarse
// element E (2x2x2 voxels) K_E = sum over its voxels of P_e' M K_e M P_e, with P the
// connectivity-aware trilinear interpolation and M the constraint mask. Because trilinear interpolation
// inside a coarse element only involves that element's corners, these assemble exactly
// to the Galerkin operator P' M K M P. One thread per (element, row); packed output.
// Preludes: stress_common.wgsl, stress_mg_level.wgsl, stress_mg_pweights.wgsl.

@group(0) @binding(3) var<uniform> ke: array<vec4<f32>, 554>;
// window fixed: array<u32>, binding 4, read_write, narrow
@group(0) @binding(5) var<uniform> lv: Level;
// Level 1's packed matrix halves, windowed (`Windows` in src/shaders.rs).
// window ka_out: array<f32>, binding 6, read_write
// window kb_out: array<f32>, binding 7, read_write
// The voxel level's node flags: the solver's `fixed` again (binding 4), whose candidate
// bits pweights0 fills in (stress_mg_level.wgsl).
// window pw: array<u32>, binding 8, read_write, narrow
// Matrix slot of every level-1 element (stress_mg_tag.wgsl).
@group(0) @binding(9) var<storage, read> slot: array<u32>;

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
        pw_st(n, with_candidates(pw_ld(n), pmask_of(node_coords(n))));
    }
}

const K_MU: u32 = 192u;


// The material slots: eight voxels of material m with no constraint on their 27 nodes
// make exactly the element of edge 2h (see stress_mg_tag.wgsl). One thread per
// (material, row); slot 0 and materials without stiffness are zero.
@compute @workgroup_size(WG)
fn slots0(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let gid = wid.x * WG + lid;
    let m = gid / 24u;
    if m >= lv.mat_slots {
        return;
    }
    let row_c = gid % 24u;
    let lm = mats[m];
    let solid = m != 0u && lm.y > 0.0;
    var acc: array<vec3<f32>, 8>;
    for (var b = 0u; b < 8u; b++) {
        let blk = row_c * 8u + b;
        acc[b] = select(vec3<f32>(0.0), (lm.x * ke[blk].xyz + lm.y * ke[K_MU + blk].xyz) * (2.0 * prm.h), solid);
    }
    write_row(m, row_c, acc);
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
    // Uniform blocks share their material's slot (slots0).
    let s = slot[e];
    if s < lv.mat_slots {
        return;
    }
    var acc: array<vec3<f32>, 8>;
    for (var c = 0u; c < 8u; c++) {
        let oc = corner_of(c);
        let fv = 2 * ec + oc;
        let m = voxel_material(fv);
        if m == 0u {
            continue;
        }
        let lm = mats[m];
        var nodes: array<u32, 8>;
        var t: array<vec3<f32>, 8>;
        for (var i = 0u; i < 8u; i++) {
            nodes[i] = node_index(fv + corner_of(i));
        }
        // Row (a, ca) of P' M K_e: the child's rows weighted by the prolongation.
        for (var i = 0u; i < 8u; i++) {
            let free = (fixed_ld(nodes[i]) & (1u << ca)) == 0u;
            let wa = select(0.0, wt(oc + corner_of(i), a, nodes[i]), free) * prm.h;
            if wa == 0.0 {
                continue;
            }
            let row = 3u * i + ca;
            for (var j = 0u; j < 8u; j++) {
                let blk = row * 8u + j;
                t[j] += wa * (lm.x * ke[blk].xyz + lm.y * ke[K_MU + blk].xyz);
            }
        }
        // ... times M P on the right.
        for (var j = 0u; j < 8u; j++) {
            t[j] *= mask_of(fixed_ld(nodes[j]));
        }
        spread(&acc, t, oc, nodes);
    }
    write_row(s, row_c, acc);
}
