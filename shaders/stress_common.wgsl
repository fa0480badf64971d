// Shared by every stress shader (prepended by src/shaders.rs).
// Keep in sync with src/stress/params.rs (StressParams, MaterialGpu, SUPPORT_*) and
// the bind-group layouts in src/stress/kernels.rs. Bindings 0..2 are common; each shader
// declares its own node buffers from binding 3 on.
//
// Nodes sit at voxel corners: node (i, j, k) of (nx+1)(ny+1)(nz+1), x fastest.
// Units: µm, GPa; stresses leave stress_results.wgsl in MPa.

struct Params {
    dims: vec4<u32>,     // voxels nx, ny, nz, nx*ny
    ndims: vec4<u32>,    // nodes nx+1, ny+1, nz+1, total
    h: f32,              // voxel edge, µm
    support: u32,        // SUPPORT_*
    sym: u32,            // bit 0: ux = 0 on x = 0, bit 1: uy = 0 on y = 0
    node_groups: u32,    // workgroups covering the nodes = partial sums per slot
    node_wx: u32,        // width of the 2D node dispatch
    voxel_wx: u32,       // width of the 2D voxel dispatch
    voxels: u32,
    _pad: u32,
    pins: array<vec4<u32>, 3>, // node index, DOF bits (0 = unused)
}

// Per material: lambda, mu (GPa), (3 lambda + 2 mu) alpha dT (GPa), alpha dT.
@group(0) @binding(0) var<uniform> prm: Params;
// The grid's material ids, windowed with the solver's other 4-byte-per-voxel arrays
// (`narrow` in src/shaders.rs `Windows`).
// window material: array<u32>, binding 1, read, narrow
@group(0) @binding(2) var<storage, read> mats: array<vec4<f32>>;

const WG: u32 = 256u;

const SUPPORT_FREE: u32 = 0u;
const SUPPORT_BOTTOM_FIXED: u32 = 1u;
const SUPPORT_BOTTOM_ROLLER: u32 = 2u;
const SUPPORT_CLAMPED: u32 = 3u;

// Linear id of a thread in a 2D dispatch of 1D workgroups.
fn group_index(wid: vec3<u32>, wx: u32) -> u32 {
    return wid.x + wid.y * wx;
}

fn node_coords(n: u32) -> vec3<i32> {
    let nx = prm.ndims.x;
    let ny = prm.ndims.y;
    return vec3<i32>(i32(n % nx), i32((n / nx) % ny), i32(n / (nx * ny)));
}

fn node_index(c: vec3<i32>) -> u32 {
    return u32(c.x) + prm.ndims.x * (u32(c.y) + prm.ndims.y * u32(c.z));
}

// Corner offset of local node a (x bit 0, y bit 1, z bit 2).
fn corner(a: u32) -> vec3<i32> {
    return vec3<i32>(i32(a & 1u), i32((a >> 1u) & 1u), i32(a >> 2u));
}

// Material id of voxel v, 0 outside the grid or where the table has no stiffness.
fn voxel_material(v: vec3<i32>) -> u32 {
    if any(v < vec3<i32>(0)) || any(v >= vec3<i32>(prm.dims.xyz)) {
        return 0u;
    }
    let m = material_ld(u32(v.x) + prm.dims.x * (u32(v.y) + prm.dims.y * u32(v.z))) & 255u;
    if mats[m].y <= 0.0 {
        return 0u;
    }
    return m;
}

// Constrained DOFs of node n at c (bit 0 x, 1 y, 2 z).
fn fixed_bits(n: u32, c: vec3<i32>) -> u32 {
    var bits = 0u;
    if c.z == 0 && prm.support == SUPPORT_BOTTOM_FIXED {
        bits = 7u;
    }
    if c.z == 0 && prm.support == SUPPORT_BOTTOM_ROLLER {
        bits = bits | 4u;
    }
    let last = vec3<i32>(prm.ndims.xyz) - 1;
    if prm.support == SUPPORT_CLAMPED && (any(c == vec3<i32>(0)) || any(c == last)) {
        bits = 7u;
    }
    if c.x == 0 && (prm.sym & 1u) != 0u {
        bits = bits | 1u;
    }
    if c.y == 0 && (prm.sym & 2u) != 0u {
        bits = bits | 2u;
    }
    for (var i = 0u; i < 3u; i++) {
        if prm.pins[i].y != 0u && prm.pins[i].x == n {
            bits = bits | prm.pins[i].y;
        }
    }
    return bits;
}

// Workgroup tree reduction of two sums at once; every thread must call it.
var<workgroup> red: array<vec2<f32>, WG>;

fn reduce2(lid: u32, v: vec2<f32>) -> vec2<f32> {
    red[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s >> 1u) {
        if lid < s {
            red[lid] = red[lid] + red[lid + s];
        }
        workgroupBarrier();
    }
    return red[0];
}
