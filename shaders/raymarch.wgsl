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

@fragment
fn fs(@builtin(position) frag: vec4<f32>) -> @location(0) vec4<f32> {
    let hit = march(frag.xy);
    var behind = background(frag.xy);
    if hit.index != 0xffffffffu {
        let m = grid[hit.index];
        behind = shade(base_colour(hit.index, m), hit.axis, hit.step_sign);
    }
    return vec4<f32>(hit.ghost.rgb + (1.0 - hit.ghost.a) * behind, 1.0);
}
