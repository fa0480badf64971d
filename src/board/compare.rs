//! `voxfab compare`: the board-level study of each design, one after the other on one
//! device, and the comparison files (see [`super::report`]).

use super::{BoardError, CornerView, DesignStudy, report, study};
use crate::gpu::GpuContext;
use crate::output::write_atomic;
use crate::scene::Scene;
use std::path::{Path, PathBuf};

/// What a comparison wrote.
pub struct Comparison {
    pub studies: Vec<DesignStudy>,
    pub files: Vec<PathBuf>,
}

/// Studies every scene (each a pitch cell with `[board]`) and writes DIR/<design>/
/// (global.toml, joints.csv, metrics.json), compare.md, compare.csv, sections.png and
/// dnp.png. `progress` shows a bar on the terminal.
pub fn compare(
    gpu: &GpuContext,
    scenes: &[Scene],
    out: &Path,
    frame: [u32; 2],
    progress: bool,
) -> Result<Comparison, BoardError> {
    // Every design is checked before the first solve: a typo in the second scene must
    // not surface after an hour of the first one.
    for s in scenes {
        super::spec(s)?;
        super::load_step(s).ok_or_else(|| BoardError::NoLoad {
            file: s.file.clone(),
        })?;
    }
    let mkdir = |p: &Path| {
        std::fs::create_dir_all(p).map_err(|source| crate::engine::RunError::Dir {
            path: p.to_path_buf(),
            source,
        })
    };
    mkdir(out)?;
    let stages: u64 = scenes
        .iter()
        .map(|s| {
            4 + s
                .board
                .as_ref()
                .map_or(0, |b| 2 * b.critical().len() as u64)
        })
        .sum();
    let bar = if progress {
        indicatif::ProgressBar::new(stages)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut studies: Vec<DesignStudy> = Vec::new();
    let mut views: Vec<Option<CornerView>> = Vec::new();
    let mut files = Vec::new();
    for s in scenes {
        let mut name = crate::output::file_stem(
            Path::new(&s.file)
                .file_stem()
                .and_then(|n| n.to_str())
                .unwrap_or("design"),
        );
        if studies.iter().any(|d| d.name == name) {
            name = format!("{name}_{}", studies.len() + 1);
        }
        let dir = out.join(&name);
        mkdir(&dir)?;
        let mut first = true;
        let mut tick = |stage: &str| {
            if !first {
                bar.inc(1);
            }
            first = false;
            bar.set_message(format!("{name}: {stage}"));
        };
        let (mut st, view) = study(gpu, s, &dir, &mut tick)?;
        bar.inc(1);
        st.name = name;
        let json = serde_json::to_string_pretty(&st).map_err(std::io::Error::other);
        let path = dir.join("metrics.json");
        write_atomic(&path, |w| w.write_all(json?.as_bytes()))?;
        files.extend([dir.join("global.toml"), dir.join("joints.csv"), path]);
        studies.push(st);
        views.push(view);
    }
    bar.finish_and_clear();
    report::write_tables(out, &studies)?;
    files.extend([out.join("compare.md"), out.join("compare.csv")]);
    let pairs: Vec<(&Scene, &CornerView)> = scenes
        .iter()
        .zip(&views)
        .filter_map(|(s, v)| v.as_ref().map(|v| (s, v)))
        .collect();
    let sections = out.join("sections.png");
    report::write_sections(gpu, &sections, &pairs, frame)?;
    files.push(sections);
    files.extend(report::write_dnp_plots(out, scenes, &studies)?);
    Ok(Comparison { studies, files })
}
