// Per-voxel stress at the element centroid, sigma = D (B u - alpha dT [1,1,1,0,0,0]),
// in MPa (GPa x 1e3), plus von Mises and the largest principal stress. Void voxels get 0.
// Keep bindings in sync with `results_layout` in src/stress/solver.rs.

// window u0: array<f32>, binding 3, read, narrow
// window u1: array<f32>, binding 4, read, narrow
// window u2: array<f32>, binding 5, read, narrow
// Outputs, one f32 per voxel each (SoA): xx, yy, zz, yz, xz, xy, von Mises, max principal.
// window o_xx: array<f32>, binding 6, read_write, narrow
// window o_yy: array<f32>, binding 7, read_write, narrow
// window o_zz: array<f32>, binding 8, read_write, narrow
// window o_yz: array<f32>, binding 9, read_write, narrow
// window o_xz: array<f32>, binding 10, read_write, narrow
// window o_xy: array<f32>, binding 11, read_write, narrow
// window o_vm: array<f32>, binding 12, read_write, narrow
// window o_p1: array<f32>, binding 13, read_write, narrow

const GPA_TO_MPA: f32 = 1000.0;

// Largest eigenvalue of the symmetric matrix [[a.x, b.z, b.y], [b.z, a.y, b.x], [b.y, b.x, a.z]]
// (diagonal a = xx, yy, zz; off-diagonal b = yz, xz, xy), by the trigonometric closed form.
fn max_principal(a: vec3<f32>, b: vec3<f32>) -> f32 {
    let p1 = dot(b, b);
    let q = (a.x + a.y + a.z) / 3.0;
    let d = a - vec3<f32>(q);
    let p2 = dot(d, d) + 2.0 * p1;
    if p2 <= 0.0 {
        return q;
    }
    if p1 == 0.0 {
        return max(a.x, max(a.y, a.z));
    }
    let p = sqrt(p2 / 6.0);
    let e = d / p;
    let f = b / p;
    // det of (A - qI) / p.
    let det = e.x * (e.y * e.z - f.x * f.x) - f.z * (f.z * e.z - f.x * f.y) + f.y * (f.z * f.x - e.y * f.y);
    let r = clamp(det * 0.5, -1.0, 1.0);
    return q + 2.0 * p * cos(acos(r) / 3.0);
}

@compute @workgroup_size(WG)
fn results(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let v = group_index(wid, prm.voxel_wx) * WG + lid;
    if v >= prm.voxels {
        return;
    }
    let vox = vec3<i32>(
        i32(v % prm.dims.x),
        i32((v / prm.dims.x) % prm.dims.y),
        i32(v / prm.dims.w),
    );
    let m = voxel_material(vox);
    var a = vec3<f32>(0.0); // normal stresses
    var b = vec3<f32>(0.0); // shear stresses yz, xz, xy
    var vm = 0.0;
    var p1 = 0.0;
    if m != 0u {
        // Centroid gradients of the trilinear shape functions: +-1/(4h) per axis.
        let g = 0.25 / prm.h;
        var e = vec3<f32>(0.0);     // normal strains
        var gam = vec3<f32>(0.0);   // engineering shears yz, xz, xy
        for (var k = 0u; k < 8u; k++) {
            let c = corner(k);
            let d = g * (2.0 * vec3<f32>(c) - vec3<f32>(1.0));
            let n = node_index(vox + c);
            let u = vec3<f32>(u0_ld(n), u1_ld(n), u2_ld(n));
            e += d * u;
            gam += vec3<f32>(d.z * u.y + d.y * u.z, d.z * u.x + d.x * u.z, d.y * u.x + d.x * u.y);
        }
        let lm = mats[m];
        let em = e - vec3<f32>(lm.w);
        let tr = em.x + em.y + em.z;
        a = (vec3<f32>(lm.x * tr) + 2.0 * lm.y * em) * GPA_TO_MPA;
        b = lm.y * gam * GPA_TO_MPA;
        let dd = vec3<f32>(a.x - a.y, a.y - a.z, a.z - a.x);
        vm = sqrt(0.5 * dot(dd, dd) + 3.0 * dot(b, b));
        p1 = max_principal(a, b);
    }
    o_xx_st(v, a.x);
    o_yy_st(v, a.y);
    o_zz_st(v, a.z);
    o_yz_st(v, b.x);
    o_xz_st(v, b.y);
    o_xy_st(v, b.z);
    o_vm_st(v, vm);
    o_p1_st(v, p1);
}
