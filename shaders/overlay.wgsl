// 2D overlay: instanced quads that are solid, a glyph of the 8x8 font, or a strip of
// the colour map. Keep Quad in sync with src/render/gpu_data.rs.

struct Quad {
    rect: vec4<f32>,  // x, y, w, h in pixels
    colour: vec4<f32>,
    glyph: u32,       // character code, or SOLID / COLORMAP
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

const SOLID: u32 = 0xffffffffu;
const COLORMAP: u32 = 0xfffffffeu;

@group(0) @binding(0) var<uniform> screen: vec4<f32>; // width, height
@group(0) @binding(1) var<storage, read> quads: array<Quad>;
@group(0) @binding(2) var font: texture_2d<f32>;

struct VsOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) local: vec2<f32>,
    @location(1) @interpolate(flat) quad: u32,
}

@vertex
fn vs(@builtin(vertex_index) v: u32, @builtin(instance_index) q: u32) -> VsOut {
    let corner = array<vec2<f32>, 6>(
        vec2<f32>(0.0, 0.0), vec2<f32>(1.0, 0.0), vec2<f32>(0.0, 1.0),
        vec2<f32>(0.0, 1.0), vec2<f32>(1.0, 0.0), vec2<f32>(1.0, 1.0),
    )[v];
    let r = quads[q].rect;
    let px = r.xy + corner * r.zw;
    var out: VsOut;
    out.pos = vec4<f32>(px.x / screen.x * 2.0 - 1.0, 1.0 - px.y / screen.y * 2.0, 0.0, 1.0);
    out.local = corner;
    out.quad = q;
    return out;
}

@fragment
fn fs(in: VsOut) -> @location(0) vec4<f32> {
    let q = quads[in.quad];
    if q.glyph == SOLID {
        return q.colour;
    }
    if q.glyph == COLORMAP {
        // Vertical bar: high values at the top.
        return vec4<f32>(turbo(1.0 - in.local.y), 1.0);
    }
    let cell = min(vec2<u32>(in.local * 8.0), vec2<u32>(7u));
    let texel = textureLoad(font, vec2<u32>(q.glyph * 8u + cell.x, cell.y), 0).r;
    if texel < 0.5 {
        discard;
    }
    return q.colour;
}
