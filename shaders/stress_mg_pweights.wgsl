// Connectivity-aware prolongation weights and the Galerkin row assembly (prepended to
// the Galerkin shaders after stress_mg_level.wgsl). Trilinear interpolation, except that a fine node takes nothing
// from a coarse node that sits on solid (its fine node touches a solid cell: a voxel,
// or an active element on coarser levels) but is not joined to the fine node through a
// solid cell touching both: another piece across a gap. Renormalised to a partition of
// unity. Coarse nodes in open space keep their trilinear weight, so free surfaces keep
// the linear reproduction of plain geometric multigrid. A
// thin soft cantilever over an air gap then moves on coarse nodes of its own side
// instead of being tied to the substrate under the gap. Each weight depends only on
// the (fine node, coarse node) pair, so the element-wise Galerkin products stay exact.
// The module defines `fn cell_active(c: vec3<i32>) -> bool` (false outside the grid)
// and `fn cell_joins(c: vec3<i32>, f: vec3<i32>, n: vec3<i32>) -> bool`: whether cell c
// (which touches nodes f and n) couples them (on coarse levels a Galerkin element can
// hold two pieces that no fine element joins; their coupling block is then zero).
// Candidates: k picks lo (bit clear) or hi (bit set) of (f / 2, (f + 1) / 2) per
// axis; duplicates along even axes are never kept.

fn joined(f: vec3<i32>, c2: vec3<i32>) -> bool {
    let d = c2 - f;
    if all(d == vec3<i32>(0)) {
        return true;
    }
    for (var v = 0u; v < 8u; v++) {
        let cell = f - vec3<i32>(1) + corner_of(v);
        var ok = true;
        for (var k = 0; k < 3; k++) {
            ok = ok && (d[k] == 0 || (d[k] == 1 && cell[k] == f[k]) || (d[k] == -1 && cell[k] == f[k] - 1));
        }
        if ok && cell_joins(cell, f, c2) {
            return true;
        }
    }
    return false;
}

fn on_solid(n: vec3<i32>) -> bool {
    for (var v = 0u; v < 8u; v++) {
        if cell_active(n - vec3<i32>(1) + corner_of(v)) {
            return true;
        }
    }
    return false;
}

// 64-bit masks of the 4x4x4 cells around a coarse node's support (bit dx + 4 dy + 16 dz
// of cell C - 2 + d), as (bits 0..31, bits 32..63).
fn shl64(m: vec2<u32>, k: u32) -> vec2<u32> {
    return vec2<u32>(m.x << k, (m.y << k) | (m.x >> (32u - k)));
}

fn shr64(m: vec2<u32>, k: u32) -> vec2<u32> {
    return vec2<u32>((m.x >> k) | (m.y << (32u - k)), m.y >> k);
}

// The cells that share a node with a cell of m (26-neighbourhood), inside the block.
fn dilate64(m: vec2<u32>) -> vec2<u32> {
    let a = m | shl64(m & vec2<u32>(0x77777777u), 1u) | shr64(m & vec2<u32>(0xEEEEEEEEu), 1u);
    let b = a | shl64(a & vec2<u32>(0x0FFF0FFFu), 4u) | shr64(a & vec2<u32>(0xFFF0FFF0u), 4u);
    return b | shl64(b & vec2<u32>(0xFFFFFFFFu, 0x0000FFFFu), 16u)
        | shr64(b & vec2<u32>(0xFFFF0000u, 0xFFFFFFFFu), 16u);
}

