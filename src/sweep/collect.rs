//! `voxfab sweep collect DIR`: merges whatever variants have finished into
//! DIR/results.csv, one row per variant of the manifest (missing ones marked), and says
//! what is missing or failed.
//!
//! The metric columns are each variant's metrics.json flattened generically (objects by
//! key, arrays of named objects by their `name` or `step`), so a metric added to
//! metrics.json becomes a column with no change here.

use super::{Manifest, SweepError, VariantResult, plan::number_text, read_result};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// Top-level metrics.json keys left out of the table: the same for every variant
/// (the scene file, its title, the material property table).
const SKIPPED: &[&str] = &["scene", "title", "material_ids"];

/// A results table: a row per variant, a cell per column (empty when a variant lacks it).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    pub fn cell(&self, row: usize, col: &str) -> Option<&str> {
        let c = self.column(col)?;
        self.rows.get(row)?.get(c).map(String::as_str)
    }

    /// Columns containing `part`, for "did you mean" messages.
    pub fn like(&self, part: &str) -> Vec<&str> {
        let last = part.rsplit('.').next().unwrap_or(part);
        self.columns
            .iter()
            .filter(|c| c.contains(last))
            .map(String::as_str)
            .take(12)
            .collect()
    }

    /// CSV (RFC 4180 quoting).
    pub fn to_csv(&self) -> String {
        let mut s = String::new();
        let line = |s: &mut String, cells: &[String]| {
            let q: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
            s.push_str(&q.join(","));
            s.push('\n');
        };
        line(&mut s, &self.columns);
        for r in &self.rows {
            line(&mut s, r);
        }
        s
    }

    /// Parses what [`Table::to_csv`] wrote.
    pub fn from_csv(text: &str) -> Result<Self, String> {
        let mut records = parse_csv(text)?.into_iter();
        let columns = records.next().ok_or("empty CSV")?;
        let rows: Vec<Vec<String>> = records.collect();
        if let Some(r) = rows.iter().find(|r| r.len() != columns.len()) {
            return Err(format!(
                "a row of {} cells under {} columns",
                r.len(),
                columns.len()
            ));
        }
        Ok(Self { columns, rows })
    }
}

fn csv_cell(c: &str) -> String {
    if c.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", c.replace('"', "\"\""))
    } else {
        c.to_string()
    }
}

fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut out = Vec::new();
    let (mut row, mut cell) = (Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                out.push(std::mem::take(&mut row));
            }
            (false, '\r') => {}
            (false, c) => cell.push(c),
        }
    }
    if quoted {
        return Err("unterminated quote".into());
    }
    if !cell.is_empty() || !row.is_empty() {
        row.push(cell);
        out.push(row);
    }
    Ok(out)
}

/// Timing columns, which differ between two runs of the same variant.
pub fn is_timing_column(name: &str) -> bool {
    name == "wall_s" || name == "total_ms" || name.ends_with(".ms")
}

/// The column of a varied key's requested value is the key itself; its voxel-resolved
/// length is this.
pub fn resolved_column(key: &str) -> String {
    format!("{key}@resolved_um")
}

/// Flattens a metrics.json value into `(column, cell)` pairs under `prefix`.
pub fn flatten(v: &Value, prefix: &str, out: &mut Vec<(String, String)>) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                if prefix.is_empty() && SKIPPED.contains(&k.as_str()) {
                    continue;
                }
                flatten(x, &join(k), out);
            }
        }
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
            for (i, x) in items.iter().enumerate() {
                let name = ["name", "step"]
                    .iter()
                    .find_map(|k| x.get(*k).and_then(Value::as_str))
                    .map_or_else(|| i.to_string(), str::to_string);
                flatten(x, &join(&name), out);
            }
        }
        Value::Array(items) => {
            let nested = items.iter().any(Value::is_array);
            let cell: Vec<String> = items
                .iter()
                .map(|x| match x {
                    Value::Array(inner) => inner.iter().map(scalar).collect::<Vec<_>>().join("+"),
                    x => scalar(x),
                })
                .collect();
            out.push((prefix.to_string(), cell.join(" ")));
            // Lists of pairs (shorts, opens, joined probes): their count too.
            if nested || items.is_empty() {
                out.push((join("count"), items.len().to_string()));
            }
        }
        x => out.push((prefix.to_string(), scalar(x))),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(_) | Value::Object(_) => v.to_string(),
        x => x.to_string(),
    }
}

/// What [`collect`] found.
#[derive(Debug, Clone, Default)]
pub struct Collected {
    pub table: Table,
    pub ok: Vec<usize>,
    pub failed: Vec<usize>,
    pub invalid: Vec<usize>,
    pub missing: Vec<usize>,
}

/// Builds the table of the sweep in `dir` from the results written so far.
pub fn collect(dir: &Path, m: &Manifest) -> Collected {
    let results: Vec<Option<VariantResult>> = m
        .variants
        .iter()
        .map(|v| read_result(dir, v.index))
        .collect();
    table(m, &results)
}

