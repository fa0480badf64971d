// The outer conjugate-gradient iteration of the stress solve at `real` precision (f64
// where the adapter has SHADER_F64, else f32), preconditioned by one multigrid cycle
// in f32 (stress_mg*.wgsl) from r / scale (read in place by stress_mg0.wgsl) into z32.
// Fletcher-Reeves beta (z.r / z.r old): the f32 cycle is a fixed linear operator up to
// rounding, and the flexible (Polak-Ribiere) beta, which needs z.q after the cycle,
// gave the same iterations on every bundled case while q then had to outlive the cycle
// (24 B per node). Scalars stay on the GPU.
// Keep the bindings in sync with `outer_kinds` in src/stress/kernels.rs and `outer_bind` in
// src/stress/solver.rs.

// Uniform: every lane reads the same entry, so the loads stay scalar.
@group(0) @binding(3) var<uniform> ke_r: array<vec4<real>, 554>;
@group(0) @binding(4) var<storage, read> mats_r: array<vec4<real>>;
// Constrained DOF bits per node (bit 0 x, 1 y, 2 z; 7 for inactive nodes); bits 8-15
// hold the multigrid's prolongation candidates (stress_mg_level.wgsl).
// window fixed: array<u32>, binding 5, read_write, narrow
// Vectors, 3 per node, interleaved; each split into windows where it outgrows one
// binding (`Windows` in src/shaders.rs: read with u_ld(i), written with u_st(i, v)).
// window u: array<real>, binding 6, read_write
// window r: array<real>, binding 7, read_write
// The search direction stays at `real` precision: stored in f32 it cost the 2 µm
// suspended bump 40 -> 44 iterations (its rounding shows once the residual is ~1e-7).
// window p: array<real>, binding 8, read_write
// q = K p lives only from the matvec to the update of u and r, while level 0's x and d
// live only inside the cycle, so q is kept there as two f32 parts, hi in x (z32) and
// lo in d (q_lo): hi + lo carries 48 bits of q, ~3.5e-15 relative (q_get, q_set).
// window q_lo: array<f32>, binding 9, read_write
// The V-cycle's output (level 0's x), f32.
// window z32: array<f32>, binding 10, read_write
@group(0) @binding(11) var<storage, read_write> partials: array<real>;
@group(0) @binding(12) var<storage, read_write> scalars: array<real>;
// Prescribed displacements: (node, DOF bits, 0, 0) and 3 values per entry (µm).
@group(0) @binding(13) var<storage, read> pres: array<vec4<u32>>;
@group(0) @binding(14) var<storage, read> pres_val: array<real>;
// The displacement as f32 components for the results kernel and the views.
// window u_out0: array<f32>, binding 15, read_write, narrow
// window u_out1: array<f32>, binding 16, read_write, narrow
// window u_out2: array<f32>, binding 17, read_write, narrow

// Slots of `scalars`. Keep in sync with src/stress/params.rs (O_*) and O_SCALE in
// stress_mg0.wgsl.
const O_RZ: u32 = 0u;
const O_PQ: u32 = 1u;
const O_ALPHA: u32 = 2u;
const O_BETA: u32 = 3u;
const O_RR: u32 = 4u;
const O_FF: u32 = 5u;
const O_SCALE: u32 = 6u;

// The gathers multiply p (the matvec), or u where the pipeline sets GATHER_U (the
// residual f - K u and the reactions need u at full precision).
override GATHER_U: bool = false;

fn load_in(n: u32) -> vec3<real> {
    if GATHER_U {
        return vec3<real>(u_ld(3u * n), u_ld(3u * n + 1u), u_ld(3u * n + 2u));
    }
    return vec3<real>(p_ld(3u * n), p_ld(3u * n + 1u), p_ld(3u * n + 2u));
}

fn get_r(n: u32) -> vec3<real> {
    return vec3<real>(r_ld(3u * n), r_ld(3u * n + 1u), r_ld(3u * n + 2u));
}

fn q_get(i: u32) -> real {
    return real(z32_ld(i)) + real(q_lo_ld(i));
}

fn q_set(i: u32, v: real) {
    let hi = f32(v);
    z32_st(i, hi);
    q_lo_st(i, f32(v - real(hi)));
}

