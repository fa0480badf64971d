// Isotropic (timed wet) etch as a travel-time field (Huygens / vector propagation).
// The etchant fills the empty space reachable from the top (flood.wgsl). Every voxel
// the front reaches keeps, in scratch_a, the index of its wave source and, in
// scratch_b (f32 bits), its arrival time T (minutes; voxels at unit rate):
//   T(x) = T(s) + |x - s| * w(x)
// with w the material's slowness (minutes per voxel, `shapes` holds the table). A
// source is either a wetted etchant voxel (WETBIT in the index), whose distance is
// measured to its cube, so that the front starts on the wetted surface itself and the
// undercut below a mask edge is exactly sqrt(d^2 - z^2), or a secondary source: a
// reached voxel where the straight path is blocked (an obstacle corner) or the slowness
// changes (a material interface). Candidates are the 6 face neighbours' sources,
// accepted only when the straight segment to them stays in material of the same
// slowness, and, across an interface or once a source is hidden, the neighbours
// themselves (the upwind step that starts secondary sources; then all 26 are read).
// Straight segments make T the Euclidean geodesic distance in uniform material; the
// 26-neighbour chamfer it replaces was up to 8 % long in between the axes and diagonals.
// Sweeps run until nothing changes; voxels next to no change since the last sweep skip
// theirs (counters[BRICKS + brick] holds the last sweep that changed the brick).

const FAR: f32 = 1e30;
const NONE: u32 = 0xffffffffu;
// Source bit of an etchant voxel: a source measured to its cube's faces, arrival 0
// (voxel indices stay below 2^30: a u32 per voxel fills a 4 GiB binding at most).
const WETBIT: u32 = 0x80000000u;
// T of an etchant voxel.
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

fn centre(src: u32) -> vec3<f32> {
    let s = src & ~WETBIT;
    return vec3<f32>(f32(s % p.dims.x), f32((s / p.dims.x) % p.dims.y), f32(s / p.dims.w));
}

fn time_of(i: u32) -> f32 {
    return bitcast<f32>(scratch_b_ld(i));
}

// Nearest point of source s to x: its cube for an etchant voxel, else its centre.
fn nearest_point(x: vec3<f32>, s: u32) -> vec3<f32> {
    let c = centre(s);
    if (s & WETBIT) != 0u {
        return clamp(x, c - vec3<f32>(0.5), c + vec3<f32>(0.5));
    }
    return c;
}

// Arrival time at x from source s through material of slowness w.
fn arrival(x: vec3<f32>, s: u32, w: f32) -> f32 {
    let v = nearest_point(x, s) - x;
    let l = length(v);
    if (s & WETBIT) != 0u {
        return l * w;
    }
    // A secondary source at an interface lies in the other material: the segment's
    // stretch inside the source's voxel goes at that material's slowness.
    let ws = slowness(grid_ld(s));
    var inside = 0.0;
    if ws != w && l > 0.0 {
        let a = abs(v) / l;
        inside = min(0.5 / max(a.x, max(a.y, a.z)), l);
    }
    return time_of(s) + (l - inside) * w + inside * ws;
}

// Whether the segment from x to source s stays in voids and material of slowness w
// (samples every half voxel; the source's own voxel does not count).
fn visible(x: vec3<f32>, s: u32, w: f32) -> bool {
    let d = nearest_point(x, s) - x;
    let own = s & ~WETBIT;
    let n = u32(ceil(length(d) * 2.0));
    let hi = vec3<i32>(p.dims.xyz) - vec3<i32>(1);
    for (var k = 0u; k < n; k++) {
        let pt = x + d * ((f32(k) + 0.5) / f32(n));
        let v = clamp(vec3<i32>(floor(pt + vec3<f32>(0.5))), vec3<i32>(0), hi);
        let vi = idxv(v);
        let m = grid_ld(vi);
        if vi != own && m != 0u && slowness(m) != w {
            return false;
        }
    }
    return true;
}

fn brick_of(g: vec3<u32>) -> vec3<i32> {
    return vec3<i32>(g / vec3<u32>(8u, 8u, 4u));
}

// Bricks of the whole grid (a sweep dispatches only the box of etchable voxels).
fn bricks() -> vec3<i32> {
    return vec3<i32>((p.dims.xyz + vec3<u32>(7u, 7u, 3u)) / vec3<u32>(8u, 8u, 4u));
}

fn brick_index(b: vec3<i32>) -> u32 {
    let nb = bricks();
    return u32(b.x + nb.x * (b.y + nb.y * b.z));
}

@compute @workgroup_size(8, 8, 4)
fn init(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    let wet = grid_ld(i) == 0u && scratch_a_ld(i) == 1u;
    scratch_a_st(i, select(NONE, i | WETBIT, wet));
    scratch_b_st(i, bitcast<u32>(select(FAR, WET, wet)));
}

const FACES = array<vec3<i32>, 6>(
    vec3<i32>(-1, 0, 0), vec3<i32>(1, 0, 0), vec3<i32>(0, -1, 0),
    vec3<i32>(0, 1, 0), vec3<i32>(0, 0, -1), vec3<i32>(0, 0, 1),
);

