// Turns the part upside down: a rotation by 180 degrees about the x axis
// (y -> ny-1-y, z -> nz-1-z), read from the step's snapshot in `prev`.
@compute @workgroup_size(8, 8, 4)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
    if !in_dims(g) {
        return;
    }
    grid[idx(g.x, g.y, g.z)] = prev[idx(g.x, p.dims.y - 1u - g.y, p.dims.z - 1u - g.z)];
}