/// The table of `m` given each variant's result (if any).
pub fn table(m: &Manifest, results: &[Option<VariantResult>]) -> Collected {
    let mut c = Collected::default();
    let mut columns: Vec<String> = vec!["variant".into(), "status".into(), "error".into()];
    for k in &m.keys {
        columns.push(k.clone());
        columns.push(resolved_column(k));
    }
    for k in [
        "same_resolution_as",
        "same_voxels_as",
        "voxel_hash",
        "wall_s",
    ] {
        columns.push(k.into());
    }
    let fixed = columns.len();
    let mut index: HashMap<String, usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.clone(), i))
        .collect();
    // Groups of equal resolution (before running) and of equal voxels (after).
    let mut by_resolution: HashMap<Vec<String>, Vec<usize>> = HashMap::new();
    let mut by_voxels: HashMap<&str, Vec<usize>> = HashMap::new();
    for (v, r) in m.variants.iter().zip(results) {
        if v.invalid.is_none() {
            by_resolution
                .entry(v.resolution_key())
                .or_default()
                .push(v.index);
        }
        if let Some(h) = r.as_ref().and_then(|r| r.voxel_hash.as_deref()) {
            by_voxels.entry(h).or_default().push(v.index);
        }
    }
    let others = |group: Option<&Vec<usize>>, me: usize| -> String {
        group
            .map(|g| {
                g.iter()
                    .filter(|&&i| i != me)
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    };
    let mut rows: Vec<Vec<(usize, String)>> = Vec::with_capacity(m.variants.len());
    for (v, r) in m.variants.iter().zip(results) {
        let mut row: Vec<(usize, String)> = Vec::new();
        let status = match (r, &v.invalid) {
            (_, Some(_)) => {
                c.invalid.push(v.index);
                "invalid"
            }
            (Some(r), None) => {
                match r.status {
                    super::Status::Ok => c.ok.push(v.index),
                    _ => c.failed.push(v.index),
                }
                r.status.name()
            }
            (None, None) => {
                c.missing.push(v.index);
                "missing"
            }
        };
        row.push((0, v.index.to_string()));
        row.push((1, status.to_string()));
        let error = v
            .invalid
            .clone()
            .or_else(|| r.as_ref().and_then(|r| r.error.clone()))
            .unwrap_or_default();
        row.push((2, error));
        for (k, key) in m.keys.iter().enumerate() {
            row.push((index[key], v.values[k].clone()));
            row.push((
                index[&resolved_column(key)],
                v.resolved_um[k].map(number_text).unwrap_or_default(),
            ));
        }
        if v.invalid.is_none() {
            row.push((
                index["same_resolution_as"],
                others(by_resolution.get(&v.resolution_key()), v.index),
            ));
        }
        if let Some(r) = r {
            if let Some(h) = &r.voxel_hash {
                row.push((
                    index["same_voxels_as"],
                    others(by_voxels.get(h.as_str()), v.index),
                ));
                row.push((index["voxel_hash"], h.clone()));
            }
            if r.status != super::Status::Invalid {
                row.push((index["wall_s"], format!("{:.3}", r.wall_s)));
            }
            if let Some(metrics) = &r.metrics {
                let mut cells = Vec::new();
                flatten(metrics, "", &mut cells);
                for (name, cell) in cells {
                    // Never let a metric shadow a fixed column.
                    let name = if index.get(&name).is_some_and(|&i| i < fixed) {
                        format!("metrics.{name}")
                    } else {
                        name
                    };
                    let i = *index.entry(name.clone()).or_insert_with(|| {
                        columns.push(name);
                        columns.len() - 1
                    });
                    row.push((i, cell));
                }
            }
        }
        rows.push(row);
    }
    c.table.rows = rows
        .into_iter()
        .map(|cells| {
            let mut row = vec![String::new(); columns.len()];
            for (i, cell) in cells {
                row[i] = cell;
            }
            row
        })
        .collect();
    c.table.columns = columns;
    c
}

/// Writes DIR/results.csv atomically; returns what was collected.
pub fn write(dir: &Path, m: &Manifest) -> Result<Collected, SweepError> {
    let c = collect(dir, m);
    let csv = c.table.to_csv();
    crate::output::write_atomic(&dir.join("results.csv"), |w| w.write_all(csv.as_bytes()))?;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattening_names_array_entries_by_name() {
        let v: Value = serde_json::json!({
            "scene": "x.toml",
            "grid": {"dims": [8, 8, 12]},
            "steps": [{"name": "pad", "ms": 1.5, "voxels_changed": 4}],
            "stress": [{"step": "cool", "converged": true, "probes": {"p": {"mean_mpa": null}}}],
            "connectivity": {"nets": 2, "shorts": [["a", "b"]], "opens": []},
            "new_metric": {"corner": [{"name": "j1", "s": 3.0}]}
        });
        let mut out = Vec::new();
        flatten(&v, "", &mut out);
        let get = |k: &str| out.iter().find(|(c, _)| c == k).map(|(_, v)| v.as_str());
        assert_eq!(get("scene"), None);
        assert_eq!(get("grid.dims"), Some("8 8 12"));
        assert_eq!(get("steps.pad.voxels_changed"), Some("4"));
        assert_eq!(get("steps.pad.ms"), Some("1.5"));
        assert_eq!(get("stress.cool.converged"), Some("true"));
        assert_eq!(get("stress.cool.probes.p.mean_mpa"), Some(""));
        assert_eq!(get("connectivity.shorts"), Some("a+b"));
        assert_eq!(get("connectivity.shorts.count"), Some("1"));
        assert_eq!(get("connectivity.opens.count"), Some("0"));
        assert_eq!(get("new_metric.corner.j1.s"), Some("3.0"));
        assert!(is_timing_column("steps.pad.ms") && !is_timing_column("steps.pad.voxels_changed"));
    }

    #[test]
    fn csv_round_trip() {
        let t = Table {
            columns: vec!["a".into(), "b,c".into()],
            rows: vec![
                vec!["x \"q\"".into(), "1\n2".into()],
                vec![String::new(), "3".into()],
            ],
        };
        assert_eq!(Table::from_csv(&t.to_csv()).unwrap(), t);
    }
}
