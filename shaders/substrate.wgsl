// Fills the slab z0 <= z < z1 inside the mask with one material.
@compute @workgroup_size(8, 8, 4)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
    if !in_dims(g) {
        return;
    }
    let z = i32(g.z);
    if z >= p.z0 && z < p.z1 && masked(g.x, g.y) {
        grid[idx(g.x, g.y, g.z)] = p.material;
    }
}
