//! `--set key.path=value`: edits the parsed document before it is typed, so an
//! override goes through exactly the same checks as a value written in the file.

use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Where an override landed: errors at this span mention the override.
pub(crate) struct Applied {
    pub key: String,
    pub span: Range<usize>,
}

/// Applies `key=value` edits in order. `step.<name or index>.<key>` addresses a step.
pub(crate) fn apply<'a>(
    root: &mut Spanned<DeTable<'a>>,
    overrides: &'a [String],
) -> Result<Vec<Applied>, String> {
    let mut applied = Vec::new();
    for ov in overrides {
        let (key, value) = ov
            .split_once('=')
            .ok_or_else(|| format!("--set {ov:?}: expected key=value"))?;
        let key = key.trim();
        let value = value.trim();
        let path: Vec<&str> = key.split('.').collect();
        if path.iter().any(|p| p.is_empty()) {
            return Err(format!("--set {key}: empty key segment"));
        }
        // A bare word that is no TOML value (e.g. `cu`) is taken as a string.
        let parsed = match DeValue::parse(value) {
            Ok(v) => v.into_inner(),
            Err(_) => DeValue::String(value.into()),
        };
        let root_span = root.span();
        let span = set_path(root.get_mut(), root_span, &path, parsed)
            .map_err(|e| format!("--set {key}: {e}"))?;
        applied.push(Applied {
            key: key.to_string(),
            span,
        });
    }
    Ok(applied)
}

fn set_path<'a>(
    table: &mut DeTable<'a>,
    table_span: Range<usize>,
    path: &[&str],
    value: DeValue<'a>,
) -> Result<Range<usize>, String> {
    let (head, rest) = (path[0], &path[1..]);
    if rest.is_empty() {
        // Keep the old value's span (or the table's) so errors point into the file.
        let span = table
            .iter()
            .find(|(k, _)| k.get_ref() == head)
            .map_or(table_span, |(_, v)| v.span());
        table.insert(
            Spanned::new(span.clone(), head.to_string().into()),
            Spanned::new(span.clone(), value),
        );
        return Ok(span);
    }
    let entry = table
        .iter_mut()
        .find(|(k, _)| k.get_ref() == head)
        .map(|(_, v)| v)
        .ok_or_else(|| format!("no `{head}` in the scene"))?;
    let span = entry.span();
    match entry.get_mut() {
        DeValue::Table(t) => set_path(t, span, rest, value),
        DeValue::Array(items) => {
            // Steps are addressed by name or by 0-based index.
            let sel = rest[0];
            let idx = match sel.parse::<usize>() {
                Ok(i) if i < items.len() => i,
                Ok(i) => {
                    return Err(format!(
                        "`{head}` has {} entries, no index {i}",
                        items.len()
                    ));
                }
                Err(_) => items
                    .iter()
                    .position(|it| {
                        it.get_ref().get("name").and_then(|n| n.get_ref().as_str()) == Some(sel)
                    })
                    .ok_or_else(|| format!("no `{head}` entry named `{sel}`"))?,
            };
            if rest.len() < 2 {
                return Err("name a key inside the entry".into());
            }
            let item = &mut items.as_mut()[idx];
            let item_span = item.span();
            match item.get_mut() {
                DeValue::Table(t) => set_path(t, item_span, &rest[1..], value),
                _ => Err(format!("`{head}.{sel}` is not a table")),
            }
        }
        _ => Err(format!("`{head}` is not a table")),
    }
}
