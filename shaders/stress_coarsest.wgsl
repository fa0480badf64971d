// Coarsest multigrid level: x = A^+ b with the dense inverse factored on the host in f64
// (semi-definite Cholesky that drops dependent DOFs, so floating parts stay a fixed
// symmetric operator). One thread per row. Prelude: stress_mg_level.wgsl.

@group(0) @binding(0) var<uniform> lv: Level;
@group(0) @binding(1) var<storage, read> ainv: array<f32>;
@group(0) @binding(2) var<storage, read_write> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> x: array<f32>;

@compute @workgroup_size(MG_WG)
fn dense_solve(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let i = lin(wid, lid, lv.node_wx);
    if i >= lv.rows {
        return;
    }
    var acc = 0.0;
    for (var j = 0u; j < lv.rows; j++) {
        acc += ainv[i * lv.rows + j] * b[j];
    }
    x[i] = acc;
}
