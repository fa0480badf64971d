// Click picking: one thread marches the ray through the clicked pixel with the same
// march() as the 3D view and writes what it hit; a click on the cross-section comes
// with its voxel already known and only reads it. Keep PickResult in sync with
// src/render/gpu_data.rs.

struct PickResult {
    pixel: vec2<f32>,   // in: target pixel (set by the CPU before the dispatch)
    index: u32,         // in: voxel to read, or 0xffffffff to march; out: voxel index or 0xffffffff
    material: u32,      // out: material id
    value: f32,         // out: field value when colouring by a field
    axis: u32,          // out: axis of the face hit
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(7) var<storage, read_write> result: PickResult;

@compute @workgroup_size(1)
fn main() {
    var index = result.index;
    if index == 0xffffffffu {
        let hit = march(result.pixel);
        index = hit.index;
        result.index = index;
        result.axis = hit.axis;
    }
    result.material = 0u;
    result.value = 0.0;
    if index != 0xffffffffu {
        result.material = grid_ld(index);
        if view.colouring.mode == 1u {
            result.value = field_ld(index);
        }
    }
}
