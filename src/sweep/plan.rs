//! `--vary` arguments and the variants they make: a full factorial, or a Latin
//! hypercube sample.

use super::lhs::latin_hypercube;

/// Most variants one sweep may have.
pub const MAX_VARIANTS: usize = 100_000;

/// One `--vary KEY=...` argument.
#[derive(Debug, Clone, PartialEq)]
pub struct Vary {
    /// A `--set` key, e.g. `step.gap.thickness`.
    pub key: String,
    /// The values a factorial sweep takes, as `--set` text.
    pub values: Vec<String>,
    /// `LO:HI:N` ranges: the interval a Latin hypercube samples continuously.
    pub range: Option<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("--vary {arg:?}: {msg}")]
    Vary { arg: String, msg: String },
    #[error(
        "the sweep has {0} variants, more than the {MAX_VARIANTS} allowed: vary fewer keys or values"
    )]
    TooMany(String),
    #[error("--lhs needs at least one --vary")]
    NothingToSample,
    #[error("a sweep needs at least one --vary KEY=V1,V2,... or KEY=LO:HI:N")]
    NothingVaried,
}

/// Text of a number as `--set` takes it: always with a decimal point (a float to
/// TOML), at most 10 significant digits so ranges print as typed.
pub fn number_text(x: f64) -> String {
    let r: f64 = format!("{x:.9e}").parse().unwrap_or(x);
    let r = if r == 0.0 { 0.0 } else { r };
    format!("{r:?}")
}

/// Parses `KEY=V1,V2,...` or `KEY=LO:HI:N`.
pub fn parse_vary(arg: &str) -> Result<Vary, PlanError> {
    let err = |msg: String| PlanError::Vary {
        arg: arg.to_string(),
        msg,
    };
    let (key, spec) = arg
        .split_once('=')
        .ok_or_else(|| err("expected KEY=V1,V2,... or KEY=LO:HI:N".into()))?;
    let key = key.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(err(format!(
            "`{key}` is not a scene key such as step.NAME.thickness"
        )));
    }
    let spec = spec.trim();
    let parts: Vec<&str> = spec.split(':').collect();
    if parts.len() == 3 && !spec.contains(',') {
        let num = |s: &str, what: &str| -> Result<f64, PlanError> {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| err(format!("{what} `{s}` is not a finite number")))
        };
        let lo = num(parts[0], "LO")?;
        let hi = num(parts[1], "HI")?;
        let n: usize = parts[2]
            .trim()
            .parse()
            .ok()
            .filter(|&n| (1..=MAX_VARIANTS).contains(&n))
            .ok_or_else(|| {
                err(format!(
                    "N `{}` must be a whole number of values, 1..={MAX_VARIANTS}",
                    parts[2]
                ))
            })?;
        if n > 1 && lo == hi {
            return Err(err(format!("LO = HI = {lo} gives {n} equal values")));
        }
        let values = (0..n)
            .map(|i| {
                let t = if n == 1 {
                    0.0
                } else {
                    i as f64 / (n - 1) as f64
                };
                number_text(lo + (hi - lo) * t)
            })
            .collect();
        return Ok(Vary {
            key: key.to_string(),
            values,
            range: Some((lo, hi)),
        });
    }
    let values: Vec<String> = spec.split(',').map(|v| v.trim().to_string()).collect();
    if values.iter().any(String::is_empty) {
        return Err(err("an empty value in the list".into()));
    }
    if values.len() > MAX_VARIANTS {
        return Err(err(format!("more than {MAX_VARIANTS} values")));
    }
    for (i, v) in values.iter().enumerate() {
        if values[..i].contains(v) {
            return Err(err(format!("value `{v}` twice")));
        }
    }
    Ok(Vary {
        key: key.to_string(),
        values,
        range: None,
    })
}

/// Refuses a key varied twice.
fn distinct(varies: &[Vary]) -> Result<(), PlanError> {
    for (i, v) in varies.iter().enumerate() {
        if varies[..i].iter().any(|w| w.key == v.key) {
            return Err(PlanError::Vary {
                arg: v.key.clone(),
                msg: "this key is varied twice".into(),
            });
        }
    }
    Ok(())
}

/// Every combination of the values, the first key varying slowest: one row of values
/// (in the order of `varies`) per variant.
pub fn factorial(varies: &[Vary]) -> Result<Vec<Vec<String>>, PlanError> {
    if varies.is_empty() {
        return Err(PlanError::NothingVaried);
    }
    distinct(varies)?;
    let count = varies
        .iter()
        .try_fold(1usize, |n, v| {
            n.checked_mul(v.values.len()).filter(|&n| n <= MAX_VARIANTS)
        })
        .ok_or_else(|| {
            PlanError::TooMany(
                varies
                    .iter()
                    .map(|v| v.values.len().to_string())
                    .collect::<Vec<_>>()
                    .join(" x "),
            )
        })?;
    let mut rows = Vec::with_capacity(count);
    for mut i in 0..count {
        let mut row = vec![String::new(); varies.len()];
        for (k, v) in varies.iter().enumerate().rev() {
            row[k] = v.values[i % v.values.len()].clone();
            i /= v.values.len();
        }
        rows.push(row);
    }
    Ok(rows)
}

