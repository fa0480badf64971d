// Node buffers of the conjugate-gradient kernels (stress_apply.wgsl, stress_cg.wgsl),
// prepended after stress_common.wgsl. One f32 per node per binding (SoA) so that no
// binding exceeds 4 bytes/node. Keep in sync with `CgBuffers` in src/stress/solver.rs.

// Unit-cube element as vec4 blocks (see UnitElement::gpu_blocks): block (row, b) of
// k_lambda at row * 8 + b, of k_mu at KE_MU + row * 8 + b, g of node a at KE_G + a.
// A uniform buffer: every lane reads the same block, so the loads stay scalar.
// Then the 27-point stencils of a homogeneous neighbourhood: row c of the block of
// neighbour j at KE_ST + 3j + c (lambda part), KE_ST_MU + 3j + c (mu part).
@group(0) @binding(3) var<uniform> ke: array<vec4<f32>, 554>;
const KE_MU: u32 = 192u;
const KE_G: u32 = 384u;
const KE_ST: u32 = 392u;
const KE_ST_MU: u32 = 473u;
// Displacement (µm).
@group(0) @binding(4) var<storage, read_write> u0: array<f32>;
@group(0) @binding(5) var<storage, read_write> u1: array<f32>;
@group(0) @binding(6) var<storage, read_write> u2: array<f32>;
// Residual.
@group(0) @binding(7) var<storage, read_write> r0: array<f32>;
@group(0) @binding(8) var<storage, read_write> r1: array<f32>;
@group(0) @binding(9) var<storage, read_write> r2: array<f32>;
// Search direction.
@group(0) @binding(10) var<storage, read_write> s0: array<f32>;
@group(0) @binding(11) var<storage, read_write> s1: array<f32>;
@group(0) @binding(12) var<storage, read_write> s2: array<f32>;
// K applied to the search direction.
@group(0) @binding(13) var<storage, read_write> q0: array<f32>;
@group(0) @binding(14) var<storage, read_write> q1: array<f32>;
@group(0) @binding(15) var<storage, read_write> q2: array<f32>;
// Jacobi weights 1/diag(K); 0 marks a constrained or inactive DOF (the constraint mask).
@group(0) @binding(16) var<storage, read_write> w0: array<f32>;
@group(0) @binding(17) var<storage, read_write> w1: array<f32>;
@group(0) @binding(18) var<storage, read_write> w2: array<f32>;
// Per-workgroup partial sums: slot k of workgroup g at k * node_groups + g.
@group(0) @binding(19) var<storage, read_write> partials: array<f32>;
// CG scalars (S_* slots).
@group(0) @binding(20) var<storage, read_write> scalars: array<f32>;

fn load_s(n: u32) -> vec3<f32> {
    return vec3<f32>(s0[n], s1[n], s2[n]);
}

fn load_w(n: u32) -> vec3<f32> {
    return vec3<f32>(w0[n], w1[n], w2[n]);
}

fn write_partials(wg: u32, lid: u32, v: vec2<f32>) {
    if lid == 0u && wg < prm.node_groups {
        partials[wg] = v.x;
        partials[prm.node_groups + wg] = v.y;
    }
}
