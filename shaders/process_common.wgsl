// Shared by every process shader (prepended by src/shaders.rs).
// Keep in sync with src/process/params.rs (StepParams) and the bind group in src/process/mod.rs.

struct Params {
    dims: vec4<u32>,          // nx, ny, nz, nx*ny
    material: u32,            // material written by the op
    mode: u32,                // op-specific switch
    z0: i32,                  // op-specific voxel heights
    z1: i32,
    k: i32,                   // op-specific integer radius / depth (voxels)
    axis: u32,                // sweep axis 0..2
    flags: u32,
    dist: f32,                // op-specific distance (voxels)
    materials: array<vec4<u32>, 2>, // 256-bit material set
    shape_count: u32,
    voxel_um: f32,
    origin_x: u32,            // first voxel of a dispatch over a box (with z0), where used
    origin_y: u32,
    // The dispatch's logical workgroup grid (x, y, z) and the row width w it is folded
    // into: one dispatch dimension holds at most 65 535 workgroups (see dispatch_id).
    groups: vec4<u32>,
}

@group(0) @binding(0) var<uniform> p: Params;
// The voxel fields, each split into windows where it outgrows one binding (`Windows`
// in src/shaders.rs): read with grid_ld(i), written with grid_st(i, v).
// window grid: array<u32>, binding 1, read_write
// window prev: array<u32>, binding 2, read_write
@group(0) @binding(3) var<storage, read_write> mask: array<u32>;
// window scratch_a: array<u32>, binding 4, read_write
// window scratch_b: array<u32>, binding 5, read_write
@group(0) @binding(6) var<storage, read_write> counters: array<atomic<u32>>;
@group(0) @binding(7) var<storage, read> shapes: array<vec4<f32>>;

// Slots in `counters` (keep in sync with src/process/params.rs).
const C_CHANGED: u32 = 256u;
const C_DIFF: u32 = 257u;
const C_TOP: u32 = 258u;

// "Infinite" squared distance for the distance transform.
const D2_INF: u32 = 0x0fffffffu;

// Position of an invocation in the logical 3D dispatch of `size`-sized workgroups.
// Batch::dispatch (src/process/mod.rs) lays the logical workgroups out linearly in rows
// of p.groups.w, so a long grid axis never needs more than 65 535 groups in one
// dimension. Groups past the end of the logical grid get an id outside every grid, which
// each entry point's bounds check rejects.
fn dispatch_id(wid: vec3<u32>, lid: vec3<u32>, size: vec3<u32>) -> vec3<u32> {
    let l = wid.x + wid.y * p.groups.w;
    let group = vec3<u32>(l % p.groups.x, (l / p.groups.x) % p.groups.y, l / (p.groups.x * p.groups.y));
    if group.z >= p.groups.z {
        return vec3<u32>(0xffffffffu);
    }
    return group * size + lid;
}

fn idx(x: u32, y: u32, z: u32) -> u32 {
    return x + p.dims.x * (y + p.dims.y * z);
}

fn in_grid(q: vec3<i32>) -> bool {
    return all(q >= vec3<i32>(0)) && all(q < vec3<i32>(p.dims.xyz));
}

fn idxv(q: vec3<i32>) -> u32 {
    return idx(u32(q.x), u32(q.y), u32(q.z));
}

fn in_set(m: u32) -> bool {
    let word = p.materials[m >> 7u][(m >> 5u) & 3u];
    return ((word >> (m & 31u)) & 1u) == 1u;
}

fn masked(x: u32, y: u32) -> bool {
    return mask[x + p.dims.x * y] != 0u;
}

fn in_dims(g: vec3<u32>) -> bool {
    return all(g < p.dims.xyz);
}

// Highest solid voxel of column (x, y), or -1 when the column is empty.
fn column_top(x: u32, y: u32) -> i32 {
    for (var z = i32(p.dims.z) - 1; z >= 0; z--) {
        if grid_ld(idx(x, y, u32(z))) != 0u {
            return z;
        }
    }
    return -1;
}

// Surface height (index of the first empty voxel above the solid) under a point in µm.
fn surface_under(pt_um: vec2<f32>) -> u32 {
    let v = pt_um / p.voxel_um;
    let x = min(u32(max(v.x, 0.0)), p.dims.x - 1u);
    let y = min(u32(max(v.y, 0.0)), p.dims.y - 1u);
    return u32(column_top(x, y) + 1);
}

// Line sweeps along p.axis: one invocation per line, lines indexed by the two other
// axes (u, v) in x, y, z order; position t along the line.
fn line_pos(u: u32, v: u32, t: u32) -> vec3<i32> {
    if p.axis == 0u {
        return vec3<i32>(i32(t), i32(u), i32(v));
    } else if p.axis == 1u {
        return vec3<i32>(i32(u), i32(t), i32(v));
    }
    return vec3<i32>(i32(u), i32(v), i32(t));
}

// Number of lines along (u, v) for sweeps along p.axis.
fn line_count() -> vec2<u32> {
    if p.axis == 0u {
        return p.dims.yz;
    } else if p.axis == 1u {
        return p.dims.xz;
    }
    return p.dims.xy;
}
