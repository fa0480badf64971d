// 3D view: a ray per pixel walks the voxel grid (march() in voxel_march.wgsl) to the
// first visible solid voxel and shades its face, behind any ghost layers it crossed.

@vertex
fn vs(@builtin(vertex_index) i: u32) -> @builtin(position) vec4<f32> {
    return fullscreen(i);
}

fn background(frag: vec2<f32>) -> vec3<f32> {
    let v = (frag.y - view.viewport.y) / view.viewport.w;
    let top = vec3<f32>(0.020, 0.024, 0.035);
    let bottom = vec3<f32>(0.085, 0.09, 0.11);
    return mix(top, bottom, v);
}

// Material drawn at cell `c` (0 outside the grid), through the deformed view's mapping
// when it is on, so outlines follow what is drawn.
fn cell_material(c: vec3<i32>) -> u32 {
    if any(c < vec3<i32>(0)) || any(c >= vec3<i32>(view.dims.xyz)) {
        return 0u;
    }
    var i = u32(c.x) + view.dims.x * (u32(c.y) + view.dims.y * u32(c.z));
    if view.deform.y > 0.5 {
        i = deformed_source(c);
        if i == 0xffffffffu {
            return 0u;
        }
    }
    return grid_ld(i);
}

// Whether the hit face's pixel lies on a voxel edge across which the material changes
// (interfaces and outlines), about one pixel wide while voxels are 3+ pixels across.
fn on_interface(hit: Hit, m: u32, w: vec3<f32>) -> bool {
    let f = hit.pos - vec3<f32>(hit.cell);
    for (var k = 0u; k < 3u; k++) {
        if k == hit.axis || w[k] > 0.33 {
            continue;
        }
        var side = 0;
        if f[k] < w[k] {
            side = -1;
        } else if f[k] > 1.0 - w[k] {
            side = 1;
        }
        if side != 0 {
            var n = hit.cell;
            n[k] = n[k] + side;
            if cell_material(n) != m {
                return true;
            }
        }
    }
    return false;
}

@fragment
fn fs(@builtin(position) frag: vec4<f32>) -> @location(0) vec4<f32> {
    let hit = march(frag.xy);
    // Pixel footprint in grid units (derivatives in uniform control flow).
    let w = fwidth(hit.pos);
    var behind = background(frag.xy);
    if hit.index != 0xffffffffu {
        let m = grid_ld(hit.index);
        behind = shade(base_colour(hit.index, m), hit.axis, hit.step_sign);
        if on_interface(hit, m, w) {
            behind = behind * 0.35;
        }
    }
    return vec4<f32>(hit.ghost.rgb + (1.0 - hit.ghost.a) * behind, 1.0);
}
