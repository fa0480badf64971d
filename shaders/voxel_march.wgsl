// Shared by raymarch.wgsl (draw) and pick.wgsl (click): the view uniform and the
// Amanatides-Woo DDA through the voxel grid, so a pick hits exactly what is drawn.
// Keep View in sync with ViewUniform in src/render/gpu_data.rs.

struct View {
    inv_view_proj: mat4x4<f32>,
    eye: vec4<f32>,
    dims: vec4<u32>,
    viewport: vec4<f32>,       // x, y, w, h in target pixels
    clip_lo: vec4<f32>,        // only voxels inside [clip_lo, clip_hi) are drawn (cutaway)
    clip_hi: vec4<f32>,
    light_dir: vec4<f32>,
    hidden: array<vec4<u32>, 2>, // 256-bit set of hidden materials
    ghost: array<vec4<u32>, 2>,  // 256-bit set of materials drawn semi-transparent
    colouring: Colouring,
    deform: vec4<f32>,           // x: voxels per µm of displacement (with exaggeration), y: 1 = on
}

@group(0) @binding(0) var<uniform> view: View;
// The voxel and node fields, each split into windows where it outgrows one binding
// (`Windows` in src/shaders.rs): read with grid_ld(i) and so on.
// window grid: array<u32>, binding 1, read
@group(0) @binding(2) var<storage, read> palette: array<vec4<f32>>;
// window field: array<f32>, binding 3, read
// Nodal displacement in µm, one buffer per axis, (nx+1)(ny+1)(nz+1) nodes x fastest
// (the stress solver's layout). Bound to a dummy unless the deformed view is on.
// window disp_x: array<f32>, binding 4, read
// window disp_y: array<f32>, binding 5, read
// window disp_z: array<f32>, binding 6, read

// Opacity each ghosted layer adds where the ray enters it (per layer, not per voxel,
// so thick and thin ghost layers look alike).
const GHOST_ALPHA: f32 = 0.22;

fn in_set(s: array<vec4<u32>, 2>, m: u32) -> bool {
    return ((s[m >> 7u][(m >> 5u) & 3u] >> (m & 31u)) & 1u) == 1u;
}

struct Hit {
    index: u32,          // voxel index, or 0xffffffff when the ray leaves the grid
    axis: u32,           // axis of the face the ray entered through
    step_sign: vec3<i32>,
    ghost: vec4<f32>,    // premultiplied colour of the ghost layers crossed before the hit
    pos: vec3<f32>,      // where the ray entered the hit voxel (grid units)
    cell: vec3<i32>,     // the hit voxel's cell (before any deformation mapping)
}

fn base_colour(i: u32, m: u32) -> vec3<f32> {
    if view.colouring.mode == 1u {
        return field_colour(field_ld(i), view.colouring);
    }
    return palette[m].rgb;
}

fn shade(base: vec3<f32>, axis: u32, step_sign: vec3<i32>) -> vec3<f32> {
    var n = vec3<f32>(0.0);
    n[axis] = -f32(step_sign[axis]);
    let diffuse = max(dot(n, view.light_dir.xyz), 0.0);
    // Faces of different orientation get distinct brightness for depth cues.
    let face = array<f32, 3>(0.86, 0.74, 1.0)[axis];
    return base * face * (0.38 + 0.62 * diffuse);
}

// Deformed view by inverse mapping: the voxel drawn at `cell` is the one whose centre,
// displaced by the mean of its 8 corner displacements (times the scale), lands there.
// Exact for uniform displacement, a good approximation where it varies slowly.
// Returns the source voxel's index, or 0xffffffff when that lies outside the grid.
fn deformed_source(cell: vec3<i32>) -> u32 {
    let d = vec3<i32>(view.dims.xyz);
    let nn = vec2<u32>(view.dims.x + 1u, (view.dims.x + 1u) * (view.dims.y + 1u));
    var u = vec3<f32>(0.0);
    for (var k = 0u; k < 8u; k++) {
        let c = vec3<u32>(cell) + vec3<u32>(k & 1u, (k >> 1u) & 1u, k >> 2u);
        let n = c.x + nn.x * c.y + nn.y * c.z;
        u += vec3<f32>(disp_x_ld(n), disp_y_ld(n), disp_z_ld(n));
    }
    let src = vec3<i32>(floor(vec3<f32>(cell) + 0.5 - u * (0.125 * view.deform.x)));
    if any(src < vec3<i32>(0)) || any(src >= d) {
        return 0xffffffffu;
    }
    return u32(src.x) + view.dims.x * (u32(src.y) + view.dims.y * u32(src.z));
}

// Walks the ray through pixel `frag` (target pixels) to the first visible, non-ghost voxel.
fn march(frag: vec2<f32>) -> Hit {
    var hit = Hit(0xffffffffu, 0u, vec3<i32>(0), vec4<f32>(0.0), vec3<f32>(0.0), vec3<i32>(0));
    let uv = (frag - view.viewport.xy) / view.viewport.zw;
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
        return hit;
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
    hit.step_sign = stp;
    let tdelta = abs(inv);
    var tnext = (vec3<f32>(cell) + max(vec3<f32>(stp), vec3<f32>(0.0)) - ro) * inv;
    let max_steps = i32(view.dims.x + view.dims.y + view.dims.z) * 2;
    var prev = 0u;
    var tenter = tmin;
    for (var s = 0; s < max_steps; s++) {
        var i = u32(cell.x) + view.dims.x * (u32(cell.y) + view.dims.y * u32(cell.z));
        if view.deform.y > 0.5 {
            i = deformed_source(cell);
        }
        var m = 0u;
        if i != 0xffffffffu {
            m = grid_ld(i);
        }
        if m != 0u && !in_set(view.hidden, m) {
            if !in_set(view.ghost, m) {
                hit.index = i;
                hit.axis = axis;
                hit.pos = ro + rd * tenter;
                hit.cell = cell;
                return hit;
            }
            if m != prev && hit.ghost.a < 0.97 {
                let c = shade(base_colour(i, m), axis, stp);
                hit.ghost += (1.0 - hit.ghost.a) * GHOST_ALPHA * vec4<f32>(c, 1.0);
            }
        }
        prev = m;
        if tnext.x < tnext.y && tnext.x < tnext.z {
            cell.x += stp.x;
            tenter = tnext.x;
            tnext.x += tdelta.x;
            axis = 0u;
        } else if tnext.y < tnext.z {
            cell.y += stp.y;
            tenter = tnext.y;
            tnext.y += tdelta.y;
            axis = 1u;
        } else {
            cell.z += stp.z;
            tenter = tnext.z;
            tnext.z += tdelta.z;
            axis = 2u;
        }
        if any(cell < ilo) || any(cell > ihi) {
            break;
        }
    }
    return hit;
}
