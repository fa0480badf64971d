// 3D view: a ray per pixel walks the voxel grid (Amanatides-Woo DDA) to the first
// visible solid voxel and shades its face. Keep View in sync with src/render/gpu_data.rs.

struct View {
    inv_view_proj: mat4x4<f32>,
    eye: vec4<f32>,
    dims: vec4<u32>,
    viewport: vec4<f32>,       // x, y, w, h in target pixels
    clip_lo: vec4<f32>,        // only voxels inside [clip_lo, clip_hi) are drawn (cutaway)
    clip_hi: vec4<f32>,
    light_dir: vec4<f32>,
    hidden: array<vec4<u32>, 2>, // 256-bit set of hidden materials
    colouring: Colouring,
}

@group(0) @binding(0) var<uniform> view: View;
@group(0) @binding(1) var<storage, read> grid: array<u32>;
@group(0) @binding(2) var<storage, read> palette: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> field: array<f32>;

@vertex
fn vs(@builtin(vertex_index) i: u32) -> @builtin(position) vec4<f32> {
    return fullscreen(i);
}

fn hidden(m: u32) -> bool {
    return ((view.hidden[m >> 7u][(m >> 5u) & 3u] >> (m & 31u)) & 1u) == 1u;
}

fn background(uv: vec2<f32>) -> vec4<f32> {
    let top = vec3<f32>(0.020, 0.024, 0.035);
    let bottom = vec3<f32>(0.085, 0.09, 0.11);
    return vec4<f32>(mix(top, bottom, uv.y), 1.0);
}

@fragment
fn fs(@builtin(position) frag: vec4<f32>) -> @location(0) vec4<f32> {
    let uv = (frag.xy - view.viewport.xy) / view.viewport.zw;
    let ndc = vec2<f32>(uv.x * 2.0 - 1.0, 1.0 - uv.y * 2.0);
    let near = view.inv_view_proj * vec4<f32>(ndc, 0.0, 1.0);
    let far = view.inv_view_proj * vec4<f32>(ndc, 1.0, 1.0);
    let ro = near.xyz / near.w;
    let rd = normalize(far.xyz / far.w - ro);
    let inv = 1.0 / rd;
    let lo = view.clip_lo.xyz;
    let hi = view.clip_hi.xyz;
    let t0 = (lo - ro) * inv;
    let t1 = (hi - ro) * inv;
    let tmin3 = min(t0, t1);
    let tmax3 = max(t0, t1);
    let tmin = max(max(tmin3.x, tmin3.y), max(tmin3.z, 0.0));
    let tmax = min(min(tmax3.x, tmax3.y), tmax3.z);
    if tmin >= tmax {
        return background(uv);
    }
    // Entry face normal: the axis whose slab was entered last.
    var axis = 0u;
    if tmin3.y >= tmin3.x && tmin3.y >= tmin3.z {
        axis = 1u;
    } else if tmin3.z >= tmin3.x && tmin3.z >= tmin3.y {
        axis = 2u;
    }
    let p = ro + rd * (tmin + 1e-4);
    let ilo = vec3<i32>(lo);
    let ihi = vec3<i32>(hi) - 1;
    var cell = clamp(vec3<i32>(floor(p)), ilo, ihi);
    let stp = vec3<i32>(sign(rd));
    let tdelta = abs(inv);
    var tnext = (vec3<f32>(cell) + max(vec3<f32>(stp), vec3<f32>(0.0)) - ro) * inv;
    let max_steps = i32(view.dims.x + view.dims.y + view.dims.z) * 2;
    for (var s = 0; s < max_steps; s++) {
        let i = u32(cell.x) + view.dims.x * (u32(cell.y) + view.dims.y * u32(cell.z));
        let m = grid[i];
        if m != 0u && !hidden(m) {
            var base = palette[m].rgb;
            if view.colouring.mode == 1u {
                base = field_colour(field[i], view.colouring);
            }
            var n = vec3<f32>(0.0);
            n[axis] = -f32(stp[axis]);
            let diffuse = max(dot(n, view.light_dir.xyz), 0.0);
            // Faces of different orientation get distinct brightness for depth cues.
            let face = array<f32, 3>(0.86, 0.74, 1.0)[axis];
            return vec4<f32>(base * face * (0.38 + 0.62 * diffuse), 1.0);
        }
        if tnext.x < tnext.y && tnext.x < tnext.z {
            cell.x += stp.x;
            tnext.x += tdelta.x;
            axis = 0u;
        } else if tnext.y < tnext.z {
            cell.y += stp.y;
            tnext.y += tdelta.y;
            axis = 1u;
        } else {
            cell.z += stp.z;
            tnext.z += tdelta.z;
            axis = 2u;
        }
        if any(cell < ilo) || any(cell > ihi) {
            break;
        }
    }
    return background(uv);
}
