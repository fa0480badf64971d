// Rasterises a plan-view mask (union of shapes, optionally inverted) at column centres.
// CPU mirror: Mask::contains in src/scene/mod.rs.
// Shape records in `shapes`: header (kind, count, 0, 0) then data:
//   kind 0 rect (x0, y0, x1, y1); kind 1 circle (cx, cy, r, 0); kind 2 polygon, `count`
//   vertices packed two per vec4.

fn in_polygon(start: u32, n: u32, pt: vec2<f32>) -> bool {
    var inside = false;
    var j = n - 1u;
    for (var i = 0u; i < n; i++) {
        let a = vertex(start, i);
        let b = vertex(start, j);
        if ((a.y > pt.y) != (b.y > pt.y)) && (pt.x < (b.x - a.x) * (pt.y - a.y) / (b.y - a.y) + a.x) {
            inside = !inside;
        }
        j = i;
    }
    return inside;
}

fn vertex(start: u32, i: u32) -> vec2<f32> {
    let v = shapes[start + i / 2u];
    return select(v.xy, v.zw, (i & 1u) == 1u);
}

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let gid = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 1u));
    if gid.x >= p.dims.x || gid.y >= p.dims.y {
        return;
    }
    let pt = (vec2<f32>(gid.xy) + 0.5) * p.voxel_um;
    var inside = false;
    var cur = 0u;
    for (var s = 0u; s < p.shape_count; s++) {
        let h = shapes[cur];
        let kind = u32(h.x);
        let n = u32(h.y);
        if kind == 0u {
            let r = shapes[cur + 1u];
            inside = inside || (pt.x >= r.x && pt.x < r.z && pt.y >= r.y && pt.y < r.w);
            cur += 2u;
        } else if kind == 1u {
            let c = shapes[cur + 1u];
            let d = pt - c.xy;
            inside = inside || dot(d, d) <= c.z * c.z;
            cur += 2u;
        } else {
            inside = inside || in_polygon(cur + 1u, n, pt);
            cur += 1u + (n + 1u) / 2u;
        }
    }
    let invert = (p.flags & 1u) == 1u;
    mask[gid.x + p.dims.x * gid.y] = select(0u, 1u, inside != invert);
}

// Distance (voxels) from each column inside the mask to the nearest column outside,
// less half a voxel (the boundary lies between them); -1 outside. Truncated at p.k.
// Stored as f32 bits in scratch_b[column]; tapers and sidewall angles read it.
@compute @workgroup_size(8, 8, 1)
fn distance(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let gid = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 1u));
    if gid.x >= p.dims.x || gid.y >= p.dims.y {
        return;
    }
    let col = gid.x + p.dims.x * gid.y;
    if mask[col] == 0u {
        scratch_b_st(col, bitcast<u32>(-1.0));
        return;
    }
    var best = f32(p.k) + 0.5;
    for (var dy = -p.k; dy <= p.k; dy++) {
        for (var dx = -p.k; dx <= p.k; dx++) {
            let x = i32(gid.x) + dx;
            let y = i32(gid.y) + dy;
            // Beyond the domain edge counts as inside: a mask may run off the edge.
            if x >= 0 && y >= 0 && x < i32(p.dims.x) && y < i32(p.dims.y) && mask[u32(x) + p.dims.x * u32(y)] == 0u {
                best = min(best, sqrt(f32(dx * dx + dy * dy)));
            }
        }
    }
    scratch_b_st(col, bitcast<u32>(best - 0.5));
}
