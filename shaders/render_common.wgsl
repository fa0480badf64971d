// Shared by the render shaders (prepended by src/shaders.rs).

// Turbo colour map (Mikhailov 2019, polynomial fit), t in [0, 1]; returns linear RGB.
fn turbo(t_in: f32) -> vec3<f32> {
    let t = clamp(t_in, 0.0, 1.0);
    let r4 = vec4<f32>(0.13572138, 4.61539260, -42.66032258, 132.13108234);
    let g4 = vec4<f32>(0.09140261, 2.19418839, 4.84296658, -14.18503333);
    let b4 = vec4<f32>(0.10667330, 12.64194608, -60.58204836, 110.36276771);
    let r2 = vec2<f32>(-152.94239396, 59.28637943);
    let g2 = vec2<f32>(4.27729857, 2.82956604);
    let b2 = vec2<f32>(-89.90310912, 27.34824973);
    let v4 = vec4<f32>(1.0, t, t * t, t * t * t);
    let v2 = v4.zw * v4.z;
    let srgb = vec3<f32>(dot(v4, r4) + dot(v2, r2), dot(v4, g4) + dot(v2, g2), dot(v4, b4) + dot(v2, b2));
    return pow(clamp(srgb, vec3<f32>(0.0), vec3<f32>(1.0)), vec3<f32>(2.2));
}

fn fullscreen(i: u32) -> vec4<f32> {
    let uv = vec2<f32>(f32((i << 1u) & 2u), f32(i & 2u));
    return vec4<f32>(uv * 2.0 - 1.0, 0.0, 1.0);
}

// Colour of voxel value: material palette, or the scalar field through the colour map.
struct Colouring {
    mode: u32,        // 0 material, 1 field
    _pad: u32,
    range: vec2<f32>, // field value at the colour map's ends
}

fn field_colour(v: f32, c: Colouring) -> vec3<f32> {
    return turbo((v - c.range.x) / max(c.range.y - c.range.x, 1e-20));
}
