// Which coarse elements need a matrix of their own. A block of one material with no
// constrained node inside has as Galerkin product exactly the element of edge 2^l h
// (trilinear interpolation is exact there, and 2x2x2 Gauss points integrate trilinear
// elements exactly), the same for every such block: it points at its material's slot
// (0..lv.mat_slots, slot 0 = void, a zero matrix). Every other element gets a slot of its
// own after them, from an atomic counter; the host reads the counts and sizes the
// matrix storage to them (in a package most of the volume is uniform die, mould or
// board). Slot order does not matter: each matrix depends on its element only.
// Preludes: stress_common.wgsl, stress_mg_level.wgsl. `lv` is the coarse level.

// window fixed: array<u32>, binding 3, read_write, narrow
@group(0) @binding(4) var<uniform> lv: Level;
// Slots of the finer level's elements (tag_e only).
// window slot_in: array<u32>, binding 5, read_write, narrow
@group(0) @binding(6) var<storage, read_write> slot_out: array<u32>;
// One counter per coarse level (level l at l - 1), read back together.
@group(0) @binding(7) var<storage, read_write> count: array<atomic<u32>>;

fn own_slot() -> u32 {
    return lv.mat_slots + atomicAdd(&count[lv.level - 1u], 1u);
}

// Level 1 from the voxels.
@compute @workgroup_size(MG_WG)
fn tag0(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let e = lin(wid, lid, lv.node_wx);
    if e >= lv.edims.w {
        return;
    }
    let ec = coords(e, lv.edims);
    let m0 = voxel_material(2 * ec);
    var same = true;
    for (var c = 1u; c < 8u; c++) {
        same = same && voxel_material(2 * ec + corner_of(c)) == m0;
    }
    // Void blocks have no stiffness whatever their nodes carry.
    if same && m0 != 0u {
        for (var k = 0u; k < 27u; k++) {
            let p = vec3<i32>(i32(k % 3u), i32((k / 3u) % 3u), i32(k / 9u));
            same = same && (fixed_ld(node_index(2 * ec + p)) & 7u) == 0u;
        }
    }
    // Not `select`: it would evaluate (and count) own_slot() for every element.
    if same {
        slot_out[e] = m0;
    } else {
        slot_out[e] = own_slot();
    }
}

// Level l >= 2 from the slots of level l - 1: uniform where all eight children are
// inside the grid and share one material slot (their nodes then carry no constraint
// and keep every trilinear candidate), zero where every child inside is void.
@compute @workgroup_size(MG_WG)
fn tag_e(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let e = lin(wid, lid, lv.node_wx);
    if e >= lv.edims.w {
        return;
    }
    let ec = coords(e, lv.edims);
    var s0 = lv.mat_slots;
    var same = true;
    var empty = true;
    for (var c = 0u; c < 8u; c++) {
        let fc = 2 * ec + corner_of(c);
        if !inside(fc, lv.fedims) {
            same = false;
            continue;
        }
        let s = slot_in_ld(index_of(fc, lv.fedims));
        empty = empty && s == 0u;
        if c == 0u {
            s0 = s;
        }
        same = same && s == s0 && s < lv.mat_slots;
    }
    if empty {
        slot_out[e] = 0u;
    } else if same {
        slot_out[e] = s0;
    } else {
        slot_out[e] = own_slot();
    }
}
