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
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
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
