//! Sweep plots from the results table: a metric against one varied key (a line per
//! value of a second key), or a heat map over two varied keys; drawn by
//! [`crate::output::plot`].

use super::collect::Table;
use super::{Manifest, SweepError};
use crate::output::plot::{self, HeatMap, LinePlot, Series};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Plot size in pixels.
pub const SIZE: [u32; 2] = [1000, 650];

fn number(t: &Table, row: usize, col: &str) -> Option<f64> {
    t.cell(row, col)?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

fn need_metric(t: &Table, metric: &str) -> Result<(), SweepError> {
    if t.column(metric).is_some() {
        return Ok(());
    }
    let like = t.like(metric);
    Err(SweepError::Other(format!(
        "--plot {metric}: no such column in results.csv{}",
        if like.is_empty() {
            String::new()
        } else {
            format!("; similar: {}", like.join(", "))
        }
    )))
}

fn need_key(m: &Manifest, key: &str, what: &str) -> Result<(), SweepError> {
    if m.keys.iter().any(|k| k == key) {
        Ok(())
    } else {
        Err(SweepError::Other(format!(
            "{what} {key}: not a varied key; the sweep varies {}",
            m.keys.join(", ")
        )))
    }
}

/// DIR/plot_<metric>.png: `metric` against varied key `x` (default the first), one
/// line per value of `by` (default the second varied key, if any). Rows that did not
/// finish ok, or whose cells are not numbers, are left out.
pub fn line(
    dir: &Path,
    m: &Manifest,
    t: &Table,
    metric: &str,
    x: Option<&str>,
    by: Option<&str>,
) -> Result<PathBuf, SweepError> {
    need_metric(t, metric)?;
    let x = x.unwrap_or(&m.keys[0]);
    need_key(m, x, "--x")?;
    let by = by.or_else(|| m.keys.iter().map(String::as_str).find(|k| *k != x));
    if let Some(b) = by {
        need_key(m, b, "--by")?;
    }
    let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for row in 0..t.rows.len() {
        if t.cell(row, "status") != Some("ok") {
            continue;
        }
        let (Some(xv), Some(yv)) = (number(t, row, x), number(t, row, metric)) else {
            continue;
        };
        let name = by.map_or_else(String::new, |b| {
            format!("{b} = {}", t.cell(row, b).unwrap_or_default())
        });
        series.entry(name).or_default().push((xv, yv));
    }
    let series: Vec<Series> = series
        .into_iter()
        .map(|(name, mut points)| {
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            Series { name, points }
        })
        .collect();
    let path = dir.join(format!("plot_{}.png", crate::output::file_stem(metric)));
    plot::line_plot(
        &path,
        &LinePlot {
            title: format!("{metric} vs {x}"),
            x_label: x.to_string(),
            y_label: metric.to_string(),
            series,
        },
        SIZE,
    )
    .map_err(|e| SweepError::Other(format!("--plot {metric}: {e}")))?;
    Ok(path)
}

/// DIR/heatmap_<metric>.png over varied keys `x` and `y` (default the first two); a
/// cell holding several variants (more keys varied) shows their mean.
pub fn heat(
    dir: &Path,
    m: &Manifest,
    t: &Table,
    metric: &str,
    x: Option<&str>,
    y: Option<&str>,
) -> Result<PathBuf, SweepError> {
    need_metric(t, metric)?;
    let x = x.unwrap_or(&m.keys[0]);
    need_key(m, x, "--x")?;
    let y = y
        .or_else(|| m.keys.iter().map(String::as_str).find(|k| *k != x))
        .ok_or_else(|| SweepError::Other(format!("--heatmap {metric}: needs two varied keys")))?;
    need_key(m, y, "--y")?;
    let axis = |k: &str| -> Vec<f64> {
        let mut v: Vec<f64> = (0..t.rows.len()).filter_map(|r| number(t, r, k)).collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    };
    let (xs, ys) = (axis(x), axis(y));
    let mut sums = vec![(0.0, 0u32); xs.len() * ys.len()];
    for row in 0..t.rows.len() {
        if t.cell(row, "status") != Some("ok") {
            continue;
        }
        let (Some(xv), Some(yv), Some(v)) =
            (number(t, row, x), number(t, row, y), number(t, row, metric))
        else {
            continue;
        };
        let (Some(i), Some(j)) = (
            xs.iter().position(|&a| a == xv),
            ys.iter().position(|&a| a == yv),
        ) else {
            continue;
        };
        let s = &mut sums[j * xs.len() + i];
        s.0 += v;
        s.1 += 1;
    }
    let many = sums.iter().any(|s| s.1 > 1);
    let values = sums
        .iter()
        .map(|&(s, n)| (n > 0).then(|| s / f64::from(n)))
        .collect();
    let path = dir.join(format!("heatmap_{}.png", crate::output::file_stem(metric)));
    plot::heat_map(
        &path,
        &HeatMap {
            title: format!("{metric}{}", if many { " (mean per cell)" } else { "" }),
            x_label: x.to_string(),
            y_label: y.to_string(),
            value_label: metric.rsplit('.').next().unwrap_or(metric).to_string(),
            xs,
            ys,
            values,
        },
        SIZE,
    )
    .map_err(|e| SweepError::Other(format!("--heatmap {metric}: {e}")))?;
    Ok(path)
}