// Whether fine node f keeps the coarse node at fine position cn that sits in open space.
// Its support (the 27 fine nodes within one of it) can hold two solid pieces that no
// solid cell around it joins: a cantilever and the substrate across a gap one fine cell
// each side of it. Interpolating both from it would tie them; only the piece holding
// the block's first solid cell keeps it (the others move on their other candidates).
// One piece, or f in it: kept, as plain geometric multigrid keeps free surfaces.
fn void_keeps(f: vec3<i32>, cn: vec3<i32>) -> bool {
    let base = cn - vec3<i32>(2);
    var solid = vec2<u32>(0u);
    for (var k = 0u; k < 64u; k++) {
        let d = vec3<i32>(i32(k & 3u), i32((k >> 2u) & 3u), i32(k >> 4u));
        if cell_active(base + d) {
            if k < 32u {
                solid.x |= 1u << k;
            } else {
                solid.y |= 1u << (k - 32u);
            }
        }
    }
    // The cells around f (f - 1 .. f per axis, all inside the block).
    var piece = vec2<u32>(0u);
    for (var v = 0u; v < 8u; v++) {
        let d = f - vec3<i32>(1) + corner_of(v) - base;
        let k = u32(d.x) + 4u * u32(d.y) + 16u * u32(d.z);
        if k < 32u {
            piece.x |= 1u << k;
        } else {
            piece.y |= 1u << (k - 32u);
        }
    }
    piece &= solid;
    // Flood within the block: 9 steps cross any 4x4x4 path of shared nodes.
    for (var i = 0u; i < 9u; i++) {
        piece = dilate64(piece) & solid;
    }
    let rest = solid & ~piece;
    if all(rest == vec2<u32>(0u)) {
        return true;
    }
    // The first solid cell of the block decides.
    let first = select(
        vec2<u32>(0u, solid.y & (~solid.y + 1u)),
        vec2<u32>(solid.x & (~solid.x + 1u), 0u),
        solid.x != 0u
    );
    return any((piece & first) != vec2<u32>(0u));
}

// The candidates fine node f keeps, one bit each. Every candidate of a fine node has
// the same trilinear factor (it depends only on which axes of f are odd), so the
// renormalised weight of each kept candidate is 1 / (number kept): one u32 per node
// holds the prolongation instead of 8 f32.
fn pmask_of(f: vec3<i32>) -> u32 {
    let lo = f / 2;
    let hi = (f + vec3<i32>(1)) / 2;
    var mask = 0u;
    for (var k = 0u; k < 8u; k++) {
        let s = corner_of(k);
        if any((s == vec3<i32>(1)) & (lo == hi)) {
            continue;
        }
        let c = select(lo, hi, s == vec3<i32>(1));
        if joined(f, 2 * c) || (!on_solid(2 * c) && void_keeps(f, 2 * c)) {
            mask |= 1u << k;
        }
    }
    return mask;
}

// Candidate index of coarse corner a at fine position p (0..2 per axis) of a coarse
// element; only meaningful where tri_weight(p, a) != 0.
fn candidate(p: vec3<i32>, a: vec3<i32>) -> u32 {
    let s = select(vec3<i32>(0), a, p == vec3<i32>(1));
    return u32(s.x) + 2u * u32(s.y) + 4u * u32(s.z);
}

// Prolongation weight of coarse corner `a` at fine position `p` (0..2 per axis) of a
// coarse element, `n` the fine node there: 0 where trilinear interpolation gives none
// (p on the far plane of an axis), else the stored weight. Branch-free, so the
// Galerkin loops below stay regular.
fn wt(p: vec3<i32>, a: vec3<i32>, n: u32) -> f32 {
    let ok = all((p == vec3<i32>(1)) | (p == 2 * a));
    return select(0.0, mask_weight(pw_ld(n), candidate(p, a)), ok);
}

// The Galerkin passes' shared spread: a child's row block `t` (coarse row against the
// child's 8 fine nodes, already weighted by the row's prolongation) times the child's
// prolongation, added to the coarse row `acc` (3 entries per coarse corner). `oc` is the
// child's offset in the coarse element, `nodes` its 8 fine node indices.
fn spread(acc: ptr<function, array<vec3<f32>, 8>>, t: array<vec3<f32>, 8>, oc: vec3<i32>, nodes: array<u32, 8>) {
    for (var j = 0u; j < 8u; j++) {
        let pj = oc + corner_of(j);
        for (var b = 0u; b < 8u; b++) {
            (*acc)[b] += wt(pj, corner_of(b), nodes[j]) * t[j];
        }
    }
}

// Writes coarse row `row_c` of element `e` (its upper triangle) into the packed halves.
fn write_row(e: u32, row_c: u32, acc: array<vec3<f32>, 8>) {
    for (var col = row_c; col < 24u; col++) {
        let p = packed_index(row_c, col);
        let v = acc[col / 3u][col % 3u];
        if p < HALF {
            ka_out_st(e * HALF + p, v);
        } else {
            kb_out_st(e * HALF + p - HALF, v);
        }
    }
}
