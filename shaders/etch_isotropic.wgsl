// Isotropic (timed wet) etch as a travel-time field (Huygens / vector propagation).
// The etchant fills the empty space reachable from the top (flood.wgsl). Every voxel
// the front reaches keeps, in scratch_a, the index of its wave source and, in
// scratch_b (f32 bits), its arrival time T (minutes; voxels at unit rate):
//   T(x) = T(s) + |x - s| * w(x)
// with w the material's slowness (minutes per voxel, `shapes` holds the table). A
// source is either a wetted etchant voxel (T marked WET), whose distance is measured to
// its cube, so that the front starts on the wetted surface itself and the undercut
// below a mask edge is exactly sqrt(d^2 - z^2), or a secondary source: a reached voxel
// where the straight path is blocked (an obstacle corner) or the slowness changes (a
// material interface). Candidates are the 26 neighbours' sources, accepted only when
// the straight segment to them stays in material of the same slowness, and the
// neighbours themselves (the upwind step, which starts secondary sources). Straight
// segments make T the Euclidean geodesic distance in uniform material; the 26-neighbour
// chamfer it replaces was up to 8 % long in between the axes and diagonals.
// Sweeps run until nothing changes; workgroups next to no change since the last sweep
// skip theirs (counters[BRICKS + brick] holds the last sweep that changed the brick).

const FAR: f32 = 1e30;
const NONE: u32 = 0xffffffffu;
// T of an etchant voxel: a source measured to its cube's faces, arrival 0.
const WET: f32 = -1.0;
// First brick stamp in `counters` (keep in sync with src/process/params.rs).
const BRICKS: u32 = 260u;
// A change must beat the stored time by this fraction of a voxel's crossing time.
const EPS: f32 = 1e-4;
// Counter of the largest arrival time of listed material (the release time).
const C_TMAX: u32 = 259u;

fn slowness(m: u32) -> f32 {
    return shapes[m >> 2u][m & 3u];
}

fn centre(s: u32) -> vec3<f32> {
    return vec3<f32>(f32(s % p.dims.x), f32((s / p.dims.x) % p.dims.y), f32(s / p.dims.w));
}

fn time_of(i: u32) -> f32 {
    return bitcast<f32>(scratch_b[i]);
}

// Nearest point of source s to x: its cube for an etchant voxel, else its centre.
fn nearest_point(x: vec3<f32>, s: u32, ts: f32) -> vec3<f32> {
    let c = centre(s);
    if ts < 0.0 {
        return clamp(x, c - vec3<f32>(0.5), c + vec3<f32>(0.5));
    }
    return c;
}

// Arrival time at x from source s through material of slowness w.
fn arrival(x: vec3<f32>, s: u32, w: f32) -> f32 {
    let ts = time_of(s);
    if ts >= FAR {
        return FAR;
    }
    return max(ts, 0.0) + length(nearest_point(x, s, ts) - x) * w;
}

// Whether the segment from x to source s stays in voids and material of slowness w
// (samples every half voxel; the source's own voxel does not count).
fn visible(x: vec3<f32>, s: u32, w: f32) -> bool {
    let d = nearest_point(x, s, time_of(s)) - x;
    let n = u32(ceil(length(d) * 2.0));
    let hi = vec3<i32>(p.dims.xyz) - vec3<i32>(1);
    for (var k = 0u; k < n; k++) {
        let pt = x + d * ((f32(k) + 0.5) / f32(n));
        let v = clamp(vec3<i32>(floor(pt + vec3<f32>(0.5))), vec3<i32>(0), hi);
        let vi = idxv(v);
        let m = grid[vi];
        if vi != s && m != 0u && slowness(m) != w {
            return false;
        }
    }
    return true;
}

fn brick_of(g: vec3<u32>) -> vec3<i32> {
    return vec3<i32>(g / vec3<u32>(8u, 8u, 4u));
}

fn brick_index(b: vec3<i32>) -> u32 {
    let nb = vec3<i32>(p.groups.xyz);
    return u32(b.x + nb.x * (b.y + nb.y * b.z));
}

@compute @workgroup_size(8, 8, 4)
fn init(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    let wet = grid[i] == 0u && scratch_a[i] == 1u;
    scratch_a[i] = select(NONE, i, wet);
    scratch_b[i] = bitcast<u32>(select(FAR, WET, wet));
}

var<workgroup> wg_active: u32;

