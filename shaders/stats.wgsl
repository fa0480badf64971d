// Per-material voxel counts (counters[0..256]) and voxels changed since the step began
// (grid != prev, counters[C_DIFF]). Workgroup-local tallies keep global atomics few.

var<workgroup> hist: array<atomic<u32>, 256>;
var<workgroup> diff: atomic<u32>;

@compute @workgroup_size(8, 8, 4)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    atomicStore(&hist[li], 0u);
    if li == 0u {
        atomicStore(&diff, 0u);
    }
    workgroupBarrier();
    if in_dims(g) {
        let i = idx(g.x, g.y, g.z);
        let m = grid_ld(i) & 255u;
        atomicAdd(&hist[m], 1u);
        if grid_ld(i) != prev_ld(i) {
            atomicAdd(&diff, 1u);
        }
    }
    workgroupBarrier();
    let c = atomicLoad(&hist[li]);
    if c > 0u {
        atomicAdd(&counters[li], c);
    }
    if li == 0u {
        let d = atomicLoad(&diff);
        if d > 0u {
            atomicAdd(&counters[C_DIFF], d);
        }
    }
}
