// Shared by the multigrid shaders (prepended by src/shaders.rs). One level of the
// hierarchy: a box of elements (level 0: the voxels; level l+1: 2x2x2 blocks of level
// l, the last block along an odd axis half outside), nodes at their corners.
// Keep in sync with `LevelGpu` in src/stress/multigrid.rs.
//
// Vectors are interleaved f32 (3 per node); block-Jacobi inverses are 6 f32 per node
// (xx, yy, zz, yz, xz, xy of the symmetric inverse; level 0 forms them on the fly).
// Each level has one u32 of flags per node (`with_candidates` below): its constrained
// DOFs and its prolongation candidates. Level 0's are the solver's `fixed` buffer.

struct Level {
    edims: vec4<u32>,   // elements ex, ey, ez, count
    ndims: vec4<u32>,   // nodes ex+1, ey+1, ez+1, count
    cdims: vec4<u32>,   // nodes of the next coarser level (transfers), count
    fedims: vec4<u32>,  // elements of the next finer level (Galerkin into this one)
    node_wx: u32,       // width of the 2D dispatch over this level's nodes
    elem_wx: u32,       // width of the 2D dispatch over elements x 24 rows
    cnode_wx: u32,      // width of the 2D dispatch over the coarser level's nodes
    rows: u32,          // dense coarsest: 3 x nodes
    inv_theta: f32,     // Chebyshev step 1: d = D^-1 r / theta
    c1: f32,            // Chebyshev step 2: d = c1 d + c2 D^-1 r
    c2: f32,
    fnode_wx: u32,      // width of the 2D dispatch over the finer level's nodes
    // Matrix slots 0..mat_slots of a coarse level hold each material's uniform block
    // (slot 0: void, zero); the elements that are not uniform blocks follow
    // (stress_mg_tag.wgsl).
    mat_slots: u32,
    edge: f32,          // element edge of the level, µm (2^l h)
    level: u32,         // index of the level (0 = the voxels)
    _pad2: u32,
}

const MG_WG: u32 = 256u;
// Packed upper triangle of a symmetric 24x24 element matrix, split in two halves of
// HALF entries (two bindings, so that no binding exceeds 600 bytes per element).
const PACKED: u32 = 300u;
const HALF: u32 = 150u;

fn lin(wid: vec3<u32>, lid: u32, wx: u32) -> u32 {
    return (wid.x + wid.y * wx) * MG_WG + lid;
}

fn coords(n: u32, d: vec4<u32>) -> vec3<i32> {
    return vec3<i32>(i32(n % d.x), i32((n / d.x) % d.y), i32(n / (d.x * d.y)));
}

fn index_of(c: vec3<i32>, d: vec4<u32>) -> u32 {
    return u32(c.x) + d.x * (u32(c.y) + d.y * u32(c.z));
}

fn inside(c: vec3<i32>, d: vec4<u32>) -> bool {
    return all(c >= vec3<i32>(0)) && all(c < vec3<i32>(d.xyz));
}

fn corner_of(a: u32) -> vec3<i32> {
    return vec3<i32>(i32(a & 1u), i32((a >> 1u) & 1u), i32(a >> 2u));
}

// Index of entry (i, j) of a packed symmetric 24x24 matrix.
fn packed_index(i: u32, j: u32) -> u32 {
    let lo = min(i, j);
    let hi = max(i, j);
    return hi * (hi + 1u) / 2u + lo;
}

// Trilinear weight of the coarse corner a (0/1 per axis) at fine position p (0..2 per
// axis) inside one coarse element.
fn tri_weight(p: vec3<i32>, a: vec3<i32>) -> f32 {
    var w = 1.0;
    for (var k = 0; k < 3; k++) {
        if p[k] == 1 {
            w *= 0.5;
        } else if p[k] != 2 * a[k] {
            return 0.0;
        }
    }
    return w;
}

// One u32 of flags per node and level: bits 0-2 the node's constrained DOFs (bit 0 x,
// 1 y, 2 z; 7 for an inactive node: level 0 the solver's, a coarse level those its
// block inverse drops), bits 8-15 the prolongation candidates it keeps (bit 8 + k:
// lo or hi of (f / 2, (f + 1) / 2) per axis; stress_mg_pweights.wgsl).
fn with_candidates(flags: u32, mask: u32) -> u32 {
    return (flags & 255u) | (mask << 8u);
}

// Prolongation weight of candidate k under a fine node's flags: each kept candidate
// weighs 1 / (number kept).
fn mask_weight(flags: u32, k: u32) -> f32 {
    let mask = (flags >> 8u) & 255u;
    let n = countOneBits(mask);
    return select(0.0, 1.0 / f32(max(n, 1u)), (mask & (1u << k)) != 0u);
}

// Free DOFs (1) of a node whose flags (or constrained DOF bits) are `bits`.
fn mask_of(bits: u32) -> vec3<f32> {
    return select(vec3<f32>(1.0), vec3<f32>(0.0), vec3<bool>((bits & 1u) != 0u, (bits & 2u) != 0u, (bits & 4u) != 0u));
}

// Symmetric 3x3 inverse stored as (xx, yy, zz, yz, xz, xy) times a vector.
fn block_mul(m0: vec3<f32>, m1: vec3<f32>, v: vec3<f32>) -> vec3<f32> {
    return vec3<f32>(
        m0.x * v.x + m1.z * v.y + m1.y * v.z,
        m1.z * v.x + m0.y * v.y + m1.x * v.z,
        m1.y * v.x + m1.x * v.y + m0.z * v.z,
    );
}

// Inverse of the symmetric block [[a.x, b.z, b.y], [b.z, a.y, b.x], [b.y, b.x, a.z]] with
// the DOFs whose bit is set in `fixed` (or whose diagonal is not positive) removed:
// those rows and columns of the inverse are 0. Returns (diagonal, off-diagonal).
fn block_inverse(a_in: vec3<f32>, b_in: vec3<f32>, fixed: u32) -> array<vec3<f32>, 2> {
    var a = a_in;
    var b = b_in;
    var drop = vec3<bool>((fixed & 1u) != 0u, (fixed & 2u) != 0u, (fixed & 4u) != 0u);
    drop = drop | (a <= vec3<f32>(0.0));
    // Decouple dropped DOFs (unit diagonal, zero coupling), invert, then zero them.
    a = select(a, vec3<f32>(1.0), drop);
    // b.x couples y-z, b.y x-z, b.z x-y.
    b = select(b, vec3<f32>(0.0), vec3<bool>(drop.y || drop.z, drop.x || drop.z, drop.x || drop.y));
    let c0 = a.y * a.z - b.x * b.x;
    let c1 = a.x * a.z - b.y * b.y;
    let c2 = a.x * a.y - b.z * b.z;
    let cyz = b.z * b.y - a.x * b.x;
    let cxz = b.z * b.x - b.y * a.y;
    let cxy = b.y * b.x - b.z * a.z;
    let det = a.x * c0 + b.z * cxy + b.y * cxz;
    var out: array<vec3<f32>, 2>;
    if !(abs(det) > 0.0) {
        return out;
    }
    let keep = select(vec3<f32>(1.0), vec3<f32>(0.0), drop);
    out[0] = vec3<f32>(c0, c1, c2) / det * keep;
    out[1] = vec3<f32>(cyz, cxz, cxy) / det * vec3<f32>(keep.y * keep.z, keep.x * keep.z, keep.x * keep.y);
    return out;
}
