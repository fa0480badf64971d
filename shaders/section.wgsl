// Cross-section view: one axis-aligned plane of the grid, drawn flat with the
// in-plane up axis up. Keep SectionUniform in sync with src/render/gpu_data.rs.

struct SectionUniform {
    dims: vec4<u32>,
    rect: vec4<f32>,     // pixel rect the plane maps onto (aspect kept)
    axis: u32,           // plane normal: 0 x, 1 y, 2 z
    index: u32,          // voxel index along the normal
    _pad0: u32,
    _pad1: u32,
    colouring: Colouring,
}

@group(0) @binding(0) var<uniform> sec: SectionUniform;
// Windowed as in voxel_march.wgsl (`Windows` in src/shaders.rs).
// window grid: array<u32>, binding 1, read
@group(0) @binding(2) var<storage, read> palette: array<vec4<f32>>;
// window field: array<f32>, binding 3, read

@vertex
fn vs(@builtin(vertex_index) i: u32) -> @builtin(position) vec4<f32> {
    return fullscreen(i);
}

@fragment
fn fs(@builtin(position) frag: vec4<f32>) -> @location(0) vec4<f32> {
    let uv = (frag.xy - sec.rect.xy) / sec.rect.zw;
    if any(uv < vec2<f32>(0.0)) || any(uv >= vec2<f32>(1.0)) {
        return vec4<f32>(0.05, 0.055, 0.07, 1.0);
    }
    // In-plane axes: (x, z) for a y-normal, (y, z) for an x-normal, (x, y) for a z-normal.
    var ua = 0u;
    var va = 2u;
    if sec.axis == 0u {
        ua = 1u;
    } else if sec.axis == 2u {
        va = 1u;
    }
    let nu = sec.dims[ua];
    let nv = sec.dims[va];
    var c = vec3<u32>(0u);
    c[ua] = min(u32(uv.x * f32(nu)), nu - 1u);
    c[va] = min(u32((1.0 - uv.y) * f32(nv)), nv - 1u);
    c[sec.axis] = sec.index;
    let i = c.x + sec.dims.x * (c.y + sec.dims.y * c.z);
    let m = grid_ld(i);
    if m == 0u {
        return vec4<f32>(0.012, 0.012, 0.016, 1.0);
    }
    if sec.colouring.mode == 1u {
        var col = field_colour(field_ld(i), sec.colouring);
        // Material outlines over the field: a dark pixel line on each voxel edge whose
        // neighbour across it is another material (or void), while voxels are wider
        // than two pixels.
        let fu = uv.x * f32(nu);
        let fv = (1.0 - uv.y) * f32(nv);
        let pu = f32(nu) / sec.rect.z;
        let pv = f32(nv) / sec.rect.w;
        var edge = false;
        if pu < 0.5 && fract(fu) < pu && c[ua] > 0u {
            var d = c;
            d[ua] = d[ua] - 1u;
            edge = edge || grid_ld(d.x + sec.dims.x * (d.y + sec.dims.y * d.z)) != m;
        }
        if pv < 0.5 && fract(fv) < pv && c[va] > 0u {
            var d = c;
            d[va] = d[va] - 1u;
            edge = edge || grid_ld(d.x + sec.dims.x * (d.y + sec.dims.y * d.z)) != m;
        }
        if edge {
            col = col * 0.2;
        }
        return vec4<f32>(col, 1.0);
    }
    return vec4<f32>(palette[m].rgb, 1.0);
}