@compute @workgroup_size(8, 8, 4)
fn relax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    // The box starts on a brick corner, so a workgroup is a brick.
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u)) + vec3<u32>(p.origin_x, p.origin_y, u32(p.z0));
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    let mi = grid_ld(i);
    let w = slowness(mi);
    let own = scratch_a_ld(i);
    if w >= FAR || own == (i | WETBIT) {
        return;
    }
    // Etchable, not wet: skip unless the brick of this voxel or of a neighbour changed
    // since the last sweep (p.k numbers the sweeps from 1; stamps start at 0): interior
    // voxels read one stamp, voxels on a brick face up to eight.
    let b = brick_of(g);
    let lo = select(vec3<i32>(0), vec3<i32>(-1), lid == vec3<u32>(0u));
    let hi = select(vec3<i32>(0), vec3<i32>(1), lid == vec3<u32>(7u, 7u, 3u));
    var stale = true;
    for (var dz = lo.z; dz <= hi.z; dz++) {
        for (var dy = lo.y; dy <= hi.y; dy++) {
            for (var dx = lo.x; dx <= hi.x; dx++) {
                let n = b + vec3<i32>(dx, dy, dz);
                if all(n >= vec3<i32>(0)) && all(n < bricks())
                    && i32(atomicLoad(&counters[BRICKS + brick_index(n)])) >= p.k - 1 {
                    stale = false;
                }
            }
        }
    }
    if stale {
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
    let eps = EPS * w;
    // The earliest neighbour source, accepted if in sight; when a corner hides it, scan
    // again without it (a few times) and allow upwind steps from every neighbour.
    var hidden = vec3<u32>(NONE);
    var found = false;
    var step = FAR;
    var step_src = NONE;
    for (var attempt = 0; attempt < 4; attempt++) {
        var tb = FAR;
        var sb = NONE;
        var last = NONE;
        var last_t = FAR;
        // Sources spread through the 6 face neighbours (as in vector distance
        // transforms), so most voxels read 6; the fallback looks at all 26.
        let count = select(6, 27, attempt > 0);
        for (var k = 0; k < count; k++) {
            var o = FACES[k % 6];
            if attempt > 0 {
                o = vec3<i32>(k % 3, (k / 3) % 3, k / 9) - vec3<i32>(1);
            }
            let n = vec3<i32>(g) + o;
            if all(o == vec3<i32>(0)) || !in_grid(n) {
                continue;
            }
            let ni = idxv(n);
            let sn = scratch_a_ld(ni);
            if sn == NONE {
                continue;
            }
            if sn != own && all(vec3<u32>(sn) != hidden) {
                // Neighbours mostly share sources: reuse the last one's time.
                if sn != last {
                    last = sn;
                    last_t = arrival(x, sn, w);
                }
                if last_t < tb {
                    tb = last_t;
                    sb = sn;
                }
            }
            // The neighbour itself as a secondary source (half the step in each voxel's
            // material): across a material interface, and everywhere once a source is
            // hidden.
            let mn = grid_ld(ni);
            if attempt > 0 || mn != mi {
                let wn = slowness(mn);
                let tn = time_of(ni);
                if tn >= 0.0 {
                    let t = tn + length(vec3<f32>(o)) * 0.5 * (w + wn);
                    if t < step {
                        step = t;
                        step_src = ni;
                    }
                }
            }
        }
        if attempt == 0 && own == NONE && sb == NONE && step >= FAR {
            // Not reached, and no face neighbour is: nothing to do yet.
            return;
        }
        // A source in sight wins over a step unless the step is clearly earlier (straight
        // segments keep errors from adding up).
        if sb == NONE || tb >= min(best - eps, step + eps) {
            break;
        }
        if visible(x, sb, w) {
            best = tb;
            best_src = sb;
            found = true;
            break;
        }
        if attempt < 3 {
            hidden[attempt] = sb;
        }
    }
    if !found && step < best {
        best = step;
        best_src = step_src;
    }
    // Times beyond the etch time can never lead to removal: do not spread them.
    if best < here - eps && best <= p.dist {
        scratch_b_st(i, bitcast<u32>(best));
        scratch_a_st(i, best_src);
        atomicAdd(&counters[C_CHANGED], 1u);
        atomicMax(&counters[BRICKS + brick_index(brick_of(g))], u32(p.k));
    }
}

// The box of voxels a sweep must visit: etchable and not wet. counters[0..3] get the
// largest dims - g (the smallest g), counters[3..6] the largest g + 1.
@compute @workgroup_size(8, 8, 4)
fn extent(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let g = dispatch_id(wid, lid, vec3<u32>(8u, 8u, 4u));
    if !in_dims(g) {
        return;
    }
    let i = idx(g.x, g.y, g.z);
    if slowness(grid_ld(i)) < FAR && scratch_a_ld(i) != (i | WETBIT) {
        for (var a = 0u; a < 3u; a++) {
            atomicMax(&counters[a], p.dims[a] - g[a]);
            atomicMax(&counters[3u + a], g[a] + 1u);
        }
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
    let m = grid_ld(i);
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
    let m = grid_ld(i);
    let t = time_of(i);
    if m != 0u && slowness(m) < FAR && masked(g.x, g.y) && t >= 0.0 && t <= p.dist {
        grid_st(i, 0u);
    }
}
