// Grinding / CMP: removes everything at or above height p.z0 (mode 0), or below it
// (mode 1, grinding from the bottom).
@compute @workgroup_size(8, 8, 4)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
    if !in_dims(g) {
        return;
    }
    let above = i32(g.z) >= p.z0;
    if above == (p.mode == 0u) {
        grid[idx(g.x, g.y, g.z)] = 0u;
    }
}
