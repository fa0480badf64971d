// Click picking: one thread marches the ray through the clicked pixel with the same
// march() as the 3D view and writes what it hit. Keep PickResult in sync with
// src/render/pick.rs.

struct PickResult {
    pixel: vec2<f32>,   // in: target pixel (set by the CPU before the dispatch)
    index: u32,         // out: voxel index, 0xffffffff for none
    material: u32,      // out: material id
    value: f32,         // out: field value when colouring by a field
    axis: u32,          // out: axis of the face hit
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(7) var<storage, read_write> result: PickResult;

@compute @workgroup_size(1)
fn main() {
    let hit = march(result.pixel);
    result.index = hit.index;
    result.axis = hit.axis;
    result.material = 0u;
    result.value = 0.0;
    if hit.index != 0xffffffffu {
        result.material = grid[hit.index];
        if view.colouring.mode == 1u {
            result.value = field[hit.index];
        }
    }
}
