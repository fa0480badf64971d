//! The terminal summary of a stress step, from its metrics: what the solve reached
//! against what was asked (with a visible warning and what to do when it did not
//! converge, in metrics.json's `warnings` and on the terminal after it), per-material region figures, probes, warpage and relative displacements.

use super::metrics::StressMetrics;
use std::fmt::Write;

/// The warning of a solve that did not reach its tolerance, or `None`.
pub fn convergence_warning(m: &StressMetrics) -> Option<String> {
    if m.converged {
        return None;
    }
    let why = if m.stalled {
        "the residual stopped falling"
    } else {
        "max_iterations ran out"
    };
    Some(format!(
        "WARNING: stress step `{}` did not converge: residual {:.1e} > tol {:.0e} after {} \
         iterations ({why}). Displacements and stresses are not accurate to tol. Raise \
         max_iterations, loosen tol if the figures you need allow it, and check that every \
         part is held (a part joined to nothing floats).",
        m.step, m.residual, m.tol, m.iterations
    ))
}

/// A short multi-line summary of one stress step.
pub fn stress_summary(m: &StressMetrics) -> String {
    let mut s = String::new();
    let [ex, ey, ez] = m.grid_elements;
    let sym = match (m.symmetry_x, m.symmetry_y) {
        (true, true) => ", symmetry x and y",
        (true, false) => ", symmetry x",
        (false, true) => ", symmetry y",
        _ => "",
    };
    let _ = writeln!(
        s,
        "stress `{}`: dT {:+.0} K, {}{sym}, {ex}x{ey}x{ez} elements of {} µm ({} solid)",
        m.step, m.delta_t_k, m.support, m.element_um, m.solid_elements
    );
    let _ = writeln!(
        s,
        "  {}: {} iterations, residual {:.1e} (tol {:.0e}) {}, {:.1} s",
        m.solver,
        m.iterations,
        m.residual,
        m.tol,
        if m.converged {
            "converged"
        } else {
            "NOT CONVERGED"
        },
        m.ms / 1e3
    );
    if !m.displace.is_empty() {
        let held: Vec<String> = m
            .displace
            .iter()
            .map(|d| {
                let [fx, fy, fz] = d.force_mn;
                format!(
                    "{} {} ({} nodes, force {fx:.4} {fy:.4} {fz:.4} mN)",
                    d.region, d.dofs, d.nodes
                )
            })
            .collect();
        let _ = writeln!(s, "  prescribed displacements: {}", held.join(", "));
    }
    let _ = writeln!(
        s,
        "  {:<14} {:>10} {:>10} {:>10} {:>10} {:>10}  peak at (µm)",
        "material (MPa)", "mean vM", "p99 vM", "mean S1", "p99 S1", "peak vM*"
    );
    for (name, v) in &m.materials {
        let [x, y, z] = v.peak_von_mises_at_um;
        let _ = writeln!(
            s,
            "  {:<14} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1}  ({x:.0}, {y:.0}, {z:.0})",
            name,
            v.mean_von_mises_mpa,
            v.p99_von_mises_mpa,
            v.mean_max_principal_mpa,
            v.p99_max_principal_mpa,
            v.peak_von_mises_mpa
        );
    }
    let _ = writeln!(
        s,
        "  * peaks sit at corners and material edges and grow as the element shrinks \
         (mesh-dependent): compare means, p99 and probes"
    );
    for (name, p) in &m.probes {
        match (p.mean_mpa, p.max_mpa, p.max_at_um) {
            (Some(mean), Some(max), Some([x, y, z])) => {
                let _ = writeln!(
                    s,
                    "  probe {name} ({}): mean {mean:.1} MPa, peak {max:.1} MPa at ({x:.0}, {y:.0}, {z:.0}) µm",
                    p.field
                );
            }
            _ => {
                let _ = writeln!(s, "  probe {name} ({}): no solid in its box", p.field);
            }
        }
    }
    for (name, w) in &m.warpage {
        let _ = writeln!(
            s,
            "  warpage {name}: {:.3} µm peak-to-valley about the best-fit plane, bow {:+.3} µm \
             ({} surface nodes)",
            w.warpage_um, w.bow_um, w.nodes
        );
    }
    for (name, d) in &m.relative_displacements {
        let [x, y, z] = d.delta_um;
        let _ = writeln!(
            s,
            "  relative displacement {name}: ({x:+.4}, {y:+.4}, {z:+.4}) µm"
        );
    }
    s
}
