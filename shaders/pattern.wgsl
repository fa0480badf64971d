// Lithography develop: resist (p.material) dissolves wherever the rasterised mask is set.
// The CPU folds tone into the mask (negative tone = inverted mask).
@compute @workgroup_size(8, 8, 4)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    if grid[i] == p.material && masked(g.x, g.y) {
        grid[i] = 0u;
    }
}