fn free_mask(n: u32) -> vec3<real> {
    let b = fixed_ld(n);
    return vec3<real>(select(real(1.0), real(0.0), (b & 1u) != 0u), select(real(1.0), real(0.0), (b & 2u) != 0u), select(real(1.0), real(0.0), (b & 4u) != 0u));
}

var<workgroup> red_r: array<vec2<real>, WG>;

fn reduce_r(lid: u32, v: vec2<real>) -> vec2<real> {
    red_r[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s >> 1u) {
        if lid < s {
            red_r[lid] = red_r[lid] + red_r[lid + s];
        }
        workgroupBarrier();
    }
    return red_r[0];
}

fn write_part(wg: u32, lid: u32, v: vec2<real>) {
    let t = reduce_r(lid, v);
    if lid == 0u && wg < prm.node_groups {
        partials[wg] = t.x;
        partials[prm.node_groups + wg] = t.y;
    }
}

fn sum_parts(lid: u32) -> vec2<real> {
    var acc = vec2<real>(0.0);
    for (var i = lid; i < prm.node_groups; i += WG) {
        acc += vec2<real>(partials[i], partials[prm.node_groups + i]);
    }
    return reduce_r(lid, acc);
}

fn node_id(wid: vec3<u32>, lid: u32) -> u32 {
    return group_index(wid, prm.node_wx) * WG + lid;
}

// Constraint bits from the supports, symmetry planes and pins; u = 0.
@compute @workgroup_size(WG)
fn fix_init(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = node_id(wid, lid);
    if n < prm.ndims.w {
        let c = node_coords(n);
        var bits = fixed_bits(n, c);
        if !node_active(c) {
            bits = 7u;
        }
        fixed_st(n, bits);
        for (var k = 0u; k < 3u; k++) {
            u_st(3u * n + k, 0.0);
        }
    }
}

// Prescribed displacements (one thread per entry; entries name distinct nodes).
@compute @workgroup_size(WG)
fn prescribe(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let k = node_id(wid, lid);
    if k < arrayLength(&pres) {
        let e = pres[k];
        // Inactive nodes (no solid around them) stay fixed at 0.
        if e.y != 0u && e.x < prm.ndims.w && node_active(node_coords(e.x)) {
            fixed_st(e.x, fixed_ld(e.x) | e.y);
            for (var c = 0u; c < 3u; c++) {
                if (e.y & (1u << c)) != 0u {
                    u_st(3u * e.x + c, pres_val[3u * k + c]);
                }
            }
        }
    }
}

// The reaction K u - f at each prescribed entry's node (the force the
// prescription applies to the body, mN), into p[3k..3k+3] (scratch after the solve).
@compute @workgroup_size(WG)
fn reactions(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let k = node_id(wid, lid);
    if k < arrayLength(&pres) {
        let e = pres[k];
        var rv = vec3<real>(0.0);
        if e.x < prm.ndims.w {
            let c = node_coords(e.x);
            if node_active(c) {
                rv = k_gather(e.x, c) - load_at(c);
            }
        }
        for (var i = 0u; i < 3u; i++) {
            p_st(3u * k + i, rv[i]);
        }
    }
}

// r = f - K u on free DOFs. Partials: |f|^2 over all DOFs, |r|^2.
@compute @workgroup_size(WG)
fn residual(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = node_id(wid, lid);
    var acc = vec2<real>(0.0);
    if n < prm.ndims.w {
        let c = node_coords(n);
        let f = load_at(c);
        var rv = vec3<real>(0.0);
        if (fixed_ld(n) & 7u) != 7u {
            rv = (f - k_gather(n, c)) * free_mask(n);
        }
        for (var k = 0u; k < 3u; k++) {
            r_st(3u * n + k, rv[k]);
        }
        acc = vec2<real>(dot(f, f), dot(rv, rv));
    }
    write_part(group_index(wid, prm.node_wx), lid, acc);
}

@compute @workgroup_size(WG)
fn finish_residual(@builtin(local_invocation_index) lid: u32) {
    let t = sum_parts(lid);
    if lid == 0u {
        scalars[O_FF] = t.x;
        scalars[O_RR] = t.y;
        scalars[O_SCALE] = select(real(1.0), sqrt(t.y), t.y > 0.0);
        // A restart: the next beta is 0.
        scalars[O_RZ] = 0.0;
        scalars[O_ALPHA] = 0.0;
    }
}

