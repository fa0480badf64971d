//! Slurm as the distributed engine: DIR/sweep.sbatch is a job array with one task per
//! valid variant, each running `voxfab sweep run DIR --task $SLURM_ARRAY_TASK_ID`;
//! [`submit`] hands it to `sbatch` when there is one. Slurm schedules, retries and
//! accounts; voxfab only writes the script and later merges what the tasks wrote.

use super::{Manifest, SweepError};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct SlurmOptions {
    /// `--gres` of each task; `None` requests no GPU (`--no-gpu`).
    pub gres: Option<String>,
    pub partition: Option<String>,
    /// `--time` of each task, e.g. `00:30:00`.
    pub time: Option<String>,
    pub account: Option<String>,
    /// At most this many tasks at once (`--array=...%N`).
    pub max_parallel: Option<u32>,
    /// The voxfab binary the tasks run (absolute; must be reachable from the nodes).
    pub voxfab: PathBuf,
    /// `VAR=value` exported by the script before voxfab starts.
    pub env: Vec<(String, String)>,
    /// Tasks remove their run's VTK images once recorded (`--drop-vti`).
    pub drop_vti: bool,
}

impl SlurmOptions {
    pub fn new(voxfab: PathBuf) -> Self {
        Self {
            gres: Some("gpu:1".into()),
            partition: None,
            time: None,
            account: None,
            max_parallel: None,
            voxfab,
            env: Vec::new(),
            drop_vti: false,
        }
    }
}

pub fn script_path(dir: &Path) -> PathBuf {
    dir.join("sweep.sbatch")
}

/// `0-3,5,7-9`: indices as Slurm's `--array` ranges.
pub fn array_spec(indices: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let mut j = i;
        while j + 1 < indices.len() && indices[j + 1] == indices[j] + 1 {
            j += 1;
        }
        out.push(if i == j {
            indices[i].to_string()
        } else {
            format!("{}-{}", indices[i], indices[j])
        });
        i = j + 1;
    }
    out.join(",")
}

/// A value safe on an `#SBATCH` line: no white space, quotes or other shell syntax.
fn plain(what: &str, v: &str) -> Result<(), SweepError> {
    let ok = !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/,+=@%".contains(c));
    if ok {
        Ok(())
    } else {
        Err(SweepError::Other(format!(
            "{what} {v:?}: only letters, digits and -_.:/,+=@% may appear on an #SBATCH line"
        )))
    }
}

/// `'text'` for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Writes DIR/sweep.sbatch (`dir` absolute) for the valid variants of `m`; returns its
/// path and how many tasks it has.
pub fn write_script(
    dir: &Path,
    m: &Manifest,
    opts: &SlurmOptions,
) -> Result<(PathBuf, usize), SweepError> {
    let dir_s = dir
        .to_str()
        .ok_or_else(|| SweepError::Other(format!("{}: not a UTF-8 path", dir.display())))?;
    plain("the sweep directory", dir_s)?;
    let indices: Vec<usize> = m
        .variants
        .iter()
        .filter(|v| v.invalid.is_none())
        .map(|v| v.index)
        .collect();
    if indices.is_empty() {
        return Err(SweepError::Other(
            "every variant was refused by the scene check: nothing to submit".into(),
        ));
    }
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| super::dir_err(&logs, e.to_string()))?;
    let mut array = array_spec(&indices);
    if let Some(n) = opts.max_parallel {
        array.push_str(&format!("%{n}"));
    }
    let mut s = String::new();
    s.push_str("#!/bin/bash\n");
    s.push_str(&format!(
        "# voxfab sweep of {}: {} variants ({}), one per array task.\n\
         # Written by `voxfab sweep --slurm`; merge the results with `voxfab sweep collect {dir_s}`.\n",
        m.scene.display(),
        indices.len(),
        m.sampling
    ));
    s.push_str("#SBATCH --job-name=voxfab-sweep\n");
    s.push_str(&format!("#SBATCH --array={array}\n"));
    s.push_str(&format!("#SBATCH --output={dir_s}/logs/%A_%a.out\n"));
    s.push_str("#SBATCH --ntasks=1\n");
    s.push_str("#SBATCH --export=ALL\n");
    for (flag, v) in [
        ("gres", &opts.gres),
        ("partition", &opts.partition),
        ("time", &opts.time),
        ("account", &opts.account),
    ] {
        if let Some(v) = v {
            plain(&format!("--{flag}"), v)?;
            s.push_str(&format!("#SBATCH --{flag}={v}\n"));
        }
    }
    s.push_str("set -eu\n");
    s.push_str(
        "# Mesa and wgpu want a private runtime directory.\n\
         export XDG_RUNTIME_DIR=\"${XDG_RUNTIME_DIR:-/tmp/voxfab-xdg-$(id -u)}\"\n\
         mkdir -p \"$XDG_RUNTIME_DIR\" && chmod 0700 \"$XDG_RUNTIME_DIR\"\n",
    );
    for (k, v) in &opts.env {
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(SweepError::Other(format!(
                "{k:?} is not an environment variable name"
            )));
        }
        s.push_str(&format!("export {k}={}\n", shell_quote(v)));
    }
    s.push_str(&format!(
        "exec {} sweep run {} --task \"$SLURM_ARRAY_TASK_ID\"{}\n",
        shell_quote(&opts.voxfab.display().to_string()),
        shell_quote(dir_s),
        if opts.drop_vti { " --drop-vti" } else { "" }
    ));
    let path = script_path(dir);
    crate::output::write_atomic(&path, |w| w.write_all(s.as_bytes()))?;
    Ok((path, indices.len()))
}

/// `sbatch` on PATH, if any.
pub fn find_sbatch() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|p| p.join("sbatch"))
        .find(|p| p.is_file())
}

/// Submits DIR/sweep.sbatch with `sbatch --parsable`; returns the job id (also written
/// to DIR/slurm_job).
pub fn submit(sbatch: &Path, dir: &Path) -> Result<String, SweepError> {
    let out = std::process::Command::new(sbatch)
        .arg("--parsable")
        .arg(script_path(dir))
        .output()
        .map_err(|e| SweepError::Other(format!("cannot run {}: {e}", sbatch.display())))?;
    if !out.status.success() {
        return Err(SweepError::Other(format!(
            "sbatch failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let id = text
        .trim()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(SweepError::Other(format!(
            "sbatch printed no job id: {text:?}"
        )));
    }
    crate::output::write_atomic(&dir.join("slurm_job"), |w| writeln!(w, "{id}"))?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_ranges() {
        assert_eq!(array_spec(&[0, 1, 2, 3]), "0-3");
        assert_eq!(array_spec(&[0, 1, 3, 5, 6, 7]), "0-1,3,5-7");
        assert_eq!(array_spec(&[4]), "4");
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert!(plain("--partition", "gpu").is_ok());
        assert!(plain("--partition", "gpu\n#SBATCH --x").is_err());
        assert!(plain("--account", "a b").is_err());
    }
}