@compute @workgroup_size(8, 8, 4)
fn relax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    // Skip the whole workgroup unless its brick or a neighbouring one changed since the
    // last sweep (p.k numbers the sweeps from 1; stamps start at 0).
    if all(lid == vec3<u32>(0u)) {
        var any_changed = 0u;
        if in_dims(g) {
            let b = brick_of(g);
            for (var dz = -1; dz <= 1; dz++) {
                for (var dy = -1; dy <= 1; dy++) {
                    for (var dx = -1; dx <= 1; dx++) {
                        let n = b + vec3<i32>(dx, dy, dz);
                        if all(n >= vec3<i32>(0)) && all(n < vec3<i32>(p.groups.xyz))
                            && i32(atomicLoad(&counters[BRICKS + brick_index(n)])) >= p.k - 1 {
                            any_changed = 1u;
                        }
                    }
                }
            }
        }
        wg_active = any_changed;
    }
    if workgroupUniformLoad(&wg_active) == 0u || !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    let w = slowness(grid[i]);
    let own = scratch_a[i];
    if w >= FAR || own == i {
        return;
    }
    let here = time_of(i);
    let x = vec3<f32>(g);
    var best = FAR;
    var best_src = NONE;
    if own != NONE {
        best = arrival(x, own, w);
        best_src = own;
    }
    // The best upwind step from a neighbour, taken only where no source in sight does
    // as well (straight segments keep errors from adding up).
    var step = FAR;
    var step_src = NONE;
    var ts: array<f32, 27>;
    var ss: array<u32, 27>;
    let q = vec3<i32>(g);
    var k = 0;
    for (var dz = -1; dz <= 1; dz++) {
        for (var dy = -1; dy <= 1; dy++) {
            for (var dx = -1; dx <= 1; dx++) {
                let o = vec3<i32>(dx, dy, dz);
                let n = q + o;
                ts[k] = FAR;
                ss[k] = NONE;
                if in_grid(n) && any(o != vec3<i32>(0)) {
                    let ni = idxv(n);
                    let sn = scratch_a[ni];
                    if sn != NONE && sn != own {
                        ts[k] = arrival(x, sn, w);
                        ss[k] = sn;
                    }
                    // The neighbour itself as a secondary source: half the step in each
                    // voxel's material.
                    let tn = time_of(ni);
                    if sn != NONE && tn >= 0.0 {
                        let t = tn + length(vec3<f32>(o)) * 0.5 * (w + slowness(grid[ni]));
                        if t < step {
                            step = t;
                            step_src = ni;
                        }
                    }
                }
                k++;
            }
        }
    }
    // The earliest neighbour source in sight, trying a few when corners hide them.
    let eps = EPS * w;
    var found = false;
    for (var attempt = 0; attempt < 4; attempt++) {
        var kb = -1;
        var tb = min(best - eps, step + eps);
        for (var j = 0; j < 27; j++) {
            if ts[j] < tb {
                tb = ts[j];
                kb = j;
            }
        }
        if kb < 0 {
            break;
        }
        let s = ss[kb];
        if visible(x, s, w) {
            best = tb;
            best_src = s;
            found = true;
            break;
        }
        for (var j = 0; j < 27; j++) {
            if ss[j] == s {
                ts[j] = FAR;
            }
        }
    }
    if !found && step < best {
        best = step;
        best_src = step_src;
    }
    // Times beyond the etch time can never lead to removal: do not spread them.
    if best < here - eps && best <= p.dist {
        scratch_b[i] = bitcast<u32>(best);
        scratch_a[i] = best_src;
        atomicAdd(&counters[C_CHANGED], 1u);
        atomicMax(&counters[BRICKS + brick_index(brick_of(g))], u32(p.k));
    }
}

// The release time: the latest arrival at listed material the front reached.
@compute @workgroup_size(8, 8, 4)
fn release(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    let m = grid[i];
    let t = time_of(i);
    if m != 0u && in_set(m) && t >= 0.0 && t < FAR {
        // Non-negative f32 bits order as the values.
        atomicMax(&counters[C_TMAX], bitcast<u32>(t));
    }
}

@compute @workgroup_size(8, 8, 4)
fn apply(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    let m = grid[i];
    let t = time_of(i);
    if m != 0u && slowness(m) < FAR && masked(g.x, g.y) && t >= 0.0 && t <= p.dist {
        grid[i] = 0u;
    }
}