// z = scale * z32. Partial: z . r.
@compute @workgroup_size(WG)
fn precond_dots(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = node_id(wid, lid);
    var acc = vec2<real>(0.0);
    if n < prm.ndims.w {
        let s = scalars[O_SCALE];
        let z = vec3<real>(real(z32_ld(3u * n)), real(z32_ld(3u * n + 1u)), real(z32_ld(3u * n + 2u))) * s * free_mask(n);
        acc = vec2<real>(dot(z, get_r(n)), 0.0);
    }
    write_part(group_index(wid, prm.node_wx), lid, acc);
}

// beta = rz_new / rz_old; 0 after a restart.
@compute @workgroup_size(WG)
fn finish_beta(@builtin(local_invocation_index) lid: u32) {
    let t = sum_parts(lid);
    if lid == 0u {
        let old = scalars[O_RZ];
        var beta = real(0.0);
        if old > 0.0 {
            beta = t.x / old;
        }
        scalars[O_BETA] = beta;
        scalars[O_RZ] = t.x;
    }
}

// p = z + beta p.
@compute @workgroup_size(WG)
fn update_p(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = node_id(wid, lid);
    if n < prm.ndims.w {
        let s = scalars[O_SCALE];
        let beta = scalars[O_BETA];
        let m = free_mask(n);
        for (var k = 0u; k < 3u; k++) {
            let i = 3u * n + k;
            p_st(i, (real(z32_ld(i)) * s + beta * p_ld(i)) * m[k]);
        }
    }
}

// q = K p on free DOFs. Partial: p . q.
@compute @workgroup_size(WG)
fn apply(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = node_id(wid, lid);
    var acc = vec2<real>(0.0);
    if n < prm.ndims.w {
        var qv = vec3<real>(0.0);
        if (fixed_ld(n) & 7u) != 7u {
            qv = k_gather(n, node_coords(n)) * free_mask(n);
        }
        for (var k = 0u; k < 3u; k++) {
            q_set(3u * n + k, qv[k]);
        }
        acc = vec2<real>(dot(load_in(n), qv), 0.0);
    }
    write_part(group_index(wid, prm.node_wx), lid, acc);
}

// alpha = (r . z) / (p . K p); 0 on breakdown (freezes the iteration: the host's
// stagnation test ends it).
@compute @workgroup_size(WG)
fn finish_alpha(@builtin(local_invocation_index) lid: u32) {
    let t = sum_parts(lid);
    if lid == 0u {
        let rz = scalars[O_RZ];
        scalars[O_PQ] = t.x;
        var alpha = real(0.0);
        if t.x > 0.0 && rz > 0.0 {
            alpha = rz / t.x;
        }
        scalars[O_ALPHA] = alpha;
    }
}

// u += alpha p; r -= alpha q. Partial: |r|^2.
@compute @workgroup_size(WG)
fn update_ur(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = node_id(wid, lid);
    var acc = vec2<real>(0.0);
    if n < prm.ndims.w {
        let alpha = scalars[O_ALPHA];
        var rv = vec3<real>(0.0);
        for (var k = 0u; k < 3u; k++) {
            let i = 3u * n + k;
            u_st(i, u_ld(i) + alpha * p_ld(i));
            rv[k] = r_ld(i) - alpha * q_get(i);
            r_st(i, rv[k]);
        }
        acc = vec2<real>(dot(rv, rv), 0.0);
    }
    write_part(group_index(wid, prm.node_wx), lid, acc);
}

@compute @workgroup_size(WG)
fn finish_rr(@builtin(local_invocation_index) lid: u32) {
    let t = sum_parts(lid);
    if lid == 0u {
        scalars[O_RR] = t.x;
        scalars[O_SCALE] = select(real(1.0), sqrt(t.x), t.x > 0.0);
    }
}

// The displacement as f32 components (results kernel, views, readback).
@compute @workgroup_size(WG)
fn export_u(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = node_id(wid, lid);
    if n < prm.ndims.w {
        u_out0_st(n, f32(u_ld(3u * n)));
        u_out1_st(n, f32(u_ld(3u * n + 1u)));
        u_out2_st(n, f32(u_ld(3u * n + 2u)));
    }
}