/// A Latin hypercube of `n` variants: a range key is sampled continuously over
/// LO..HI (its N is ignored), a list key picks the list entry of its stratum.
pub fn lhs(varies: &[Vary], n: usize, seed: u64) -> Result<Vec<Vec<String>>, PlanError> {
    if varies.is_empty() {
        return Err(PlanError::NothingToSample);
    }
    distinct(varies)?;
    if n == 0 || n > MAX_VARIANTS {
        return Err(PlanError::TooMany(format!(
            "--lhs {n} (1..={MAX_VARIANTS})"
        )));
    }
    let points = latin_hypercube(n, varies.len(), seed);
    Ok(points
        .into_iter()
        .map(|p| {
            varies
                .iter()
                .zip(p)
                .map(|(v, u)| match v.range {
                    Some((lo, hi)) => number_text(lo + (hi - lo) * u),
                    None => {
                        let k = ((u * v.values.len() as f64) as usize).min(v.values.len() - 1);
                        v.values[k].clone()
                    }
                })
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_ranges() {
        let v = parse_vary("step.gap.thickness=6,7, 8").unwrap();
        assert_eq!(v.values, ["6", "7", "8"]);
        let v = parse_vary("step.gap.thickness=2:4:3").unwrap();
        assert_eq!(v.values, ["2.0", "3.0", "4.0"]);
        assert_eq!(v.range, Some((2.0, 4.0)));
        assert_eq!(
            parse_vary("k=0.1:0.3:3").unwrap().values,
            ["0.1", "0.2", "0.3"]
        );
        assert_eq!(
            parse_vary("step.a.material=cu,al").unwrap().values,
            ["cu", "al"]
        );
    }

    #[test]
    fn bad_arguments_name_the_argument_and_value() {
        for (arg, needle) in [
            ("nokey", "expected KEY="),
            ("=1,2", "not a scene key"),
            ("a..b=1", "not a scene key"),
            ("k=1,,2", "empty value"),
            ("k=1,1", "`1` twice"),
            ("k=x:2:3", "LO `x`"),
            ("k=1:inf:3", "HI `inf`"),
            ("k=1:2:0", "N `0`"),
            ("k=1:2:1e9", "N `1e9`"),
            ("k=1:1:3", "equal values"),
        ] {
            let e = parse_vary(arg).unwrap_err().to_string();
            assert!(
                e.contains(&format!("{arg:?}")) && e.contains(needle),
                "{arg}: {e}"
            );
        }
    }

    #[test]
    fn factorial_order_and_cap() {
        let a = parse_vary("a=1,2").unwrap();
        let b = parse_vary("b=x,y,z").unwrap();
        let rows = factorial(&[a.clone(), b]).unwrap();
        assert_eq!(rows.len(), 6);
        assert_eq!(rows[0], ["1", "x"]);
        assert_eq!(rows[1], ["1", "y"]);
        assert_eq!(rows[5], ["2", "z"]);
        let big = parse_vary("c=0:1:1000").unwrap();
        let d = parse_vary("d=0:1:1000").unwrap();
        let e = factorial(&[big, d]).unwrap_err().to_string();
        assert!(e.contains("1000 x 1000") && e.contains("100000"), "{e}");
        assert!(
            factorial(&[a.clone(), a])
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
        assert_eq!(factorial(&[]).unwrap_err(), PlanError::NothingVaried);
    }

    #[test]
    fn lhs_covers_each_range_once_per_stratum() {
        let a = parse_vary("a=0:10:2").unwrap();
        let b = parse_vary("b=p,q").unwrap();
        let rows = lhs(&[a.clone(), b.clone()], 5, 1).unwrap();
        assert_eq!(rows.len(), 5);
        let mut strata: Vec<usize> = rows
            .iter()
            .map(|r| (r[0].parse::<f64>().unwrap() / 2.0) as usize)
            .collect();
        strata.sort_unstable();
        assert_eq!(strata, [0, 1, 2, 3, 4]);
        assert!(rows.iter().all(|r| r[1] == "p" || r[1] == "q"));
        assert_eq!(rows, lhs(&[a.clone(), b.clone()], 5, 1).unwrap());
        assert_ne!(rows, lhs(&[a, b], 5, 2).unwrap());
    }
}
